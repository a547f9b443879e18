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
    const k = v === undefined ? "(none)" : formatValue(v);
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
    const k = v === undefined ? "(none)" : formatValue(v);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(r);
  }
  return m;
}
