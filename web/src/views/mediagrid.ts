// Media panels for a list of keys (run page Media tab, workspace media section): one panel per
// key from the panel router, created and loaded only when scrolled into view, re-loaded when
// the runs they show change.

import type { Run } from "../api";
import { createPanel, type Panel } from "../panels";
import { h, clear } from "../lib/dom";

export class MediaGrid {
  readonly el: HTMLDivElement;
  private body: HTMLDivElement;
  private slots = new Map<string, { el: HTMLElement; type: string; panel: Panel | null }>();
  private io: IntersectionObserver;
  private runsKey = "";

  constructor(private runs: () => Run[], private emptyText: string, title?: string) {
    this.body = h("div", { class: "media-grid" });
    this.el = h("div", { class: "media-section" }, title ? h("div", { class: "section-head" }, title) : null, this.body);
    this.io = new IntersectionObserver((entries) => {
      for (const e of entries) if (e.isIntersecting) this.open((e.target as HTMLElement).dataset.key ?? "");
    }, { rootMargin: "300px" });
  }

  /** Show these keys ([key, `_type`]) in this order; panels of keys that stay are kept. */
  setKeys(keys: [string, string][]) {
    const want = new Map(keys);
    for (const [k, s] of this.slots) if (want.get(k) !== s.type) { s.panel?.destroy(); this.io.unobserve(s.el); this.slots.delete(k); }
    const els: HTMLElement[] = [];
    for (const [key, type] of keys) {
      let s = this.slots.get(key);
      if (!s) {
        s = { el: h("div", { class: "media-slot", "data-key": key, "data-type": type }, h("div", { class: "card media-panel muted" }, key, " · loading…")), type, panel: null };
        this.slots.set(key, s);
        this.io.observe(s.el);
      }
      els.push(s.el);
    }
    clear(this.body, els.length ? els : h("p", { class: "empty", id: "media-empty" }, this.emptyText));
    this.el.style.display = els.length || this.emptyText ? "" : "none";
  }

  /** The runs changed (selection, filter): rebuild the panels that are open. */
  refresh() {
    const k = this.runs().map((r) => r.run_id).join(",");
    if (k === this.runsKey) return;
    this.runsKey = k;
    for (const [key, s] of this.slots) if (s.panel) { s.panel.destroy(); s.panel = null; this.open(key); }
  }

  /** Live runs: open panels fetch again (a slider on the newest step follows new steps). */
  poll() { for (const s of this.slots.values()) s.panel?.load(); }

  private open(key: string) {
    const s = this.slots.get(key);
    if (!s || s.panel) return;
    this.runsKey = this.runs().map((r) => r.run_id).join(",");
    const panel = createPanel({ key, type: s.type, runs: this.runs() });
    if (!panel) return;
    s.panel = panel;
    clear(s.el, panel.el);
    panel.load();
  }

  destroy() { this.io.disconnect(); for (const s of this.slots.values()) s.panel?.destroy(); }
}
