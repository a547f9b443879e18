// The workspace's chart area: a toolbar with the global chart settings, then one section per
// key prefix (train/, eval/, system/ …) holding one ChartCard per metric, and (in the project
// workspace) an "across runs" section of cross-run panels (scatter, parallel coordinates,
// importance: CrossCard). Cards load only when scrolled into view, so a workspace with
// hundreds of metrics opens as fast as one with four.

import type { Run } from "../api";
import { h, clear } from "../lib/dom";
import { parseSmoothing, SLIDER_MAX, SMOOTHING_MAX } from "../lib/smoothing";
import { formatNumber } from "../lib/tjson";
import { cleanPanels, crossKind, newPanelId, XRUN_IDS, XRUN_SECTION, type PanelConfig, type Panels } from "../lib/panels";
import { ChartCard, type ChartSettings } from "./chart";
import { CrossCard } from "./crosscard";
import type { CrossRunState } from "./scatter";
import { editPanel } from "./paneledit";

export interface GridOpts {
  settings: () => ChartSettings;
  update(patch: Partial<ChartSettings>): void; // persists to the URL, then calls back refresh
  runs: () => Run[];
  groups: (field?: string) => Map<string, Run[]> | null;
  xChoices: () => string[];
  groupChoices?: () => string[]; // keys a panel may group its runs by (its own aggregation)
  search: () => string;
  onSearch(q: string): void;
  collapsedByDefault?: (section: string) => boolean;
  emptyText?: string;
  stream?: string;                 // "system": the cards chart the system series
  xOptions?: [string, string][];   // the x-axis choices (value, label); default step/time/wall
  colorOf?: (id: string) => string; // the colour of a run in view
  /** Per-panel settings; when given, panels can be edited, duplicated, deleted and added. */
  panels?: () => Panels;
  setPanels?(p: Panels): void;
  setColor?(id: string, color: string): void; // the user picked a run's colour in a legend
  /** Cross-run panels over the table's runs; when given, the grid holds them with the charts. */
  cross?: CrossRunSource;
}

export interface CrossRunSource {
  runs: () => Run[];
  keys: () => string[];
  state: CrossRunState;        // the state of the workspace's own cross-run panels
  save(): void;
  onSelect(ids: string[]): void;
}

type Card = ChartCard | CrossCard;

export function sectionOf(metric: string): string {
  if (metric.startsWith("xrun:")) return XRUN_SECTION;
  const i = metric.indexOf("/");
  return i > 0 ? metric.slice(0, i) : "charts";
}

export class ChartGrid {
  readonly el: HTMLDivElement;
  private body: HTMLDivElement;
  private toolbar: HTMLDivElement;
  private cards = new Map<string, Card>();
  private io: IntersectionObserver;
  private collapsed = new Set<string>();
  private metrics: string[] = [];
  private smoothTimer = 0;

  constructor(readonly opts: GridOpts, private syncKey = "ws") {
    this.toolbar = h("div", { class: "toolbar chart-toolbar" });
    this.body = h("div", { class: "sections" });
    this.el = h("div", { class: "chartgrid" }, this.toolbar, this.body);
    this.io = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const card = this.cards.get((e.target as HTMLElement).dataset.metric ?? "");
        if (!card) continue;
        card.visible = e.isIntersecting;
        if (e.isIntersecting) card.load();
      }
    }, { rootMargin: "200px" });
    this.renderToolbar();
  }

  destroy() { this.io.disconnect(); this.cards.forEach((c) => c.destroy()); }

  setMetrics(metrics: string[]) {
    this.metrics = metrics;
    for (const [m, c] of this.cards) if (!metrics.includes(m) && !m.startsWith("xrun:") && !(m in (this.opts.panels?.() ?? {}))) { c.destroy(); this.cards.delete(m); }
    this.layout();
  }

  /** Panels changed from outside (a saved view was loaded): rebuild every card. */
  resetPanels() {
    for (const c of this.cards.values()) c.destroy();
    this.cards.clear();
    this.layout();
  }

  private cfg(id: string): PanelConfig { return this.opts.panels?.()[id] ?? {}; }

  private savePanel(id: string, cfg: PanelConfig | null) {
    const all = { ...(this.opts.panels?.() ?? {}) };
    if (cfg) all[id] = cfg; else delete all[id];
    this.opts.setPanels?.(cleanPanels(all));
    const card = this.cards.get(id);
    if (card) { card.destroy(); this.cards.delete(id); }
    this.layout();
  }

  private edit(id: string) {
    const cfg = this.cfg(id);
    editPanel(id, { ...cfg, kind: crossKind(id, cfg) ?? cfg.kind }, this.metrics, this.opts.xChoices(), (c) => this.savePanel(id, c), this.opts.groupChoices?.() ?? [], !!this.opts.cross);
  }

  private duplicate(id: string) {
    const src = this.cfg(id);
    const nid = newPanelId(this.opts.panels?.() ?? {});
    const kind = crossKind(id, src);
    if (kind) {
      // A copy of a cross-run panel starts from the axes the original shows now.
      const st = this.crossState(id);
      return this.savePanel(nid, { ...src, hidden: undefined, kind, section: src.section ?? sectionOf(id), title: src.title ? `${src.title} (copy)` : undefined,
        sx: st.sx, sy: st.sy, color: st.color, imp: st.imp, axes: [...st.axes], logAxes: [...st.logAxes] });
    }
    const metrics = src.metrics?.length ? src.metrics : [id];
    this.savePanel(nid, { ...src, hidden: undefined, metrics, section: src.section ?? sectionOf(metrics[0]),
      title: src.title ? `${src.title} (copy)` : undefined });
  }

  private remove(id: string) {
    if (id.startsWith("custom:")) this.savePanel(id, null); else this.savePanel(id, { ...this.cfg(id), hidden: true });
  }

  /** A new empty panel, opened in the editor. */
  addPanel() {
    const nid = newPanelId(this.opts.panels?.() ?? {});
    editPanel(nid, { section: "custom" }, this.metrics, this.opts.xChoices(), (cfg) => this.savePanel(nid, { section: "custom", ...cfg }), this.opts.groupChoices?.() ?? [], !!this.opts.cross);
  }

  /** The ids of every panel shown when nothing is searched: metrics, cross-run, custom. */
  private panelIds(): string[] {
    const panels = this.opts.panels?.() ?? {};
    const auto = [...this.metrics, ...(this.opts.cross ? XRUN_IDS : [])];
    return [...auto.filter((m) => !panels[m]?.hidden), ...Object.keys(panels).filter((id) => id.startsWith("custom:"))];
  }

  /** A cross-run panel's state: the workspace's for its own panels, the panel config's else
   *  (written back on save, without rebuilding the card). */
  private crossState(id: string): CrossRunState {
    const x = this.opts.cross!;
    if (id.startsWith("xrun:")) return x.state;
    const c = this.cfg(id);
    return { sx: c.sx ?? "", sy: c.sy ?? "", color: c.color ?? "", imp: c.imp ?? "", axes: c.axes ?? [], logAxes: c.logAxes ?? [],
      get selected() { return x.state.selected; } };
  }

  private crossCard(id: string, kind: NonNullable<ReturnType<typeof crossKind>>): CrossCard {
    const x = this.opts.cross!;
    const state = this.crossState(id);
    const save = id.startsWith("xrun:") ? () => x.save() : () => {
      const all = { ...(this.opts.panels?.() ?? {}) };
      all[id] = { ...all[id], sx: state.sx || undefined, sy: state.sy || undefined, color: state.color || undefined, imp: state.imp || undefined,
        axes: state.axes.length ? state.axes : undefined, logAxes: state.logAxes.length ? state.logAxes : undefined };
      this.opts.setPanels?.(cleanPanels(all));
    };
    const editable = !!this.opts.setPanels;
    return new CrossCard(id, { kind, runs: x.runs, keys: x.keys, state, save, onSelect: x.onSelect,
      idp: id.startsWith("xrun:") ? undefined : `${kind}-${id.replace(":", "-")}`, title: () => this.cfg(id).title,
      actions: editable ? { edit: () => this.edit(id), duplicate: () => this.duplicate(id), remove: () => this.remove(id) } : undefined });
  }

  /** The runs or keys behind the cross-run panels changed: visible ones redraw now. */
  crossChanged() { for (const c of this.cards.values()) if (c instanceof CrossCard && c.visible) void c.load(); }

  /** Scrolls a panel into view (an old `?tab=scatter` link opens at the scatter panel). */
  reveal(id: string) { this.cards.get(id)?.el.scrollIntoView({ block: "start" }); }

  /** Runs, x-axis or zoom changed: visible cards re-fetch, hidden ones will on scroll. */
  refetch() { for (const c of this.cards.values()) if (c.visible) c.load(); }
  /** Smoothing, log or band changed: redraw from cached buckets, no network. */
  redraw() { for (const c of this.cards.values()) if (c.visible) c.render(); }
  regroup() { for (const c of this.cards.values()) if (c.visible) c.draw(); }
  async poll(running: Run[]) { await Promise.all([...this.cards.values()].filter((c) => c.visible).map((c) => c.poll(running).catch(() => {}))); }
  /** Time one smoothing change across all visible charts (perf script). */
  timeSmoothing(w: number): { charts: number; ms: number } {
    this.opts.update({ smoothing: w });
    const vis = [...this.cards.values()].filter((c) => c.visible && c instanceof ChartCard);
    const t0 = performance.now();
    vis.forEach((c) => c.render());
    return { charts: vis.length, ms: performance.now() - t0 };
  }

  private layout() {
    const q = this.opts.search().toLowerCase();
    let re: RegExp | null = null;
    try { re = q ? new RegExp(q, "i") : null; } catch { re = null; }
    const panels = this.opts.panels?.() ?? {};
    // A panel matches the search by its metric, its title or any metric it draws.
    const names = (id: string) => [id, panels[id]?.title ?? "", ...(panels[id]?.metrics ?? [])].filter(Boolean);
    const shown = this.panelIds()
      .filter((m) => !q || names(m).some((n) => (re ? re.test(n) : n.toLowerCase().includes(q))));
    const bySection = new Map<string, string[]>();
    for (const m of shown) {
      const s = panels[m]?.section ?? sectionOf(m);
      if (!bySection.has(s)) bySection.set(s, []);
      bySection.get(s)!.push(m);
    }
    const order = [...bySection.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const noMetrics = !shown.some((m) => !crossKind(m, panels[m]));
    // Re-appending the sections empties the scroll container for a moment, which would reset
    // its scroll position (a revealed panel, the user's place): keep it.
    const scrolled: [Element, number][] = [];
    for (let e: Element | null = this.el.parentElement; e; e = e.parentElement) if (e.scrollTop > 0) scrolled.push([e, e.scrollTop]);
    clear(this.body, noMetrics ? h("p", { class: "empty" }, this.metrics.length ? "No chart matches the search." : this.opts.emptyText ?? "No metrics logged yet.") : null,
      order.map((s) => this.section(s, bySection.get(s)!)));
    for (const [e, top] of scrolled) e.scrollTop = top;
  }

  private section(name: string, metrics: string[]) {
    if (!this.collapsed.has(name) && this.opts.collapsedByDefault?.(name) && !this.seen.has(name)) this.collapsed.add(name);
    this.seen.add(name);
    const open = !this.collapsed.has(name);
    const grid = h("div", { class: "chart-cards" });
    // Panels keep the order the user dragged them into (pos), the others follow by name.
    const pos = (m: string) => this.cfg(m).pos ?? Infinity;
    metrics = [...metrics].sort((a, b) => pos(a) - pos(b));
    if (open) for (const m of metrics) {
      let card = this.cards.get(m);
      const kind = this.opts.cross ? crossKind(m, this.cfg(m)) : null;
      if (card && (card instanceof CrossCard) !== !!kind) { card.destroy(); this.cards.delete(m); card = undefined; }
      if (!card && kind) {
        card = this.crossCard(m, kind);
        this.cards.set(m, card);
      } else if (!card) {
        const id = m;
        const editable = !!this.opts.setPanels;
        card = new ChartCard(m, { settings: this.opts.settings, runs: this.opts.runs, groups: this.opts.groups,
          onZoom: (z) => this.opts.update({ zoom: z }), syncKey: this.syncKey, stream: this.opts.stream,
          colorOf: this.opts.colorOf, setColor: this.opts.setColor, panel: () => this.cfg(id), keys: () => this.metrics,
          actions: editable ? { edit: () => this.edit(id), duplicate: () => this.duplicate(id), remove: () => this.remove(id) } : undefined });
        this.cards.set(m, card);
      }
      const cfg = this.cfg(m);
      // Cross-run panels take the whole row until resized: their axes need the width.
      card.el.style.gridColumn = cfg.w && cfg.w > 1 ? `span ${cfg.w}` : kind && !cfg.w ? "1 / -1" : "";
      if (this.opts.setPanels) this.dragAndResize(card, m, metrics);
      grid.append(card.el);
      this.io.observe(card.el);
    }
    const head = h("div", { class: "section-head", onclick: () => {
      if (open) this.collapsed.add(name); else this.collapsed.delete(name);
      this.layout();
    } }, `${open ? "▾" : "▸"} ${name}`, h("span", { class: "muted" }, ` ${metrics.length} chart${metrics.length === 1 ? "" : "s"}`));
    return h("section", { class: "chart-section", "data-section": name }, head, grid);
  }
  private seen = new Set<string>();

  /** Drag a panel by its title onto another to move it there; drag the corner to resize. */
  private dragAndResize(card: Card, id: string, order: string[]) {
    const head = card.el.querySelector<HTMLElement>(".chart-head");
    if (head && !head.draggable) {
      head.draggable = true;
      head.addEventListener("dragstart", (e) => { e.dataTransfer?.setData("text/x-panel", id); card.el.classList.add("dragging"); });
      head.addEventListener("dragend", () => card.el.classList.remove("dragging"));
      card.el.addEventListener("dragover", (e) => { if (e.dataTransfer?.types.includes("text/x-panel")) e.preventDefault(); });
      card.el.addEventListener("drop", (e) => {
        const from = e.dataTransfer?.getData("text/x-panel");
        if (from && from !== id) { e.preventDefault(); this.move(from, id); }
      });
      const grip = h("div", { class: "resize-grip", title: "Drag to resize" });
      grip.addEventListener("pointerdown", (e) => this.resizeDrag(e, card, id));
      card.el.append(grip);
    }
    card.el.dataset.order = String(order.indexOf(id));
  }

  /** Moves panel `from` to the place of panel `to` (same section), renumbering the section. */
  move(from: string, to: string) {
    const sectionOf_ = (m: string) => this.cfg(m).section ?? sectionOf(m);
    const panels = { ...(this.opts.panels?.() ?? {}) };
    const pos = (m: string) => panels[m]?.pos ?? Infinity;
    const ids = this.panelIds().filter((m) => sectionOf_(m) === sectionOf_(to)).sort((a, b) => pos(a) - pos(b));
    const list = ids.filter((m) => m !== from);
    list.splice(list.indexOf(to), 0, from);
    list.forEach((m, i) => { panels[m] = { ...panels[m], pos: i }; });
    this.opts.setPanels?.(cleanPanels(panels));
    this.layout();
  }

  private resizeDrag(e: PointerEvent, card: Card, id: string) {
    e.preventDefault();
    const grid = card.el.parentElement!;
    const cols = Math.max(1, getComputedStyle(grid).gridTemplateColumns.split(" ").length);
    const colW = (grid.clientWidth + 10) / cols;
    const box = card.el.getBoundingClientRect();
    // Width snaps to whole grid columns (at most the grid's), height to the pointer.
    const span = (x: number) => Math.min(cols, Math.max(1, Math.round((x - box.left) / colW)));
    const move = (ev: PointerEvent) => {
      card.el.style.gridColumn = `span ${span(ev.clientX)}`;
      card.el.style.height = `${Math.max(200, ev.clientY - box.top)}px`;
    };
    const up = (ev: PointerEvent) => {
      document.removeEventListener("pointermove", move); document.removeEventListener("pointerup", up);
      const w = span(ev.clientX);
      const hgt = Math.max(200, Math.round(ev.clientY - box.top));
      card.el.style.height = "";
      this.savePanel(id, { ...this.cfg(id), w: w > 1 ? w : undefined, h: hgt });
    };
    document.addEventListener("pointermove", move); document.addEventListener("pointerup", up);
  }

  renderToolbar() {
    const s = this.opts.settings();
    const slider = h("input", { type: "range", min: "0", max: String(SLIDER_MAX), step: "0.01", value: String(Math.min(s.smoothing, SLIDER_MAX)), id: "smoothing-slider" });
    const box = h("input", { type: "number", min: "0", max: String(SMOOTHING_MAX), step: "0.001", value: String(s.smoothing), id: "smoothing-input", class: "num-input" });
    // Redraws are cheap but the slider fires per pixel: coalesce to one redraw per frame.
    const setSmoothing = (v: number, from: "slider" | "box") => {
      const w = parseSmoothing(v);
      if (from === "slider") box.value = String(w); else slider.value = String(Math.min(w, SLIDER_MAX));
      cancelAnimationFrame(this.smoothTimer);
      this.smoothTimer = requestAnimationFrame(() => this.opts.update({ smoothing: w }));
    };
    slider.addEventListener("input", () => setSmoothing(Number(slider.value), "slider"));
    box.addEventListener("change", () => setSmoothing(Number(box.value), "box"));
    const xSel = h("select", { id: "x-axis", onchange: () => this.opts.update({ x: xSel.value, zoom: null }) },
      (this.opts.xOptions ?? [["_step", "Step"], ["_runtime", "Relative time (s)"], ["_timestamp", "Wall time"]]).map(([v, l]) => h("option", { value: v, selected: s.x === v }, l)),
      h("optgroup", { label: "Metric" }, this.opts.xChoices().filter((k) => !k.startsWith("_")).map((k) => h("option", { value: k, selected: s.x === k }, k))));
    const search = h("input", { type: "search", placeholder: "Search charts (regex)", value: this.opts.search(), id: "chart-search",
      oninput: () => { this.opts.onSearch(search.value); this.layout(); } });
    const zoom = s.zoom ? h("span", { class: "zoom" }, `x ∈ [${formatNumber(s.zoom[0])}, ${formatNumber(s.zoom[1])}] `,
      h("button", { title: "Pan left", onclick: () => this.pan(-0.5) }, "◀"), h("button", { title: "Pan right", onclick: () => this.pan(0.5) }, "▶"),
      h("button", { onclick: () => this.opts.update({ zoom: null }) }, "Reset zoom")) : h("span", { class: "muted hint" }, "drag to zoom, double-click to reset");
    const add = this.opts.setPanels ? h("button", { id: "add-panel", onclick: () => this.addPanel() }, "+ Panel") : null;
    clear(this.toolbar, search, add,
      h("label", null, "Smoothing ", slider, box),
      h("label", null, "X ", xSel),
      h("label", null, h("input", { type: "checkbox", checked: s.log, id: "log-scale", onchange: (e: Event) => this.opts.update({ log: (e.target as HTMLInputElement).checked }) }), " log y"),
      h("label", null, h("input", { type: "checkbox", checked: s.band, id: "minmax-band", onchange: (e: Event) => this.opts.update({ band: (e.target as HTMLInputElement).checked }) }), " min/max band"),
      zoom);
  }

  private pan(frac: number) {
    const z = this.opts.settings().zoom;
    if (!z) return;
    const d = (z[1] - z[0]) * frac;
    this.opts.update({ zoom: [z[0] + d, z[1] + d] });
  }
}

function rank(section: string) {
  return section === "charts" ? 0 : section === "train" ? 1 : section === "eval" ? 2 : section === "system" ? 9 : section === "custom" ? 0.5 : section === XRUN_SECTION ? 8 : 5;
}
