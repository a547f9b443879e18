// One line-chart panel: one or several metrics (names or /regex/) for the runs in view. Data
// comes pre-bucketed from POST /charts/query; this card keeps the per-run bucket columns,
// aligns them for uPlot, applies smoothing client-side (cheap: O(points) over at most ~1000
// buckets per run) and draws raw lines faint under the smoothed ones, with an optional min/max
// band, a legend (hover highlights, click hides a line), markers for sparse series and markers
// on the plot's edge for NaN/Inf values. Per-panel settings (PanelConfig) override the
// workspace's.

import uPlot from "uplot";
import { api, type Run, type RunRef } from "../api";
import { aggregate, align, fillForward, mergeIncrement, type Aligned, type BucketSeries, type Col } from "../lib/buckets";
import { assignColors, runColor, withAlpha } from "../lib/colors";
import { h, clear } from "../lib/dom";
import { parseSmoothing, smoothTB } from "../lib/smoothing";
import { formatTick, formatTicksWithUnit, formatWithUnit, unitOf } from "../lib/ticks";
import { parseExpr, resolveMetrics, type Expr, type PanelConfig } from "../lib/panels";
import { hook } from "../hook";
import { chartCsv, chartSvg, fileName, svgToPng, valuesCsv, type SvgChart, type SvgSeries } from "../lib/chartexport";
import { download } from "../lib/csv";

export interface ChartSettings {
  smoothing: number; x: string; log: boolean; band: boolean;
  zoom: [number, number] | null; group: string;
}

export interface ChartContext {
  settings: () => ChartSettings;
  runs: () => Run[];                       // runs to draw, in legend order
  /** Members per group label when grouping by `field` (default: the workspace's grouping). */
  groups: (field?: string) => Map<string, Run[]> | null;
  onZoom(z: [number, number] | null): void;
  syncKey: string;
  stream?: string;                         // "system": chart the runs' system series
  colorOf?: (id: string) => string;        // the workspace's colour of a run (or group label)
  setColor?: (id: string, color: string) => void;
  panel?: () => PanelConfig;               // this panel's own settings
  keys?: () => string[];                   // metric names a /regex/ in the panel may match
  actions?: PanelActions;
}

export interface PanelActions { edit(): void; duplicate(): void; remove(): void }

interface Line { id: string; key: string; label: string; color: string; dash: number[] | undefined; raw: Col; min: Col; max: Col; /** x of NaN/Inf points (server bucket counts and NaN cells), how many */ bad: number[]; nonfinite: number }

const HEIGHT = 220;
const DASHES: (number[] | undefined)[] = [undefined, [6, 3], [2, 2], [8, 3, 2, 3]];
/** A line with at most this many points is drawn with markers (one point draws nothing otherwise). */
const SPARSE = 40;
/** Runs drawn one by one get their min/max band up to this many lines: past it the bands of
 *  overlapping runs blur into one grey area and cost half the redraw (groups always get it). */
const BAND_LINES = 10;

export class ChartCard {
  readonly el: HTMLDivElement;
  private plotBox: HTMLDivElement;
  private status: HTMLDivElement;
  private tip: HTMLDivElement;
  private legend: HTMLDivElement;
  private titleEl: HTMLDivElement;
  private badge: HTMLSpanElement;
  private plot: uPlot | null = null;
  /** metric → run id → buckets */
  private series = new Map<string, Map<string, BucketSeries>>();
  private aligned: Aligned | null = null;
  private lines: Line[] = [];
  private grouped = false;
  private hidden = new Set<string>();
  private shape = "";
  private loading: Promise<void> | null = null;
  private fetchedFor = "";
  /** Bar/scalar panels: the values drawn, for the exports. */
  private values: { l: Line; v: number }[] = [];
  private exportMenu: HTMLDivElement;
  visible = false;

  constructor(readonly metric: string, private ctx: ChartContext) {
    this.plotBox = h("div", { class: "plot" });
    this.status = h("div", { class: "chart-status muted" }, "");
    this.tip = h("div", { class: "tip" });
    this.legend = h("div", { class: "chart-legend" });
    this.badge = h("span", { class: "nonfinite", hidden: true });
    this.titleEl = h("div", { class: "chart-title", title: metric }, metric);
    const a = ctx.actions;
    const btn = (label: string, title: string, f: () => void, cls: string) =>
      h("button", { class: `icon ${cls}`, title, "aria-label": title, onclick: (e: Event) => { e.stopPropagation(); f(); } }, label);
    const item = (label: string, cls: string, f: () => void | Promise<void>) => h("button", { class: cls, role: "menuitem",
      onclick: (e: Event) => { e.stopPropagation(); this.exportMenu.hidden = true; void f(); } }, label);
    this.exportMenu = h("div", { class: "export-menu", role: "menu", hidden: true },
      item("Data (CSV)", "exp-csv", () => download(fileName(this.title(), "csv"), this.csv())),
      item("Image (PNG)", "exp-png", async () => download(fileName(this.title(), "png"), await svgToPng(this.svg()))),
      item("Vector (SVG)", "exp-svg", () => download(fileName(this.title(), "svg"), this.svg(), "image/svg+xml")));
    const tools = h("div", { class: "chart-tools" },
      a ? btn("✎", "Edit panel", () => a.edit(), "edit") : null,
      btn("⤓", "Download the chart's data or image", () => { this.exportMenu.hidden = !this.exportMenu.hidden; }, "export"),
      btn("⤢", "Full screen", () => this.fullScreen(), "full"),
      a ? btn("⧉", "Duplicate panel", () => a.duplicate(), "dup") : null,
      a ? btn("✕", "Delete panel", () => a.remove(), "del") : null);
    this.el = h("div", { class: "chart", "data-metric": metric },
      h("div", { class: "chart-head" }, this.titleEl, this.badge, tools, this.exportMenu), this.status, this.plotBox, this.legend, this.tip);
    this.el.style.minHeight = `${HEIGHT + 40}px`;
    // Follow the card's width (window resizes, grid reflow) without rebuilding the plot.
    this.resize = new ResizeObserver(() => {
      const w = Math.max(200, this.plotBox.clientWidth);
      const ht = this.height();
      if (this.plot && (Math.abs(this.plot.width - w) > 8 || this.plot.height !== ht)) this.plot.setSize({ width: w, height: ht });
    });
    this.resize.observe(this.plotBox);
  }
  private resize: ResizeObserver;

  destroy() { this.resize.disconnect(); this.plot?.destroy(); this.plot = null; }

  private cfg(): PanelConfig { return this.ctx.panel?.() ?? {}; }
  private height() {
    if (this.el.classList.contains("fullscreen")) return Math.max(HEIGHT, window.innerHeight - 160);
    const h = this.cfg().h;
    return h ? Math.max(120, Math.min(1200, h - 90)) : HEIGHT;
  }

  /** The workspace's settings with this panel's overrides. */
  private settings(): ChartSettings & { logx: boolean } {
    const s = this.ctx.settings(), p = this.cfg();
    return { ...s, x: p.x ?? s.x, log: p.logy ?? s.log, band: p.band ?? s.band, group: p.group ?? s.group, smoothing: p.smoothing !== undefined ? parseSmoothing(p.smoothing) : s.smoothing, logx: !!p.logx };
  }

  /** The metrics this panel draws: its own list (names and /regex/), else its one metric. */
  metrics(): string[] {
    const p = this.cfg();
    return p.metrics?.length ? resolveMetrics(p.metrics, this.ctx.keys?.() ?? []) : [this.metric];
  }

  private fullScreen() {
    const on = this.el.classList.toggle("fullscreen");
    document.body.classList.toggle("has-fullscreen", on);
    if (on) {
      const esc = (e: KeyboardEvent) => { if (e.key === "Escape") { document.removeEventListener("keydown", esc); if (this.el.classList.contains("fullscreen")) this.fullScreen(); } };
      document.addEventListener("keydown", esc);
    }
    this.plot?.setSize({ width: Math.max(200, this.plotBox.clientWidth), height: this.height() });
  }

  private buckets(nRuns: number): number {
    const w = Math.max(200, this.el.clientWidth || 450);
    const base = Math.min(1000, w);
    return Math.max(100, Math.floor(base * Math.min(1, Math.sqrt(10 / Math.max(1, nRuns)))));
  }

  /** Fetch (or re-fetch after a change of runs, metrics, x-axis or zoom) and draw. */
  load(force = false): Promise<void> {
    const s = this.settings();
    const runs = this.ctx.runs();
    // Expressions fetch their operands; the lines are computed in draw().
    const metrics = [...new Set(this.metrics().flatMap((m) => parseExpr(m)?.operands ?? [m]))];
    const key = JSON.stringify([runs.map((r) => r.run_id), metrics, s.x, s.zoom]);
    if (!force && key === this.fetchedFor) { this.draw(); return this.loading ?? Promise.resolve(); }
    this.fetchedFor = key;
    const refs: RunRef[] = runs.map((r) => ({ entity: r.entity, project: r.project, run_id: r.run_id }));
    if (refs.length === 0 || metrics.length === 0) { this.series.clear(); this.draw(); return Promise.resolve(); }
    const t0 = performance.now();
    this.status.textContent = "loading…";
    const p = Promise.all(metrics.map((m) => api.chart(refs, m, s.x, s.zoom?.[0] ?? null, s.zoom?.[1] ?? null, this.buckets(refs.length), this.ctx.stream)))
      .then((lists) => {
        if (this.fetchedFor !== key) return; // a newer request superseded this one
        this.series = new Map(metrics.map((m, i) => [m, new Map(lists[i].map((ser) => [ser.run_id, ser]))]));
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
    const s = this.settings();
    if (s.zoom || running.length === 0 || this.series.size === 0) return;
    const refs = running.map((r) => ({ entity: r.entity, project: r.project, run_id: r.run_id }));
    for (const [m, byRun] of this.series) {
      let from = Infinity;
      for (const r of running) {
        const ser = byRun.get(r.run_id);
        from = Math.min(from, ser && ser.x.length ? ser.x[ser.x.length - 1] : -Infinity);
      }
      const xMin = Number.isFinite(from) ? from : null;
      const inc = await api.chart(refs, m, s.x, xMin, null, this.buckets(refs.length), this.ctx.stream);
      for (const ser of inc) {
        const cached = byRun.get(ser.run_id);
        byRun.set(ser.run_id, cached && xMin !== null ? mergeIncrement(cached, ser, xMin) : ser);
      }
    }
    this.draw();
  }

  private color(id: string) { return this.ctx.colorOf?.(id) ?? runColor(id); }

  /** Rebuild the aligned table and lines from cached buckets, then redraw. */
  draw() {
    const metrics = this.metrics().filter((m) => this.series.has(m) || parseExpr(m)?.operands.every((o) => this.series.has(o)));
    const multi = metrics.length > 1;
    const runs = this.ctx.runs();
    const cols: { m: number; run: Run; ser: BucketSeries }[] = [];
    metrics.forEach((m, mi) => {
      const expr = parseExpr(m);
      for (const r of runs) {
        const ser = expr ? this.evalExpr(expr, r.run_id) : this.series.get(m)!.get(r.run_id);
        if (ser) cols.push({ m: mi, run: r, ser });
      }
    });
    // A panel's own aggregation wins; "" draws each run although the workspace groups.
    const own = this.cfg().group;
    const groups = own === undefined ? this.ctx.groups() : own ? this.ctx.groups(own) : null;
    // Groups of a panel's own key are not among the workspace's colours: colour them here.
    const local = own && own !== this.ctx.settings().group && groups ? assignColors([...groups.keys()].map((g) => `group:${g}`)) : null;
    const groupColor = (id: string) => local?.get(id) ?? this.color(id);
    this.lines = [];
    this.grouped = !!groups;
    if (groups) {
      this.aligned = align(cols.map((c) => c.ser), this.buckets(cols.length));
      metrics.forEach((m, mi) => {
        for (const [label, members] of groups) {
          const ids = new Set(members.map((x) => x.run_id));
          const idx = cols.map((c, i) => (c.m === mi && ids.has(c.run.run_id) ? i : -1)).filter((i) => i >= 0);
          if (!idx.length) continue;
          const agg = aggregate(idx.map((i) => fillForward(this.aligned!.last[i])));
          this.lines.push(this.line(`group:${label}`, `group:${label}${multi ? `:${m}` : ""}`, `${label} (${idx.length})${multi ? ` · ${m}` : ""}`,
            groupColor(`group:${label}`), DASHES[mi % DASHES.length], agg.mean, agg.min, agg.max, idx.map((i) => cols[i].ser)));
        }
      });
    } else {
      this.aligned = align(cols.map((c) => c.ser), 4000);
      cols.forEach((c, i) => this.lines.push(this.line(c.run.run_id, multi ? `${c.run.run_id}:${metrics[c.m]}` : c.run.run_id,
        multi ? `${c.run.name} · ${metrics[c.m]}` : c.run.name, this.color(c.run.run_id), DASHES[c.m % DASHES.length],
        this.aligned!.last[i], this.aligned!.min[i], this.aligned!.max[i], [c.ser])));
    }
    this.render();
  }

  /** An expression's series for one run: its operands' last values where all share an x. */
  private evalExpr(e: Expr, runId: string): BucketSeries | null {
    const ops = e.operands.map((o) => this.series.get(o)?.get(runId));
    if (ops.some((o) => !o)) return null;
    const at = ops.map((o) => new Map(o!.x.map((x, i) => [x, o!.last[i]])));
    const x: number[] = [], last: (number | null)[] = [];
    for (const xv of ops[0]!.x) {
      const vals: Record<string, number> = {};
      let ok = true;
      e.operands.forEach((name, k) => { const v = at[k].get(xv); if (v === null || v === undefined) ok = false; else vals[name] = v; });
      if (!ok) continue;
      const v = e.eval(vals);
      x.push(xv); last.push(Number.isFinite(v) ? v : null);
    }
    return { run_id: runId, x, last, min: last, max: last, mean: last, count: x.map(() => 1), nonfinite: [], exact: true };
  }

  /**
   * A line. NaN/±Inf points are never drawn as values: the server counts them per bucket
   * (`nonfinite`) and leaves them out of min/max/last; a NaN cell that still arrives becomes a
   * gap. Their x positions are kept for the edge markers.
   */
  private line(key: string, id: string, label: string, color: string, dash: number[] | undefined, raw: Col, min: Col, max: Col, src: BucketSeries[]): Line {
    const bad: number[] = [];
    let nonfinite = 0;
    for (const ser of src) ser.nonfinite?.forEach((n, i) => { if (n > 0) { bad.push(ser.x[i]); nonfinite += n; } });
    const x = this.aligned!.x;
    const clean = (c: Col, note: boolean) => c.map((v, i) => {
      if (v === null || v === undefined || Number.isFinite(v)) return v;
      if (note) { bad.push(x[i]); nonfinite++; }
      return null;
    });
    return { id, key, label, color, dash, raw: clean(raw, true), min: clean(min, false), max: clean(max, false), bad, nonfinite };
  }

  /** Apply smoothing/log/band to the aligned data and hand it to uPlot. */
  render() {
    if (!this.aligned) return;
    const kind = this.cfg().kind;
    if (kind === "bar" || kind === "scalar") return this.renderValues(kind);
    const t0 = performance.now();
    const s = this.settings();
    const p = this.cfg();
    const smooth = s.smoothing > 0;
    const band = this.bandOn(s);
    const fix = (c: Col): Col => (s.log ? c.map((v) => (v !== null && v > 0 ? v : null)) : c);
    // Log x cannot show x ≤ 0 (step 0): those rows are left out.
    const keep = s.logx ? this.aligned.x.map((x, i) => (x > 0 ? i : -1)).filter((i) => i >= 0) : null;
    const pick = (c: Col): Col => (keep ? keep.map((i) => c[i]) : c);
    const data: Col[] = [pick(this.aligned.x)];
    const smoothed: Col[] = [];
    for (const l of this.lines) {
      const sm = smooth ? smoothTB(l.raw, s.smoothing) : l.raw;
      smoothed.push(sm);
      if (smooth) data.push(pick(fix(l.raw)));
      data.push(pick(fix(sm)));
      if (band) data.push(pick(fix(l.min)), pick(fix(l.max)));
    }
    const shape = JSON.stringify([this.lines.map((l) => [l.id, l.color, this.sparse(l)]), smooth, band, s.log, s.logx, s.x, p.ymin, p.ymax, p.outliers]);
    if (shape !== this.shape || !this.plot) {
      this.shape = shape;
      this.plot?.destroy();
      this.plot = new uPlot(this.options(smooth, band, s), data as uPlot.AlignedData, this.plotBox);
      this.renderLegend(smooth, band);
    } else {
      // batch() commits synchronously instead of on uPlot's microtask, so the redraw is done
      // (and measurable) when render() returns.
      const plot = this.plot;
      plot.batch(() => plot.setData(data as uPlot.AlignedData));
    }
    this.titleEl.textContent = p.title || (this.metrics().length > 1 || p.metrics?.length ? this.metrics().join(", ") || p.metrics!.join(", ") : this.metric);
    const bad = this.lines.reduce((n, l) => n + l.nonfinite, 0);
    this.badge.hidden = bad === 0;
    this.badge.textContent = `${bad} NaN/Inf`;
    this.badge.title = "points with a NaN or infinite value, marked on the chart's top edge";
    this.status.textContent = this.lines.length === 0 ? "no data for the selected runs" : "";
    // A key whose values are not numbers (text, media) has no points: say so, draw no empty chart.
    const empty = this.lines.every((l) => l.raw.every((v) => v === null || v === undefined) && !l.nonfinite);
    this.plotBox.style.visibility = empty ? "hidden" : "";
    this.legend.hidden = empty;
    if (empty && this.lines.length) this.status.textContent = "no numeric values under this key";
    hook.charts[this.metric] = { metric: this.metric, runs: this.lines.map((l) => l.id), x: this.aligned.x,
      raw: this.lines.map((l) => l.raw), smooth: smoothed, drawnAt: performance.now(), smoothing: s.smoothing,
      colors: this.lines.map((l) => l.color), nonfinite: bad, markers: this.lines.filter((l) => this.sparse(l)).map((l) => l.id) };
    if (!hook.firstChartAt && this.lines.length) hook.firstChartAt = performance.now();
    return performance.now() - t0;
  }

  /** Bar panel: each line's last value as a bar; scalar panel: the mean of those values. */
  private renderValues(kind: "bar" | "scalar") {
    const t0 = performance.now();
    this.plot?.destroy(); this.plot = null; this.shape = "";
    const p = this.cfg();
    const unit = unitOf(this.metrics()[0] ?? this.metric);
    const vals = this.lines.map((l) => { for (let i = l.raw.length - 1; i >= 0; i--) { const v = l.raw[i]; if (v !== null && v !== undefined) return v; } return null; });
    const shown = this.lines.map((l, i) => ({ l, v: vals[i] })).filter((x): x is { l: Line; v: number } => x.v !== null);
    this.values = shown;
    this.titleEl.textContent = p.title || this.metrics().join(", ");
    this.plotBox.style.visibility = "";
    if (kind === "scalar") {
      const mean = shown.reduce((a, x) => a + x.v, 0) / Math.max(1, shown.length);
      clear(this.plotBox, h("div", { class: "scalar" }, h("div", { class: "scalar-value" }, shown.length ? formatWithUnit(mean, unit) : "—"),
        h("div", { class: "muted" }, shown.length === 1 ? shown[0].l.label : `mean of the last values of ${shown.length} runs`)));
    } else {
      const max = Math.max(0, ...shown.map((x) => x.v)), min = Math.min(0, ...shown.map((x) => x.v));
      const span = max - min || 1;
      clear(this.plotBox, h("div", { class: "bars" }, shown.map(({ l, v }) => h("div", { class: "bar-row", title: `${l.label}: ${formatWithUnit(v, unit)}` },
        h("span", { class: "bar-name" }, l.label),
        h("span", { class: "bar-track" }, h("span", { class: "bar", style: { background: l.color, marginLeft: `${((Math.min(v, 0) - min) / span) * 100}%`, width: `${(Math.abs(v) / span) * 100}%` } })),
        h("span", { class: "bar-val" }, formatWithUnit(v, unit))))));
    }
    this.legend.hidden = kind === "bar";
    this.status.textContent = shown.length ? "" : "no data for the selected runs";
    hook.charts[this.metric] = { metric: this.metric, runs: shown.map((x) => x.l.id), x: [], raw: shown.map((x) => [x.v]), smooth: [],
      drawnAt: performance.now(), smoothing: 0, colors: shown.map((x) => x.l.color), kind };
    return performance.now() - t0;
  }

  private title() { return this.titleEl.textContent || this.metric; }

  /** The min/max band is drawn for groups, and for runs drawn one by one while they are few. */
  private bandOn(s: ChartSettings): boolean { return s.band && (this.grouped || this.lines.length <= BAND_LINES); }

  /** The drawn data: per line the logged (bucketed) values and, with smoothing, the smoothed
   *  ones, by x; bar and scalar panels: each run's last value. */
  csv(): string {
    const kind = this.cfg().kind;
    if (kind === "bar" || kind === "scalar") return valuesCsv(this.metrics().join(", "), this.values.map((x) => ({ label: x.l.label, value: x.v })));
    const s = this.settings();
    const shown = this.lines.filter((l) => !this.hidden.has(l.id));
    return chartCsv(s.x, this.aligned?.x ?? [], shown.map((l) => ({ label: l.label, raw: l.raw, smooth: s.smoothing > 0 ? smoothTB(l.raw, s.smoothing) : undefined })));
  }

  /** The chart as an SVG document: the plot's own ticks and pixel positions, the visible lines. */
  svg(): string {
    const u = this.plot;
    if (!u) return chartSvg(this.valuesSvg());
    const dpr = devicePixelRatio || 1, w = u.bbox.width / dpr, hgt = u.bbox.height / dpr;
    const ticks = (i: number, scale: string, max: number) => {
      const a = u.axes[i] as unknown as { _splits?: number[]; _values?: (string | number | null)[] };
      return (a._splits ?? []).map((v, k) => ({ pos: u.valToPos(v, scale), label: String(a._values?.[k] ?? "") })).filter((t) => t.pos >= -0.5 && t.pos <= max + 0.5);
    };
    const s = this.settings(), smooth = s.smoothing > 0;
    const per = (smooth ? 2 : 1) + (this.bandOn(s) ? 2 : 0);
    const xs = u.data[0] as number[], x0 = u.scales.x.min ?? -Infinity, x1 = u.scales.x.max ?? Infinity;
    const pts = (col: Col) => xs.map((x, j): [number, number] | null => {
      const v = col[j];
      return v === null || v === undefined || x < x0 || x > x1 ? null : [u.valToPos(x, "x"), u.valToPos(v, "y")];
    });
    const series: SvgSeries[] = [];
    this.lines.forEach((l, i) => {
      if (this.hidden.has(l.id)) return;
      if (smooth) series.push({ label: l.label, color: l.color, dash: l.dash, width: 1, opacity: 0.25, points: pts(u.data[1 + i * per] as Col), legend: false });
      series.push({ label: l.label, color: l.color, dash: l.dash, points: pts(u.data[1 + i * per + (smooth ? 1 : 0)] as Col), markers: this.sparse(l) });
    });
    return chartSvg({ title: this.title(), width: w, height: hgt, xTicks: ticks(0, "x", w), yTicks: ticks(1, "y", hgt), series });
  }

  /** Bar and scalar panels as horizontal bars of each run's value. */
  private valuesSvg(): SvgChart {
    const unit = unitOf(this.metrics()[0] ?? this.metric);
    const max = Math.max(0, ...this.values.map((x) => x.v)), min = Math.min(0, ...this.values.map((x) => x.v)), span = max - min || 1;
    const bars = this.values.map(({ l, v }) => ({ label: l.label, color: l.color, value: formatWithUnit(v, unit),
      from: (Math.min(v, 0) - min) / span * 0.85, to: (Math.max(v, 0) - min) / span * 0.85 }));
    return { title: this.title(), width: 420, height: Math.max(40, 22 * bars.length), xTicks: [], yTicks: [], series: [], bars };
  }

  private sparse(l: Line): boolean {
    let n = 0;
    for (const v of l.raw) if (v !== null && v !== undefined && ++n > SPARSE) return false;
    return true;
  }

  private options(smooth: boolean, band: boolean, s: ChartSettings & { logx: boolean }): uPlot.Options {
    const series: uPlot.Series[] = [{ label: s.x }];
    const bands: uPlot.Band[] = [];
    for (const l of this.lines) {
      const pts = this.sparse(l) ? { show: true, size: 7, fill: l.color, stroke: l.color } : { show: false };
      const shown = !this.hidden.has(l.id);
      if (smooth) series.push({ label: `${l.label} (raw)`, stroke: withAlpha(l.color, 0.25), width: 1, spanGaps: true, points: { show: false }, show: shown, dash: l.dash });
      series.push({ label: l.label, stroke: l.color, width: 1.5, spanGaps: true, points: pts, show: shown, dash: l.dash });
      if (band) {
        const lo = series.push({ label: `${l.label} min`, stroke: "transparent", spanGaps: true, points: { show: false }, show: shown }) - 1;
        const hi = series.push({ label: `${l.label} max`, stroke: "transparent", spanGaps: true, points: { show: false }, show: shown }) - 1;
        bands.push({ series: [hi, lo], fill: withAlpha(l.color, 0.1) });
      }
    }
    const unit = unitOf(this.metrics()[0] ?? this.metric);
    const yVals = (u: uPlot, splits: number[], _i: number, _space: number, incr: number) => {
      const labels = s.log ? splits.map((v) => (decade(v) ? withUnit(formatTick(v), unit) : "")) : formatTicksWithUnit(splits, incr, unit);
      const probe = hook.charts[this.metric];
      if (probe) probe.yTicks = labels; // what the axis shows, for the browser tests
      return labels;
    };
    const xVals = s.x === "_timestamp" ? undefined : (u: uPlot, splits: number[], _i: number, _space: number, incr: number) =>
      s.logx ? splits.map((v) => (decade(v) ? formatTick(v) : "")) : formatTicksWithUnit(splits, incr, null);
    return {
      width: Math.max(200, this.plotBox.clientWidth || this.el.clientWidth - 16 || 450), height: this.height(),
      series, bands, legend: { show: false },
      scales: {
        x: { time: s.x === "_timestamp", distr: s.logx ? 3 : 1 },
        y: { distr: s.log ? 3 : 1, range: (u, lo, hi) => this.yRange(u, lo, hi, s.log) },
      },
      cursor: { sync: { key: this.ctx.syncKey }, drag: { x: true, y: false, setScale: false }, points: { show: false }, focus: { prox: 16 } },
      focus: { alpha: 0.25 },
      axes: [
        { stroke: "#666", grid: { stroke: "#eee" }, values: xVals },
        { stroke: "#666", grid: { stroke: "#eee" }, values: yVals, size: axisWidth },
      ],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 5) return;
          const lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          this.ctx.onZoom([lo, hi]);
        }],
        setCursor: [(u) => this.tooltip(u, smooth, band, unit)],
        draw: [(u) => this.edgeMarkers(u)],
        ready: [(u) => { u.over.addEventListener("dblclick", () => this.ctx.onZoom(null)); u.over.addEventListener("mouseleave", () => { this.tip.style.display = "none"; }); }],
      },
    };
  }

  /** The panel's y range: fixed bounds win; "ignore outliers" clips to the 2nd–98th percentile. */
  private yRange(u: uPlot, lo: number, hi: number, log: boolean): uPlot.Range.MinMax {
    const p = this.cfg();
    if (p.outliers) {
      const all: number[] = [];
      for (let i = 1; i < u.data.length; i++) for (const v of u.data[i] as Col) if (v !== null && v !== undefined && Number.isFinite(v)) all.push(v);
      if (all.length > 10) {
        all.sort((a, b) => a - b);
        lo = all[Math.floor(all.length * 0.02)]; hi = all[Math.ceil(all.length * 0.98) - 1];
      }
    }
    const auto = log ? uPlot.rangeLog(Math.max(lo, 1e-300), hi, 10, true) : uPlot.rangeNum(lo, hi, 0.1, true);
    return [p.ymin ?? auto[0], p.ymax ?? auto[1]];
  }

  /** NaN/Inf points: a downward triangle on the plot's top edge at their x, in the line's colour. */
  private edgeMarkers(u: uPlot) {
    const ctx = u.ctx;
    const top = u.bbox.top;
    const r = 5 * devicePixelRatio;
    this.lines.forEach((l) => {
      if (!l.bad.length || this.hidden.has(l.id)) return;
      ctx.fillStyle = l.color;
      for (const xv of l.bad) {
        const x = u.valToPos(xv, "x", true);
        if (!Number.isFinite(x) || x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
        ctx.beginPath();
        ctx.moveTo(x - r, top); ctx.lineTo(x + r, top); ctx.lineTo(x, top + r * 1.6);
        ctx.closePath(); ctx.fill();
      }
    });
  }

  /** Compact legend under the plot: hover highlights a line, click shows or hides it. */
  private renderLegend(smooth: boolean, band: boolean) {
    const per = (smooth ? 2 : 1) + (band ? 2 : 0);
    const main = (i: number) => 1 + i * per + (smooth ? 1 : 0);
    // Lines with no point in this chart (a run that never logged the metric) stay out of it.
    clear(this.legend, this.lines.map((l, i) => {
      if (!l.nonfinite && l.raw.every((v) => v === null || v === undefined)) return null;
      const item = h("button", { class: this.hidden.has(l.id) ? "leg off" : "leg", title: l.label, "data-run": l.id,
        onmouseenter: () => this.plot?.setSeries(main(i), { focus: true }),
        onmouseleave: () => this.plot?.setSeries(null, { focus: false }),
        onclick: () => {
          const show = this.hidden.has(l.id);
          if (show) this.hidden.delete(l.id); else this.hidden.add(l.id);
          item.classList.toggle("off", !show);
          const plot = this.plot; if (!plot) return;
          plot.batch(() => { for (let k = 0; k < per; k++) plot.setSeries(1 + i * per + k, { show }); });
        } },
      this.swatch(l), h("span", { class: "leg-name" }, l.label));
      return item;
    }));
  }

  /** The legend's colour swatch; where the workspace allows it, a colour picker for the run. */
  private swatch(l: Line) {
    const sw = h("span", { class: "swatch", style: { background: l.color } });
    const set = this.ctx.setColor;
    if (!set) return sw;
    const id = l.key;
    const input = h("input", { type: "color", value: l.color, class: "pick", "aria-label": `colour of ${l.label}`,
      onclick: (e: Event) => e.stopPropagation(), onchange: () => set(id, input.value) });
    return h("label", { class: "swatch-pick", title: "Pick a colour", onclick: (e: Event) => e.stopPropagation() }, sw, input);
  }

  /** Hover tooltip: exact values at the cursor for every line, nearest point per run, sorted;
   *  placed next to the cursor and kept inside the window. */
  private tooltip(u: uPlot, smooth: boolean, band: boolean, unit: ReturnType<typeof unitOf>) {
    const idx = u.cursor.idx;
    // Synced cursors move on every chart; only the chart under the mouse shows the tooltip.
    if (idx === null || idx === undefined || !this.aligned || u.cursor.left === undefined || u.cursor.left < 0 || !u.over.matches(":hover")) {
      this.tip.style.display = "none"; return;
    }
    const per = (smooth ? 2 : 1) + (band ? 2 : 0);
    const rows: { label: string; color: string; v: number; raw: number | null }[] = [];
    const xs = u.data[0] as number[];
    this.lines.forEach((l, i) => {
      if (this.hidden.has(l.id)) return;
      const col = u.data[1 + i * per + (smooth ? 1 : 0)] as Col;
      const j = nearest(col, idx, 64);
      if (j < 0) return;
      const rawCol = smooth ? (u.data[1 + i * per] as Col) : null;
      rows.push({ label: l.label, color: l.color, v: col[j] as number, raw: rawCol ? rawCol[j] ?? null : null });
    });
    if (!rows.length) { this.tip.style.display = "none"; return; }
    rows.sort((a, b) => b.v - a.v);
    const s = this.settings();
    const xName = ({ _step: "Step", _runtime: "Relative time", _timestamp: "Wall time" } as Record<string, string>)[s.x] ?? s.x;
    const xLabel = s.x === "_timestamp" ? new Date(xs[idx] * 1000).toLocaleString() : formatTick(xs[idx], 8);
    clear(this.tip, h("div", { class: "tip-x" }, `${xName} ${xLabel}`),
      ...rows.slice(0, 12).map((r) => h("div", { class: "tip-row" },
        h("span", { class: "swatch", style: { background: r.color } }), h("span", { class: "tip-name", title: r.label }, r.label),
        h("b", null, formatWithUnit(r.v, unit)), r.raw !== null ? h("span", { class: "muted" }, ` raw ${formatWithUnit(r.raw, unit)}`) : null)),
      rows.length > 12 ? h("div", { class: "muted" }, `+${rows.length - 12} more`) : null);
    this.tip.style.display = "block";
    // Fixed to the viewport: flip to the cursor's left near the right edge, clamp at the edges.
    const box = u.over.getBoundingClientRect();
    const cx = box.left + u.cursor.left, cy = box.top + (u.cursor.top ?? 0);
    const tw = this.tip.offsetWidth, th = this.tip.offsetHeight;
    let left = cx + 16;
    if (left + tw > window.innerWidth - 4) left = cx - 16 - tw;
    const top = Math.min(Math.max(4, cy - th / 2), window.innerHeight - th - 4);
    this.tip.style.left = `${Math.max(4, left)}px`;
    this.tip.style.top = `${top}px`;
  }
}

/** Log axes label powers of ten only; the ticks between keep their grid lines. */
function decade(v: number): boolean {
  const e = Math.log10(Math.abs(v));
  return Math.abs(e - Math.round(e)) < 1e-9;
}

function withUnit(label: string, unit: ReturnType<typeof unitOf>): string {
  if (!unit || unit.bytes !== undefined) return label;
  return unit.suffix === "%" ? `${label}%` : `${label} ${unit.suffix}`;
}

/** The y axis is as wide as its longest label, so large values are never clipped. */
function axisWidth(u: uPlot, values: string[] | null): number {
  // Tick length + gap + about 7 px per character of the 12 px axis font.
  const longest = Math.max(3, ...(values ?? []).map((v) => v.length));
  return Math.min(120, Math.max(50, 24 + longest * 7));
}

function nearest(col: Col, idx: number, reach: number): number {
  for (let d = 0; d <= reach; d++) {
    if (idx - d >= 0 && col[idx - d] !== null && col[idx - d] !== undefined) return idx - d;
    if (idx + d < col.length && col[idx + d] !== null && col[idx + d] !== undefined) return idx + d;
  }
  return -1;
}
