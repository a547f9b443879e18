// Column manager: show or hide many run-table columns at once. A search narrows the keys;
// checkboxes toggle one column, "Show all" / "Hide all" act on every key the search matches.

import { h, clear } from "../lib/dom";

export interface ColumnManagerOpts {
  /** Every key a column can show (config.*, summary.*, job_type, host). */
  keys(): string[];
  /** Base columns that can be hidden, and those hidden now. */
  base(): string[];
  hiddenBase(): string[];
  /** The extra columns shown now, in order. */
  shown(): string[];
  onChange(shown: string[], hiddenBase: string[]): void;
}

/** The most checkboxes rendered at once; the search narrows the rest. */
const MAX_LISTED = 300;

export function columnManager(o: ColumnManagerOpts) {
  const panel = h("div", { class: "colmgr-panel", id: "colmgr-panel", hidden: true, role: "dialog", "aria-label": "Columns" });
  const search = h("input", { type: "search", placeholder: "Filter keys (regex-free text)", id: "colmgr-search", "aria-label": "Filter column keys" });
  const list = h("div", { class: "colmgr-list" });
  const matching = () => {
    const q = search.value.toLowerCase();
    return { base: o.base().filter((k) => k.includes(q)), keys: o.keys().filter((k) => k.toLowerCase().includes(q)) };
  };
  const paint = () => {
    const m = matching();
    const shown = new Set(o.shown());
    const hidden = new Set(o.hiddenBase());
    const box = (k: string, on: boolean, flip: (on: boolean) => void) =>
      h("label", { title: k }, h("input", { type: "checkbox", checked: on, "data-col": k, onchange: (e: Event) => flip((e.target as HTMLInputElement).checked) }), " ", k);
    clear(list,
      m.base.map((k) => box(k, !hidden.has(k), (on) => o.onChange(o.shown(), on ? o.hiddenBase().filter((x) => x !== k) : [...o.hiddenBase(), k]))),
      m.keys.slice(0, MAX_LISTED).map((k) => box(k, shown.has(k), (on) => o.onChange(on ? [...o.shown(), k] : o.shown().filter((x) => x !== k), o.hiddenBase()))),
      m.keys.length > MAX_LISTED ? h("div", { class: "muted" }, `${m.keys.length - MAX_LISTED} more keys: narrow the filter`) : null);
  };
  const all = (on: boolean) => {
    const m = matching();
    const shown = o.shown().filter((k) => !m.keys.includes(k));
    const hidden = o.hiddenBase().filter((k) => !m.base.includes(k));
    o.onChange(on ? [...shown, ...m.keys.filter((k) => !shown.includes(k))] : shown, on ? hidden : [...hidden, ...m.base]);
    paint();
  };
  search.addEventListener("input", paint);
  panel.append(search, h("div", null,
    h("button", { id: "colmgr-show", onclick: () => all(true) }, "Show all matching"), " ",
    h("button", { id: "colmgr-hide", onclick: () => all(false) }, "Hide all matching")), list);
  const toggle = h("button", { id: "colmgr-btn", "aria-expanded": "false", "aria-controls": "colmgr-panel", onclick: () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) { paint(); search.focus(); }
  } }, "Columns");
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { panel.hidden = true; toggle.focus(); } });
  return { el: h("span", { class: "colmgr" }, toggle, panel), refresh: () => { if (!panel.hidden) paint(); } };
}
