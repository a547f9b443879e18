// Scatter plot of runs on two config/summary keys, coloured by a third; drag a rectangle to
// select the runs inside it. Plain canvas: one point per run, fine for 100k runs.

import type { Run } from "../api";
import { axisData, axisTicks, defaultAxes, norm, type AxisData } from "../lib/axes";
import { canvasSvg } from "../lib/svgctx";
import { paletteColor, ramp, runColor } from "../lib/colors";
import { h, clear } from "../lib/dom";
import { formatNumber } from "../lib/tjson";
import type { ViewState } from "../lib/urlstate";

/** What a cross-run panel keeps: its axes, colour key, log axes, explained metric (the
 *  workspace's own panels keep them in the view state, added panels in their PanelConfig), and
 *  the selection it highlights. */
export type CrossRunState = Pick<ViewState, "sx" | "sy" | "color" | "axes" | "logAxes" | "imp" | "selected">;

/** Sizes a canvas for the screen's pixel density and returns a cleared context in CSS pixels. */
export function prepareCanvas(canvas: HTMLCanvasElement, w: number, hgt: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = w * dpr; canvas.height = hgt * dpr;
  canvas.style.width = `${w}px`; canvas.style.height = `${hgt}px`;
  const g = canvas.getContext("2d")!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, hgt);
  return g;
}

export interface CrossRunOpts {
  runs: () => Run[];
  keys: () => string[];
  state: CrossRunState;
  save(): void;
  onSelect(ids: string[]): void;
  /** Prefix of the element ids (default the kind: `scatter`, `parallel`, `importance`); a
   *  second panel of a kind needs its own. */
  idp?: string;
}

const PAD = { l: 84, r: 24, t: 28, b: 40 };
/** Points keep a margin from the axes so extremes are not drawn on top of them. */
const inset = (t: number) => 0.04 + 0.92 * t;

export function keySelect(id: string, keys: string[], value: string, onChange: (v: string) => void, blank = false) {
  const sel = h("select", { id, onchange: () => onChange(sel.value) },
    blank ? h("option", { value: "" }, "(none)") : null,
    keys.map((k) => h("option", { value: k, selected: k === value }, k)));
  return sel;
}

/** A checkbox that puts `key` on a log scale (ViewState.logAxes) or back. */
export function logToggle(id: string, key: string, o: CrossRunOpts, rerender: () => void) {
  const s = o.state;
  const box = h("input", { type: "checkbox", id, checked: s.logAxes.includes(key), onchange: () => {
    s.logAxes = box.checked ? [...s.logAxes.filter((k) => k !== key), key] : s.logAxes.filter((k) => k !== key);
    o.save(); rerender();
  } });
  return h("label", { class: "muted", title: `log scale for ${key}` }, box, "log");
}

export function colourOf(run: Run, i: number, colour: AxisData | null) {
  if (!colour) return runColor(run.run_id);
  const v = colour.vals[i];
  // Categories get the qualitative palette, numbers a sequential ramp.
  if (v === null) return "#bbb";
  return colour.cats ? paletteColor(v) : ramp(norm(colour, v));
}

export class ScatterPlot {
  readonly el: HTMLDivElement;
  private canvas: HTMLCanvasElement;
  private controls: HTMLDivElement;
  private tip: HTMLDivElement;
  private pts: { x: number; y: number; i: number }[] = [];
  private drag: { x0: number; y0: number; x1: number; y1: number } | null = null;

  constructor(private o: CrossRunOpts) {
    this.controls = h("div", { class: "toolbar" });
    this.canvas = h("canvas", { class: "xplot", id: `${o.idp ?? "scatter"}-canvas` });
    this.tip = h("div", { class: "tip" });
    this.el = h("div", { class: "crossrun" }, this.controls, h("div", { class: "canvas-wrap" }, this.canvas, this.tip));
    this.canvas.addEventListener("mousedown", (e) => { const p = this.pos(e); this.drag = { x0: p.x, y0: p.y, x1: p.x, y1: p.y }; });
    this.canvas.addEventListener("mousemove", (e) => this.move(e));
    this.canvas.addEventListener("mouseup", () => this.endDrag());
  }

  private pos(e: MouseEvent) { const r = this.canvas.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; }

  render() {
    const keys = this.o.keys();
    const s = this.o.state;
    const defaults = defaultAxes(this.o.runs() as unknown as Record<string, unknown>[], keys);
    if (this.o.runs().length && keys.length) {
      if (!s.sx) s.sx = defaults[0] ?? keys[0] ?? "";
      if (!s.sy) s.sy = defaults[defaults.length - 1] ?? keys[1] ?? "";
    }
    const set = (k: "sx" | "sy" | "color") => (v: string) => { s[k] = v; this.o.save(); this.render(); };
    const rerender = () => this.render();
    const p = this.o.idp ?? "scatter";
    clear(this.controls, h("label", null, "X ", keySelect(`${p}-x`, keys, s.sx, set("sx"))),
      logToggle(`${p}-logx`, s.sx, this.o, rerender),
      h("label", null, "Y ", keySelect(`${p}-y`, keys, s.sy, set("sy"))),
      logToggle(`${p}-logy`, s.sy, this.o, rerender),
      h("label", null, "Colour ", keySelect(`${p}-color`, keys, s.color, set("color"), true)),
      h("span", { class: "muted" }, "drag a rectangle to select runs"));
    this.draw();
  }

  private size() { return { w: this.canvas.parentElement?.clientWidth || 600, hgt: 420 }; }

  private draw() {
    const { w, hgt } = this.size();
    this.paint(prepareCanvas(this.canvas, w, hgt), w, hgt);
  }

  /** The plot as an SVG document (the canvas's drawing, replayed). */
  svg(): string {
    const { w, hgt } = this.size();
    return canvasSvg(w, hgt, (g) => this.paint(g, w, hgt));
  }

  private paint(g: CanvasRenderingContext2D, w: number, hgt: number) {
    const runs = this.o.runs();
    const s = this.o.state;
    if (!s.sx || !s.sy) { g.fillText("No config or summary keys to plot yet.", 20, 30); return; }
    const recs = runs as unknown as Record<string, unknown>[];
    const ax = axisData(recs, s.sx, s.logAxes.includes(s.sx)), ay = axisData(recs, s.sy, s.logAxes.includes(s.sy)), ac = s.color ? axisData(recs, s.color) : null;
    const sx = (v: number) => PAD.l + inset(norm(ax, v)) * (w - PAD.l - PAD.r);
    const sy = (v: number) => hgt - PAD.b - inset(norm(ay, v)) * (hgt - PAD.t - PAD.b);
    drawAxes(g, w, hgt, ax, ay);
    if (ac) drawLegend(g, w, ac);
    const sel = new Set(s.selected[0] === "*" ? [] : s.selected); // "*": everything, so no highlight
    this.pts = [];
    runs.forEach((r, i) => {
      const x = ax.vals[i], y = ay.vals[i];
      if (x === null || y === null) return;
      const px = sx(x), py = sy(y);
      this.pts.push({ x: px, y: py, i });
      g.fillStyle = colourOf(r, i, ac);
      g.globalAlpha = sel.size && !sel.has(r.run_id) ? 0.25 : 0.9;
      g.beginPath(); g.arc(px, py, sel.has(r.run_id) ? 4.5 : 3.5, 0, Math.PI * 2); g.fill();
    });
    g.globalAlpha = 1;
    if (this.drag) {
      g.strokeStyle = "#333"; g.setLineDash([4, 3]);
      g.strokeRect(this.drag.x0, this.drag.y0, this.drag.x1 - this.drag.x0, this.drag.y1 - this.drag.y0);
      g.setLineDash([]);
    }
    window.__trackway.scatter = { points: this.pts.length, x: s.sx, y: s.sy,
      xticks: axisTicks(ax).map((t) => t.label), yticks: axisTicks(ay).map((t) => t.label) };
  }

  private move(e: MouseEvent) {
    const p = this.pos(e);
    if (this.drag) { this.drag.x1 = p.x; this.drag.y1 = p.y; this.draw(); return; }
    let best = -1, bd = 64;
    for (const q of this.pts) { const d = (q.x - p.x) ** 2 + (q.y - p.y) ** 2; if (d < bd) { bd = d; best = q.i; } }
    if (best < 0) { this.tip.style.display = "none"; return; }
    const r = this.o.runs()[best];
    const s = this.o.state;
    const recs = [r] as unknown as Record<string, unknown>[];
    const fmt = (k: string) => { const a = axisData(recs, k); return a.cats ? a.cats[0] : formatNumber(a.vals[0] ?? NaN); };
    clear(this.tip, h("b", null, r.name), h("div", null, `${s.sx}: ${fmt(s.sx)}`), h("div", null, `${s.sy}: ${fmt(s.sy)}`),
      s.color ? h("div", null, `${s.color}: ${fmt(s.color)}`) : null);
    Object.assign(this.tip.style, { display: "block", left: `${p.x + 12}px`, top: `${p.y + 12}px` });
  }

  private endDrag() {
    const d = this.drag;
    this.drag = null;
    if (!d || Math.abs(d.x1 - d.x0) < 4 || Math.abs(d.y1 - d.y0) < 4) { this.draw(); return; }
    const [x0, x1] = [Math.min(d.x0, d.x1), Math.max(d.x0, d.x1)], [y0, y1] = [Math.min(d.y0, d.y1), Math.max(d.y0, d.y1)];
    const runs = this.o.runs();
    this.o.onSelect(this.pts.filter((q) => q.x >= x0 && q.x <= x1 && q.y >= y0 && q.y <= y1).map((q) => runs[q.i].run_id));
    this.draw();
  }
}

function drawAxes(g: CanvasRenderingContext2D, w: number, hgt: number, ax: AxisData, ay: AxisData) {
  g.strokeStyle = "#999"; g.fillStyle = "#444"; g.font = "11px sans-serif"; g.lineWidth = 1;
  g.beginPath(); g.moveTo(PAD.l, PAD.t); g.lineTo(PAD.l, hgt - PAD.b); g.lineTo(w - PAD.r, hgt - PAD.b); g.stroke();
  // Round-number ticks (every category on a categorical axis).
  for (const tk of axisTicks(ax)) { g.textAlign = "center"; g.fillText(tk.label, PAD.l + inset(tk.t) * (w - PAD.l - PAD.r), hgt - PAD.b + 14); }
  for (const tk of axisTicks(ay)) { g.textAlign = "right"; g.fillText(tk.label, PAD.l - 4, hgt - PAD.b - inset(tk.t) * (hgt - PAD.t - PAD.b) + 4); }
  g.textAlign = "center"; g.fillText(ax.key, (w + PAD.l) / 2, hgt - 8);
  g.save(); g.translate(12, (hgt - PAD.b + PAD.t) / 2); g.rotate(-Math.PI / 2); g.fillText(ay.key, 0, 0); g.restore();
}

/** Colour ramp legend in the top-right corner for "colour by". */
export function drawLegend(g: CanvasRenderingContext2D, w: number, a: AxisData) {
  g.font = "10px sans-serif"; g.textAlign = "left";
  if (a.cats) {
    // Categorical colour: one swatch per category, right-aligned in the corner.
    let x = w - 24;
    for (let i = a.cats.length - 1; i >= 0 && x > 80; i--) {
      const label = a.cats[i].slice(0, 16), tw = g.measureText(label).width;
      x -= tw + 18;
      g.fillStyle = paletteColor(i); g.fillRect(x, 6, 9, 9);
      g.fillStyle = "#444"; g.fillText(label, x + 12, 14);
    }
    return;
  }
  const x0 = w - 24 - 260, y0 = 4;
  for (let i = 0; i < 100; i++) { g.fillStyle = ramp(i / 99); g.fillRect(x0 + i * 1.2, y0, 1.3, 8); }
  g.fillStyle = "#444";
  g.fillText(formatNumber(a.min), x0, y0 + 18); g.textAlign = "right"; g.fillText(formatNumber(a.max), x0 + 120, y0 + 18);
}
