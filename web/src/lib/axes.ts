// Numeric views of config/summary keys across runs, for scatter plots and parallel
// coordinates. Strings become ordinal positions so categorical hyper-parameters still plot.

import { fieldValue } from "./filters";
import { toNumber, formatValue } from "./tjson";
import { formatTick, formatTicks, logTicks } from "./ticks";
import { niceTicks } from "../panels/plot";

export interface AxisData {
  key: string; vals: (number | null)[]; min: number; max: number; cats: string[] | null;
  /** Log scale: min/max are whole decades and non-positive values are left out (null). */
  log?: boolean;
}

/**
 * The values of `key` across runs. `log` asks for a log scale, which numeric axes with a
 * positive value get (categorical ones ignore it).
 */
export function axisData(runs: Record<string, unknown>[], key: string, log = false): AxisData {
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
  if (log && nums.some((v) => v !== null && v > 0 && Number.isFinite(v))) return logAxis(key, nums);
  let min = Infinity, max = -Infinity;
  for (const v of nums) if (v !== null && Number.isFinite(v)) { if (v < min) min = v; if (v > max) max = v; }
  if (min === Infinity) { min = 0; max = 1; }
  if (min === max) { min -= 0.5; max += 0.5; }
  return { key, vals: nums.map((v) => (v !== null && Number.isFinite(v) ? v : null)), min, max, cats: null };
}

function logAxis(key: string, nums: (number | null)[]): AxisData {
  const vals = nums.map((v) => (v !== null && v > 0 && Number.isFinite(v) ? v : null));
  const pos = vals.filter((v): v is number => v !== null);
  const ticks = logTicks(Math.min(...pos), Math.max(...pos));
  return { key, vals, min: ticks[0], max: ticks[ticks.length - 1], cats: null, log: true };
}

/** Position of v on an axis as 0..1. */
export function norm(a: AxisData, v: number): number {
  if (a.log) return (Math.log10(v) - Math.log10(a.min)) / (Math.log10(a.max) - Math.log10(a.min));
  return (v - a.min) / (a.max - a.min);
}

/** The value at position t (0..1) of an axis: the inverse of `norm`. */
export function denorm(a: AxisData, t: number): number {
  if (a.log) return 10 ** (Math.log10(a.min) + t * (Math.log10(a.max) - Math.log10(a.min)));
  return a.min + t * (a.max - a.min);
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

/** Labelled positions (0..1) along an axis: every category, or round numbers. */
export function axisTicks(a: AxisData, n = 5): { t: number; label: string }[] {
  if (a.cats) return a.cats.map((c, i) => ({ t: norm(a, i), label: c }));
  if (a.log) return logTicks(a.min, a.max).map((v) => ({ t: norm(a, v), label: formatTick(v) }));
  const ticks = niceTicks(a.min, a.max, n);
  const labels = formatTicks(ticks, ticks.length > 1 ? ticks[1] - ticks[0] : undefined);
  return ticks.map((v, i) => ({ t: norm(a, v), label: labels[i] }));
}

const isLeaf = (v: unknown) => v === null || typeof v !== "object" || Array.isArray(v) || "$f" in (v as object);

/**
 * Default axes for scatter plots and parallel coordinates: the config keys whose value differs
 * between the runs in view (leaf values only, not nested parents), then the primary metric
 * (`metric` when given, else a summary key that looks like a loss or accuracy).
 */
export function defaultAxes(runs: Record<string, unknown>[], keys: string[], metric = "", max = 5): string[] {
  const varying = keys.filter((k) => k.startsWith("config.")).filter((k) => {
    const vals = runs.map((r) => fieldValue(r, k)).filter((v) => v !== undefined);
    if (!vals.length || !vals.every(isLeaf)) return false;
    return new Set(vals.map((v) => formatValue(v))).size > 1;
  }).slice(0, max);
  const summaries = keys.filter((k) => k.startsWith("summary.") && !k.startsWith("summary._"));
  const primary = metric && summaries.includes(`summary.${metric}`) ? `summary.${metric}`
    : summaries.find((k) => /loss/i.test(k)) ?? summaries.find((k) => /acc/i.test(k)) ?? summaries[0];
  return primary ? [...varying, primary] : varying;
}
