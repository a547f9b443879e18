// Pure table logic: sorting, pinning and grouping runs into table rows.

import { fieldValue } from "./filters";
import { formatValue } from "./tjson";

export interface RunLike { run_id: string; name: string; _created: number }

function sortValue(run: RunLike, key: string): unknown {
  if (key === "created_at") return run._created;
  if (key === "tags") return ((run as { tags?: string[] }).tags)?.join(",") ?? "";
  return fieldValue(run, key);
}

/** Missing values always sort last; numbers before strings; NaN counts as missing. */
export function compareValues(a: unknown, b: unknown): number {
  const ma = a === undefined || a === null || (typeof a === "number" && Number.isNaN(a));
  const mb = b === undefined || b === null || (typeof b === "number" && Number.isNaN(b));
  if (ma || mb) return ma === mb ? 0 : ma ? 1 : -1;
  const na = typeof a === "number" || typeof a === "bigint", nb = typeof b === "number" || typeof b === "bigint";
  if (na && nb) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  if (na !== nb) return na ? -1 : 1;
  return String(formatValue(a)).localeCompare(String(formatValue(b)), undefined, { numeric: true });
}

/** Sort by "key" or "-key" (descending); missing values stay at the end either way. */
export function sortRuns<T extends RunLike>(runs: T[], sort: string, pinned: Set<string> = new Set()): T[] {
  const desc = sort.startsWith("-");
  const key = desc ? sort.slice(1) : sort;
  const keyed = runs.map((r) => ({ r, v: sortValue(r, key) }));
  keyed.sort((x, y) => {
    const px = pinned.has(x.r.run_id), py = pinned.has(y.r.run_id);
    if (px !== py) return px ? -1 : 1;
    const mx = x.v === undefined || x.v === null, my = y.v === undefined || y.v === null;
    if (mx || my) return mx === my ? 0 : mx ? 1 : -1;
    const c = compareValues(x.v, y.v);
    return desc ? -c : c;
  });
  return keyed.map((k) => k.r);
}

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
