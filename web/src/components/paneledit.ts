// The panel editor: a small modal form over one panel's settings (lib/panels.ts). Empty fields
// mean "follow the workspace".

import { h } from "../lib/dom";
import { CROSS_KINDS, CROSS_TITLES, type CrossKind, type PanelConfig } from "../lib/panels";

export function editPanel(id: string, cfg: PanelConfig, metrics: string[], xChoices: string[], done: (cfg: PanelConfig) => void, groupChoices: string[] = [], crossKinds = false) {
  const auto = !id.startsWith("custom:") && !id.startsWith("xrun:");
  const field = (name: string, label: string, input: HTMLElement) => h("label", { class: "pe-field" }, h("span", null, label), input);
  // The workspace's own cross-run panels (xrun:<kind>) keep their kind; others may change it.
  const kinds = id.startsWith("xrun:") ? [[cfg.kind ?? "", CROSS_TITLES[cfg.kind as CrossKind] ?? ""]]
    : [["line", "Line"], ["bar", "Bar (last value per run)"], ["scalar", "Scalar (mean of the last values)"],
      ...(crossKinds ? CROSS_KINDS.map((k) => [k, `${CROSS_TITLES[k]} (over the table's runs)`]) : [])];
  const kind = h("select", { name: "kind" }, kinds.map(([v, l]) => h("option", { value: v, selected: (cfg.kind ?? "line") === v }, l)));
  const title = h("input", { name: "title", value: cfg.title ?? "", placeholder: auto ? id : "title" });
  const mets = h("input", { name: "metrics", value: (cfg.metrics ?? (auto ? [id] : [])).join(", "), list: "pe-metrics",
    placeholder: "loss, val/loss / train/loss, /^train\\//" });
  const datalist = h("datalist", { id: "pe-metrics" }, metrics.slice(0, 500).map((m) => h("option", { value: m })));
  const x = h("select", { name: "x" }, h("option", { value: "" }, "workspace"),
    [["_step", "Step"], ["_runtime", "Relative time"], ["_timestamp", "Wall time"], ...xChoices.filter((k) => !k.startsWith("_")).map((k) => [k, k])]
      .map(([v, l]) => h("option", { value: v, selected: cfg.x === v }, l)));
  const smoothing = h("input", { name: "smoothing", type: "number", step: "0.01", min: "0", value: cfg.smoothing ?? "", placeholder: "workspace" });
  const tri = (name: string, v: boolean | undefined) => h("select", { name },
    h("option", { value: "" }, "workspace"), h("option", { value: "1", selected: v === true }, "on"), h("option", { value: "0", selected: v === false }, "off"));
  const logx = tri("logx", cfg.logx), logy = tri("logy", cfg.logy);
  const ymin = h("input", { name: "ymin", type: "number", step: "any", value: cfg.ymin ?? "", placeholder: "auto" });
  const ymax = h("input", { name: "ymax", type: "number", step: "any", value: cfg.ymax ?? "", placeholder: "auto" });
  // Aggregation: follow the workspace, draw every run, or group (mean line + min/max band) by a key.
  const group = h("select", { name: "group" }, h("option", { value: "" }, "workspace"), h("option", { value: "-", selected: cfg.group === "" }, "none (each run)"),
    [...new Set([...groupChoices, ...(cfg.group ? [cfg.group] : [])])].map((k) => h("option", { value: k, selected: cfg.group === k }, k)));
  const band = tri("band", cfg.band);
  const outliers = h("input", { name: "outliers", type: "checkbox", checked: !!cfg.outliers });
  const num = (el: HTMLInputElement) => (el.value.trim() === "" || !Number.isFinite(Number(el.value)) ? undefined : Number(el.value));
  const triVal = (el: HTMLSelectElement) => (el.value === "" ? undefined : el.value === "1");
  const close = () => { back.remove(); document.removeEventListener("keydown", esc); };
  const esc = (e: KeyboardEvent) => { if (e.key === "Escape") close(); };
  const form = h("form", { class: "panel-editor", role: "dialog", "aria-label": "Edit panel",
    onsubmit: (e: Event) => {
      e.preventDefault();
      const list = mets.value.split(",").map((s) => s.trim()).filter(Boolean);
      const out: PanelConfig = { ...cfg, kind: kind.value === "line" || id.startsWith("xrun:") ? undefined : kind.value as PanelConfig["kind"], title: title.value.trim() || undefined,
        metrics: auto && list.length === 1 && list[0] === id ? undefined : list.length ? list : undefined,
        x: x.value || undefined, smoothing: num(smoothing), logx: triVal(logx), logy: triVal(logy),
        ymin: num(ymin), ymax: num(ymax), outliers: outliers.checked || undefined,
        group: group.value === "" ? undefined : group.value === "-" ? "" : group.value, band: triVal(band) };
      close();
      done(out);
    } },
    h("h3", null, "Edit panel"),
    field("kind", "Type", kind), field("title", "Title", title),
    field("metrics", "Metrics (names, /regex/ or expressions like a / b, comma-separated)", mets), datalist,
    field("x", "X axis", x), field("smoothing", "Smoothing", smoothing),
    h("div", { class: "pe-row" }, field("logx", "Log x", logx), field("logy", "Log y", logy)),
    h("div", { class: "pe-row" }, field("ymin", "Y min", ymin), field("ymax", "Y max", ymax)),
    h("div", { class: "pe-row" }, field("group", "Group runs by", group), field("band", "Min/max band", band)),
    h("label", { class: "pe-check" }, outliers, " Ignore outliers (2nd–98th percentile)"),
    h("div", { class: "pe-buttons" }, h("button", { type: "button", onclick: close }, "Cancel"), h("button", { type: "submit", class: "primary", id: "panel-save" }, "Save")));
  const back = h("div", { class: "modal-back", onclick: (e: Event) => { if (e.target === back) close(); } }, form);
  document.addEventListener("keydown", esc);
  document.body.append(back);
  title.focus();
}
