// Table panel logic without the DOM: the filter line users type ("score > 0.5, label ~ cat")
// turned into the server's filter object (docs/media-api.md, GET .../tables), the sort cycle of
// a header click, how a cell reads as text, and which page a row lives on.

import { formatValue } from "./tjson";
import { typeOf } from "./media";

export type TableFilter = Record<string, Record<string, unknown>>;

const OPS: [string, string][] = [[">=", "$gte"], ["<=", "$lte"], ["!=", "$ne"], ["==", "$eq"], [">", "$gt"], ["<", "$lt"], ["=", "$eq"], ["~", "$contains"], [" in ", "$in"]];

function literal(s: string): unknown {
  const t = s.trim();
  if (/^(["']).*\1$/.test(t)) return t.slice(1, -1);
  if (t === "null") return null;
  if (t === "true" || t === "false") return t === "true";
  if (t !== "" && Number.isFinite(Number(t))) return Number(t);
  return t;
}

/**
 * Parse comma-separated clauses `COLUMN OP VALUE` (OP: = != > >= < <= ~ in). Column names are
 * matched against the table's columns (case-sensitive first, then case-insensitive) so a typo
 * is reported here rather than as a server 400.
 */
export function parseTableFilter(text: string, columns: string[]): { filter: TableFilter; error: string | null } {
  const filter: TableFilter = {};
  for (const clause of text.split(",").map((c) => c.trim()).filter(Boolean)) {
    const hit = OPS.map(([sym, op]) => ({ sym, op, at: clause.indexOf(sym) })).filter((o) => o.at > 0).sort((a, b) => a.at - b.at || b.sym.length - a.sym.length)[0];
    if (!hit) return { filter, error: `"${clause}": expected COLUMN OP VALUE with OP one of = != > >= < <= ~ in` };
    const name = clause.slice(0, hit.at).trim();
    const col = columns.includes(name) ? name : columns.find((c) => c.toLowerCase() === name.toLowerCase());
    if (!col) return { filter, error: `no column "${name}" (columns: ${columns.join(", ")})` };
    const raw = clause.slice(hit.at + hit.sym.length);
    const value = hit.op === "$in" ? raw.replace(/^\s*\[|\]\s*$/g, "").split("|").map(literal) : hit.op === "$contains" ? raw.trim().replace(/^(["'])(.*)\1$/, "$2") : literal(raw);
    (filter[col] ??= {})[hit.op] = value;
  }
  return { filter, error: null };
}

/** Header clicks cycle ascending → descending → table order. */
export function nextSort(cur: { sort: string; order: "asc" | "desc" }, col: string): { sort: string; order: "asc" | "desc" } {
  if (cur.sort !== col) return { sort: col, order: "asc" };
  if (cur.order === "asc") return { sort: col, order: "desc" };
  return { sort: "", order: "asc" };
}

/** A cell as text (media cells by their type and file name). */
export function cellText(v: unknown): string {
  const t = typeOf(v);
  if (!t) return v === undefined || v === null ? "" : formatValue(v);
  const o = v as Record<string, unknown>;
  if (t === "histogram") return `histogram (${Array.isArray(o.values) ? o.values.length : "?"} bins)`;
  const p = typeof o.path === "string" ? o.path.slice(o.path.lastIndexOf("/") + 1) : "";
  const cap = typeof o.caption === "string" && o.caption ? ` “${o.caption}”` : "";
  return `${t}${p ? ` ${p}` : ""}${cap}`;
}

/** The page offsets (multiples of `page`) covering rows [from, to). */
export function pagesFor(from: number, to: number, page: number): number[] {
  const out: number[] = [];
  for (let o = Math.floor(Math.max(0, from) / page) * page; o < to; o += page) out.push(o);
  return out;
}
