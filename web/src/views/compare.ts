// Compare 2+ runs: config, summary and attributes side by side, differing rows highlighted.

import { api, type Run } from "../api";
import { runColor } from "../lib/colors";
import { h, clear } from "../lib/dom";
import { diffRows } from "../lib/compare";
import { routePath } from "../lib/urlstate";
import { link } from "../main";

export function compareView(el: HTMLElement, entity: string, project: string) {
  const ids = (new URLSearchParams(location.search).get("runs") ?? "").split(",").filter(Boolean).map(decodeURIComponent);
  const box = h("div", { class: "card" }, h("h2", null, "Compare runs"));
  el.append(box);
  if (ids.length < 2) { box.append(h("p", { class: "empty" }, "Select two or more runs in the workspace, then press Compare.")); return () => {}; }
  Promise.all(ids.map((id) => api.run(entity, project, id))).then((runs: Run[]) => {
    const rows = diffRows(runs as never);
    const only = h("input", { type: "checkbox", id: "only-diff", onchange: () => paint() });
    const search = h("input", { type: "search", placeholder: "Search keys", oninput: () => paint() });
    const tbody = h("tbody");
    const paint = () => {
      const q = search.value.toLowerCase();
      clear(tbody, rows.filter((r) => (!only.checked || r.differs) && (!q || r.key.toLowerCase().includes(q)))
        .map((r) => h("tr", { class: r.differs ? "diff" : "" }, h("td", { class: "key" }, r.key), r.values.map((v) => h("td", null, v)))));
    };
    paint();
    box.append(h("div", { class: "toolbar" }, search, h("label", null, only, " only differences"),
      h("span", { class: "muted" }, `${rows.filter((r) => r.differs).length} of ${rows.length} keys differ`)),
      h("table", { class: "grid compare", id: "compare-table" },
        h("thead", null, h("tr", null, h("th", null, "key"), runs.map((r) => h("th", null, h("span", { class: "swatch", style: { background: runColor(r.run_id) } }),
          link(routePath({ view: "run", entity, project, run: r.run_id }), r.name))))), tbody));
  }).catch((e) => box.append(h("div", { class: "error" }, e.message)));
  return () => {};
}
