// A small canvas plotter for the custom charts and the histogram heatmap: axes with nice ticks,
// lines, points, bars and heat cells. Our own ~150 lines instead of a charting library: the
// shapes are few and fixed (lib/customchart.ts), and it keeps the bundle small.

import { formatNumber } from "../lib/tjson";
import { ramp } from "../lib/colors";

export const SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export interface Frame { g: CanvasRenderingContext2D; x0: number; y0: number; w: number; h: number; sx: (v: number) => number; sy: (v: number) => number }

/** "Nice" tick values (1, 2, 5 × 10^k) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}

export function canvas(width: number, height: number): { cv: HTMLCanvasElement; g: CanvasRenderingContext2D } {
  const cv = document.createElement("canvas");
  const dpr = window.devicePixelRatio || 1;
  cv.width = Math.round(width * dpr); cv.height = Math.round(height * dpr);
  cv.style.width = `${width}px`; cv.style.height = `${height}px`;
  const g = cv.getContext("2d")!;
  g.scale(dpr, dpr);
  g.font = "11px system-ui, sans-serif";
  return { cv, g };
}

/** Draw axes for numeric x/y ranges and return the data → pixel mapping. */
export function axes(g: CanvasRenderingContext2D, width: number, height: number, xr: [number, number], yr: [number, number],
  labels: { x?: string; y?: string } = {}, xTicks?: { at: number; label: string }[], yTicks?: { at: number; label: string }[]): Frame {
  const x0 = 56, y0 = 10, w = width - x0 - 12, h = height - y0 - (labels.x ? 40 : 26);
  const pad = (r: [number, number]): [number, number] => (r[0] === r[1] ? [r[0] - 0.5, r[1] + 0.5] : r);
  const [xl, xh] = pad(xr), [yl, yh] = pad(yr);
  const sx = (v: number) => x0 + ((v - xl) / (xh - xl)) * w, sy = (v: number) => y0 + h - ((v - yl) / (yh - yl)) * h;
  g.strokeStyle = "#e5e7eb"; g.fillStyle = "#555"; g.lineWidth = 1;
  g.textAlign = "right"; g.textBaseline = "middle";
  for (const t of yTicks ?? niceTicks(yl, yh).map((at) => ({ at, label: formatNumber(at) }))) { const y = sy(t.at); g.beginPath(); g.moveTo(x0, y); g.lineTo(x0 + w, y); g.stroke(); g.fillText(t.label, x0 - 4, y); }
  g.textAlign = "center"; g.textBaseline = "top";
  for (const t of xTicks ?? niceTicks(xl, xh).map((at) => ({ at, label: formatNumber(at) }))) {
    const x = sx(t.at); g.beginPath(); g.moveTo(x, y0); g.lineTo(x, y0 + h); g.stroke(); g.fillText(t.label, x, y0 + h + 4);
  }
  g.strokeStyle = "#999"; g.strokeRect(x0, y0, w, h);
  if (labels.x) { g.fillStyle = "#333"; g.fillText(labels.x, x0 + w / 2, y0 + h + 20); }
  if (labels.y) { g.save(); g.translate(10, y0 + h / 2); g.rotate(-Math.PI / 2); g.fillStyle = "#333"; g.textBaseline = "middle"; g.fillText(labels.y, 0, 0); g.restore(); }
  return { g, x0, y0, w, h, sx, sy };
}

export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

export function polyline(f: Frame, xs: number[], ys: number[], color: string, fill = false) {
  const { g } = f;
  g.strokeStyle = color; g.lineWidth = 1.6;
  g.beginPath();
  xs.forEach((x, i) => (i ? g.lineTo(f.sx(x), f.sy(ys[i])) : g.moveTo(f.sx(x), f.sy(ys[i]))));
  g.stroke();
  if (xs.length === 1) { g.fillStyle = color; g.beginPath(); g.arc(f.sx(xs[0]), f.sy(ys[0]), 3, 0, 7); g.fill(); }
  if (fill && xs.length > 1) {
    g.lineTo(f.sx(xs[xs.length - 1]), f.y0 + f.h); g.lineTo(f.sx(xs[0]), f.y0 + f.h); g.closePath();
    g.globalAlpha = 0.08; g.fillStyle = color; g.fill(); g.globalAlpha = 1;
  }
}

export function points(f: Frame, xs: number[], ys: number[], color: string) {
  f.g.fillStyle = color;
  for (let i = 0; i < xs.length; i++) { f.g.beginPath(); f.g.arc(f.sx(xs[i]), f.sy(ys[i]), 2.5, 0, 7); f.g.fill(); }
}

/** A legend row under or beside a chart. */
export function legend(names: string[]): HTMLElement {
  const el = document.createElement("div");
  el.className = "legend";
  names.forEach((n, i) => {
    const s = document.createElement("span");
    s.innerHTML = `<i class="swatch" style="background:${SERIES_COLORS[i % SERIES_COLORS.length]}"></i> `;
    s.append(n);
    el.append(s);
  });
  return el;
}

/** Heat colour for a count in [0, max]: white at 0, then the viridis-like ramp. */
export function heat(v: number, max: number): string {
  if (!(v > 0) || !(max > 0)) return "#ffffff";
  return ramp(Math.sqrt(v / max));
}
