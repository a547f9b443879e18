// Side-by-side comparison rows for the compare view.

import { flatten, formatValue } from "./tjson";

export function diffRows(runs: { config: object; summary: object; [k: string]: unknown }[]) {
  // Internal summary keys (_step, _runtime, _timestamp) differ for every pair of runs: noise here.
  const user = (o: object) => Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith("_")));
  const cols = runs.map((r) => ({ ...prefixed("config", flatten(r.config)), ...prefixed("summary", flatten(user(r.summary))),
    state: r.state, tags: ((r as { tags?: string[] }).tags)?.join(", "), group: r.group, job_type: r.job_type }));
  const keys = [...new Set(cols.flatMap((c) => Object.keys(c)))];
  const order = (k: string) => (k.startsWith("config.") ? 1 : k.startsWith("summary.") ? 2 : 0);
  keys.sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  return keys.map((k) => {
    const vals = cols.map((c) => (c as Record<string, unknown>)[k]);
    const shown = vals.map((v) => (v === undefined ? "—" : formatValue(v)));
    return { key: k, values: shown, differs: new Set(shown).size > 1 };
  });
}

function prefixed(p: string, o: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${p}.${k}`, v]));
}
