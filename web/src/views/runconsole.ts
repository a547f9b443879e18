// Run page, console tab: the run's stdout/stderr lines from `GET .../output`. While the run is
// live it polls with `after_line` = the last line held, so only new lines travel; the search box
// is the server's `q` (case-insensitive substring) and the hits are highlighted here.

import { api } from "../api";
import { appendLines, highlight, trimFront, type OutputLine } from "../lib/console";
import { debounce, h } from "../lib/dom";

/** Lines kept in the DOM; older ones are dropped (search still finds them on the server). */
const MAX_SHOWN = 20_000;
/** Pages of 5,000 lines read per fetch before yielding to the next poll. */
const PAGES_PER_FETCH = 40;
const POLL_MS = 2000;

export function consoleTab(el: HTMLElement, e: string, p: string, id: string, live: () => boolean): () => void {
  let held: OutputLine[] = [];
  let cursor: number | null = null;
  let dropped = 0;
  let q = "";
  let gen = 0;       // bumped by a new search: answers for an older one are ignored
  let busy = false;
  let loaded = false;
  const search = h("input", { type: "search", id: "console-search", placeholder: "Search console", size: 40,
    oninput: debounce(() => restart(), 250) });
  const follow = h("input", { type: "checkbox", id: "console-follow", checked: true });
  const info = h("span", { class: "muted", id: "console-info" });
  const log = h("div", { class: "console", id: "console-log", role: "log" });
  el.append(h("div", { class: "toolbar console-toolbar" }, search, h("label", null, follow, " follow"), info), log);

  const row = (l: OutputLine) => h("div", { class: l.stream === "err" ? "cl err" : "cl", "data-line": l.line,
    title: l.ts ? `${l.stream === "err" ? "stderr" : "stdout"} · ${new Date(l.ts * 1000).toLocaleString()}` : undefined },
    h("span", { class: "ln" }, String(l.line + 1)),
    h("span", { class: "tx" }, highlight(l.text, q).map((part) => (part.hit ? h("mark", null, part.text) : part.text))));

  const renderInfo = () => {
    const n = held.length + dropped;
    const what = q ? `${n} line${n === 1 ? "" : "s"} containing “${q}”` : `${n} line${n === 1 ? "" : "s"}`;
    info.textContent = `${what}${dropped ? ` (the first ${dropped} are not shown)` : ""}${live() ? " · live" : ""}`;
    const empty = log.querySelector("#console-empty");
    if (held.length && empty) empty.remove();
    if (!held.length && loaded && !empty) {
      log.append(h("p", { class: "empty", id: "console-empty" }, q ? "No console line contains that text." : live() ? "No console output yet." : "This run has no console output."));
    }
  };

  const paint = (fresh: OutputLine[]) => {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    if (fresh.length) {
      const frag = document.createDocumentFragment();
      for (const l of fresh) frag.append(row(l));
      log.append(frag);
      // The number column is as wide as the largest number held, so the text stays aligned.
      log.style.setProperty("--ln", `${Math.max(4, String(fresh[fresh.length - 1].line + 1).length)}ch`);
      const drop = trimFront(held, MAX_SHOWN);
      dropped += drop;
      for (let i = 0; i < drop; i++) log.querySelector(".cl")?.remove();
      if (follow.checked && atBottom) log.scrollTop = log.scrollHeight;
    }
    renderInfo();
  };

  const fetchNew = async () => {
    if (busy) return;
    busy = true;
    const g = gen;
    try {
      for (let i = 0; i < PAGES_PER_FETCH; i++) {
        const page = await api.output(e, p, id, cursor, q);
        if (g !== gen) return;
        if (page.after_line !== null) cursor = page.after_line;
        loaded = true;
        paint(appendLines(held, page.lines));
        if (!page.more) break;
      }
    } catch (err) {
      if (g === gen) info.textContent = `error: ${(err as Error).message}`;
    } finally {
      if (g === gen) busy = false;
    }
  };

  function restart() {
    gen++;
    busy = false;
    q = search.value.trim();
    held = []; cursor = null; dropped = 0; loaded = false;
    log.replaceChildren();
    void fetchNew();
  }

  void fetchNew();
  // Poll while live, plus once after the run stops, for the lines written before it ended.
  let wasLive = live();
  const t = setInterval(() => {
    const now = live();
    if ((now || wasLive) && !document.hidden) void fetchNew();
    wasLive = now;
  }, POLL_MS);
  return () => { gen++; clearInterval(t); };
}
