// Numeric views of config/summary keys across runs, for scatter plots and parallel
// coordinates. Strings become ordinal positions so categorical hyper-parameters still plot.

import { fieldValue } from "./filters";
import { toNumber, formatValue } from "./tjson";

export interface AxisData { key: string; vals: (number | null)[]; min: number; max: number; cats: string[] | null }

export function axisData(runs: Record<string, unknown>[], key: string): AxisData {
  const raw = runs.map((r) => fieldValue(r, key));
  const nums = raw.map((v) => (typeof v === "string" ? null : toNumber(v)));
  const numeric = nums.filter((v) => v !== null && Number.isFinite(v)).length;
  const strings = raw.filter((v) => typeof v === "string").length;
  if (strings > numeric) {
    const cats = [...new Set(raw.filter((v) => v !== undefined && v !== null).map((v) => formatValue(v)))].sort();
    const index = new Map(cats.map((c, i) => [c, i]));
    const vals = raw.map((v) => (v === undefined || v === null ? null : index.get(formatValue(v)) ?? null));
    return { key, vals, min: 0, max: Math.max(1, cats.length - 1), cats };
  }
  let min = Infinity, max = -Infinity;
  for (const v of nums) if (v !== null && Number.isFinite(v)) { if (v < min) min = v; if (v > max) max = v; }
  if (min === Infinity) { min = 0; max = 1; }
  if (min === max) { min -= 0.5; max += 0.5; }
  return { key, vals: nums.map((v) => (v !== null && Number.isFinite(v) ? v : null)), min, max, cats: null };
}

/** Position of v on an axis as 0..1. */
export function norm(a: AxisData, v: number): number {
  return (v - a.min) / (a.max - a.min);
}

/** Indices of runs inside every brush ([lo, hi] in value space, per axis key). */
export function brushed(axes: AxisData[], brushes: Map<string, [number, number]>, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (const a of axes) {
      const b = brushes.get(a.key);
      if (!b) continue;
      const v = a.vals[i];
      if (v === null || v < b[0] || v > b[1]) { ok = false; break; }
    }
    if (ok) out.push(i);
  }
  return out;
}
