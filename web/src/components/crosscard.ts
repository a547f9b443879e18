// A cross-run panel on the workspace's grid: a scatter plot, parallel coordinates or the
// parameter importance table over the runs of the table, in a card like the line charts' (same
// head, full screen, duplicate, delete, drag to reorder and resize). The workspace always has
// one of each (ids `xrun:<kind>`, state in the view state as before); more are added with
// "+ Panel" and keep their axes in their own PanelConfig.

import type { Run } from "../api";
import { fileName, svgToPng } from "../lib/chartexport";
import { download, toCsv } from "../lib/csv";
import { h } from "../lib/dom";
import { fieldValue } from "../lib/filters";
import { CROSS_TITLES, type CrossKind } from "../lib/panels";
import type { PanelActions } from "./chart";
import { ImportancePanel } from "./importance";
import { ParallelCoords } from "./parcoords";
import { ScatterPlot, type CrossRunOpts, type CrossRunState } from "./scatter";

export interface CrossCardContext {
  kind: CrossKind;
  runs: () => Run[];            // the table's loaded runs
  keys: () => string[];         // config.* and summary.* keys
  state: CrossRunState;
  save(): void;
  onSelect(ids: string[]): void;
  idp?: string;
  title?: () => string | undefined;
  actions?: PanelActions;
}

/** The grid's card interface, shared with ChartCard. */
export class CrossCard {
  readonly el: HTMLDivElement;
  private view: ScatterPlot | ParallelCoords | ImportancePanel;
  private titleEl: HTMLDivElement;
  private drawnFor: unknown[] = [];
  visible = false;

  constructor(readonly metric: string, private ctx: CrossCardContext) {
    const opts: CrossRunOpts = { runs: ctx.runs, keys: ctx.keys, state: ctx.state, save: ctx.save, onSelect: ctx.onSelect, idp: ctx.idp };
    this.view = ctx.kind === "scatter" ? new ScatterPlot(opts) : ctx.kind === "parallel" ? new ParallelCoords(opts) : new ImportancePanel(opts);
    this.titleEl = h("div", { class: "chart-title" });
    const a = ctx.actions;
    const btn = (label: string, title: string, f: () => void, cls: string) =>
      h("button", { class: `icon ${cls}`, title, "aria-label": title, onclick: (e: Event) => { e.stopPropagation(); f(); } }, label);
    const item = (label: string, cls: string, f: () => void | Promise<void>) => h("button", { class: cls, role: "menuitem",
      onclick: (e: Event) => { e.stopPropagation(); menu.hidden = true; void f(); } }, label);
    const name = (ext: string) => fileName(this.titleEl.textContent ?? ctx.kind, ext);
    // Scatter and parallel coordinates: the PNG is the SVG rasterised, as for line charts.
    const view = this.view;
    const pictures = view instanceof ImportancePanel ? [] : [
      item("Image (PNG)", "exp-png", async () => download(name("png"), await svgToPng(view.svg()))),
      item("Vector (SVG)", "exp-svg", () => download(name("svg"), view.svg(), "image/svg+xml"))];
    const menu = h("div", { class: "export-menu", role: "menu", hidden: true },
      item("Data (CSV)", "exp-csv", () => download(name("csv"), this.csv())), ...pictures);
    const tools = h("div", { class: "chart-tools" },
      a ? btn("✎", "Edit panel", () => a.edit(), "edit") : null,
      btn("⤓", "Download the panel's data or image", () => { menu.hidden = !menu.hidden; }, "export"),
      btn("⤢", "Full screen", () => this.fullScreen(), "full"),
      a ? btn("⧉", "Duplicate panel", () => a.duplicate(), "dup") : null,
      a ? btn("✕", "Delete panel", () => a.remove(), "del") : null);
    this.el = h("div", { class: `chart cross-card cross-${ctx.kind}`, "data-metric": metric, "data-kind": ctx.kind },
      h("div", { class: "chart-head" }, this.titleEl, tools, menu), this.view.el);
    this.setTitle();
  }

  private setTitle() {
    const t = this.ctx.title?.() || CROSS_TITLES[this.ctx.kind];
    this.titleEl.textContent = t;
    this.titleEl.title = t;
  }

  /** Draws when the runs, keys or selection changed since the last drawing (or when forced). */
  load(force = false): Promise<void> {
    const runs = this.ctx.runs(), keys = this.ctx.keys();
    const sig = [runs, runs.length, keys.length, this.ctx.state.selected, this.el.clientWidth];
    if (force || sig.some((v, i) => v !== this.drawnFor[i])) {
      this.drawnFor = sig;
      this.setTitle();
      this.view.render();
    }
    return Promise.resolve();
  }

  /** The values the panel plots: per run its axes' values; importance: its table. */
  csv(): string {
    if (this.view instanceof ImportancePanel) {
      return toCsv(["parameter", "importance", "correlation"], this.view.rows.map((r) => [r.key, r.importance, r.correlation]));
    }
    const s = this.ctx.state;
    const keys = [...new Set((this.ctx.kind === "scatter" ? [s.sx, s.sy] : s.axes).concat(s.color ? [s.color] : []).filter(Boolean))];
    const runs = this.ctx.runs() as unknown as Record<string, unknown>[];
    return toCsv(["run_id", "name", ...keys], runs.map((r) => [r.run_id, r.name, ...keys.map((k) => fieldValue(r, k))]));
  }

  // Smoothing, log y and grouping belong to the line charts: nothing to redraw here.
  render() { return 0; }
  draw() {}
  async poll() {}
  destroy() {}

  private fullScreen() {
    const on = this.el.classList.toggle("fullscreen");
    document.body.classList.toggle("has-fullscreen", on);
    if (on) {
      const esc = (e: KeyboardEvent) => { if (e.key === "Escape") { document.removeEventListener("keydown", esc); if (this.el.classList.contains("fullscreen")) this.fullScreen(); } };
      document.addEventListener("keydown", esc);
    }
    this.load(true);
  }
}
