// Sweeps: the project's sweep list, and one sweep's page (state, method, progress, best run,
// controls, scatter and parallel coordinates of the parameters against the metric, parameter
// importance (the workspace's panel and lib/importance.ts, one home), trials).
// Data: /api/v1/sweeps (docs/sweeps.md). The plots are the workspace's components, fed with one
// pseudo-run per trial (its sampled config and its metric).

import { call, type Run } from "../api";
import { ImportancePanel } from "../components/importance";
import { ParallelCoords } from "../components/parcoords";
import { ScatterPlot } from "../components/scatter";
import { clear, fmtTime, h } from "../lib/dom";
import { formatNumber } from "../lib/tjson";
import { decodeState, routePath } from "../lib/urlstate";

/* eslint-disable @typescript-eslint/no-explicit-any -- API JSON, read field by field */
interface Sweep { id: string; name: string | null; method: string; state: string; trial_count: number; created_at: number; config: any }
interface Trial { seq: number; run_id: string; config: Record<string, any>; state: string; metric: number | null; agent: string | null }
interface SweepPage { sweep: Sweep; trials: Trial[]; best_run_id: string | null; metric: { name: string; goal: string } | null; parameters: string[]; grid_size: number | null; run_cap: number | null }

const REFRESH_MS = 5000;
const base = (e: string, p: string) => `/sweeps/${encodeURIComponent(e)}/${encodeURIComponent(p)}`;
const runLink = (e: string, p: string, id: string) => h("a", { href: routePath({ view: "run", entity: e, project: p, run: id }) }, id);

export function sweepsView(el: HTMLElement, entity: string, project: string) {
  const box = h("div", { class: "card", id: "sweeps" }, h("h2", null, "Sweeps"));
  el.append(box);
  call<{ sweeps: Sweep[] }>("GET", base(entity, project)).then(({ sweeps }) => {
    if (!sweeps.length) { box.append(h("p", { class: "empty" }, "No sweeps yet: trackway sweep sweep.yaml")); return; }
    box.append(h("table", { class: "grid" },
      h("thead", null, h("tr", null, ...["Sweep", "Method", "State", "Trials", "Created"].map((c) => h("th", null, c)))),
      h("tbody", null, ...sweeps.map((s) => h("tr", null,
        h("td", null, h("a", { href: `/${encodeURIComponent(entity)}/${encodeURIComponent(project)}/sweeps/${encodeURIComponent(s.id)}` }, s.name ?? s.id)),
        h("td", null, s.method), h("td", { class: `state ${s.state}` }, s.state),
        h("td", null, String(s.trial_count)), h("td", null, fmtTime(s.created_at)))))));
  }).catch((e) => box.append(h("div", { class: "error" }, String(e))));
  return () => {};
}

function trialRuns(page: SweepPage, entity: string, project: string): Run[] {
  return page.trials.map((t) => ({
    entity, project, run_id: t.run_id, name: t.run_id, state: t.state, created_at: null, updated_at: null,
    heartbeat_at: null, exit_code: null, tags: [], notes: null, group: null, job_type: null, host: null,
    config: t.config, summary: page.metric && t.metric !== null ? { [page.metric.name]: t.metric } : {},
    metadata: {}, last_step: null, row_count: null, _created: t.seq,
  }) as unknown as Run);
}

function progress(page: SweepPage): string {
  const total = page.grid_size ?? page.run_cap;
  const done = page.trials.filter((t) => t.state !== "running").length;
  return total ? `${done} done, ${page.trials.length} of ${total} handed out` : `${done} done, ${page.trials.length} handed out`;
}

export function sweepView(el: HTMLElement, entity: string, project: string, id: string) {
  const head = h("div", { class: "card", id: "sweep-head" });
  const plots = h("div", { class: "card", id: "sweep-plots" });
  const table = h("div", { class: "card", id: "sweep-trials" });
  el.append(head, plots, table);
  const state = decodeState("");
  const opts = { runs: () => runs, keys: () => keys, state, save: () => {}, onSelect: () => {} };
  let runs: Run[] = [];
  let keys: string[] = [];
  const scatter = new ScatterPlot(opts);
  const parallel = new ParallelCoords(opts);
  const importance = new ImportancePanel(opts);
  plots.append(h("h3", null, "Parameters vs metric"), scatter.el, parallel.el, h("h3", null, "Parameter importance"), importance.el);
  const control = (action: string) => call("POST", `${base(entity, project)}/${encodeURIComponent(id)}/control`, { action }).then(load, showErr);
  const showErr = (e: unknown) => head.append(h("div", { class: "error" }, String(e)));
  const load = async () => {
    const page = await call<SweepPage>("GET", `${base(entity, project)}/${encodeURIComponent(id)}`);
    const s = page.sweep;
    const best = page.trials.find((t) => t.run_id === page.best_run_id);
    clear(head, h("h2", null, `Sweep ${s.name ?? s.id}`),
      h("p", null, h("b", null, "State "), h("span", { class: `state ${s.state}`, id: "sweep-state" }, s.state),
        h("b", null, "  Method "), s.method, h("b", null, "  Progress "), h("span", { id: "sweep-progress" }, progress(page))),
      page.metric ? h("p", { id: "sweep-best" }, h("b", null, `Best ${page.metric.name} (${page.metric.goal}) `),
        best ? [formatNumber(best.metric ?? NaN), " — ", runLink(entity, project, best.run_id)] : "none yet") : null,
      h("div", { class: "toolbar" }, ...["pause", "resume", "stop", "cancel"].map((a) =>
        h("button", { id: `sweep-${a}`, onclick: () => control(a) }, a))));
    runs = trialRuns(page, entity, project);
    const metric = page.metric ? [`summary.${page.metric.name}`] : [];
    keys = [...page.parameters.map((p) => `config.${p}`), ...metric];
    if (!state.sx) { state.sx = keys[0] ?? ""; state.sy = metric[0] ?? keys[1] ?? ""; state.color = metric[0] ?? ""; state.axes = keys; state.imp = metric[0] ?? ""; }
    scatter.render();
    parallel.render();
    importance.render();
    clear(table, h("h3", null, `Trials (${page.trials.length})`), h("table", { class: "grid" },
      h("thead", null, h("tr", null, ...["#", "Run", "State", ...page.parameters, page.metric?.name ?? "metric"].map((c) => h("th", null, c)))),
      h("tbody", null, ...page.trials.map((t) => h("tr", null, h("td", null, String(t.seq)), h("td", null, runLink(entity, project, t.run_id)),
        h("td", { class: `state ${t.state}` }, t.state),
        ...page.parameters.map((p) => h("td", null, formatParam(p.split(".").reduce((v: any, k) => v?.[k], t.config)))),
        h("td", null, t.metric === null ? "" : formatNumber(t.metric)))))));
  };
  load().catch(showErr);
  const timer = setInterval(() => load().catch(() => {}), REFRESH_MS);
  return () => clearInterval(timer);
}

function formatParam(v: unknown): string {
  return typeof v === "number" ? formatNumber(v) : v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
}
