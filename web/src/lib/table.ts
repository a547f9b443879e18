// Pure table logic: grouping runs into table rows. Sorting is the server's (the runs route's
// `order`), never done here.

import { fieldValue } from "./filters";
import { formatValue } from "./tjson";

export interface RunLike { run_id: string; name: string; _created: number }

export type GroupedRow<T> = { kind: "run"; run: T } | { kind: "group"; label: string; count: number; key: string };

/** Group already-sorted runs by a field; groups keep first-seen order, collapsed ones hide runs. */
export function groupRuns<T extends RunLike>(runs: T[], field: string, collapsed: Set<string> = new Set()): GroupedRow<T>[] {
  if (!field) return runs.map((run) => ({ kind: "run", run }));
  const groups = new Map<string, T[]>();
  for (const r of runs) {
    const v = fieldValue(r, field);
    const k = v === undefined || v === null ? "(none)" : formatValue(v);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  const out: GroupedRow<T>[] = [];
  for (const [k, members] of groups) {
    out.push({ kind: "group", label: `${field} = ${k}`, count: members.length, key: k });
    if (!collapsed.has(k)) for (const run of members) out.push({ kind: "run", run });
  }
  return out;
}

/** Group membership as a map from group label to run ids (charts aggregate by this). */
export function groupOf<T extends RunLike>(runs: T[], field: string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of runs) {
    const v = fieldValue(r, field);
    const k = v === undefined || v === null ? "(none)" : formatValue(v);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(r);
  }
  return m;
}

// ---- column layout of the runs table (components/runtable.ts) --------------------------

export interface Column { key: string; label: string; width: number; sortable: boolean }

/** Column widths, the order of movable columns and hidden base columns, kept per project. */
export interface Layout { widths: Record<string, number>; order: string[]; hidden: string[] }
export const FROZEN = new Set(["_sel", "_pin", "name"]);
export const MIN_W = 40;

/** Columns in display order: the frozen ones first, then the rest in the layout's order. */
export function arrange(cols: Column[], layout: Layout): Column[] {
  const frozen = cols.filter((c) => FROZEN.has(c.key));
  const rest = cols.filter((c) => !FROZEN.has(c.key) && !layout.hidden.includes(c.key));
  const pos = (k: string) => { const i = layout.order.indexOf(k); return i < 0 ? Number.MAX_SAFE_INTEGER : i; };
  rest.sort((a, b) => pos(a.key) - pos(b.key));
  const w = layout.widths;
  return [...frozen, ...rest].map((c) => ({ ...c, width: w[c.key] === undefined ? c.width : Math.max(MIN_W, w[c.key]) }));
}

/** Move `key` to before `before` (or by `delta` places) in the order of the shown movable columns. */
export function reorder(shown: string[], key: string, target: string | number): string[] {
  const rest = shown.filter((k) => k !== key);
  const from = shown.indexOf(key);
  const at = typeof target === "number" ? Math.max(0, Math.min(rest.length, from + target)) : rest.indexOf(target);
  rest.splice(at < 0 ? rest.length : at, 0, key);
  return rest;
}
