// Exports of one chart: its data as CSV (the values drawn, one column per line, raw and
// smoothed), and its picture as SVG built from what the plot shows (axes, ticks, lines,
// markers, title, legend). The PNG is that SVG rasterised, so both pictures are the same one.
// Canvas-drawn panels (scatter, parallel coordinates) export through lib/svgctx.ts: their own
// drawing code replayed into an SVG context, so the file shows what the canvas shows.

import { toCsv } from "./csv";

type Col = (number | null | undefined)[];

export interface CsvLine { label: string; raw: Col; smooth?: Col }

/** One row per x where any line has a value; `label` columns are the logged values, and
 *  `label (smoothed)` the smoothed ones when smoothing is on. */
export function chartCsv(xName: string, x: number[], lines: CsvLine[]): string {
  const header = [xName, ...lines.flatMap((l) => (l.smooth ? [l.label, `${l.label} (smoothed)`] : [l.label]))];
  const rows: unknown[][] = [];
  x.forEach((xv, i) => {
    const cells = lines.flatMap((l) => (l.smooth ? [l.raw[i], l.smooth[i]] : [l.raw[i]])).map((v) => (v === undefined ? null : v));
    if (cells.some((v) => v !== null)) rows.push([xv, ...cells]);
  });
  return toCsv(header, rows);
}

/** A CSV of one value per run (bar and scalar panels). */
export function valuesCsv(metric: string, rows: { label: string; value: number }[]): string {
  return toCsv(["run", metric], rows.map((r) => [r.label, r.value]));
}

export interface Tick { pos: number; label: string }
export interface SvgSeries {
  label: string; color: string; dash?: number[]; width?: number; opacity?: number;
  /** Points in plot-area pixels; null breaks the line (a gap). */
  points: ([number, number] | null)[];
  markers?: boolean;
  legend?: boolean;          // listed in the legend (the faint raw line under a smoothed one is not)
}
export interface SvgChart {
  title: string;
  width: number; height: number;                              // the plot area, px
  xTicks: Tick[]; yTicks: Tick[];                             // pos in plot-area px
  series: SvgSeries[];
  /** Horizontal bars (bar panels) instead of lines: value label and share of the width. */
  bars?: { label: string; color: string; value: string; from: number; to: number }[];
}

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const n = (v: number) => (Math.round(v * 10) / 10).toString();
const FAMILY = 'font-family="system-ui, sans-serif"';
const FONT = `${FAMILY} font-size="11"`;
const LEFT = 70, TOP = 28, LEGEND_ROW = 16;

/** The SVG document of a chart: title, y ticks on the left, x ticks below, the lines (dashes
 *  and markers as drawn), and a legend of the runs under the plot. */
export function chartSvg(c: SvgChart): string {
  const legend = c.series.filter((s) => s.legend !== false);
  const perRow = Math.max(1, Math.floor((c.width + LEFT) / 190));
  const legendH = c.bars ? 0 : Math.ceil(legend.length / perRow) * LEGEND_ROW + 8;
  const W = LEFT + c.width + 16, H = TOP + c.height + 30 + legendH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${LEFT}" y="17" ${FAMILY} font-size="13" font-weight="600" fill="#222">${esc(c.title)}</text>`,
    `<g transform="translate(${LEFT},${TOP})">`,
    `<rect width="${n(c.width)}" height="${n(c.height)}" fill="none" stroke="#ddd"/>`,
  ];
  for (const t of c.yTicks) {
    out.push(`<line x1="0" x2="${n(c.width)}" y1="${n(t.pos)}" y2="${n(t.pos)}" stroke="#eee"/>`);
    if (t.label) out.push(`<text x="-6" y="${n(t.pos + 4)}" text-anchor="end" ${FONT} fill="#555">${esc(t.label)}</text>`);
  }
  for (const t of c.xTicks) {
    out.push(`<line y1="0" y2="${n(c.height)}" x1="${n(t.pos)}" x2="${n(t.pos)}" stroke="#eee"/>`);
    if (t.label) out.push(`<text x="${n(t.pos)}" y="${n(c.height + 16)}" text-anchor="middle" ${FONT} fill="#555">${esc(t.label)}</text>`);
  }
  for (const b of c.bars ?? []) out.push(...bar(b, c));
  for (const s of c.series) out.push(...series(s));
  out.push("</g>");
  legend.forEach((s, i) => {
    const x = LEFT + (i % perRow) * 190, y = TOP + c.height + 30 + Math.floor(i / perRow) * LEGEND_ROW;
    out.push(`<rect x="${x}" y="${y}" width="10" height="10" fill="${esc(s.color)}"/>`,
      `<text x="${x + 14}" y="${y + 9}" ${FONT} fill="#333">${esc(s.label.length > 28 ? `${s.label.slice(0, 27)}…` : s.label)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}

function series(s: SvgSeries): string[] {
  const out: string[] = [];
  const attrs = `fill="none" stroke="${esc(s.color)}" stroke-width="${s.width ?? 1.5}"${s.opacity !== undefined ? ` stroke-opacity="${s.opacity}"` : ""}${s.dash ? ` stroke-dasharray="${s.dash.join(" ")}"` : ""}`;
  let run: string[] = [];
  const flush = () => { if (run.length > 1) out.push(`<polyline ${attrs} points="${run.join(" ")}"/>`); run = []; };
  for (const p of s.points) { if (p) run.push(`${n(p[0])},${n(p[1])}`); else flush(); }
  flush();
  if (s.markers) for (const p of s.points) if (p) out.push(`<circle cx="${n(p[0])}" cy="${n(p[1])}" r="3.5" fill="${esc(s.color)}"/>`);
  return out;
}

function bar(b: NonNullable<SvgChart["bars"]>[number], c: SvgChart): string[] {
  const rows = c.bars!.length, i = c.bars!.indexOf(b);
  const hgt = Math.min(22, c.height / rows), y = i * hgt;
  return [`<rect x="${n(b.from * c.width)}" y="${n(y + 2)}" width="${n(Math.max(1, (b.to - b.from) * c.width))}" height="${n(hgt - 4)}" fill="${esc(b.color)}"/>`,
    `<text x="-6" y="${n(y + hgt / 2 + 4)}" text-anchor="end" ${FONT} fill="#333">${esc(b.label.length > 10 ? `${b.label.slice(0, 9)}…` : b.label)}</text>`,
    `<text x="${n(b.to * c.width + 4)}" y="${n(y + hgt / 2 + 4)}" ${FONT} fill="#333">${esc(b.value)}</text>`];
}

/** Rasterises an SVG document (2× for sharp pixels) into a PNG blob. */
export async function svgToPng(svg: string, scale = 2): Promise<Blob> {
  const img = new Image();
  const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await new Promise<void>((resolve, reject) => { img.onload = () => resolve(); img.onerror = () => reject(new Error("the SVG could not be drawn")); img.src = url; });
  const canvas = document.createElement("canvas");
  canvas.width = img.width * scale; canvas.height = img.height * scale;
  const g = canvas.getContext("2d")!;
  g.scale(scale, scale);
  g.drawImage(img, 0, 0);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("no PNG"))), "image/png"));
}

/** A file name from a chart title: letters, digits, dot, dash and underscore. */
export function fileName(title: string, ext: string): string {
  return `${title.replace(/[^\w.-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 80) || "chart"}.${ext}`;
}
