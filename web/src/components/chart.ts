// One line chart per metric. Data comes pre-bucketed from POST /charts/query; this card keeps
// the per-run bucket columns, aligns them for uPlot, applies smoothing client-side (cheap: it
// is O(points) over at most ~1000 buckets per run) and draws raw lines faint under the
// smoothed ones, with an optional min/max band.

import uPlot from "uplot";
import { api, type Run, type RunRef } from "../api";
import { aggregate, align, fillForward, mergeIncrement, type Aligned, type BucketSeries, type Col } from "../lib/buckets";
import { runColor, withAlpha } from "../lib/colors";
import { h, clear } from "../lib/dom";
import { smoothTB } from "../lib/smoothing";
import { formatNumber } from "../lib/tjson";
import { hook } from "../hook";

export interface ChartSettings {
  smoothing: number; x: string; log: boolean; band: boolean;
  zoom: [number, number] | null; group: string;
}

export interface ChartContext {
  settings: () => ChartSettings;
  runs: () => Run[];                       // runs to draw, in colour/legend order
  groups: () => Map<string, Run[]> | null; // when grouping, members per group label
  onZoom(z: [number, number] | null): void;
  syncKey: string;
  stream?: string;                         // "system": chart the runs' system series
}

interface Line { id: string; label: string; color: string; raw: Col; min: Col; max: Col }

const HEIGHT = 220;

export class ChartCard {
  readonly el: HTMLDivElement;
  private plotBox: HTMLDivElement;
  private status: HTMLDivElement;
  private tip: HTMLDivElement;
  private plot: uPlot | null = null;
  private series = new Map<string, BucketSeries>();
  private aligned: Aligned | null = null;
  private lines: Line[] = [];
  private shape = "";
  private loading: Promise<void> | null = null;
  private fetchedFor = "";
  visible = false;

  constructor(readonly metric: string, private ctx: ChartContext) {
    this.plotBox = h("div", { class: "plot" });
    this.status = h("div", { class: "chart-status muted" }, "");
    this.tip = h("div", { class: "tip" });
    this.el = h("div", { class: "chart", "data-metric": metric },
      h("div", { class: "chart-title", title: metric }, metric), this.status, this.plotBox, this.tip);
    this.el.style.minHeight = `${HEIGHT + 40}px`;
    // Follow the card's width (window resizes, grid reflow) without rebuilding the plot.
    this.resize = new ResizeObserver(() => {
      const w = Math.max(200, this.plotBox.clientWidth);
      if (this.plot && Math.abs(this.plot.width - w) > 8) this.plot.setSize({ width: w, height: HEIGHT });
    });
    this.resize.observe(this.plotBox);
  }
  private resize: ResizeObserver;

  destroy() { this.resize.disconnect(); this.plot?.destroy(); this.plot = null; }

  private buckets(nRuns: number): number {
    const w = Math.max(200, this.el.clientWidth || 450);
    const base = Math.min(1000, w);
    return Math.max(100, Math.floor(base * Math.min(1, Math.sqrt(10 / Math.max(1, nRuns)))));
  }

  /** Fetch (or re-fetch after a change of runs, x-axis or zoom) and draw. */
  load(force = false): Promise<void> {
    const s = this.ctx.settings();
    const runs = this.ctx.runs();
    const key = JSON.stringify([runs.map((r) => r.run_id), s.x, s.zoom]);
    if (!force && key === this.fetchedFor) { this.draw(); return this.loading ?? Promise.resolve(); }
    this.fetchedFor = key;
    const refs: RunRef[] = runs.map((r) => ({ entity: r.entity, project: r.project, run_id: r.run_id }));
    if (refs.length === 0) { this.series.clear(); this.draw(); return Promise.resolve(); }
    const t0 = performance.now();
    this.status.textContent = "loading…";
    const p = api.chart(refs, this.metric, s.x, s.zoom?.[0] ?? null, s.zoom?.[1] ?? null, this.buckets(refs.length), this.ctx.stream)
      .then((list) => {
        if (this.fetchedFor !== key) return; // a newer request superseded this one
        this.series = new Map(list.map((ser) => [ser.run_id, ser]));
        this.status.textContent = "";
        this.draw();
        hook.timings.push({ metric: this.metric, ms: performance.now() - t0 });
      })
      .catch((e) => { this.status.textContent = `error: ${e.message}`; });
    this.loading = p;
    return p;
  }

  /**
   * Live update: ask only for x at or after the last point we hold for each running run, and
   * splice it in. Finished runs and unchanged history are never re-downloaded.
   */
  async poll(running: Run[]) {
    const s = this.ctx.settings();
    if (s.zoom || running.length === 0 || this.series.size === 0) return;
    let from = Infinity;
    for (const r of running) {
      const ser = this.series.get(r.run_id);
      const lastX = ser && ser.x.length ? ser.x[ser.x.length - 1] : -Infinity;
      from = Math.min(from, lastX);
    }
    const xMin = Number.isFinite(from) ? from : null;
    const refs = running.map((r) => ({ entity: r.entity, project: r.project, run_id: r.run_id }));
    const inc = await api.chart(refs, this.metric, s.x, xMin, null, this.buckets(refs.length), this.ctx.stream);
    for (const ser of inc) {
      const cached = this.series.get(ser.run_id);
      this.series.set(ser.run_id, cached && xMin !== null ? mergeIncrement(cached, ser, xMin) : ser);
    }
    this.draw();
  }

  /** Rebuild the aligned table and lines from cached buckets, then redraw. */
  draw() {
    const runs = this.ctx.runs().filter((r) => this.series.has(r.run_id));
    const ser = runs.map((r) => this.series.get(r.run_id)!);
    const groups = this.ctx.groups();
    if (groups) {
      this.aligned = align(ser, this.buckets(ser.length));
      const colOf = new Map(runs.map((r, i) => [r.run_id, i]));
      this.lines = [];
      for (const [label, members] of groups) {
        const idx = members.map((m) => colOf.get(m.run_id)).filter((i): i is number => i !== undefined);
        if (!idx.length) continue;
        const agg = aggregate(idx.map((i) => fillForward(this.aligned!.last[i])));
        this.lines.push({ id: `group:${label}`, label: `${label} (${idx.length})`, color: runColor(label), raw: agg.mean, min: agg.min, max: agg.max });
      }
    } else {
      this.aligned = align(ser, 4000);
      this.lines = runs.map((r, i) => ({ id: r.run_id, label: r.name, color: runColor(r.run_id),
        raw: this.aligned!.last[i], min: this.aligned!.min[i], max: this.aligned!.max[i] }));
    }
    this.render();
  }

  /** Apply smoothing/log/band to the aligned data and hand it to uPlot. */
  render() {
    if (!this.aligned) return;
    const t0 = performance.now();
    const s = this.ctx.settings();
    const smooth = s.smoothing > 0;
    const band = s.band;
    const fix = (c: Col): Col => (s.log ? c.map((v) => (v !== null && v > 0 ? v : null)) : c);
    const data: Col[] = [this.aligned.x];
    const smoothed: Col[] = [];
    for (const l of this.lines) {
      const sm = smooth ? smoothTB(l.raw, s.smoothing) : l.raw;
      smoothed.push(sm);
      if (smooth) data.push(fix(l.raw));
      data.push(fix(sm));
      if (band) data.push(fix(l.min), fix(l.max));
    }
    const shape = JSON.stringify([this.lines.map((l) => l.id), smooth, band, s.log, s.x]);
    if (shape !== this.shape || !this.plot) {
      this.shape = shape;
      this.plot?.destroy();
      this.plot = new uPlot(this.options(smooth, band, s), data as uPlot.AlignedData, this.plotBox);
    } else {
      // batch() commits synchronously instead of on uPlot's microtask, so the redraw is done
      // (and measurable) when render() returns.
      const plot = this.plot;
      plot.batch(() => plot.setData(data as uPlot.AlignedData));
    }
    this.status.textContent = this.lines.length === 0 ? "no data for the selected runs" : "";
    // A key whose values are not numbers (text, media) has no points: say so, draw no empty chart.
    const empty = this.lines.every((l) => l.raw.every((v) => v === null || v === undefined));
    this.plotBox.style.visibility = empty ? "hidden" : "";
    if (empty && this.lines.length) this.status.textContent = "no numeric values under this key";
    hook.charts[this.metric] = { metric: this.metric, runs: this.lines.map((l) => l.id), x: this.aligned.x,
      raw: this.lines.map((l) => l.raw), smooth: smoothed, drawnAt: performance.now(), smoothing: s.smoothing };
    if (!hook.firstChartAt && this.lines.length) hook.firstChartAt = performance.now();
    return performance.now() - t0;
  }

  private options(smooth: boolean, band: boolean, s: ChartSettings): uPlot.Options {
    const series: uPlot.Series[] = [{ label: s.x }];
    const bands: uPlot.Band[] = [];
    for (const l of this.lines) {
      if (smooth) series.push({ label: `${l.label} (raw)`, stroke: withAlpha(l.color, 0.25), width: 1, spanGaps: true, points: { show: false } });
      series.push({ label: l.label, stroke: l.color, width: 1.5, spanGaps: true, points: { show: false } });
      if (band) {
        const lo = series.push({ label: `${l.label} min`, stroke: "transparent", spanGaps: true, points: { show: false } }) - 1;
        const hi = series.push({ label: `${l.label} max`, stroke: "transparent", spanGaps: true, points: { show: false } }) - 1;
        bands.push({ series: [hi, lo], fill: withAlpha(l.color, 0.1) });
      }
    }
    return {
      width: Math.max(200, this.plotBox.clientWidth || this.el.clientWidth - 16 || 450), height: HEIGHT,
      series, bands, legend: { show: false },
      scales: { x: { time: s.x === "_timestamp" }, y: { distr: s.log ? 3 : 1 } },
      cursor: { sync: { key: this.ctx.syncKey }, drag: { x: true, y: false, setScale: false }, points: { show: false } },
      axes: [{ stroke: "#666", grid: { stroke: "#eee" } }, { stroke: "#666", grid: { stroke: "#eee" }, size: 60 }],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 5) return;
          const lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          this.ctx.onZoom([lo, hi]);
        }],
        setCursor: [(u) => this.tooltip(u, smooth, band)],
        ready: [(u) => u.over.addEventListener("dblclick", () => this.ctx.onZoom(null))],
      },
    };
  }

  /** Hover legend: exact values at the cursor for every line, nearest point per run, sorted. */
  private tooltip(u: uPlot, smooth: boolean, band: boolean) {
    const idx = u.cursor.idx;
    // Synced cursors move on every chart; only the chart under the mouse shows the legend.
    if (idx === null || idx === undefined || !this.aligned || u.cursor.left === undefined || u.cursor.left < 0 || !u.over.matches(":hover")) {
      this.tip.style.display = "none"; return;
    }
    const per = (smooth ? 2 : 1) + (band ? 2 : 0);
    const rows: { label: string; color: string; v: number; raw: number | null; x: number }[] = [];
    this.lines.forEach((l, i) => {
      const col = u.data[1 + i * per + (smooth ? 1 : 0)] as Col;
      const j = nearest(col, idx, 64);
      if (j < 0) return;
      rows.push({ label: l.label, color: l.color, v: col[j] as number, raw: smooth ? l.raw[j] : null, x: this.aligned!.x[j] });
    });
    if (!rows.length) { this.tip.style.display = "none"; return; }
    rows.sort((a, b) => b.v - a.v);
    const xLabel = this.ctx.settings().x === "_timestamp" ? new Date(this.aligned.x[idx] * 1000).toLocaleString() : formatNumber(this.aligned.x[idx]);
    clear(this.tip, h("div", { class: "tip-x" }, `${this.ctx.settings().x} = ${xLabel}`),
      ...rows.slice(0, 12).map((r) => h("div", { class: "tip-row" },
        h("span", { class: "swatch", style: { background: r.color } }), h("span", { class: "tip-name" }, r.label),
        h("b", null, formatNumber(r.v)), r.raw !== null ? h("span", { class: "muted" }, ` raw ${formatNumber(r.raw)}`) : null)),
      rows.length > 12 ? h("div", { class: "muted" }, `+${rows.length - 12} more`) : null);
    this.tip.style.display = "block";
    const left = u.cursor.left + 60;
    this.tip.style.left = `${left > this.el.clientWidth - 220 ? Math.max(0, left - 260) : left}px`;
  }
}

function nearest(col: Col, idx: number, reach: number): number {
  for (let d = 0; d <= reach; d++) {
    if (idx - d >= 0 && col[idx - d] !== null && col[idx - d] !== undefined) return idx - d;
    if (idx + d < col.length && col[idx + d] !== null && col[idx + d] !== undefined) return idx + d;
  }
  return -1;
}
