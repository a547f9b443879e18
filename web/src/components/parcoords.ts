// Parallel coordinates over config/summary keys. Drag vertically on an axis to brush a range;
// the runs inside every brush become the selection (and so the charted runs).

import { axisData, axisTicks, brushed, defaultAxes, denorm, norm, type AxisData } from "../lib/axes";
import { canvasSvg } from "../lib/svgctx";
import { h, clear } from "../lib/dom";
import { colourOf, drawLegend, keySelect, logToggle, prepareCanvas, type CrossRunOpts } from "./scatter";

const PAD = { l: 40, r: 40, t: 46, b: 24 };
const MAX_LINES = 20000;

export class ParallelCoords {
  readonly el: HTMLDivElement;
  private canvas: HTMLCanvasElement;
  private controls: HTMLDivElement;
  private brushes = new Map<string, [number, number]>();
  private axes: AxisData[] = [];
  private drag: { axis: number; y0: number; y1: number } | null = null;
  private onMove: (e: MouseEvent) => void;
  private onUp: () => void;

  constructor(private o: CrossRunOpts) {
    this.controls = h("div", { class: "toolbar" });
    this.canvas = h("canvas", { class: "xplot", id: `${o.idp ?? "parallel"}-canvas` });
    this.el = h("div", { class: "crossrun" }, this.controls, h("div", { class: "canvas-wrap" }, this.canvas));
    this.canvas.addEventListener("mousedown", (e) => this.down(e));
    // A brush follows the pointer past the canvas edge (it is open on that side) and ends
    // wherever the button is released: the window listens while a brush is being dragged.
    this.onMove = (e: MouseEvent) => { if (this.drag) { this.drag.y1 = this.pos(e).y; this.draw(); } };
    this.onUp = () => { window.removeEventListener("mousemove", this.onMove); window.removeEventListener("mouseup", this.onUp); this.up(); };
  }

  // In layout pixels: a grid panel may show the canvas scaled to its card, and brushes are kept
  // in the coordinates the axes are drawn in.
  private pos(e: MouseEvent) {
    const r = this.canvas.getBoundingClientRect(), { w, hgt } = this.size();
    return { x: (e.clientX - r.left) * (r.width ? w / r.width : 1), y: (e.clientY - r.top) * (r.height ? hgt / r.height : 1) };
  }
  private size() { return { w: this.canvas.parentElement?.clientWidth || 800, hgt: 420 }; }
  private axisX(i: number) { const { w } = this.size(); return PAD.l + (this.axes.length < 2 ? 0 : (i * (w - PAD.l - PAD.r)) / (this.axes.length - 1)); }

  render() {
    const keys = this.o.keys();
    const s = this.o.state;
    // Defaults need the runs (which keys vary) and the keys; until both are here, none.
    if (!s.axes.length && this.o.runs().length && keys.length) s.axes = defaultAxes(this.o.runs() as unknown as Record<string, unknown>[], keys);
    const p = this.o.idp ?? "parallel";
    const add = keySelect(`${p}-add`, keys.filter((k) => !s.axes.includes(k)), "", (v) => { if (v) { s.axes = [...s.axes, v]; this.o.save(); this.render(); } }, true);
    clear(this.controls,
      s.axes.map((a, i) => h("span", { class: "chip" }, a, logToggle(`${p}-log-${i}`, a, this.o, () => { this.brushes.delete(a); this.render(); }), h("button", { class: "x", onclick: () => { s.axes = s.axes.filter((x) => x !== a); this.brushes.delete(a); this.o.save(); this.render(); } }, "×"))),
      h("label", null, "Add axis ", add),
      h("label", null, "Colour ", keySelect(`${p}-color`, keys, s.color, (v) => { s.color = v; this.o.save(); this.render(); }, true)),
      this.brushes.size ? h("button", { onclick: () => { this.brushes.clear(); this.o.onSelect([]); this.render(); } }, "Clear brushes") : null,
      h("span", { class: "muted" }, "drag on an axis to brush"));
    this.draw();
  }

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
    const recs = runs as unknown as Record<string, unknown>[];
    this.axes = s.axes.map((k) => axisData(recs, k, s.logAxes.includes(k)));
    const ac = s.color ? axisData(recs, s.color) : null;
    const y = (a: AxisData, v: number) => hgt - PAD.b - norm(a, v) * (hgt - PAD.t - PAD.b);
    const inside = new Set(this.brushes.size ? brushed(this.axes, this.brushes, runs.length) : []);
    const n = Math.min(runs.length, MAX_LINES);
    g.lineWidth = 1;
    for (const pass of [0, 1]) {
      for (let i = 0; i < n; i++) {
        const hit = !this.brushes.size || inside.has(i);
        if ((pass === 1) !== hit) continue; // draw brushed-out lines first, faint
        g.strokeStyle = hit ? colourOf(runs[i], i, ac) : "#ddd";
        g.globalAlpha = hit ? 0.8 : 0.5;
        g.beginPath();
        let pen = false;
        this.axes.forEach((a, k) => {
          const v = a.vals[i];
          if (v === null) { pen = false; return; }
          if (pen) g.lineTo(this.axisX(k), y(a, v)); else g.moveTo(this.axisX(k), y(a, v));
          pen = true;
        });
        g.stroke();
      }
    }
    g.globalAlpha = 1;
    this.axes.forEach((a, k) => this.drawAxis(g, a, k, hgt));
    if (ac) drawLegend(g, w, ac);
    if (this.drag) {
      g.fillStyle = "rgba(30,100,200,0.2)";
      g.fillRect(this.axisX(this.drag.axis) - 8, Math.min(this.drag.y0, this.drag.y1), 16, Math.abs(this.drag.y1 - this.drag.y0));
    }
    window.__trackway.parallel = { axes: s.axes.slice(), lines: n, brushed: this.brushes.size ? inside.size : null,
      ticks: this.axes.map((a) => axisTicks(a).map((t) => t.label)) };
  }

  private drawAxis(g: CanvasRenderingContext2D, a: AxisData, k: number, hgt: number) {
    const x = this.axisX(k);
    g.strokeStyle = "#555"; g.fillStyle = "#222"; g.font = "11px sans-serif"; g.textAlign = "center";
    g.beginPath(); g.moveTo(x, PAD.t); g.lineTo(x, hgt - PAD.b); g.stroke();
    g.fillText(a.key, x, PAD.t - 12);
    // Every category, or round numbers, labelled beside the axis.
    g.textAlign = "left";
    for (const tk of axisTicks(a)) {
      const ty = hgt - PAD.b - tk.t * (hgt - PAD.t - PAD.b);
      g.beginPath(); g.moveTo(x - 3, ty); g.lineTo(x + 3, ty); g.stroke();
      g.fillText(tk.label.length > 14 ? `${tk.label.slice(0, 13)}…` : tk.label, x + 5, ty + 4);
    }
    const b = this.brushes.get(a.key);
    if (b) {
      const clampN = (v: number) => Math.min(1, Math.max(0, norm(a, v)));
      const y0 = hgt - PAD.b - clampN(b[1]) * (hgt - PAD.t - PAD.b), y1 = hgt - PAD.b - clampN(b[0]) * (hgt - PAD.t - PAD.b);
      g.fillStyle = "rgba(30,100,200,0.25)"; g.fillRect(x - 8, y0, 16, y1 - y0);
    }
  }

  private down(e: MouseEvent) {
    const p = this.pos(e);
    let best = -1, bd = 20;
    this.axes.forEach((_, k) => { const d = Math.abs(this.axisX(k) - p.x); if (d < bd) { bd = d; best = k; } });
    if (best < 0) return;
    this.drag = { axis: best, y0: p.y, y1: p.y };
    e.preventDefault(); // no text selection or native drag of the panel while brushing
    window.addEventListener("mousemove", this.onMove);
    window.addEventListener("mouseup", this.onUp);
  }

  private up() {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    const a = this.axes[d.axis];
    const { hgt } = this.size();
    // A brush dragged past an axis end is open on that side, so the extreme runs are included.
    const val = (py: number) => (py <= PAD.t ? Infinity : py >= hgt - PAD.b ? -Infinity
      : denorm(a, (hgt - PAD.b - py) / (hgt - PAD.t - PAD.b)));
    if (Math.abs(d.y1 - d.y0) < 3) this.brushes.delete(a.key);
    else this.brushes.set(a.key, [Math.min(val(d.y0), val(d.y1)), Math.max(val(d.y0), val(d.y1))]);
    const runs = this.o.runs();
    this.o.onSelect(this.brushes.size ? brushed(this.axes, this.brushes, runs.length).map((i) => runs[i].run_id) : []);
    this.render();
  }
}
