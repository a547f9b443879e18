// The editor forms of a report: one per panel block (kind, run set, keys, title) and the
// report's own chart settings. Each form changes the block in place and calls `changed` once a
// field is committed (change events, not every keystroke: a panel re-queries when it changes).

import { h } from "../lib/dom";
import type { Block, PanelKind, ReportDoc } from "../reportsapi";

type PanelBlock = Extract<Block, { type: "panel" }>;

const KEY_HINT: Record<PanelKind, string> = {
  line: "metrics, comma-separated (loss, acc)",
  scatter: "x, y run fields (config.lr, summary.loss)",
  runs: "columns (summary.loss, config.lr)",
};

function field(label: string, input: HTMLElement) {
  return h("label", { class: "pe-field" }, h("span", null, label), input);
}

export function panelEditor(b: PanelBlock, changed: () => void): HTMLElement {
  const text = (cls: string, value: string, set: (v: string) => void, placeholder = "") =>
    h("input", { class: cls, value, placeholder, onchange: (e: Event) => { set((e.target as HTMLInputElement).value.trim()); changed(); } });
  const kind = h("select", { class: "pe-kind", onchange: (e: Event) => { b.kind = (e.target as HTMLSelectElement).value as PanelKind; changed(); } },
    (["line", "scatter", "runs"] as PanelKind[]).map((k) => h("option", { value: k, selected: k === b.kind }, k === "runs" ? "run table" : k)));
  const filter = h("input", { class: "pe-filter", value: b.runset.filters ? JSON.stringify(b.runset.filters) : "",
    placeholder: '{"config.optimizer": "adam"}', onchange: (e: Event) => {
      const input = e.target as HTMLInputElement;
      try {
        b.runset.filters = input.value.trim() ? JSON.parse(input.value) : null;
        input.setCustomValidity("");
        changed();
      } catch { input.setCustomValidity("not JSON"); input.reportValidity(); }
    } });
  return h("div", { class: "panel-edit" },
    field("Kind", kind),
    field("Entity", text("pe-entity", b.runset.entity, (v) => { b.runset.entity = v; })),
    field("Project", text("pe-project", b.runset.project, (v) => { b.runset.project = v; })),
    field("Run set name", text("pe-name", b.runset.name ?? "", (v) => { b.runset.name = v || undefined; })),
    field("Filter", filter),
    field("Keys", text("pe-keys", b.keys.join(", "), (v) => { b.keys = v.split(",").map((k) => k.trim()).filter(Boolean); }, KEY_HINT[b.kind])),
    field("Title", text("pe-title", b.title ?? "", (v) => { b.title = v || undefined; })));
}

export function settingsEditor(doc: ReportDoc, changed: () => void): HTMLElement {
  const smoothing = h("input", { id: "report-smoothing", type: "number", min: "0", max: "0.999", step: "0.05", value: String(doc.settings.smoothing),
    onchange: (e: Event) => {
      const v = Number((e.target as HTMLInputElement).value);
      doc.settings.smoothing = Number.isFinite(v) ? Math.min(Math.max(v, 0), 0.999) : 0;
      changed();
    } });
  const x = h("input", { id: "report-x", value: doc.settings.x, onchange: (e: Event) => { doc.settings.x = (e.target as HTMLInputElement).value.trim() || "_step"; changed(); } });
  return h("div", { class: "toolbar report-settings" }, field("Smoothing", smoothing), field("X axis", x));
}
