// Turning the server's per-run bucket columns (POST /api/v1/charts/query) into uPlot's one
// shared-x columnar table, merging incremental (live) fetches, and aggregating groups.
import type { RawJson } from "../api";

import { decode, toNumber } from "./tjson";

export interface BucketSeries {
  run_id: string;
  x: number[];
  min: (number | null)[];
  max: (number | null)[];
  last: (number | null)[];
  mean: (number | null)[];
  count: number[];
  /** NaN/±Inf points per bucket (the server leaves them out of min/max/last/mean) */
  nonfinite: number[];
  exact: boolean;
}

export type Col = (number | null)[];

export interface Aligned {
  x: number[];
  /** one entry per input series, each column as long as x */
  last: Col[];
  min: Col[];
  max: Col[];
}

/** A numeric cell of the server's columns, which may be Trackway-JSON tagged ({"$f":"NaN"}):
 *  decoded by the one decoder (lib/tjson.ts); null when absent or not a number. */
export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return toNumber(decode(v));
}

export function normaliseSeries(raw: RawJson): BucketSeries {
  const x = (raw.x ?? []).map((v: unknown) => num(v) ?? NaN);
  const col = (k: string): Col => (raw[k] ?? raw.last ?? []).map(num);
  return {
    run_id: String(raw.run_id), x, min: col("min"), max: col("max"), last: col("last"),
    mean: col("mean"), count: (raw.count ?? x.map(() => 1)).map((c: unknown) => num(c) ?? 0),
    nonfinite: (raw.nonfinite ?? []).map((c: unknown) => num(c) ?? 0),
    exact: !!raw.exact,
  };
}

/**
 * Align several series on the union of their x values. When that union would exceed
 * maxPoints (many runs with staggered bucket edges), x is snapped to a grid of maxPoints cells
 * over the common range and each run keeps its last point per cell, so the table stays small.
 */
export function align(series: BucketSeries[], maxPoints = 4000): Aligned {
  const all = new Set<number>();
  for (const s of series) for (const x of s.x) if (Number.isFinite(x)) all.add(x);
  if (all.size <= maxPoints) return alignExact(series, Float64Array.from(all).sort());
  let lo = Infinity, hi = -Infinity;
  for (const x of all) { if (x < lo) lo = x; if (x > hi) hi = x; }
  return alignGrid(series, lo, hi, maxPoints);
}

function alignExact(series: BucketSeries[], xs: Float64Array): Aligned {
  const index = new Map<number, number>();
  xs.forEach((x, i) => index.set(x, i));
  const out = emptyAligned(Array.from(xs), series.length);
  series.forEach((s, si) => {
    for (let i = 0; i < s.x.length; i++) {
      const j = index.get(s.x[i]);
      if (j === undefined) continue;
      out.last[si][j] = s.last[i]; out.min[si][j] = s.min[i]; out.max[si][j] = s.max[i];
    }
  });
  return out;
}

function alignGrid(series: BucketSeries[], lo: number, hi: number, cells: number): Aligned {
  const width = (hi - lo) / cells || 1;
  const cellOf = (x: number) => Math.min(cells - 1, Math.floor((x - lo) / width));
  const cellX: number[] = new Array(cells).fill(NaN);
  const out = emptyAligned(cellX, series.length);
  series.forEach((s, si) => {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i];
      if (!Number.isFinite(x)) continue;
      const c = cellOf(x);
      if (!(cellX[c] >= x)) cellX[c] = x; // a cell sits at the largest x that falls in it
      out.last[si][c] = s.last[i];
      out.min[si][c] = minN(out.min[si][c], s.min[i]);
      out.max[si][c] = maxN(out.max[si][c], s.max[i]);
    }
  });
  // Drop cells no run landed in: uPlot needs strictly ascending, finite x.
  const keep = cellX.map((x, i) => (Number.isFinite(x) ? i : -1)).filter((i) => i >= 0);
  const pick = (c: Col) => keep.map((i) => c[i]);
  return {
    x: keep.map((i) => cellX[i]), last: out.last.map(pick), min: out.min.map(pick), max: out.max.map(pick),
  };
}

function emptyAligned(x: number[], n: number): Aligned {
  const mk = () => Array.from({ length: n }, () => new Array<number | null>(x.length).fill(null));
  return { x, last: mk(), min: mk(), max: mk() };
}

const minN = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const maxN = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/**
 * Merge a live increment into a cached series. The increment covers x >= fromX; cached points
 * at or after fromX are replaced (the last bucket may have grown), earlier ones are kept, so
 * unchanged history is never downloaded again.
 */
export function mergeIncrement(cached: BucketSeries, inc: BucketSeries, fromX: number): BucketSeries {
  let cut = cached.x.length;
  while (cut > 0 && cached.x[cut - 1] >= fromX) cut--;
  const cat = <T>(a: T[], b: T[]) => a.slice(0, cut).concat(b);
  return {
    run_id: cached.run_id, x: cat(cached.x, inc.x), min: cat(cached.min, inc.min), max: cat(cached.max, inc.max),
    last: cat(cached.last, inc.last), mean: cat(cached.mean, inc.mean), count: cat(cached.count, inc.count),
    nonfinite: cat(cached.nonfinite ?? [], inc.nonfinite ?? []), exact: cached.exact && inc.exact,
  };
}

export interface GroupAgg { mean: Col; min: Col; max: Col }

/** Mean of member lines with a min/max band, per aligned x, ignoring gaps and non-finite values. */
export function aggregate(cols: Col[]): GroupAgg {
  const n = cols.length ? cols[0].length : 0;
  const mean: Col = new Array(n).fill(null), min: Col = new Array(n).fill(null), max: Col = new Array(n).fill(null);
  for (let i = 0; i < n; i++) {
    let s = 0, c = 0, lo = Infinity, hi = -Infinity;
    for (const col of cols) {
      const v = col[i];
      if (v === null || !Number.isFinite(v)) continue;
      s += v; c++;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (c) { mean[i] = s / c; min[i] = lo; max[i] = hi; }
  }
  return { mean, min, max };
}

/** Carry each column's last value forward over gaps so group means are not computed on 1 run. */
export function fillForward(col: Col): Col {
  const out = col.slice();
  let prev: number | null = null;
  let seen = false;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === null) { if (seen) out[i] = prev; } else { prev = out[i]; seen = true; }
  }
  // Do not extend past the last real point: trailing cells stay empty.
  for (let i = out.length - 1; i >= 0 && col[i] === null; i--) out[i] = null;
  return out;
}
