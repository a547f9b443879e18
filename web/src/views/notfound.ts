// Not-found page for a missing entity, project, run or path: one message and a way back,
// instead of a workspace stuck on "loading runs…".

import { ApiError } from "../api";
import { h, clear } from "../lib/dom";
import { link } from "../main";

/** Whether an API error means "that entity/project/run does not exist". */
export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404;
}

/** Replace the view with a not-found card: what is missing, and links to where one can go. */
export function notFoundView(el: HTMLElement, what: string, back: [string, string][] = [["/", "All entities"]]) {
  document.title = "Trackway · not found";
  clear(el, h("div", { class: "card notfound", id: "not-found", role: "alert" },
    h("h1", null, "Not found"),
    h("p", null, what),
    h("p", null, back.map(([href, text], i) => [i ? " · " : "", link(href, text)]))));
  return () => {};
}
