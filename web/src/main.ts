// App shell: auth check, a history-API router and the header. Each view is a function that
// renders into the main element and returns a cleanup callback (stops polling, observers).

import "uplot/dist/uPlot.min.css";
import "./style.css";
import { api, ApiError, auth, setUnauthorizedHandler } from "./api";
import { h, clear } from "./lib/dom";
import { parseRoute, routePath, type Route } from "./lib/urlstate";
import { signinView } from "./views/signin";
import { entitiesView, projectsView } from "./views/home";
import { prefetchFirstPage, workspaceView } from "./views/workspace";
import { runView } from "./views/run";
import { compareView } from "./views/compare";
import { sweepsView, sweepView } from "./views/sweeps";
import { artifactsView, artifactVersionView } from "./views/artifacts";
import { notFoundView } from "./views/notfound";
import { hook } from "./hook";
import { accountRoute } from "./views/accountroutes";
import { accounts } from "./accountsapi";

export type Cleanup = () => void;
let cleanup: Cleanup | null = null;
let viewer: { username: string; entity: string } | null = null;
const root = document.getElementById("app")!;
const header = h("header", { class: "top" });
const main = h("main");
root.append(header, main);

/** Navigate within the app. `replace` keeps history clean for state-only changes. */
export function navigate(url: string, replace = false) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  if (!replace) render();
}

/** Update only the query string (view state) without re-rendering. */
export function setQuery(search: string) {
  const url = location.pathname + search;
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
}

export function link(href: string, text: string | Node, cls?: string) {
  return h("a", { href, class: cls, onclick: (e: MouseEvent) => {
    if (e.ctrlKey || e.metaKey || e.button !== 0) return;
    e.preventDefault(); navigate(href);
  } }, text);
}

function renderHeader(route: Route) {
  const crumbs: Node[] = [link("/", "Trackway", "brand")];
  if ("entity" in route) crumbs.push(h("span", { class: "sep" }, "/"), link(routePath({ view: "projects", entity: route.entity }), route.entity));
  if ("project" in route) crumbs.push(h("span", { class: "sep" }, "/"), link(routePath({ view: "workspace", entity: route.entity, project: route.project }), route.project));
  if (route.view === "run") crumbs.push(h("span", { class: "sep" }, "/"), h("span", null, route.run));
  if (route.view === "compare") crumbs.push(h("span", { class: "sep" }, "/"), h("span", null, "compare"));
  if (route.view === "workspace") crumbs.push(h("span", { class: "sep" }, "·"), link(routePath({ view: "sweeps", entity: route.entity, project: route.project }), "sweeps"));
  if (route.view === "sweeps" || route.view === "sweep") crumbs.push(h("span", { class: "sep" }, "/"), link(routePath({ view: "sweeps", entity: route.entity, project: route.project }), "sweeps"));
  if (route.view === "sweep") crumbs.push(h("span", { class: "sep" }, "/"), h("span", null, route.sweep));
  if ("project" in route) crumbs.push(h("span", { class: "sep" }, "·"), link(routePath({ view: "artifacts", entity: route.entity, project: route.project }), "artifacts"));
  const signOut = (e: Event) => {
    e.preventDefault(); auth.clear(); viewer = null;
    accounts.logout().catch(() => { /* no session */ }).finally(() => navigate("/signin"));
  };
  const who = viewer ? h("span", { class: "who" }, link("/teams", "teams"), " · ", link("/profile", viewer.username), " · ",
    h("a", { href: "#", onclick: signOut }, "sign out"))
    : route.view !== "signin" ? h("span", { class: "who" }, link(`/signin?next=${encodeURIComponent(location.pathname)}`, "sign in", "signin-link")) : null;
  clear(header, h("nav", null, crumbs), who);
}

/** A key may arrive in the URL fragment (#key=...) from `trackway server` or the CLI. */
function takeKeyFromFragment() {
  const m = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (m) {
    auth.set(decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

async function ensureViewer(): Promise<boolean> {
  if (viewer) return true;
  try {
    // Without a stored key this also detects a server that allows local auto-login.
    viewer = await api.viewer();
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return false;
    throw e;
  }
}

export async function render(): Promise<void> {
  cleanup?.();
  cleanup = null;
  hook.reset();
  const own = accountRoute(location.pathname);
  const route = own ? ({ view: "entities" } as Route) : parseRoute(location.pathname);
  // The workspace's first page of runs decides its first paint: with a stored key, ask for it
  // while the key is being checked rather than after.
  if (route.view === "workspace" && location.search && auth.get()) prefetchFirstPage(route.entity, route.project);
  if (own?.open) {
    await ensureViewer().catch(() => false);
  } else if (route.view !== "signin" && !(await ensureViewer().catch(() => false))
    && !("project" in route && await isPublic(route.entity, route.project))) {
    // A stored key the server refuses (revoked, expired) gets a message; no key gets none.
    return toSignin(auth.get() ? "Your API key was not accepted (revoked or expired). Sign in again." : "");
  }
  renderHeader(route);
  clear(main);
  main.className = `view-${route.view}`;
  document.title = `Trackway${"project" in route ? ` · ${route.project}` : ""}`;
  if (own) {
    document.title = `Trackway · ${own.title}`;
    cleanup = own.render(main);
    return;
  }
  try {
    switch (route.view) {
      case "signin": cleanup = signinView(main, async () => { viewer = null; return ensureViewer(); }); break;
      case "entities": cleanup = entitiesView(main, viewer?.entity); break;
      case "projects": cleanup = projectsView(main, route.entity); break;
      case "workspace": cleanup = workspaceView(main, route.entity, route.project); break;
      case "run": cleanup = runView(main, route.entity, route.project, route.run); break;
      case "compare": cleanup = compareView(main, route.entity, route.project); break;
      case "sweeps": cleanup = sweepsView(main, route.entity, route.project); break;
      case "sweep": cleanup = sweepView(main, route.entity, route.project, route.sweep); break;
      case "artifacts": cleanup = artifactsView(main, route.entity, route.project); break;
      case "artifact": cleanup = artifactVersionView(main, route.entity, route.project, route.name, route.selector); break;
      case "notfound": cleanup = notFoundView(main, `Nothing lives at ${route.path}.`); break;
    }
  } catch (e) {
    showError(main, e);
  }
}

/** Whether a signed-out visitor may read the project (public visibility): its pages then
 *  render read-only instead of sending the visitor to sign in. */
async function isPublic(entity: string, project: string): Promise<boolean> {
  return accounts.visibility(entity, project).then((v) => v.visibility === "public", () => false);
}

export function showError(el: HTMLElement, e: unknown) {
  el.append(h("div", { class: "error" }, e instanceof Error ? e.message : String(e)));
}

/** Go to the sign-in page (coming back here after), with a reason shown there. */
function toSignin(reason: string): Promise<void> {
  const next = location.pathname + location.search;
  const q = new URLSearchParams({ next });
  if (reason) q.set("reason", reason);
  auth.clear();
  viewer = null;
  history.replaceState(null, "", `/signin?${q}`);
  return render();
}

// A key revoked or expired mid-session: any API call answering 401 sends the user to sign in.
setUnauthorizedHandler((e) => {
  if (viewer && parseRoute(location.pathname).view !== "signin") void toSignin(`Signed out: ${e.message}. Sign in again.`);
});

window.addEventListener("popstate", () => render());
takeKeyFromFragment();
render();
