import { api, ApiError, type Project } from "../api";
import { h, clear, fmtTime } from "../lib/dom";
import { link, showError } from "../main";
import { routePath } from "../lib/urlstate";
import { notFoundView } from "./notfound";

export function entitiesView(el: HTMLElement, own?: string) {
  const box = h("div", { class: "card" }, h("h1", null, "Entities"), h("div", { class: "muted" }, "Loading…"));
  el.append(box);
  api.entities().then((list) => {
    // With a single entity there is nothing to choose: go straight to its projects.
    if (list.length === 1 && location.pathname === "/") {
      history.replaceState(null, "", routePath({ view: "projects", entity: list[0].name }));
      clear(el); projectsView(el, list[0].name); return;
    }
    clear(box, h("h1", null, "Entities"), list.length === 0 ? h("p", { class: "empty" }, "No entities yet.") :
      h("ul", { class: "list" }, list.map((e) => h("li", null, link(routePath({ view: "projects", entity: e.name }), e.name),
        e.name === own ? h("span", { class: "muted" }, " (you)") : null))));
  }).catch((e) => showError(box, e));
  return () => {};
}

export function projectsView(el: HTMLElement, entity: string) {
  const box = h("div", { class: "card" }, h("h1", null, `Projects of ${entity}`), h("div", { class: "muted" }, "Loading…"));
  el.append(box);
  Promise.all([api.projects(entity), api.entities()]).then(([list, entities]: [Project[], { name: string }[]]) => {
    // A non-member gets the projects shared with them (team or public visibility).
    if (!entities.some((e) => e.name === entity) && list.length === 0) { notFoundView(el, `Entity ${entity} does not exist (or you are not a member).`); return; }
    list.sort((a, b) => String(b.last_run_at ?? "").localeCompare(String(a.last_run_at ?? "")));
    clear(box, h("h1", null, `Projects of ${entity}`), h("p", null, link(`/reports/${encodeURIComponent(entity)}`, "Reports", "reports-link")), list.length === 0
      ? h("p", { class: "empty" }, "No projects yet. Log a run with ", h("code", null, "trackway.init(project=...)"), ".")
      : h("table", { class: "grid projects" },
        h("thead", null, h("tr", null, h("th", null, "Project"), h("th", null, "Runs"), h("th", null, "Last run"))),
        h("tbody", null, list.map((p) => h("tr", null,
          h("td", null, link(routePath({ view: "workspace", entity, project: p.name }), p.name)),
          h("td", { class: "num" }, String(p.run_count)), h("td", null, fmtTime(p.last_run_at)))))));
  }).catch((e) => {
    // Not a member reads like a missing entity: the page does not reveal which entities exist.
    if (e instanceof ApiError && (e.status === 403 || e.status === 404)) notFoundView(el, `Entity ${entity} does not exist (or you are not a member).`);
    else showError(box, e);
  });
  return () => {};
}
