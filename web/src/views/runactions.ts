// Run edits from the UI: stop a running run, delete (after a confirmation) and move to another
// project, for one run (run page) or a selection (runs table), plus tag/untag on a selection.
// Each goes through the same REST routes as `trackway.Api` (POST …/stop, DELETE /runs/…,
// POST …/move, POST …/runs/bulk).

import { api, type Run } from "../api";
import { h } from "../lib/dom";
import { routePath } from "../lib/urlstate";
import { navigate } from "../main";

/** The bulk route takes at most this many runs per request. */
const BULK = 1000;

/** Stop (while the run runs), Delete and Move buttons for the run page. */
export function runActions(run: Run) {
  const status = h("span", { class: "muted", id: "run-action-status", role: "status" });
  const stopping = "stopping: the script is interrupted at its next contact with the server";
  const stopBtn = h("button", { id: "run-stop", class: "danger", onclick: async () => {
    if (!confirm(`Stop run ${run.name} (${run.run_id})? Its script is interrupted (KeyboardInterrupt) and the run ends as killed.`)) return;
    try { await api.stopRun(run.entity, run.project, run.run_id); stopBtn.remove(); status.textContent = stopping; }
    catch (e) { status.textContent = `error: ${(e as Error).message}`; }
  } }, "Stop run");
  const stop = run.state !== "running" ? null : run.stop_requested_at != null ? null : stopBtn;
  if (run.state === "running" && run.stop_requested_at != null) status.textContent = stopping;
  const workspace = (project: string) => routePath({ view: "workspace", entity: run.entity, project });
  const del = async () => {
    if (!confirm(`Delete run ${run.name} (${run.run_id}) with its history, console and files? This cannot be undone.`)) return;
    try { await api.deleteRun(run.entity, run.project, run.run_id); navigate(workspace(run.project)); }
    catch (e) { status.textContent = `error: ${(e as Error).message}`; }
  };
  const move = async () => {
    const to = prompt(`Move run ${run.name} to which project of ${run.entity}?`, run.project)?.trim();
    if (!to || to === run.project) return;
    try {
      const r = await api.moveRun(run.entity, run.project, run.run_id, to);
      navigate(routePath({ view: "run", entity: r.entity, project: r.project, run: r.run_id }));
    } catch (e) { status.textContent = `error: ${(e as Error).message}`; }
  };
  return h("span", { class: "run-actions" }, stop, stop && " ",
    h("button", { id: "run-move", onclick: move }, "Move to project…"), " ",
    h("button", { id: "run-delete", class: "danger", onclick: del }, "Delete run…"), " ", status);
}

export interface SelectionActionsOpts {
  entity: string; project: string;
  /** The selected run ids (already resolved from "select all"). */
  selected(): string[];
  /** After a change: reload the table; `removed` runs left the project. */
  changed(removed: string[]): void;
}

async function inChunks(ids: string[], f: (chunk: string[]) => Promise<unknown>) {
  for (let i = 0; i < ids.length; i += BULK) await f(ids.slice(i, i + BULK));
}

/** Tag, Untag, Move, Delete buttons acting on the table's selection. */
export function selectionActions(o: SelectionActionsOpts) {
  const status = h("span", { class: "muted", id: "bulk-status", role: "status" });
  const run = (label: string, f: (ids: string[]) => Promise<string[] | void>) => async () => {
    const ids = o.selected();
    if (!ids.length) { status.textContent = "select runs first"; return; }
    status.textContent = `${label}…`;
    try {
      const removed = await f(ids);
      if (removed === undefined && status.textContent === `${label}…`) status.textContent = "";
      else if (removed) { status.textContent = `${label}: ${removed.length} runs`; o.changed(removed); }
    } catch (e) { status.textContent = `error: ${(e as Error).message}`; }
  };
  const tagOp = (action: "tag" | "untag") => run(action, async (ids) => {
    const tags = (prompt(`${action === "tag" ? "Add" : "Remove"} which tags (comma-separated) on ${ids.length} runs?`) ?? "")
      .split(",").map((t) => t.trim()).filter(Boolean);
    if (!tags.length) return;
    await inChunks(ids, (c) => api.bulkRuns(o.entity, o.project, c, action, tags));
    status.textContent = `${action === "tag" ? "tagged" : "untagged"} ${ids.length} runs`;
    o.changed([]);
  });
  const del = run("deleted", async (ids) => {
    if (!confirm(`Delete ${ids.length} runs with their history, console and files? This cannot be undone.`)) return;
    await inChunks(ids, (c) => api.bulkRuns(o.entity, o.project, c, "delete"));
    return ids;
  });
  const move = run("moved", async (ids) => {
    const to = prompt(`Move ${ids.length} runs to which project of ${o.entity}?`)?.trim();
    if (!to || to === o.project) return;
    for (const id of ids) await api.moveRun(o.entity, o.project, id, to);
    return ids;
  });
  return h("span", { class: "bulk-actions", role: "group", "aria-label": "Selected runs" },
    h("button", { id: "bulk-tag", onclick: tagOp("tag") }, "Tag"),
    h("button", { id: "bulk-untag", onclick: tagOp("untag") }, "Untag"),
    h("button", { id: "bulk-move", onclick: move }, "Move"),
    h("button", { id: "bulk-delete", class: "danger", onclick: del }, "Delete"), status);
}
