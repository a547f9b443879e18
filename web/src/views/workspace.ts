// Project workspace: runs table on the left, charts / scatter / parallel coordinates on the
// right. All view state lives in the URL (lib/urlstate.ts).

import { api, ApiError, type Keys, type Run } from "../api";
import { ChartGrid } from "../components/chartgrid";
import { columnPicker, FilterBar } from "../components/filterbar";
import { ParallelCoords } from "../components/parcoords";
import { RunTable } from "../components/runtable";
import { ScatterPlot } from "../components/scatter";
import { h, clear, debounce } from "../lib/dom";
import { buildFilter, matchFilter, type Filter } from "../lib/filters";
import { groupOf, groupRuns, sortRuns } from "../lib/table";
import { decodeState, encodeState, routePath, type ViewState } from "../lib/urlstate";
import { navigate, setQuery } from "../main";
import { hook } from "../hook";
import { mediaKeysOf, panelKeys } from "../lib/media";
import { MediaGrid } from "./mediagrid";

export const MAX_CHART_RUNS = 100;
const ALL = "*";
const DEFAULT_CHART_RUNS = 10;
const POLL_MS = 3000;

export function workspaceView(el: HTMLElement, entity: string, project: string) {
  const st: ViewState = decodeState(location.search);
  let all: Run[] = [];      // every run matching the server-side filter
  let rows: Run[] = [];     // after client filter + sort
  let keys: Keys = { config: [], summary: [], history: [] };
  let mediaKeys = new Map<string, string>(); // keys holding media or text: panels, not line charts
  const collapsedGroups = new Set<string>();
  let loadSeq = 0;
  let dead = false;
  const save = () => setQuery(encodeState(st));
  // "Select all" stores the sentinel "*" (all runs matching the filters) rather than 100,000 ids
  // in the URL. The explicit set is derived and cached per rows/selection change.
  let selCache: { sel: string[]; rows: Run[]; set: Set<string> } | null = null;
  const selected = (): Set<string> => {
    if (!selCache || selCache.sel !== st.selected || selCache.rows !== rows) {
      const set = st.selected[0] === ALL ? new Set(rows.map((r) => r.run_id)) : new Set(st.selected);
      selCache = { sel: st.selected, rows, set };
    }
    return selCache.set;
  };
  const runHref = (r: Run) => routePath({ view: "run", entity, project, run: r.run_id });

  // ---- runs table -------------------------------------------------------------------------
  const table = new RunTable({
    isSelected: (id) => selected().has(id),
    isPinned: (id) => st.pinned.includes(id),
    toggleSelect: (id) => {
      const base = st.selected[0] === ALL ? rows.map((r) => r.run_id) : st.selected;
      st.selected = toggle(base, id); save(); table.paint(); chartsChanged();
    },
    togglePin: (id) => { st.pinned = toggle(st.pinned, id); save(); refreshRows(); },
    openRun: (r, e) => { if (!e.ctrlKey && !e.metaKey) { e.preventDefault(); navigate(runHref(r)); } },
    runHref,
    sort: () => st.sort,
    onSort: (k) => { st.sort = st.sort === `-${k}` ? k : `-${k}`; save(); table.renderHead(); refreshRows(); },
    onRemoveColumn: (k) => { st.cols = st.cols.filter((c) => c !== k); save(); table.setColumns(st.cols); },
    toggleGroup: (k) => { if (collapsedGroups.has(k)) collapsedGroups.delete(k); else collapsedGroups.add(k); refreshRows(); },
  });
  table.setColumns(st.cols);

  const count = h("span", { class: "count", id: "run-count" }, "loading runs…");
  const nameSearch = h("input", { type: "search", placeholder: "Search names (regex)", value: st.q, id: "name-search",
    oninput: debounce(() => { st.q = nameSearch.value; save(); reload(); }, 200) });
  const groupSel = h("select", { id: "group-by", onchange: () => { st.group = groupSel.value; save(); refreshRows(); chartsChanged(); grid.regroup(); } });
  const fieldList = () => ["name", "state", "tags", "group", "job_type", "host",
    ...keys.config.map((k) => `config.${k}`), ...keys.summary.map((k) => `summary.${k}`)];
  const filterBar = new FilterBar(() => st.filters, (f) => { st.filters = f; save(); filterBar.render(); reload(); }, fieldList);
  const picker = columnPicker(() => fieldList().filter((f) => f.startsWith("config.") || f.startsWith("summary.") || ["job_type", "host"].includes(f)),
    () => st.cols, (k) => { st.cols = [...st.cols, k]; save(); table.setColumns(st.cols); });
  const selInfo = h("span", { class: "muted", id: "sel-info" });
  const tableBar = h("div", { class: "toolbar" }, nameSearch, picker, h("label", null, "Group ", groupSel),
    h("button", { id: "select-all", title: "Select every run that matches the filters", onclick: () => { st.selected = [ALL]; save(); table.paint(); chartsChanged(); } }, "Select all"),
    h("button", { onclick: () => { st.selected = []; save(); table.paint(); chartsChanged(); } }, "Clear selection"),
    h("button", { id: "compare-btn", onclick: () => {
      const sel = selected();
      const ids = sel.size >= 2 ? rows.filter((r) => sel.has(r.run_id)).map((r) => r.run_id) : rows.slice(0, 2).map((r) => r.run_id);
      navigate(`${routePath({ view: "compare", entity, project })}?runs=${ids.slice(0, 20).map(encodeURIComponent).join(",")}`);
    } }, "Compare"), count, selInfo);

  // ---- charts, scatter, parallel coordinates ---------------------------------------------
  const chartRuns = (): Run[] => {
    const sel = selected();
    const base = sel.size ? rows.filter((r) => sel.has(r.run_id)) : rows.slice(0, st.group ? MAX_CHART_RUNS : DEFAULT_CHART_RUNS);
    return base.slice(0, MAX_CHART_RUNS);
  };
  const grid = new ChartGrid({
    settings: () => st,
    update: (p) => {
      const refetch = ("x" in p && p.x !== st.x) || ("zoom" in p && JSON.stringify(p.zoom) !== JSON.stringify(st.zoom));
      Object.assign(st, p); save();
      grid.renderToolbar();
      if (refetch) grid.refetch(); else grid.redraw();
    },
    runs: chartRuns,
    groups: () => (st.group ? groupOf(chartRuns(), st.group) : null),
    xChoices: () => keys.history.filter((k) => !mediaKeys.has(k)),
    search: () => st.search,
    onSearch: (q) => { st.search = q; save(); },
    collapsedByDefault: (s) => s === "system",
  }, `ws-${entity}-${project}`);
  hook.smoothTest = (w) => grid.timeSmoothing(w);
  // Keys holding images, tables, histograms, text…: panels in a Media section, never line charts.
  // The runs' summaries hold each key's latest value, so they name these keys without a request.
  const mediaGrid = new MediaGrid(chartRuns, "", "Media");
  let mediaSig = "";
  // Keys held by any loaded run (first 1,000) get no line chart; panels are for the charted runs' keys.
  const updateMedia = () => {
    const m = mediaKeysOf([...all.slice(0, 1000), ...chartRuns()].map((r) => r.summary));
    // Summary-only values (set on run.summary, never logged) stay in the runs table.
    const logged = new Set(keys.history);
    const shown = new Map([...mediaKeysOf(chartRuns().map((r) => r.summary))].filter(([k]) => logged.has(k)).sort(([a], [b]) => a.localeCompare(b)));
    const sig = `${[...m].join(";")}|${[...shown.keys()].join(";")}`;
    if (sig !== mediaSig) {
      mediaSig = sig; mediaKeys = m;
      const tableKey = (k: string) => { for (const r of chartRuns()) { const d = r.summary[k] as Record<string, unknown> | undefined; if (d && typeof d.table_key === "string") return d.table_key; } return null; };
      mediaGrid.setKeys(panelKeys(shown, tableKey));
      grid.setMetrics(numericMetrics());
    }
    mediaGrid.refresh();
  };
  const numericMetrics = () => keys.history.filter((k) => !mediaKeys.has(k)).sort();
  const scatter = new ScatterPlot({ runs: () => rows, keys: () => fieldList().filter((f) => f.startsWith("config.") || f.startsWith("summary.")),
    state: st, save, onSelect: (ids) => { st.selected = ids; save(); table.paint(); chartsChanged(); } });
  const parallel = new ParallelCoords({ runs: () => rows, keys: () => fieldList().filter((f) => f.startsWith("config.") || f.startsWith("summary.")),
    state: st, save, onSelect: (ids) => { st.selected = ids; save(); table.paint(); chartsChanged(); } });
  const pane = h("div", { class: "pane-right" });
  const tabs = h("div", { class: "tabs" });
  const showTab = () => {
    const tab = st.tab || "charts";
    clear(tabs, ["charts", "scatter", "parallel"].map((t) => h("button", { class: t === tab ? "tab on" : "tab", id: `tab-${t}`,
      onclick: () => { st.tab = t === "charts" ? "" : t; save(); showTab(); } }, t[0].toUpperCase() + t.slice(1))));
    if (tab === "charts") clear(pane, grid.el, mediaGrid.el); else clear(pane, tab === "scatter" ? scatter.el : parallel.el);
    if (tab === "scatter") scatter.render(); else if (tab === "parallel") parallel.render(); else grid.refetch();
  };
  let chartsKey = "";
  const chartsChanged = () => {
    const k = chartRuns().map((r) => r.run_id).join(",");
    selInfo.textContent = st.selected.length ? `${selected().size.toLocaleString()} selected` : `charts: first ${Math.min(rows.length, st.group ? MAX_CHART_RUNS : DEFAULT_CHART_RUNS)} runs`;
    if (k === chartsKey) return;
    chartsKey = k;
    updateMedia();
    grid.refetch();
    if (st.tab === "scatter") scatter.render();
    if (st.tab === "parallel") parallel.render();
  };

  // ---- data loading -----------------------------------------------------------------------
  function refreshRows() {
    const filter = buildFilter(st.filters, st.q);
    rows = sortRuns(all.filter((r) => matchFilter(r as unknown as Record<string, unknown>, filter)), st.sort, new Set(st.pinned));
    table.setRows(groupRuns(rows, st.group, collapsedGroups));
    count.textContent = `${rows.length.toLocaleString()} runs`;
    hook.table.total = rows.length;
    updateMedia();
  }

  async function reload() {
    const seq = ++loadSeq;
    let filter: Filter | null = buildFilter(st.filters, st.q);
    all = [];
    let cursor: string | null = null;
    let first = true;
    count.textContent = "loading runs…";
    do {
      let page;
      try {
        page = await api.runsPage(entity, project, filter, cursor);
      } catch (e) {
        // A server that cannot evaluate a clause: fetch everything and filter here instead.
        if (e instanceof ApiError && e.code === "invalid_filter" && filter) { filter = null; cursor = null; all = []; continue; }
        throw e;
      }
      if (seq !== loadSeq || dead) return;
      all.push(...page.runs);
      cursor = page.next;
      hook.table.loaded = all.length;
      if (first || !cursor) { refreshRows(); chartsChanged(); first = false; }
      else if (all.length % 10000 < 1000) refreshRows();
    } while (cursor);
    table.scrollToTop();
  }

  async function loadKeys() {
    keys = await api.keys(entity, project);
    keys.history = keys.history.filter((k) => !["_step", "_runtime", "_timestamp"].includes(k));
    clear(groupSel, h("option", { value: "" }, "none"), ["group", "job_type", ...keys.config.map((k) => `config.${k}`)]
      .map((k) => h("option", { value: k, selected: st.group === k }, k)));
    grid.setMetrics(numericMetrics());
    updateMedia();
    grid.renderToolbar();
    filterBar.render();
  }

  // New runs appear on their own: the newest page is cheap (limit 50) and tells us about them.
  async function checkNewRuns() {
    if (hook.table.loaded !== all.length || loadSeq === 0) return;
    const page = await api.runsPage(entity, project, buildFilter(st.filters, st.q), null, 50).catch(() => null);
    if (!page) return;
    const have = new Set(all.map((r) => r.run_id));
    const fresh = page.runs.filter((r) => !have.has(r.run_id));
    if (!fresh.length) return;
    all.push(...fresh);
    hook.table.loaded = all.length;
    refreshRows(); chartsChanged();
  }

  /** One runs query for all live runs ({"run_id":{"$in":[…]}}), singles for any it missed. */
  async function refreshRuns(list: Run[]): Promise<Run[]> {
    const ids = list.map((r) => r.run_id);
    const page = await api.runsPage(entity, project, { run_id: { $in: ids } }, null, ids.length).catch(() => null);
    const got = new Map((page?.runs ?? []).map((r) => [r.run_id, r]));
    return Promise.all(list.map((r) => got.get(r.run_id) ?? api.run(entity, project, r.run_id).catch(() => r)));
  }

  // Live runs: refresh their rows and append new chart points; finished runs are left alone.
  let polling = false;
  let wasRunning = new Set<string>();
  const poll = setInterval(async () => {
    if (polling || document.hidden || dead) return;
    polling = true;
    try {
      await checkNewRuns();
      // Runs that just finished get one last incremental fetch for the points logged at the end.
      const running = chartRuns().filter((r) => r.state === "running" || wasRunning.has(r.run_id));
      wasRunning = new Set(running.filter((r) => r.state === "running").map((r) => r.run_id));
      if (!running.length) return;
      const fresh = await refreshRuns(running);
      for (const f of fresh) { const i = all.findIndex((r) => r.run_id === f.run_id); if (i >= 0) all[i] = f; }
      refreshRows();
      mediaGrid.poll();
      await grid.poll(running);
      // A live run may start logging a new metric: add its chart.
      const k = await api.keys(entity, project).catch(() => null);
      if (k && k.history.some((m) => !m.startsWith("_") && !keys.history.includes(m))) await loadKeys();
    } finally { polling = false; }
  }, POLL_MS);

  const left = h("div", { class: "pane-left" }, tableBar, table.el);
  el.append(h("div", { class: "ws-top" }, h("h2", null, project), filterBar.el, tabs),
    h("div", { class: "workspace" }, left, pane));
  showTab();
  Promise.all([loadKeys(), reload()]).catch((e) => el.prepend(h("div", { class: "error" }, String(e.message ?? e))));
  return () => { dead = true; clearInterval(poll); table.destroy(); grid.destroy(); mediaGrid.destroy(); };
}

function toggle(list: string[], id: string) {
  return list.includes(id) ? list.filter((x) => x !== id) : [...list, id];
}
