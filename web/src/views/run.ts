// Run page: overview (editable notes/tags), config and summary tables, the run's charts,
// system metrics, console and files (when the server exposes them).

import { api, type Keys, type Run } from "../api";
import { ChartGrid } from "../components/chartgrid";
import { runColor } from "../lib/colors";
import { h, clear, fmtDuration, fmtTime, toSeconds } from "../lib/dom";
import { flatten, formatValue, type Decoded } from "../lib/tjson";
import { decodeState, encodeState, routePath, type ViewState } from "../lib/urlstate";
import { setQuery } from "../main";
import { consoleTab } from "./runconsole";
import { filesTab } from "./runfiles";
import { runArtifactsTab } from "./artifacts";
import { commandLine, gitInfo } from "../lib/runmeta";
import { mediaKeysOf, panelKeys } from "../lib/media";
import { mediaApi } from "../mediaapi";
import { MediaGrid } from "./mediagrid";
import { isNotFound, notFoundView } from "./notfound";
import { runActions } from "./runactions";

/** The system tab's x-axis: relative time unless wall time was picked (system rows have no steps). */
const SYSTEM_X: [string, string][] = [["_runtime", "Relative time (s)"], ["_timestamp", "Wall time"]];

const TABS = ["overview", "charts", "media", "system", "console", "files", "artifacts"];

export function runView(el: HTMLElement, entity: string, project: string, runId: string) {
  const st: ViewState = decodeState(location.search);
  const save = () => setQuery(encodeState(st));
  let run: Run | null = null;
  let keys: Keys = { config: [], summary: [], history: [] };
  // Keys holding typed references (GET .../media/keys) or text: they get panels, not line charts.
  let media = new Map<string, string>();
  const head = h("div", { class: "run-head" }, h("h2", null, runId));
  const tabs = h("div", { class: "tabs" });
  const body = h("div", { class: "run-body" });
  el.append(head, tabs, body);
  const cleanups: (() => void)[] = [];
  const runs = () => (run ? [run] : []);
  let grid: ChartGrid | null = null; // the charts or system tab's grid, polled while the run is live

  const mkGrid = (metrics: string[], emptyText: string, stream?: "system") => {
    const settings = () => (stream ? { ...st, x: st.x === "_timestamp" ? "_timestamp" : "_runtime" } : st);
    const g = new ChartGrid({ emptyText, settings, runs, groups: () => null, xChoices: () => (stream ? [] : keys.history.filter((k) => !media.has(k))),
      stream, xOptions: stream ? SYSTEM_X : undefined,
      search: () => st.search, onSearch: (q) => { st.search = q; save(); },
      update: (p) => { const re = "x" in p || "zoom" in p; Object.assign(st, p); save(); g.renderToolbar(); if (re) g.refetch(); else g.redraw(); } }, `run-${runId}`);
    g.setMetrics(metrics);
    cleanups.push(() => { g.destroy(); if (grid === g) grid = null; });
    grid = g;
    return g;
  };
  const historyMetrics = () => {
    const own = new Set(Object.keys(flatten(run?.summary ?? {})));
    const metrics = keys.history.filter((k) => !k.startsWith("_") && !k.startsWith("system/") && !media.has(k));
    const mine = metrics.filter((k) => own.has(k));
    return mine.length ? mine : metrics;
  };
  let systemKeys = "";
  /** (Re)load the system tab's metric list; a live run may gain keys after the tab opened. */
  const loadSystemKeys = async (g: ChartGrid) => {
    const k = (await api.runKeys(entity, project, runId, "system")).filter((m) => !m.startsWith("_"));
    if (grid !== g || k.join() === systemKeys) return;
    systemKeys = k.join();
    g.setMetrics(k);
  };
  const systemTab = () => {
    const g = mkGrid([], "No system metrics for this run (the agent samples CPU, memory, disk and GPU while a run streams to the server).", "system");
    systemKeys = "";
    body.append(g.el);
    loadSystemKeys(g).catch((err) => body.append(h("div", { class: "error" }, err.message)));
  };

  let mediaGrid: MediaGrid | null = null;
  const mediaPanelKeys = () => {
    const summary = run?.summary ?? {};
    return panelKeys(media, (k) => {
      const d = summary[k] as Record<string, unknown> | undefined;
      return d && typeof d.table_key === "string" ? d.table_key : null;
    });
  };
  const loadMediaKeys = async () => {
    const mk = await mediaApi.keys({ entity, project, run_id: runId }).catch(() => []);
    // Text keys come from the summary; summary-only values (never logged) stay in the overview.
    const text = [...mediaKeysOf([run?.summary ?? {}])].filter(([k]) => keys.history.includes(k));
    media = new Map([...mk.map((m): [string, string] => [m.key, m.type]), ...text]);
  };
  const mediaTab = () => {
    const g = (mediaGrid = new MediaGrid(runs, "This run has logged no images, tables, histograms or other media."));
    cleanups.push(() => { g.destroy(); if (mediaGrid === g) mediaGrid = null; });
    g.setKeys(mediaPanelKeys());
    body.append(g.el);
  };
  const show = (openFile?: string) => {
    const tab = TABS.includes(st.tab) ? st.tab : "overview";
    clear(tabs, TABS.map((t) => h("button", { class: t === tab ? "tab on" : "tab", id: `tab-${t}`, onclick: () => { if ((st.tab || "overview") !== t) st.zoom = null; st.tab = t === "overview" ? "" : t; save(); show(); } }, t[0].toUpperCase() + t.slice(1))));
    while (cleanups.length) cleanups.pop()!();
    clear(body);
    if (!run) return;
    if (tab === "overview") body.append(overview(run, (r) => { run = r; renderHead(); }, (path) => { st.tab = "files"; save(); show(path); }));
    if (tab === "charts") body.append(mkGrid(historyMetrics(), "This run has no logged metrics yet.").el);
    if (tab === "media") mediaTab();
    if (tab === "system") systemTab();
    if (tab === "console") cleanups.push(consoleTab(body, entity, project, runId, () => run?.state === "running"));
    if (tab === "files") cleanups.push(filesTab(body, entity, project, runId, openFile));
    if (tab === "artifacts") cleanups.push(runArtifactsTab(body, entity, project, runId));
  };
  const renderHead = () => {
    if (!run) return;
    clear(head, h("h2", null, h("span", { class: "swatch big", style: { background: runColor(run.run_id) } }), run.name,
      h("span", { class: `badge ${run.state}`, id: "run-state" }, run.state === "running" && run.stop_requested_at != null ? "stopping" : run.state)), h("div", { class: "muted" }, `${run.entity}/${run.project}/${run.run_id}`));
  };

  // A server without the media routes answers 404: the summary alone then names the media keys.
  Promise.all([api.run(entity, project, runId), api.keys(entity, project)]).then(async ([r, k]) => {
    run = r; keys = k;
    await loadMediaKeys();
    renderHead(); show();
  }).catch((e) => {
    if (isNotFound(e)) notFoundView(el, e.message, [[routePath({ view: "workspace", entity, project }), `${entity}/${project}`]]);
    else body.append(h("div", { class: "error" }, e.message));
  });
  // A live run's header and charts keep up with it.
  const poll = setInterval(async () => {
    if (!run || run.state !== "running" || document.hidden) return;
    run = await api.run(entity, project, runId).catch(() => run);
    renderHead();
    // Poll even on the poll that sees the run finish, to pick up its last points.
    if (run) await grid?.poll([{ ...run, state: "running" }]);
    if (grid && st.tab === "system") await loadSystemKeys(grid).catch(() => {});
    if (mediaGrid) { await loadMediaKeys(); mediaGrid.setKeys(mediaPanelKeys()); mediaGrid.poll(); }
  }, 3000);
  show();
  return () => { clearInterval(poll); while (cleanups.length) cleanups.pop()!(); };
}

function kv(label: string, value: Node | string | null | undefined) {
  return h("tr", null, h("th", null, label), h("td", null, value ?? ""));
}

function meta(run: Run, ...paths: string[]): string {
  const flat = flatten(run.metadata);
  for (const p of paths) if (flat[p] !== undefined && flat[p] !== null) return formatValue(flat[p]);
  return "";
}

function overview(run: Run, onUpdate: (r: Run) => void, openFile: (path: string) => void) {
  const end = run.state === "running" ? Date.now() / 1000 : toSeconds(run.heartbeat_at ?? run.updated_at);
  const notes = h("textarea", { id: "run-notes", rows: 3, cols: 60 }, run.notes ?? "");
  const tags = h("input", { id: "run-tags", value: run.tags.join(", "), size: 40 });
  const name = h("input", { id: "run-name", value: run.name, size: 40, "aria-label": "Run name" });
  const status = h("span", { class: "muted" });
  const saveEdits = async () => {
    status.textContent = "saving…";
    try {
      const r = await api.patchRun(run.entity, run.project, run.run_id, { name: name.value.trim() || run.name, notes: notes.value, tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean) });
      status.textContent = "saved"; onUpdate(r);
    } catch (e) { status.textContent = `error: ${(e as Error).message}`; }
  };
  const command = commandLine(run.metadata);
  const git = gitInfo(run.metadata);
  const gitCell = git ? h("span", { id: "run-git" }, h("code", null, git.commit.slice(0, 12)), git.branch ? ` (${git.branch})` : "", " ",
    git.remote ? h("code", null, git.remote) : "", git.dirty ? h("span", null, " · uncommitted changes: ",
      h("a", { href: "#", id: "run-diff", onclick: (e: Event) => { e.preventDefault(); openFile("diff.patch"); } }, "diff.patch")) : "") : "";
  const info = h("table", { class: "kv", id: "run-overview" },
    kv("Name", name),
    kv("State", `${run.state}${run.exit_code !== null && run.exit_code !== undefined ? ` (exit ${run.exit_code})` : ""}`),
    kv("Duration", fmtDuration(end - run._created)), kv("Created", fmtTime(run.created_at)),
    kv("Host", run.host ?? meta(run, "host", "hostname")), kv("Command", h("code", null, command)),
    kv("Python", meta(run, "python", "python_version")), kv("Git", gitCell),
    kv("Group", run.group ?? ""), kv("Job type", run.job_type ?? ""), kv("Last step", String(run.last_step ?? "")),
    kv("Tags", tags), kv("Notes", notes), kv("", h("span", null, h("button", { id: "save-notes", onclick: saveEdits }, "Save"), " ", status)),
    kv("", runActions(run)));
  return h("div", { class: "overview" }, info,
    h("div", { class: "kv-tables" }, kvTable("Config", run.config, "config-table"), kvTable("Summary", run.summary, "summary-table"),
      Object.keys(run.metadata).length ? kvTable("Metadata", run.metadata, "metadata-table") : null));
}

/** A searchable table of a nested map, flattened to dotted keys. */
export function kvTable(title: string, obj: Record<string, Decoded>, id: string) {
  const flat = Object.entries(flatten(obj)).sort(([a], [b]) => a.localeCompare(b));
  const tbody = h("tbody");
  const fill = (q: string) => clear(tbody, flat.filter(([k, v]) => !q || k.toLowerCase().includes(q) || formatValue(v).toLowerCase().includes(q))
    .map(([k, v]) => h("tr", null, h("td", { class: "key", style: { paddingLeft: `${6 + (k.split(".").length - 1) * 12}px` } }, k), h("td", null, formatValue(v)))));
  const search = h("input", { type: "search", placeholder: `Search ${title.toLowerCase()}`, oninput: () => fill(search.value.toLowerCase()) });
  fill("");
  return h("div", { class: "card kv-card", id }, h("h3", null, title, h("span", { class: "muted" }, ` ${flat.length} keys`)), search,
    flat.length ? h("table", { class: "grid" }, tbody) : h("p", { class: "empty" }, "empty"));
}
