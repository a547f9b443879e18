// The filter bar's rows → the MongoDB-style filter JSON that
// GET /api/v1/projects/{e}/{p}/runs?filters= takes. The server is the only evaluator of that
// language (crates/trackway-store/src/filter.rs): the UI never filters or sorts runs itself, so
// the table, `trackway.Api().runs()` and every other client see the same runs for one filter.
// Field paths: name, state, tags, group, job_type, host, created_at, config.<key>, summary.<key>.

import { getPath } from "./tjson";

export type Op = "=" | "!=" | ">" | ">=" | "<" | "<=" | "~" | "in" | "exists";
export const OPS: Op[] = ["=", "!=", ">", ">=", "<", "<=", "~", "in", "exists"];

export interface FilterRow { field: string; op: Op; value: string }
export type Filter = Record<string, unknown>;

const MONGO: Record<Exclude<Op, "=">, string> = {
  "!=": "$ne", ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte", "~": "$regex", in: "$in", exists: "$exists",
};

/** "0.1" → 0.1, "true" → true, "null" → null, quoted or anything else stays a string. */
export function parseValue(s: string): unknown {
  const t = s.trim();
  if (/^".*"$/.test(t)) return t.slice(1, -1);
  if (t === "true") return true;
  if (t === "false") return false;
  if (t === "null") return null;
  if (t !== "" && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return t;
}

export function rowToClause(r: FilterRow): Filter | null {
  if (!r.field.trim()) return null;
  let v: unknown;
  // Regex searches are case-insensitive in the UI; the server needs $options for that.
  if (r.op === "~") return { [r.field.trim()]: { $regex: r.value, $options: "i" } };
  else if (r.op === "in") v = r.value.split(",").map(parseValue);
  else if (r.op === "exists") v = r.value.trim() !== "false";
  else v = parseValue(r.value);
  return { [r.field.trim()]: r.op === "=" ? v : { [MONGO[r.op]]: v } };
}

/** Build the filter for the API: all rows ANDed, plus an optional regex on the run name. */
export function buildFilter(rows: FilterRow[], nameRegex = ""): Filter | null {
  const clauses: Filter[] = [];
  for (const r of rows) {
    const c = rowToClause(r);
    if (c) clauses.push(c);
  }
  if (nameRegex) clauses.push({ name: { $regex: nameRegex, $options: "i" } });
  if (clauses.length === 0) return null;
  return clauses.length === 1 ? clauses[0] : { $and: clauses };
}

/** Read a field path from an API Run (config/summary values already decoded). */
export function fieldValue(run: object, path: string): unknown {
  const r = run as Record<string, unknown>;
  if (path.startsWith("config.")) return getPath(r.config, path.slice(7));
  if (path.startsWith("summary.")) return getPath(r.summary, path.slice(8));
  return getPath(run, path);
}

/** Compact text form for chips: `config.lr > 0.01`. */
export function describeRow(r: FilterRow): string {
  return r.op === "exists" ? `${r.field} exists` : `${r.field} ${r.op} ${r.value}`;
}
