// Filter bar: chips for the active conditions and a small form to add one. Produces FilterRow[]
// which lib/filters.ts turns into the API's MongoDB-style filter.

import { h, clear } from "../lib/dom";
import { describeRow, OPS, type FilterRow, type Op } from "../lib/filters";

export class FilterBar {
  readonly el: HTMLDivElement;
  constructor(private rows: () => FilterRow[], private onChange: (rows: FilterRow[]) => void, private fields: () => string[]) {
    this.el = h("div", { class: "filterbar" });
    this.render();
  }

  render() {
    const rows = this.rows();
    const listId = "filter-fields";
    const field = h("input", { placeholder: "field (config.lr, state…)", list: listId, id: "filter-field", size: 18 });
    field.setAttribute("list", listId);
    const op = h("select", { id: "filter-op" }, OPS.map((o) => h("option", { value: o }, o)));
    const value = h("input", { placeholder: "value", id: "filter-value", size: 10 });
    const add = (e: Event) => {
      e.preventDefault();
      if (!field.value.trim()) return;
      this.onChange([...rows, { field: field.value.trim(), op: op.value as Op, value: value.value }]);
    };
    clear(this.el,
      h("span", { class: "muted" }, "Filters:"),
      rows.map((r, i) => h("span", { class: "chip" }, describeRow(r),
        h("button", { class: "x", title: "Remove filter", onclick: () => this.onChange(rows.filter((_, j) => j !== i)) }, "×"))),
      h("form", { class: "addfilter", onsubmit: add }, field, op, value, h("button", { type: "submit", id: "filter-add" }, "Add filter")),
      rows.length ? h("button", { onclick: () => this.onChange([]) }, "Clear") : null,
      h("datalist", { id: listId }, this.fields().map((f) => h("option", { value: f }))));
  }
}

/** Column picker: a search box over config/summary keys; clicking one adds a column. */
export function columnPicker(keys: () => string[], current: () => string[], onAdd: (k: string) => void) {
  const list = h("div", { class: "picker-list" });
  const input = h("input", { type: "search", placeholder: "Add column: search keys", id: "column-search" });
  const box = h("div", { class: "picker" }, input, list);
  const show = () => {
    const q = input.value.toLowerCase();
    const have = new Set(current());
    const hits = keys().filter((k) => !have.has(k) && k.toLowerCase().includes(q)).slice(0, 50);
    clear(list, hits.map((k) => h("div", { class: "picker-item", onmousedown: (e: Event) => { e.preventDefault(); onAdd(k); input.value = ""; list.style.display = "none"; } }, k)),
      hits.length === 0 ? h("div", { class: "muted" }, "no matching keys") : null);
    list.style.display = "block";
  };
  input.addEventListener("focus", show);
  input.addEventListener("input", show);
  input.addEventListener("blur", () => { list.style.display = "none"; });
  return box;
}
