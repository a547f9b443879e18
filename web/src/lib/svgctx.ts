// An SVG-writing stand-in for CanvasRenderingContext2D, for the canvas-drawn panels (scatter,
// parallel coordinates): their own drawing code runs against it and the SVG export shows what
// the canvas shows. It implements the part of the 2D API those panels use (paths of lines and
// full or partial arcs, rectangles, text with alignment and rotation, dashes, alpha, save and
// restore). Why not svgcanvas (the maintained canvas2svg): its 8 KB gzipped take the bundle
// past issue 13's 500 KB; this is the subset we draw with, under 2 KB.

import { esc } from "./chartexport";

interface State {
  fillStyle: string; strokeStyle: string; lineWidth: number; globalAlpha: number;
  font: string; textAlign: CanvasTextAlign; dash: number[]; transform: string[];
}

const n = (v: number) => (Math.round(v * 100) / 100).toString();
const ANCHOR: Record<string, string> = { left: "start", start: "start", center: "middle", right: "end", end: "end" };

let measurer: CanvasRenderingContext2D | null = null;

export class SvgContext {
  private st: State = { fillStyle: "#000", strokeStyle: "#000", lineWidth: 1, globalAlpha: 1, font: "10px sans-serif", textAlign: "start", dash: [], transform: [] };
  private stack: State[] = [];
  private d: string[] = [];
  private out: string[] = [];

  constructor(readonly width: number, readonly height: number) {}

  get fillStyle() { return this.st.fillStyle; } set fillStyle(v: string) { this.st.fillStyle = String(v); }
  get strokeStyle() { return this.st.strokeStyle; } set strokeStyle(v: string) { this.st.strokeStyle = String(v); }
  get lineWidth() { return this.st.lineWidth; } set lineWidth(v: number) { this.st.lineWidth = v; }
  get globalAlpha() { return this.st.globalAlpha; } set globalAlpha(v: number) { this.st.globalAlpha = v; }
  get font() { return this.st.font; } set font(v: string) { this.st.font = v; }
  get textAlign() { return this.st.textAlign; } set textAlign(v: CanvasTextAlign) { this.st.textAlign = v; }

  save() { this.stack.push({ ...this.st, dash: [...this.st.dash], transform: [...this.st.transform] }); }
  restore() { const s = this.stack.pop(); if (s) this.st = s; }
  translate(x: number, y: number) { this.st.transform.push(`translate(${n(x)} ${n(y)})`); }
  rotate(rad: number) { this.st.transform.push(`rotate(${n((rad * 180) / Math.PI)})`); }
  setLineDash(d: number[]) { this.st.dash = [...d]; }
  getLineDash() { return [...this.st.dash]; }

  beginPath() { this.d = []; }
  moveTo(x: number, y: number) { this.d.push(`M${n(x)} ${n(y)}`); }
  lineTo(x: number, y: number) { this.d.push(`${this.d.length ? "L" : "M"}${n(x)} ${n(y)}`); }
  closePath() { this.d.push("Z"); }
  /** Clockwise arcs as the canvas draws them; a full turn is two half arcs (SVG cannot draw one). */
  arc(x: number, y: number, r: number, a0: number, a1: number) {
    const at = (a: number) => `${n(x + r * Math.cos(a))} ${n(y + r * Math.sin(a))}`;
    this.d.push(`${this.d.length ? "L" : "M"}${at(a0)}`);
    if (a1 - a0 >= 2 * Math.PI - 1e-9) { this.d.push(`A${n(r)} ${n(r)} 0 1 1 ${at(a0 + Math.PI)}`, `A${n(r)} ${n(r)} 0 1 1 ${at(a0)}`, "Z"); return; }
    this.d.push(`A${n(r)} ${n(r)} 0 ${a1 - a0 > Math.PI ? 1 : 0} 1 ${at(a1)}`);
  }
  rect(x: number, y: number, w: number, h: number) { this.d.push(`M${n(x)} ${n(y)}h${n(w)}v${n(h)}h${n(-w)}Z`); }

  stroke() { if (this.d.length) this.emit(`<path d="${this.d.join("")}" fill="none"${this.strokeAttrs()}/>`); }
  fill() { if (this.d.length) this.emit(`<path d="${this.d.join("")}"${this.fillAttrs()} stroke="none"/>`); }
  fillRect(x: number, y: number, w: number, h: number) {
    this.emit(`<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}"${this.fillAttrs()}/>`);
  }
  strokeRect(x: number, y: number, w: number, h: number) {
    this.emit(`<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" fill="none"${this.strokeAttrs()}/>`);
  }
  /** The document starts white and nothing is drawn before: clearing has nothing to remove. */
  clearRect() {}

  fillText(text: string, x: number, y: number) {
    const m = /(?:(bold|\d{3})\s+)?(\d+(?:\.\d+)?)px\s+(.+)$/.exec(this.st.font);
    const font = m ? ` font-size="${m[2]}" font-family="${esc(m[3])}"${m[1] ? ` font-weight="${m[1]}"` : ""}` : "";
    this.emit(`<text x="${n(x)}" y="${n(y)}"${font} text-anchor="${ANCHOR[this.st.textAlign] ?? "start"}"${this.fillAttrs()}>${esc(text)}</text>`);
  }
  /** Text widths from a real canvas when there is one (the browser), else an estimate. */
  measureText(text: string): TextMetrics {
    if (!measurer && typeof document !== "undefined") measurer = document.createElement("canvas").getContext("2d");
    if (measurer) { measurer.font = this.st.font; return measurer.measureText(text); }
    const px = Number(/(\d+(?:\.\d+)?)px/.exec(this.st.font)?.[1] ?? 10);
    return { width: text.length * px * 0.55 } as TextMetrics;
  }

  /** The SVG document: a white page and everything drawn, in order. */
  document(): string {
    return [`<svg xmlns="http://www.w3.org/2000/svg" width="${n(this.width)}" height="${n(this.height)}" viewBox="0 0 ${n(this.width)} ${n(this.height)}">`,
      `<rect width="${n(this.width)}" height="${n(this.height)}" fill="#fff"/>`, ...this.out, "</svg>"].join("\n");
  }

  private alpha(attr: string) { return this.st.globalAlpha < 1 ? ` ${attr}="${n(this.st.globalAlpha)}"` : ""; }
  private fillAttrs() { return ` fill="${esc(this.st.fillStyle)}"${this.alpha("fill-opacity")}`; }
  private strokeAttrs() {
    const dash = this.st.dash.length ? ` stroke-dasharray="${this.st.dash.join(" ")}"` : "";
    return ` stroke="${esc(this.st.strokeStyle)}" stroke-width="${n(this.st.lineWidth)}"${this.alpha("stroke-opacity")}${dash}`;
  }
  private emit(el: string) {
    const t = this.st.transform.join(" ");
    this.out.push(t ? `<g transform="${t}">${el}</g>` : el);
  }
}

/** An SVG document of `w`×`h` drawn by `paint`, the code that draws the canvas. */
export function canvasSvg(w: number, h: number, paint: (g: CanvasRenderingContext2D) => void): string {
  const g = new SvgContext(w, h);
  paint(g as unknown as CanvasRenderingContext2D);
  return g.document();
}
