// Run page: overview (editable notes/tags), config and summary tables, the run's charts,
// system metrics, console and files (when the server exposes them).

import { api, type Keys, type Run } from "../api";
import { ChartGrid } from "../components/chartgrid";
import { runColor } from "../lib/colors";
import { h, clear, fmtDuration, fmtTime, toSeconds } from "../lib/dom";
import { flatten, formatValue, type Decoded } from "../lib/tjson";
import { decodeState, encodeState, type ViewState } from "../lib/urlstate";
import { setQuery } from "../main";

const TABS = ["overview", "charts", "system", "console", "files"];

export function runView(el: HTMLElement, entity: string, project: string, runId: string) {
  const st: ViewState = decodeState(location.search);
  const save = () => setQuery(encodeState(st));
  let run: Run | null = null;
  let keys: Keys = { config: [], summary: [], history: [] };
  const head = h("div", { class: "run-head" }, h("h2", null, runId));
  const tabs = h("div", { class: "tabs" });
  const body = h("div", { class: "run-body" });
  el.append(head, tabs, body);
  const cleanups: (() => void)[] = [];
  const runs = () => (run ? [run] : []);
  let grid: ChartGrid | null = null; // the charts or system tab's grid, polled while the run is live

  const mkGrid = (filter: (k: string) => boolean, emptyText: string) => {
    const g = new ChartGrid({ emptyText, settings: () => st, runs, groups: () => null, xChoices: () => keys.history,
      search: () => st.search, onSearch: (q) => { st.search = q; save(); },
      update: (p) => { const re = "x" in p || "zoom" in p; Object.assign(st, p); save(); g.renderToolbar(); if (re) g.refetch(); else g.redraw(); } }, `run-${runId}`);
    const own = new Set(Object.keys(flatten(run?.summary ?? {})));
    const metrics = keys.history.filter((k) => !k.startsWith("_") && filter(k));
    const mine = metrics.filter((k) => own.has(k));
    g.setMetrics(mine.length ? mine : metrics);
    cleanups.push(() => { g.destroy(); if (grid === g) grid = null; });
    grid = g;
    return g;
  };

  const show = () => {
    const tab = TABS.includes(st.tab) ? st.tab : "overview";
    clear(tabs, TABS.map((t) => h("button", { class: t === tab ? "tab on" : "tab", id: `tab-${t}`, onclick: () => { st.tab = t === "overview" ? "" : t; save(); show(); } }, t[0].toUpperCase() + t.slice(1))));
    while (cleanups.length) cleanups.pop()!();
    clear(body);
    if (!run) return;
    if (tab === "overview") body.append(overview(run, (r) => { run = r; renderHead(); }));
    if (tab === "charts") body.append(mkGrid((k) => !k.startsWith("system/"), "This run has no logged metrics yet.").el);
    if (tab === "system") body.append(mkGrid((k) => k.startsWith("system/"), "No system metrics (keys starting with system/) for this run.").el);
    if (tab === "console") cleanups.push(consoleTab(body, entity, project, runId, () => run?.state === "running"));
    if (tab === "files") filesTab(body, entity, project, runId);
  };
  const renderHead = () => {
    if (!run) return;
    clear(head, h("h2", null, h("span", { class: "swatch big", style: { background: runColor(run.run_id) } }), run.name,
      h("span", { class: `badge ${run.state}`, id: "run-state" }, run.state)), h("div", { class: "muted" }, `${run.entity}/${run.project}/${run.run_id}`));
  };

  Promise.all([api.run(entity, project, runId), api.keys(entity, project)]).then(([r, k]) => {
    run = r; keys = k; renderHead(); show();
  }).catch((e) => body.append(h("div", { class: "error" }, e.message)));
  // A live run's header and charts keep up with it.
  const poll = setInterval(async () => {
    if (!run || run.state !== "running" || document.hidden) return;
    run = await api.run(entity, project, runId).catch(() => run);
    renderHead();
    // Poll even on the poll that sees the run finish, to pick up its last points.
    if (run) await grid?.poll([{ ...run, state: "running" }]);
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

function overview(run: Run, onUpdate: (r: Run) => void) {
  const end = run.state === "running" ? Date.now() / 1000 : toSeconds(run.heartbeat_at ?? run.updated_at);
  const notes = h("textarea", { id: "run-notes", rows: 3, cols: 60 }, run.notes ?? "");
  const tags = h("input", { id: "run-tags", value: run.tags.join(", "), size: 40 });
  const status = h("span", { class: "muted" });
  const saveEdits = async () => {
    status.textContent = "saving…";
    try {
      const r = await api.patchRun(run.entity, run.project, run.run_id, { notes: notes.value, tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean) });
      status.textContent = "saved"; onUpdate(r);
    } catch (e) { status.textContent = `error: ${(e as Error).message}`; }
  };
  const command = meta(run, "command", "program", "args", "executable");
  const gitCommit = meta(run, "git.commit", "git_commit", "commit");
  const gitRemote = meta(run, "git.remote", "git.url", "git_remote", "remote");
  const info = h("table", { class: "kv", id: "run-overview" },
    kv("State", `${run.state}${run.exit_code !== null && run.exit_code !== undefined ? ` (exit ${run.exit_code})` : ""}`),
    kv("Duration", fmtDuration(end - run._created)), kv("Created", fmtTime(run.created_at)),
    kv("Host", run.host ?? meta(run, "host", "hostname")), kv("Command", h("code", null, command)),
    kv("Python", meta(run, "python", "python_version")), kv("Git", gitCommit || gitRemote ? h("code", null, `${gitCommit} ${gitRemote}`) : ""),
    kv("Group", run.group ?? ""), kv("Job type", run.job_type ?? ""), kv("Last step", String(run.last_step ?? "")),
    kv("Tags", tags), kv("Notes", notes), kv("", h("span", null, h("button", { id: "save-notes", onclick: saveEdits }, "Save"), " ", status)));
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

function consoleTab(el: HTMLElement, e: string, p: string, id: string, live: () => boolean) {
  const out = h("pre", { class: "console", id: "console-log" });
  const search = h("input", { type: "search", placeholder: "Search console", oninput: () => paint() });
  let lines: string[] = [];
  const paint = () => { const q = search.value.toLowerCase(); out.textContent = lines.filter((l) => !q || l.toLowerCase().includes(q)).join("\n"); };
  const load = async () => {
    const res = await api.optional<{ lines?: (string | { text: string })[] } | string>(`${api.runPath(e, p, id)}/console`);
    if (res === null) { clear(el, h("p", { class: "empty", id: "console-empty" }, "This server does not expose console output for runs (no console route in docs/api.md yet).")); return false; }
    const raw = typeof res === "string" ? res.split("\n") : (res.lines ?? []);
    lines = raw.map((l) => (typeof l === "string" ? l : l.text));
    if (!out.isConnected) clear(el, search, out);
    paint();
    return true;
  };
  load().catch((err) => el.append(h("div", { class: "error" }, err.message)));
  const t = setInterval(() => { if (live()) load().catch(() => {}); }, 3000);
  return () => clearInterval(t);
}

function filesTab(el: HTMLElement, e: string, p: string, id: string) {
  api.optional<{ files?: { path: string; size?: number; url?: string }[] }>(`${api.runPath(e, p, id)}/files`).then((res) => {
    if (res === null) { el.append(h("p", { class: "empty", id: "files-empty" }, "This server does not expose run files yet (no files route in docs/api.md).")); return; }
    const files = res.files ?? [];
    el.append(files.length ? h("table", { class: "grid" }, files.map((f) => h("tr", null, h("td", null, f.url ? h("a", { href: f.url, download: "" }, f.path) : f.path), h("td", { class: "num" }, String(f.size ?? "")))))
      : h("p", { class: "empty" }, "No files saved for this run."));
  }).catch((err) => el.append(h("div", { class: "error" }, err.message)));
}
