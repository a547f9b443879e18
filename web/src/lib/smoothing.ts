// TensorBoard's "classic" debiased EMA, reproduced exactly (shared/reference/peers.md 5.1):
// same weight normalisation, same constant-series shortcut, same operation order, so a user
// moving from TensorBoard sees numerically identical curves.

export const SMOOTHING_DEFAULT = 0.6;
export const SMOOTHING_MAX = 0.999;
export const SLIDER_MAX = 0.99;

/** Clamp a weight the way TensorBoard does before smoothing: non-finite → 0, then [0, 1]. */
export function normaliseWeight(w: number): number {
  if (!Number.isFinite(w)) return 0;
  return Math.min(Math.max(w, 0), 1);
}

/** Clamp and round a weight restored from a URL or typed by the user (TB: [0, 0.999], 3 s.f.). */
export function parseSmoothing(v: unknown): number {
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isFinite(n)) return SMOOTHING_DEFAULT;
  return Number(Math.min(Math.max(n, 0), SMOOTHING_MAX).toPrecision(3));
}

/**
 * Smooth one series of y values (x is irrelevant: only order matters). Nulls (uPlot gaps) are
 * passed through like non-finite values. Returns a new array unless the series is constant,
 * in which case the input itself is returned, as TensorBoard does.
 */
export function smoothTB(ys: ArrayLike<number | null>, weight: number): (number | null)[] {
  const w = normaliseWeight(weight);
  const n = ys.length;
  const out: (number | null)[] = new Array(n);
  if (isConstant(ys)) {
    for (let i = 0; i < n; i++) out[i] = ys[i];
    return out;
  }
  let last = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const y = ys[i];
    if (y === null || !Number.isFinite(y)) {
      out[i] = y;
      continue;
    }
    last = last * w + (1 - w) * y;
    k++;
    const debias = w === 1 ? 1 : 1 - Math.pow(w, k);
    out[i] = last / debias;
  }
  return out;
}

function isConstant(ys: ArrayLike<number | null>): boolean {
  const y0 = ys[0];
  // IEEE equality over every point (including the first): any NaN makes it non-constant.
  for (let i = 0; i < ys.length; i++) if (ys[i] !== y0) return false;
  return true;
}

/**
 * TensorBoard restarts the EMA whenever a finite x decreases (partitionSeries). Returns the
 * start index of every partition.
 */
export function partitionStarts(xs: ArrayLike<number | null>): number[] {
  const starts = [0];
  let prev = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (x === null || !Number.isFinite(x)) continue;
    if (x < prev) starts.push(i);
    prev = x;
  }
  return starts;
}

/** Smooth with EMA restarts at every x decrease. */
export function smoothSeries(
  xs: ArrayLike<number | null>,
  ys: ArrayLike<number | null>,
  weight: number,
): (number | null)[] {
  const starts = partitionStarts(xs);
  if (starts.length === 1) return smoothTB(ys, weight);
  const out: (number | null)[] = [];
  for (let p = 0; p < starts.length; p++) {
    const end = p + 1 < starts.length ? starts[p + 1] : ys.length;
    const part = Array.prototype.slice.call(ys, starts[p], end) as (number | null)[];
    out.push(...smoothTB(part, weight));
  }
  return out;
}
