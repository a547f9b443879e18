// Project workspace: runs table on the left; on the right one grid of panels: line, bar and
// scalar charts per metric, then scatter, parallel coordinates and parameter importance over
// the table's runs, then media and system metrics. All view state lives in the URL
// (lib/urlstate.ts) and the user's autosaved view.

import { api, ApiError, type Keys, type Run } from "../api";
import { ChartGrid } from "../components/chartgrid";
import { columnPicker, FilterBar } from "../components/filterbar";
import { cellText, RunTable } from "../components/runtable";
import { columnManager } from "../components/columns";
import { download, toCsv } from "../lib/csv";
import { selectionActions } from "./runactions";
import { h, clear, debounce } from "../lib/dom";
import { buildFilter, type Filter } from "../lib/filters";
import { groupOf, groupRuns } from "../lib/table";
import { decodeState, encodeState, routePath, type ViewState } from "../lib/urlstate";
import { navigate, setQuery } from "../main";
import { hook } from "../hook";
import { mediaKeysOf, panelKeys } from "../lib/media";
import { MediaGrid } from "./mediagrid";
import { assignColors, runColor } from "../lib/colors";
import { AUTOSAVE, startState, views, type SavedView } from "../lib/savedviews";
import { isNotFound, notFoundView } from "./notfound";

export const MAX_CHART_RUNS = 100;
const ALL = "*";
const DEFAULT_CHART_RUNS = 10;
const POLL_MS = 3000;
/** Summary columns shown by default: the first charted metrics. */
const DEFAULT_METRIC_COLS = 4;
/** Runs per server page; more pages load as the table is scrolled to their end. */
export const PAGE = 500;
/** The first page is smaller: it only has to fill the visible rows, and it decides first paint. */
export const FIRST_PAGE = 100;
/** The most runs the server returns in one page. */
const MAX_PAGE = 1000;

/** The first page asked for by the shell while it checks the key (main.ts), for this URL. */
let prefetched: { at: string; page: ReturnType<typeof api.runsPage> } | null = null;
const pageOf = (entity: string, project: string) => JSON.stringify([entity, project, location.search]);

/** The first page of the URL's workspace as buildWorkspace asks for it. */
function firstPage(entity: string, project: string) {
  const st = decodeState(location.search);
  return api.runsPage(entity, project, buildFilter(st.filters, st.q), null, FIRST_PAGE, st.sort || "-created_at");
}

/** Asks for the URL's first page of runs now; the workspace of the same URL takes it over. */
export function prefetchFirstPage(entity: string, project: string) {
  const page = firstPage(entity, project);
  page.catch(() => {}); // the workspace reports errors (or asks again)
  prefetched = { at: pageOf(entity, project), page };
}

function takePrefetched(entity: string, project: string) {
  const p = prefetched;
  prefetched = null;
  return p && p.at === pageOf(entity, project) ? p.page : null;
}

/**
 * The workspace. A URL without view state opens the user's last workspace (autosaved on the
 * server) or else the project's default view; picking a saved view rebuilds the workspace.
 */
export function workspaceView(el: HTMLElement, entity: string, project: string) {
  let inner: (() => void) | null = null;
  let dead = false;
  const build = () => { inner?.(); el.replaceChildren(); inner = buildWorkspace(el, entity, project, open); };
  const open = (v: SavedView | null) => { setQuery(v ? v.state : ""); build(); };
  if (location.search) build();
  else {
    Promise.all([views.list(entity, project), api.viewer()])
      .then(([list, me]) => { if (!dead) { const v = startState(list, me.username); if (v) setQuery(v.state); } })
      .catch(() => {})
      .finally(() => { if (!dead) build(); });
  }
  return () => { dead = true; inner?.(); };
}

function buildWorkspace(el: HTMLElement, entity: string, project: string, openView: (v: SavedView | null) => void) {
  const st: ViewState = decodeState(location.search);
  // The table's first page decides first paint and needs only the URL's state: ask for it
  // before the view is built (the first reload() takes it over).
  let early: ReturnType<typeof api.runsPage> | null = takePrefetched(entity, project) ?? firstPage(entity, project);
  early.catch(() => {}); // reload() reports its errors
  // The server is the only evaluator of filters and sorts: `all` holds the pages it returned so
  // far, in its order; pinned runs (that match the filter) are fetched apart and shown first.
  let all: Run[] = [];
  let pinnedRuns: Run[] = [];
  let total = 0;
  let next: string | null = null;
  let loadingMore = false;
  let rows: Run[] = [];     // pinned runs, then the loaded pages
  let keys: Keys = { config: [], summary: [], history: [] };
  let mediaKeys = new Map<string, string>(); // keys holding media or text: panels, not line charts
  const collapsedGroups = new Set<string>();
  let loadSeq = 0;
  let dead = false;
  // Every change goes to the URL at once and, a moment later, to the user's autosaved view.
  const autosave = debounce(() => {
    if (!dead) views.save(entity, project, { name: AUTOSAVE, state: encodeState(st) }).catch(() => {});
  }, 800);
  const save = () => { setQuery(encodeState(st)); autosave(); };
  // Distinct colours for the runs (or groups) in view; a colour the user picked wins.
  let colors = new Map<string, string>();
  const recolor = () => {
    const ids = st.group ? [...(groupOf(chartRuns(), st.group)?.keys() ?? [])].map((g) => `group:${g}`) : chartRuns().map((r) => r.run_id);
    colors = assignColors(ids, st.colors);
  };
  const colorOf = (id: string) => colors.get(id) ?? runColor(id);
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
    togglePin: (id) => { st.pinned = toggle(st.pinned, id); save(); void reloadPinned(); },
    openRun: (r, e) => { if (!e.ctrlKey && !e.metaKey) { e.preventDefault(); navigate(runHref(r)); } },
    runHref,
    sort: () => st.sort,
    onSort: (k) => { st.sort = st.sort === `-${k}` ? k : `-${k}`; save(); table.renderHead(); reload(); },
    onRemoveColumn: (k) => { st.cols = st.cols.filter((c) => c !== k); save(); table.setColumns(st.cols); },
    toggleGroup: (k) => { if (collapsedGroups.has(k)) collapsedGroups.delete(k); else collapsedGroups.add(k); refreshRows(); },
    onNearEnd: () => { void loadMore(); },
    storageKey: `trackway.table.${entity}/${project}`,
  });
  table.setColumns(st.cols);

  const count = h("span", { class: "count", id: "run-count" }, "loading runs…");
  // A filter the server refuses (e.g. a regex its dialect rejects) is shown, never worked around.
  const filterError = h("div", { class: "error", id: "filter-error", hidden: true });
  const nameSearch = h("input", { type: "search", placeholder: "Search names (regex)", value: st.q, id: "name-search",
    oninput: debounce(() => { st.q = nameSearch.value; save(); reload(); }, 200) });
  const groupSel = h("select", { id: "group-by", onchange: () => { st.group = groupSel.value; save(); refreshRows(); recolor(); chartsChanged(); grid.regroup(); sysGrid.regroup(); } });
  const fieldList = () => ["name", "state", "tags", "group", "job_type", "host",
    ...keys.config.map((k) => `config.${k}`), ...keys.summary.map((k) => `summary.${k}`)];
  const filterBar = new FilterBar(() => st.filters, (f) => { st.filters = f; save(); filterBar.render(); reload(); }, fieldList);
  const picker = columnPicker(() => fieldList().filter((f) => f.startsWith("config.") || f.startsWith("summary.") || ["job_type", "host"].includes(f)),
    () => st.cols, (k) => { st.cols = [...st.cols, k]; save(); table.setColumns(st.cols); });
  const selInfo = h("span", { class: "muted", id: "sel-info" });
  const colKeys = () => fieldList().filter((f) => f.startsWith("config.") || f.startsWith("summary.") || ["job_type", "host"].includes(f));
  const colMgr = columnManager({ keys: colKeys, base: () => table.hideable, hiddenBase: () => table.hiddenBase, shown: () => st.cols,
    onChange: (cols, hidden) => { st.cols = cols; save(); table.setHiddenBase(hidden); table.setColumns(st.cols); colMgr.refresh(); } });
  const bulk = selectionActions({ entity, project, selected: () => rows.filter((r) => selected().has(r.run_id)).map((r) => r.run_id),
    changed: (removed) => { if (removed.length) { st.selected = st.selected.filter((id) => !removed.includes(id)); save(); } void reload(); } });
  const exportBtn = h("button", { id: "export-csv", title: "Download the runs matching the filters, with the columns shown, as CSV",
    onclick: () => void exportTable(exportBtn) }, "Export CSV");
  const tableBar = h("div", { class: "toolbar" }, nameSearch, picker, colMgr.el, h("label", null, "Group ", groupSel),
    h("button", { id: "select-all", title: "Select every run that matches the filters", onclick: () => { st.selected = [ALL]; save(); table.paint(); chartsChanged(); } }, "Select all"),
    h("button", { onclick: () => { st.selected = []; save(); table.paint(); chartsChanged(); } }, "Clear selection"),
    h("button", { id: "compare-btn", onclick: () => {
      const sel = selected();
      const ids = sel.size >= 2 ? rows.filter((r) => sel.has(r.run_id)).map((r) => r.run_id) : rows.slice(0, 2).map((r) => r.run_id);
      navigate(`${routePath({ view: "compare", entity, project })}?runs=${ids.map(encodeURIComponent).join(",")}`);
    } }, "Compare"), exportBtn, count, selInfo, h("div", { class: "toolbar-row" }, bulk));

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
      if (refetch) { grid.refetch(); sysGrid.refetch(); } else { grid.redraw(); sysGrid.redraw(); }
    },
    runs: chartRuns,
    groups: (field = st.group) => (field ? groupOf(chartRuns(), field) : null),
    xChoices: () => keys.history.filter((k) => !mediaKeys.has(k)),
    groupChoices,
    search: () => st.search,
    onSearch: (q) => { st.search = q; save(); },
    collapsedByDefault: (s) => s === "system",
    colorOf,
    panels: () => st.panels,
    setPanels: (p) => { st.panels = p; save(); },
    setColor: (id, c) => { st.colors = { ...st.colors, [id]: c }; save(); recolor(); grid.regroup(); sysGrid.regroup(); },
    // Scatter, parallel coordinates and importance over every loaded run of the table; a
    // rectangle or a brush selects runs (and so the charted ones).
    cross: { runs: () => rows, keys: () => fieldList().filter((f) => f.startsWith("config.") || f.startsWith("summary.")), state: st, save,
      onSelect: (ids) => { st.selected = ids; save(); table.paint(); chartsChanged(); } },
  }, `ws-${entity}-${project}`);
  // System metrics of the runs in view (their system series), same settings and colours; x is
  // relative or wall time (system rows have no steps).
  const sysSettings = () => ({ ...st, x: st.x === "_timestamp" ? "_timestamp" : "_runtime", zoom: st.x === "_timestamp" || st.x === "_runtime" ? st.zoom : null });
  const sysGrid = new ChartGrid({
    settings: sysSettings, update: (p) => grid.opts.update(p), runs: chartRuns,
    groups: () => (st.group ? groupOf(chartRuns(), st.group) : null), xChoices: () => [], search: () => st.search, onSearch: () => {},
    stream: "system", colorOf, emptyText: "No system metrics for the runs in view.",
  }, `ws-${entity}-${project}`);
  sysGrid.el.classList.add("system-grid");
  let sysKeysFor = "";
  /** The system metric names of the runs in view (the first few runs' keys, merged). */
  const loadSystemKeys = async () => {
    const runs = chartRuns().slice(0, 5);
    const k = runs.map((r) => r.run_id).join(",");
    if (k === sysKeysFor) return;
    sysKeysFor = k;
    const lists = await Promise.all(runs.map((r) => api.runKeys(entity, project, r.run_id, "system").catch(() => [] as string[])));
    if (dead || k !== sysKeysFor) return;
    sysGrid.setMetrics([...new Set(lists.flat())].filter((m) => !m.startsWith("_")).sort());
  };
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
  const pane = h("div", { class: "pane-right" }, grid.el, mediaGrid.el, sysGrid.el);
  let chartsKey = "";
  const chartsChanged = () => {
    const k = chartRuns().map((r) => r.run_id).join(",");
    selInfo.textContent = st.selected.length ? `${selected().size.toLocaleString()} selected` : `charts: first ${Math.min(rows.length, st.group ? MAX_CHART_RUNS : DEFAULT_CHART_RUNS)} runs`;
    grid.crossChanged(); // the selection is highlighted in the cross-run panels
    if (k === chartsKey) return;
    chartsKey = k;
    recolor();
    updateMedia();
    grid.refetch();
    sysGrid.refetch();
    void loadSystemKeys();
  };

  // ---- data loading -----------------------------------------------------------------------
  const order = () => st.sort || "-created_at";
  const currentFilter = () => buildFilter(st.filters, st.q);

  function refreshRows() {
    const pins = new Set(st.pinned);
    const pinned = pinnedRuns.filter((r) => pins.has(r.run_id));
    rows = [...pinned, ...all.filter((r) => !pins.has(r.run_id))];
    table.setRows(groupRuns(rows, st.group, collapsedGroups));
    fillGroupChoices();
    count.textContent = all.length < total
      ? `${total.toLocaleString()} runs (${all.length.toLocaleString()} loaded)` : `${total.toLocaleString()} runs`;
    hook.table.total = total;
    hook.table.loaded = all.length;
    updateMedia();
  }

  function showFilterError(e: unknown): boolean {
    if (!(e instanceof ApiError && e.code === "invalid_filter")) return false;
    all = []; pinnedRuns = []; total = 0; next = null;
    filterError.textContent = e.message;
    filterError.hidden = false;
    refreshRows();
    count.textContent = "filter refused";
    chartsChanged();
    return true;
  }

  /** Pinned runs that match the filter, in one query. */
  async function fetchPinned(filter: Filter | null): Promise<Run[]> {
    if (!st.pinned.length) return [];
    const ids: Filter = { run_id: { $in: st.pinned } };
    const page = await api.runsPage(entity, project, filter ? { $and: [filter, ids] } : ids, null, Math.min(st.pinned.length, MAX_PAGE), order());
    return page.runs;
  }

  async function reloadPinned() {
    const seq = loadSeq;
    const pins = await fetchPinned(currentFilter()).catch(() => pinnedRuns);
    if (seq !== loadSeq || dead) return;
    pinnedRuns = pins;
    refreshRows();
    chartsChanged();
  }

  /** The first page of the table as the server filters and sorts it. */
  async function reload(limit = FIRST_PAGE) {
    const seq = ++loadSeq;
    const filter = currentFilter();
    count.textContent = "loading runs…";
    try {
      const first = limit === FIRST_PAGE && early ? early : null;
      early = null;
      const [page, pins] = await Promise.all([
        first ?? api.runsPage(entity, project, filter, null, limit, order()), fetchPinned(filter)]);
      if (seq !== loadSeq || dead) return;
      filterError.hidden = true;
      all = page.runs; next = page.next; total = page.total; pinnedRuns = pins;
      refreshRows(); chartsChanged();
      if (limit === FIRST_PAGE) table.scrollToTop();
    } catch (e) {
      if (seq !== loadSeq || dead) return;
      if (!showFilterError(e)) throw e;
    }
  }

  /** The next server page, when the table is scrolled to the end of the loaded ones. */
  async function loadMore() {
    if (!next || loadingMore) return;
    loadingMore = true;
    const seq = loadSeq;
    try {
      const page = await api.runsPage(entity, project, currentFilter(), next, PAGE, order());
      if (seq !== loadSeq || dead) return;
      const have = new Set(all.map((r) => r.run_id));
      all.push(...page.runs.filter((r) => !have.has(r.run_id)));
      next = page.next; total = page.total;
      refreshRows(); grid.crossChanged();
    } catch (e) {
      if (seq === loadSeq && !dead && !showFilterError(e)) throw e;
    } finally { loadingMore = false; }
  }

  /** `sweep`: the sweep a run is a trial of (the runs API names it), offered once a loaded run
   *  has one (or the URL groups by it). */
  function groupChoices() {
    const sweep = st.group === "sweep" || rows.some((r) => r.sweep) ? ["sweep"] : [];
    return ["group", "job_type", ...sweep, ...keys.config.map((k) => `config.${k}`)];
  }
  function fillGroupChoices(force = false) {
    const choices = groupChoices();
    if (!force && groupSel.options.length === choices.length + 1) return; // unchanged: keep the open menu
    clear(groupSel, h("option", { value: "" }, "none"), choices.map((k) => h("option", { value: k, selected: st.group === k }, k)));
  }
  /** Every run matching the filters, page by page in the table's order, as CSV of the shown columns. */
  async function exportTable(btn: HTMLButtonElement) {
    const cols = table.shownColumns;
    const out: unknown[][] = [];
    let cursor: string | null = null;
    btn.disabled = true;
    try {
      do {
        const page = await api.runsPage(entity, project, currentFilter(), cursor, MAX_PAGE, order());
        for (const r of page.runs) out.push([r.run_id, ...cols.map((c) => (c.key === "name" ? r.name : cellText(r, c.key, Date.now() / 1000)))]);
        cursor = page.next;
        btn.textContent = `Exporting ${out.length.toLocaleString()} / ${page.total.toLocaleString()}…`;
      } while (cursor && !dead);
      download(`${project}-runs.csv`, toCsv(["run_id", ...cols.map((c) => c.key)], out));
    } finally { btn.disabled = false; btn.textContent = "Export CSV"; }
  }

  async function loadKeys() {
    keys = await api.keys(entity, project);
    // Default columns: the summary of the metrics charted (until the user picks columns).
    if (!st.cols.length && !new URLSearchParams(location.search).has("cols")) {
      const summary = new Set(keys.summary);
      st.cols = keys.history.filter((k) => !k.startsWith("_") && !k.startsWith("system/") && summary.has(k)).sort().slice(0, DEFAULT_METRIC_COLS).map((k) => `summary.${k}`);
      table.setColumns(st.cols);
    }
    keys.history = keys.history.filter((k) => !["_step", "_runtime", "_timestamp"].includes(k));
    fillGroupChoices(true);
    grid.setMetrics(numericMetrics());
    updateMedia();
    grid.renderToolbar();
    filterBar.render();
    // The cross-run panels choose their default axes from the keys: draw them again now.
    grid.crossChanged();
    // Links from before these were panels (`?tab=scatter`) open at that panel.
    if (["scatter", "parallel", "importance"].includes(st.tab)) requestAnimationFrame(() => grid.reveal(`xrun:${st.tab}`));
  }

  // New runs appear on their own: a cheap first-page query tells whether the answer changed;
  // if so, the rows loaded so far are asked for again (in the server's order).
  async function checkNewRuns() {
    if (loadSeq === 0 || loadingMore || !filterError.hidden) return;
    const seq = loadSeq;
    const page = await api.runsPage(entity, project, currentFilter(), null, 50, order()).catch(() => null);
    if (!page || seq !== loadSeq || dead) return;
    const have = new Set(all.map((r) => r.run_id));
    if (page.total === total && page.runs.every((r) => have.has(r.run_id))) return;
    await reload(Math.min(Math.max(all.length, PAGE), MAX_PAGE));
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
      for (const f of fresh) {
        const i = all.findIndex((r) => r.run_id === f.run_id); if (i >= 0) all[i] = f;
        const j = pinnedRuns.findIndex((r) => r.run_id === f.run_id); if (j >= 0) pinnedRuns[j] = f;
      }
      refreshRows();
      mediaGrid.poll();
      await grid.poll(running);
      await sysGrid.poll(running);
      // A live run may start logging a new metric: add its chart.
      const k = await api.keys(entity, project).catch(() => null);
      if (k && k.history.some((m) => !m.startsWith("_") && !keys.history.includes(m))) await loadKeys();
    } finally { polling = false; }
  }, POLL_MS);

  const left = h("div", { class: "pane-left" }, tableBar, filterError, table.el);
  const viewsBar = savedViewsBar(entity, project, () => encodeState(st), openView);
  el.append(h("div", { class: "ws-top" }, h("h2", null, project), viewsBar, filterBar.el),
    h("div", { class: "workspace" }, left, pane));
  Promise.all([loadKeys(), reload()]).catch((e) => {
    if (isNotFound(e)) { dead = true; clearInterval(poll); notFoundView(el, `Project ${entity}/${project} does not exist.`, [[routePath({ view: "projects", entity }), `Projects of ${entity}`]]); }
    else el.prepend(h("div", { class: "error" }, String(e.message ?? e)));
  });
  return () => { dead = true; clearInterval(poll); table.destroy(); grid.destroy(); sysGrid.destroy(); mediaGrid.destroy(); };
}

/** Saved views: pick one (rebuilds the workspace), save the current state under a name,
 *  share it, make it the project default, delete your own. */
function savedViewsBar(entity: string, project: string, current: () => string, openView: (v: SavedView | null) => void) {
  const sel = h("select", { id: "view-select", "aria-label": "Saved view" });
  const status = h("span", { class: "muted", id: "view-status" });
  let list: SavedView[] = [];
  const refresh = async () => {
    list = (await views.list(entity, project).catch(() => [])).filter((v) => v.name !== AUTOSAVE);
    clear(sel, h("option", { value: "" }, "Saved views…"),
      list.map((v) => h("option", { value: String(v.id) }, `${v.name}${v.default ? " (default)" : ""}${v.shared ? "" : " (private)"} · ${v.owner}`)));
  };
  sel.addEventListener("change", () => { const v = list.find((x) => String(x.id) === sel.value); if (v) openView(v); });
  const saveAs = async (extra: { shared?: boolean; default?: boolean }) => {
    const name = prompt("Name of the view", list.find((v) => String(v.id) === sel.value)?.name ?? "");
    if (!name) return;
    try {
      const v = await views.save(entity, project, { name, state: current(), ...extra });
      status.textContent = `saved “${v.name}”${v.default ? " as the project default" : v.shared ? " (shared)" : ""}`;
      await refresh(); sel.value = String(v.id);
    } catch (e) { status.textContent = `not saved: ${(e as Error).message}`; }
  };
  const del = async () => {
    const v = list.find((x) => String(x.id) === sel.value);
    if (!v || !confirm(`Delete the view “${v.name}”?`)) return;
    try { await views.remove(entity, project, v.id); status.textContent = "deleted"; await refresh(); } catch (e) { status.textContent = (e as Error).message; }
  };
  void refresh();
  return h("div", { class: "views-bar" }, sel,
    h("button", { id: "view-save", onclick: () => saveAs({}) }, "Save view"),
    h("button", { id: "view-share", onclick: () => saveAs({ shared: true }), title: "Save and share with everyone who can read the project" }, "Share"),
    h("button", { id: "view-default", onclick: () => saveAs({ default: true }), title: "Save as the project's default view" }, "Set default"),
    h("button", { id: "view-delete", onclick: del }, "Delete"),
    h("button", { id: "view-reset", onclick: () => { if (confirm("Reset the workspace to the default layout?")) openView({ state: "?", name: "", id: 0 } as SavedView); } }, "Reset"),
    status);
}

function toggle(list: string[], id: string) {
  return list.includes(id) ? list.filter((x) => x !== id) : [...list, id];
}
