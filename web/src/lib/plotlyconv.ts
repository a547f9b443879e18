// Plotly figures with trace types outside the bundled plotly.js "basic" build (scatter, bar,
// pie) are redrawn with those: a `histogram` is binned here into a `bar` trace, a `heatmap` (and
// `histogram2d`) becomes a `scatter` of square markers coloured by z with its colour bar and
// hover values. The full builds that draw them natively are 100–150 KB gzipped more than the
// whole UI's budget allows (docs/web.md). Other types are reported as not drawn.

export type Trace = Record<string, unknown> & { type?: string };
export const BASIC = new Set(["scatter", "bar", "pie"]);
const CONVERTED = new Set(["histogram", "heatmap", "histogram2d"]);

export interface Converted { data: Trace[]; converted: string[]; missing: string[] }

const nums = (v: unknown): number[] => (Array.isArray(v) ? v.map(Number) : []);

const defined = (o: Trace): Trace => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Trace;

/** A "nice" bin width (1, 2 or 5 × 10^k) giving about `target` bins over `span`. */
export function niceWidth(span: number, target: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, target), mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * mag).find((w) => w >= raw) ?? 10 * mag;
}

/** plotly's `histnorm` applied to counts of bins of width `w` over `n` samples. */
function normalise(counts: number[], norm: string, n: number, w: number): number[] {
  switch (norm) {
    case "percent": return counts.map((c) => (100 * c) / n);
    case "probability": return counts.map((c) => c / n);
    case "density": return counts.map((c) => c / w);
    case "probability density": return counts.map((c) => c / (n * w));
    default: return counts;
  }
}

/** A `histogram` trace as the `bar` trace plotly.js would draw (count, or sum/avg/min/max of the other axis). */
export function histogramToBar(t: Trace): Trace {
  const horizontal = t.orientation === "h" || (t.x === undefined && t.y !== undefined);
  const samples = (horizontal ? t.y : t.x) as unknown[] | undefined ?? [];
  const other = nums(horizontal ? t.x : t.y);
  const func = String(t.histfunc ?? "count");
  // Only the keys the trace sets: plotly.js reads `"line" in trace.marker` and fails on a present-but-undefined key.
  const base = defined({ type: "bar", name: t.name, marker: t.marker, opacity: t.opacity, orientation: horizontal ? "h" : "v", showlegend: t.showlegend });
  const numeric = samples.every((s) => typeof s === "number" || s === null);
  if (!numeric) { // categories: one bar each, in first-seen order
    const counts = new Map<string, number>();
    samples.forEach((s) => counts.set(String(s), (counts.get(String(s)) ?? 0) + 1));
    const cats = [...counts.keys()], vals = normalise(cats.map((c) => counts.get(c) ?? 0), String(t.histnorm ?? ""), samples.length, 1);
    return { ...base, [horizontal ? "y" : "x"]: cats, [horizontal ? "x" : "y"]: vals };
  }
  const xs = samples.map(Number).filter(Number.isFinite);
  const bins = (horizontal ? t.ybins : t.xbins) as { start?: number; end?: number; size?: number } | undefined;
  const lo = bins?.start ?? Math.min(...xs), hi = bins?.end ?? Math.max(...xs);
  const nb = Number(horizontal ? t.nbinsy : t.nbinsx) || Math.min(100, Math.max(5, Math.ceil(Math.sqrt(xs.length))));
  const w = bins?.size ?? niceWidth(hi - lo, nb);
  const start = bins?.start ?? Math.floor(lo / w) * w;
  const n = Math.max(1, Math.floor((hi - start) / w) + 1);
  const acc: number[][] = Array.from({ length: n }, () => []);
  samples.forEach((s, i) => {
    const v = Number(s), b = Math.floor((v - start) / w);
    if (Number.isFinite(v) && b >= 0 && b < n) acc[b].push(func === "count" ? 1 : other[i]);
  });
  const agg = acc.map((a) => (func === "count" ? a.length : func === "sum" ? a.reduce((p, c) => p + c, 0)
    : func === "avg" ? (a.length ? a.reduce((p, c) => p + c, 0) / a.length : 0) : func === "min" ? (a.length ? Math.min(...a) : 0) : a.length ? Math.max(...a) : 0));
  const vals = normalise(agg, String(t.histnorm ?? ""), xs.length, w);
  const centres = agg.map((_, i) => start + (i + 0.5) * w);
  return { ...base, [horizontal ? "y" : "x"]: centres, [horizontal ? "x" : "y"]: vals, width: w * 0.98 };
}

/** A `heatmap` as square markers at each cell centre coloured by z (null cells left out). */
export function heatmapToScatter(t: Trace): Trace {
  const z = (Array.isArray(t.z) ? t.z : []) as unknown[][];
  const xs: unknown[] = [], ys: unknown[] = [], zs: number[] = [];
  const xl = Array.isArray(t.x) ? t.x : null, yl = Array.isArray(t.y) ? t.y : null;
  z.forEach((row, j) => (Array.isArray(row) ? row : []).forEach((v, i) => {
    if (v === null || v === undefined || !Number.isFinite(Number(v))) return;
    xs.push(xl ? xl[i] : i); ys.push(yl ? yl[j] : j); zs.push(Number(v));
  }));
  const cols = Math.max(1, ...z.map((r) => (Array.isArray(r) ? r.length : 0)));
  return defined({
    type: "scatter", mode: "markers", name: t.name, x: xs, y: ys, text: zs.map(String), hovertemplate: "x=%{x}<br>y=%{y}<br>z=%{text}<extra></extra>",
    marker: defined({ symbol: "square", size: Math.max(4, Math.min(40, Math.floor(560 / cols))), color: zs, colorscale: t.colorscale ?? "Viridis", showscale: t.showscale !== false,
      cmin: t.zmin, cmax: t.zmax, reversescale: t.reversescale, line: { width: 0 } }),
    showlegend: false,
  });
}

/** `histogram2d`: binned counts on a grid, then drawn as a heatmap. */
function histogram2dToScatter(t: Trace): Trace {
  const x = nums(t.x), y = nums(t.y), nb = (v: unknown, n: number) => Number(v) || Math.min(50, Math.max(5, Math.ceil(Math.sqrt(n))));
  const grid = (a: number[], b: number) => { const lo = Math.min(...a), w = niceWidth(Math.max(...a) - lo, b); return { start: Math.floor(lo / w) * w, w }; };
  const gx = grid(x, nb(t.nbinsx, x.length)), gy = grid(y, nb(t.nbinsy, y.length));
  const z: number[][] = [];
  x.forEach((xv, i) => {
    const bi = Math.floor((xv - gx.start) / gx.w), bj = Math.floor((y[i] - gy.start) / gy.w);
    if (!(bi >= 0 && bj >= 0)) return;
    (z[bj] ??= [])[bi] = (z[bj]?.[bi] ?? 0) + 1;
  });
  const cols = Math.max(0, ...Array.from(z, (r) => r?.length ?? 0)); // Array.from: z may have holes
  const dense = Array.from({ length: z.length }, (_, j) => Array.from({ length: cols }, (_, i) => z[j]?.[i] ?? null));
  return heatmapToScatter({ ...t, z: dense, x: Array.from({ length: cols }, (_, i) => gx.start + (i + 0.5) * gx.w), y: dense.map((_, j) => gy.start + (j + 0.5) * gy.w) });
}

/** The figure's traces drawable by the basic build, with what was converted and what is left out. */
export function toBasic(data: Trace[]): Converted {
  const out: Trace[] = [], converted = new Set<string>(), missing = new Set<string>();
  for (const t of data) {
    const type = t.type ?? "scatter";
    if (BASIC.has(type)) { out.push(t); continue; }
    if (!CONVERTED.has(type)) { missing.add(type); continue; }
    converted.add(type);
    out.push(type === "histogram" ? histogramToBar(t) : type === "heatmap" ? heatmapToScatter(t) : histogram2dToScatter(t));
  }
  return { data: out, converted: [...converted], missing: [...missing] };
}
