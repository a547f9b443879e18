// Parameter importance panel: for a chosen metric (a summary key), each config key's
// model-based importance (random forest, lib/importance.ts) and its correlation with the
// metric, over the runs in the table — as wandb's panel shows them.

import { defaultAxes } from "../lib/axes";
import { h, clear } from "../lib/dom";
import { parameterImportance } from "../lib/importance";
import { formatTick } from "../lib/ticks";
import { keySelect, type CrossRunOpts } from "./scatter";

export class ImportancePanel {
  readonly el: HTMLDivElement;
  private controls: HTMLDivElement;
  private body: HTMLDivElement;
  /** The table drawn last (for the CSV export). */
  rows: { key: string; importance: number; correlation: number | null }[] = [];

  constructor(private o: CrossRunOpts) {
    this.controls = h("div", { class: "toolbar" });
    this.body = h("div", { class: "importance" });
    this.el = h("div", { class: "crossrun", id: `${o.idp ?? "importance"}-panel` }, this.controls, this.body);
  }

  render() {
    const keys = this.o.keys();
    const runs = this.o.runs() as unknown as Record<string, unknown>[];
    const s = this.o.state;
    const metrics = keys.filter((k) => k.startsWith("summary.") && !k.startsWith("summary._"));
    if (!s.imp || !metrics.includes(s.imp)) s.imp = defaultAxes(runs, keys).find((k) => k.startsWith("summary.")) ?? metrics[0] ?? "";
    clear(this.controls, h("label", null, "Metric ", keySelect(`${this.o.idp ?? "importance"}-metric`, metrics, s.imp, (v) => { s.imp = v; this.o.save(); this.render(); })),
      h("span", { class: "muted" }, `${runs.length.toLocaleString()} runs`));
    if (!s.imp) { clear(this.body, h("p", { class: "empty" }, "No summary metric to explain yet.")); return; }
    const params = keys.filter((k) => k.startsWith("config."));
    const t0 = performance.now();
    const rows = parameterImportance(runs, params, s.imp).filter((r) => r.importance > 0 || r.correlation !== null);
    this.rows = rows;
    const ms = performance.now() - t0;
    clear(this.body,
      h("table", { class: "importance-table" },
        h("thead", null, h("tr", null, h("th", null, "Config parameter"), h("th", null, "Importance"), h("th", null, "Correlation"))),
        h("tbody", null, rows.map((r) => h("tr", { "data-key": r.key },
          h("td", { class: "key", title: r.key }, r.key.slice(7)),
          h("td", null, h("span", { class: "imp-bar", style: { width: `${Math.round(r.importance * 120)}px` } }), ` ${formatTick(r.importance, 2)}`),
          h("td", { class: r.correlation === null ? "muted" : r.correlation >= 0 ? "pos" : "neg" },
            r.correlation === null ? "—" : h("span", null, h("span", { class: "corr-bar", style: { width: `${Math.round(Math.abs(r.correlation) * 60)}px` } }), ` ${r.correlation.toFixed(2)}`)))))),
      h("p", { class: "muted hint" }, `Importance: variance reduction in a random forest (${rows[0]?.n ?? 0} runs with the metric, ${ms.toFixed(0)} ms); categorical parameters enter as their category index.`));
    window.__trackway.importance = { metric: s.imp, keys: rows.map((r) => r.key), importance: rows.map((r) => r.importance), correlation: rows.map((r) => r.correlation) };
  }
}
