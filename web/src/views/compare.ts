// Compare any number of runs: config, summary and metadata side by side (differing rows
// highlighted), the runs' charts overlaid, and their uncommitted git diffs side by side. Runs are
// shown a page of PAGE at a time (the pager says how many there are; nothing is cut silently).

import { api, type Keys, type Run } from "../api";
import { ChartGrid } from "../components/chartgrid";
import { runColor } from "../lib/colors";
import { h, clear } from "../lib/dom";
import { diffRows } from "../lib/compare";
import { mediaKeysOf } from "../lib/media";
import { commandLine, gitInfo } from "../lib/runmeta";
import { formatValue } from "../lib/tjson";
import { decodeState, encodeState, routePath, type ViewState } from "../lib/urlstate";
import { link, setQuery } from "../main";

/** Runs per page of the comparison (table columns, overlaid charts, diffs). */
export const COMPARE_PAGE = 20;
/** Ids per runs query (the runs route's largest page). */
const CHUNK = 1000;
/** The most bytes of one run's diff.patch shown. */
const MAX_DIFF = 200_000;

async function fetchRuns(entity: string, project: string, ids: string[]): Promise<Run[]> {
  const got = new Map<string, Run>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const page = await api.runsPage(entity, project, { run_id: { $in: chunk } }, null, chunk.length);
    for (const r of page.runs) got.set(r.run_id, r);
  }
  return ids.filter((id) => got.has(id)).map((id) => got.get(id)!);
}

/** Metadata rows worth comparing: where, how and from which code each run ran. */
function metaRows(runs: Run[]) {
  const pick = (r: Run): Record<string, string> => {
    const g = gitInfo(r.metadata);
    const m = r.metadata as Record<string, unknown>;
    return { "meta.host": r.host ?? formatValue(m.host ?? ""), "meta.python": formatValue(m.python ?? ""), "meta.command": commandLine(r.metadata),
      "meta.git.commit": g?.commit ?? "", "meta.git.branch": g?.branch ?? "", "meta.git.dirty": g ? String(g.dirty) : "" };
  };
  const cols = runs.map(pick);
  return Object.keys(cols[0] ?? {}).map((key) => {
    const values = cols.map((c) => c[key] || "—");
    return { key, values, differs: new Set(values).size > 1 };
  }).filter((r) => r.values.some((v) => v !== "—"));
}

export function compareView(el: HTMLElement, entity: string, project: string) {
  const ids = (new URLSearchParams(location.search).get("runs") ?? "").split(",").filter(Boolean).map(decodeURIComponent);
  const box = h("div", { class: "card" }, h("h2", null, "Compare runs"));
  el.append(box);
  if (ids.length < 2) { box.append(h("p", { class: "empty" }, "Select two or more runs in the workspace, then press Compare.")); return () => {}; }
  const st: ViewState = decodeState(location.search);
  // The compared ids travel as `runs` (the view state's selection), so chart settings keep them.
  const save = () => setQuery(encodeState(st));
  let all: Run[] = [];
  let pageNo = 0;
  let keys: Keys = { config: [], summary: [], history: [] };
  const pageRuns = () => all.slice(pageNo * COMPARE_PAGE, (pageNo + 1) * COMPARE_PAGE);
  const grid = new ChartGrid({ settings: () => st, runs: pageRuns, groups: () => null, xChoices: () => keys.history,
    search: () => st.search, onSearch: (q) => { st.search = q; save(); }, emptyText: "These runs logged no metrics.",
    update: (p) => { const re = "x" in p || "zoom" in p; Object.assign(st, p); save(); grid.renderToolbar(); if (re) grid.refetch(); else grid.redraw(); } }, "compare");
  const only = h("input", { type: "checkbox", id: "only-diff", onchange: () => paintTable() });
  const search = h("input", { type: "search", placeholder: "Search keys", "aria-label": "Search keys", oninput: () => paintTable() });
  const info = h("span", { class: "muted", id: "compare-info" });
  const pager = h("span", { class: "pager", id: "compare-pager" });
  const tableBox = h("div", { class: "compare-wrap" });
  const diffBox = h("div", { class: "compare-diffs", id: "compare-diffs" });

  function paintTable() {
    const runs = pageRuns();
    const rows = [...metaRows(runs), ...diffRows(runs as never)];
    const q = search.value.toLowerCase();
    const shown = rows.filter((r) => (!only.checked || r.differs) && (!q || r.key.toLowerCase().includes(q)));
    info.textContent = `${rows.filter((r) => r.differs).length} of ${rows.length} keys differ`;
    clear(tableBox, h("table", { class: "grid compare", id: "compare-table" },
      h("thead", null, h("tr", null, h("th", null, "key"), runs.map((r) => h("th", null, h("span", { class: "swatch", style: { background: runColor(r.run_id) } }),
        link(routePath({ view: "run", entity, project, run: r.run_id }), r.name))))),
      h("tbody", null, shown.map((r) => h("tr", { class: r.differs ? "diff" : "" }, h("td", { class: "key" }, r.key), r.values.map((v) => h("td", null, v)))))));
  }

  async function paintDiffs() {
    const runs = pageRuns().filter((r) => gitInfo(r.metadata)?.dirty);
    if (!runs.length) { clear(diffBox, h("h3", null, "Code"), h("p", { class: "muted" }, "No run of this page has uncommitted changes (diff.patch).")); return; }
    const texts = await Promise.all(runs.map(async (r) => {
      try {
        const t = await (await api.file(entity, project, r.run_id, "diff.patch", null)).text();
        return t.length > MAX_DIFF ? `${t.slice(0, MAX_DIFF)}\n… (${t.length.toLocaleString()} bytes, cut)` : t;
      } catch (e) { return `(no diff.patch: ${(e as Error).message})`; }
    }));
    clear(diffBox, h("h3", null, "Code: uncommitted changes"), h("div", { class: "diff-cols" }, runs.map((r, i) =>
      h("div", { class: "diff-col" }, h("div", { class: "diff-head" }, h("span", { class: "swatch", style: { background: runColor(r.run_id) } }), r.name,
        h("code", null, ` ${gitInfo(r.metadata)?.commit.slice(0, 12) ?? ""}`)),
      h("pre", { class: "diff-text" }, texts[i].split("\n").map((l) => h("span", { class: l.startsWith("+") && !l.startsWith("+++") ? "add" : l.startsWith("-") && !l.startsWith("---") ? "del" : "" }, `${l}\n`)))))));
  }

  function showPage() {
    const pages = Math.ceil(all.length / COMPARE_PAGE);
    clear(pager, pages > 1 ? [
      h("button", { id: "compare-prev", disabled: pageNo === 0, onclick: () => { pageNo--; showPage(); } }, "‹ previous"),
      ` runs ${pageNo * COMPARE_PAGE + 1}–${Math.min(all.length, (pageNo + 1) * COMPARE_PAGE)} of ${all.length} `,
      h("button", { id: "compare-next", disabled: pageNo >= pages - 1, onclick: () => { pageNo++; showPage(); } }, "next ›")] : `${all.length} runs`);
    paintTable();
    grid.refetch();
    void paintDiffs();
  }

  Promise.all([fetchRuns(entity, project, ids), api.keys(entity, project)]).then(([runs, k]) => {
    all = runs;
    const media = mediaKeysOf(runs.slice(0, 1000).map((r) => r.summary));
    keys = { ...k, history: k.history.filter((m) => !m.startsWith("_") && !media.has(m)) };
    const missing = ids.length - runs.length;
    box.append(h("div", { class: "toolbar" }, search, h("label", null, only, " only differences"), info, pager));
    if (missing) box.append(h("div", { class: "error", id: "compare-missing" }, `${missing} of ${ids.length} runs were not found (deleted or moved).`));
    box.append(tableBox);
    el.append(h("div", { class: "card" }, h("h3", null, "Charts (runs of this page overlaid)"), grid.el), h("div", { class: "card" }, diffBox));
    grid.setMetrics(keys.history.filter((m) => !m.startsWith("system/")).sort());
    showPage();
  }).catch((e) => box.append(h("div", { class: "error" }, e.message)));
  return () => { grid.destroy(); };
}
