// Reports: the list of an entity's reports (/reports/<entity>) and one report
// (/reports/<entity>/<id>): markdown blocks and live panels, read-only for readers and
// editable in place for the entity's writers (autosaved as versions; ?edit=1 opens the
// editor). Sharing follows the project rules: private, team (signed-in users) or public (a
// read-only link that works signed out).

import { api, ApiError } from "../api";
import { h, clear, debounce, fmtTime } from "../lib/dom";
import { download } from "../lib/csv";
import { link, navigate, showError } from "../main";
import { reports, reportPath, starterDoc, type Block, type Report, type Visibility } from "../reportsapi";
import { livePanel, sharedRuns, type LivePanel } from "./reportpanels";
import { hook } from "../hook";
import { exportHtml, markdownHtml } from "./reportexport";
import { panelEditor, settingsEditor } from "./reportedit";

export function reportsListView(el: HTMLElement, entity: string) {
  const box = h("div", { class: "card" }, h("h1", null, `Reports of ${entity}`), h("div", { class: "muted" }, "Loading…"));
  el.append(box);
  const create = async () => {
    const r = await reports.create(entity, "Untitled report", starterDoc());
    navigate(`${reportPath(entity, r.id)}?edit=1`);
  };
  reports.list(entity).then((list) => {
    clear(box, h("h1", null, `Reports of ${entity}`),
      h("button", { id: "new-report", onclick: () => create().catch((e) => showError(box, e)) }, "New report"),
      list.length === 0 ? h("p", { class: "empty" }, "No reports yet.") : h("table", { class: "grid reports" },
        h("thead", null, h("tr", null, h("th", null, "Report"), h("th", null, "Visibility"), h("th", null, "Version"), h("th", null, "Updated"))),
        h("tbody", null, list.map((r) => h("tr", null, h("td", null, link(reportPath(entity, r.id), r.title)),
          h("td", null, r.visibility), h("td", { class: "num" }, String(r.version)), h("td", null, `${fmtTime(r.updated_at)} by ${r.updated_by}`))))));
  }).catch((e) => showError(box, e));
  return () => {};
}

interface State { r: Report; editing: boolean; signedIn: boolean; panels: LivePanel[]; saving: Promise<void> | null }

export function reportView(el: HTMLElement, entity: string, id: number) {
  const st: State = { r: null as unknown as Report, editing: new URLSearchParams(location.search).has("edit"), signedIn: false, panels: [], saving: null };
  const status = h("span", { id: "save-state", class: "muted" }, "");
  const blocksEl = h("div", { id: "report-blocks" });
  const side = h("div", { class: "report-side" });
  const head = h("div", { class: "report-head" });
  el.append(h("div", { class: "report" }, head, blocksEl, side));

  const save = debounce(() => {
    status.textContent = "saving…";
    st.saving = reports.save(entity, id, st.r.title, st.r.doc, st.r.version).then((r) => {
      st.r = r;
      status.textContent = `saved · version ${r.version}`;
      status.dataset.version = String(r.version);
    }).catch((e: Error) => {
      status.textContent = e instanceof ApiError && e.status === 409 ? "Someone saved a newer version: reload to see it." : `not saved: ${e.message}`;
    });
  }, 700);
  const changed = (redraw: boolean) => { save(); if (redraw) drawBlocks(); };

  function drawHead() {
    const r = st.r;
    const title = st.editing
      ? h("input", { id: "report-title", value: r.title, oninput: (e: Event) => { r.title = (e.target as HTMLInputElement).value; changed(false); } })
      : h("h1", { id: "report-title" }, r.title);
    const vis = h("select", { id: "report-visibility", disabled: !st.signedIn, onchange: async (e: Event) => {
      try { st.r = await reports.setVisibility(entity, id, (e.target as HTMLSelectElement).value as Visibility); drawShare(); }
      catch (err) { showError(head, err); }
    } }, ["private", "team", "public"].map((v) => h("option", { value: v, selected: v === r.visibility }, v)));
    const tools = h("div", { class: "toolbar report-tools" },
      st.signedIn ? h("button", { id: "edit-toggle", onclick: () => { st.editing = !st.editing; render(); } }, st.editing ? "Done" : "Edit") : null,
      h("label", null, "Shared with ", vis),
      h("button", { id: "export-html", onclick: () => exportReport().catch((e) => showError(head, e)) }, "Export HTML"),
      h("button", { id: "print", onclick: () => window.print() }, "Print / PDF"),
      status);
    clear(head, title, h("div", { class: "muted" }, `${r.entity} · version ${r.version} · updated ${fmtTime(r.updated_at)} by ${r.updated_by}`),
      tools, h("div", { id: "share" }), st.editing ? settingsEditor(r.doc, () => changed(true)) : null);
    drawShare();
  }

  function drawShare() {
    const box = head.querySelector("#share");
    if (!box) return;
    const url = `${location.origin}${reportPath(entity, id)}`;
    const note = { private: `Members of ${entity} can read it.`, team: "Every signed-in user can read it.", public: "Anyone with the link can read it, signed in or not." }[st.r.visibility];
    clear(box as HTMLElement, h("span", { class: "muted" }, note, " Link: "), h("input", { id: "share-url", readonly: true, value: url, onclick: (e: Event) => (e.target as HTMLInputElement).select() }));
  }

  function blockTools(i: number) {
    const blocks = st.r.doc.blocks;
    const move = (d: number) => { const j = i + d; if (j < 0 || j >= blocks.length) return; [blocks[i], blocks[j]] = [blocks[j], blocks[i]]; changed(true); };
    return h("div", { class: "block-tools" },
      h("button", { class: "icon up", title: "Move up", onclick: () => move(-1) }, "↑"),
      h("button", { class: "icon down", title: "Move down", onclick: () => move(1) }, "↓"),
      h("button", { class: "icon del", title: "Delete block", onclick: () => { blocks.splice(i, 1); changed(true); } }, "✕"));
  }

  function drawBlock(b: Block, i: number): HTMLElement {
    if (b.type === "markdown") {
      const preview = h("div", { class: "md" });
      preview.innerHTML = markdownHtml(b.text);
      if (!st.editing) return h("div", { class: "block markdown" }, preview);
      const ta = h("textarea", { class: "md-edit", rows: 6, oninput: () => { b.text = ta.value; preview.innerHTML = markdownHtml(b.text); changed(false); } });
      ta.value = b.text;
      return h("div", { class: "block markdown editing" }, blockTools(i), ta, preview);
    }
    const p = livePanel(b, st.r.doc, runsOf);
    st.panels.push(p);
    void p.load().then(() => { if (++hook.report.loaded === hook.report.panels) hook.report.doneAt = performance.now(); });
    if (!st.editing) return h("div", { class: "block panel" }, p.el);
    return h("div", { class: "block panel editing" }, blockTools(i), panelEditor(b, () => changed(true)), p.el);
  }

  /** A new line panel over the last panel's run set, else the entity's latest project. */
  async function addPanel() {
    const blocks = st.r.doc.blocks;
    const last = [...blocks].reverse().find((x) => x.type === "panel");
    let runset = last && last.type === "panel" ? { ...last.runset } : null;
    if (!runset) {
      const projects = (await api.projects(entity)).sort((a, b) => String(b.last_run_at ?? "").localeCompare(String(a.last_run_at ?? "")));
      runset = { entity, project: projects[0]?.name ?? "" };
    }
    blocks.push({ type: "panel", kind: "line", runset, keys: [] });
    changed(true);
  }

  // Panels over the same run set share one runs query per drawing (a report's panels
  // usually all look at one project).
  let runsOf = sharedRuns();
  function drawBlocks() {
    for (const p of st.panels) p.destroy();
    st.panels = [];
    runsOf = sharedRuns();
    const blocks = st.r.doc.blocks;
    hook.report = { panels: blocks.filter((b) => b.type === "panel").length, loaded: 0, doneAt: 0 };
    const add = st.editing ? h("div", { class: "toolbar add-blocks" },
      h("button", { id: "add-markdown", onclick: () => { blocks.push({ type: "markdown", text: "" }); changed(true); } }, "+ Text"),
      h("button", { id: "add-panel", onclick: () => addPanel().catch((e) => showError(blocksEl, e)) }, "+ Panel")) : null;
    clear(blocksEl, blocks.map(drawBlock), add);
  }

  async function drawSide() {
    clear(side);
    if (!st.signedIn) return;
    const [versions, comments] = await Promise.all([reports.versions(entity, id), reports.comments(entity, id)]);
    const text = h("textarea", { id: "comment-text", rows: 2, placeholder: "Add a comment" });
    clear(side,
      h("h3", null, "Comments"),
      h("ul", { id: "comments", class: "list" }, comments.map((c) => h("li", null, h("b", null, c.author), " ", c.text, h("span", { class: "muted" }, ` · ${fmtTime(c.created_at)}`)))),
      text, h("button", { id: "comment-post", onclick: async () => {
        if (!text.value.trim()) return;
        try { await reports.comment(entity, id, text.value); await drawSide(); } catch (e) { showError(side, e); }
      } }, "Comment"),
      h("h3", null, "History"),
      h("ul", { id: "versions", class: "list" }, versions.map((v) => h("li", { "data-version": String(v.version) },
        `v${v.version} · ${v.title} · ${v.author} · ${fmtTime(v.created_at)} `,
        v.version === st.r.version ? h("span", { class: "muted" }, "(current)") : h("button", { class: "restore", onclick: async () => {
          try { await st.saving; st.r = await reports.restore(entity, id, v.version); render(); } catch (e) { showError(side, e); }
        } }, "restore")))));
  }

  async function exportReport() {
    const html = await exportHtml(st.r);
    download(`${st.r.title.replace(/[^\w.-]+/g, "_") || "report"}.html`, new Blob([html], { type: "text/html" }), "text/html");
  }

  function render() {
    el.classList.toggle("report-editing", st.editing);
    drawHead();
    drawBlocks();
    drawSide().catch((e) => showError(side, e));
  }

  Promise.all([reports.get(entity, id), api.viewer().then(() => true, () => false)]).then(([r, signedIn]) => {
    st.r = r; st.signedIn = signedIn; st.editing = st.editing && signedIn;
    document.title = `Trackway · ${r.title}`;
    render();
  }).catch((e) => showError(el, e));
  return () => { for (const p of st.panels) p.destroy(); };
}
