// Table panel: a logged table, sorted and filtered by the server (GET .../tables) and fetched
// in pages of 200 rows as they scroll into view. Only the rows in the viewport exist in the
// DOM. Media cells (images, audio) render inline. With several runs the same table is shown
// side by side, one column per run, under one shared sort and filter: that is "compare".

import type { Run } from "../api";
import { mediaApi, mediaUrl, type TablePage } from "../mediaapi";
import { cellText, nextSort, pagesFor, parseTableFilter, type TableFilter } from "../lib/mediatable";
import { displayUrl, typeOf } from "../lib/media";
import { debounce } from "../lib/dom";
import { card, clear, errorBox, h, refOf, runLabel, type Panel, type PanelCtx } from "./common";

const PAGE = 200;
const MAX_RUNS = 4;
const VIEW_H = 360;

interface Shared { sort: string; order: "asc" | "desc"; q: string; filter: TableFilter }

export function tablePanel(ctx: PanelCtx): Panel {
  const c = card("table", ctx.key);
  const st: Shared = { sort: "", order: "asc", q: "", filter: {} };
  const views = ctx.runs.slice(0, MAX_RUNS).map((r) => new TableView(r, ctx.key, st, () => views.forEach((v) => v.reload()), () => publish()));
  const search = h("input", { type: "search", placeholder: "Search text cells", class: "table-q" });
  const filt = h("input", { type: "text", placeholder: "Filter: col > 0.5, label = cat", class: "table-filter", size: 28 });
  const ferr = h("span", { class: "muted table-ferr" });
  search.addEventListener("input", debounce(() => { st.q = search.value; views.forEach((v) => v.reload()); }, 250));
  filt.addEventListener("change", () => {
    const { filter, error } = parseTableFilter(filt.value, views[0]?.columns ?? []);
    ferr.textContent = error ?? "";
    if (error) return;
    st.filter = filter;
    views.forEach((v) => v.reload());
  });
  c.tools.append(search, filt, ferr, ctx.runs.length > MAX_RUNS ? h("span", { class: "muted" }, ` first ${MAX_RUNS} of ${ctx.runs.length} runs`) : "");
  c.body.append(h("div", { class: "table-compare", style: { gridTemplateColumns: `repeat(${Math.max(1, views.length)}, minmax(0, 1fr))` } }, views.map((v) => v.el)));
  const publish = () => c.probe({ sort: st.sort, order: st.order, q: st.q, filter: st.filter, runs: views.map((v) => v.probe()) });

  async function load() {
    await Promise.all(views.map((v) => v.init()));
    c.setStatus("");
    publish();
  }
  return { el: c.el, load, destroy() { views.forEach((v) => v.destroy()); } };
}

class TableView {
  readonly el: HTMLElement;
  columns: string[] = [];
  private types: Record<string, string> = {};
  private rows = new Map<number, { index: number; cells: unknown[] }>(); // position → row
  private pending = new Set<number>();
  private total = 0;
  private nrows = 0;
  private step: number | null = null;
  private latest: number | null | undefined = undefined; // the newest step seen (undefined: not loaded)
  private gen = 0;
  private head: HTMLElement;
  private scroller: HTMLElement;
  private spacer: HTMLElement;
  private stepSel: HTMLSelectElement;
  private info: HTMLElement;
  private rowH = 28;
  private queryMs = 0;
  private raf = 0;
  private err: HTMLElement;

  constructor(private run: Run, private key: string, private st: Shared, private resort: () => void, private changed: () => void) {
    this.head = h("div", { class: "mt-head" });
    this.spacer = h("div", { class: "mt-spacer" });
    this.scroller = h("div", { class: "mt-body", style: { height: `${VIEW_H}px` } }, this.spacer);
    this.scroller.addEventListener("scroll", () => { cancelAnimationFrame(this.raf); this.raf = requestAnimationFrame(() => this.paint()); });
    this.stepSel = h("select", { class: "table-step", onchange: () => { this.step = Number(this.stepSel.value); this.reload(); } });
    this.info = h("span", { class: "muted" });
    this.err = h("div");
    this.el = h("div", { class: "mt", "data-run": run.run_id }, h("div", { class: "mt-top" }, runLabel(run), this.stepSel, this.info), this.err,
      h("div", { class: "mt-scroll" }, this.head, this.scroller));
  }

  /** Load the steps the table was logged at and show the newest; a live poll re-calls this. */
  async init() {
    const items = await mediaApi.items(refOf(this.run), this.key).catch(() => []);
    const steps = items.map((i) => i.step);
    const latest = steps.at(-1) ?? null;
    const following = this.step === null || this.step === this.latest;
    if (this.latest !== undefined && (latest === this.latest || !following)) { this.setSteps(steps); return; }
    this.latest = latest;
    this.setSteps(steps);
    this.step = latest;
    if (this.step !== null) this.stepSel.value = String(this.step);
    await this.reload();
  }

  private setSteps(steps: number[]) {
    if (steps.join() === [...this.stepSel.options].map((o) => o.value).join()) return;
    clear(this.stepSel, steps.map((s) => h("option", { value: String(s) }, `step ${s}`)));
    if (this.step !== null) this.stepSel.value = String(this.step);
    this.stepSel.style.display = steps.length > 1 ? "" : "none";
  }

  /** Sort, filter, search or step changed: drop the cached pages and fetch the first. */
  async reload() {
    const my = ++this.gen;
    this.rows.clear(); this.pending.clear();
    const t0 = performance.now();
    try {
      const first = await this.fetchPage(0, my);
      if (!first || my !== this.gen) return;
      this.scroller.scrollTop = 0;
      this.paint();
      this.queryMs = performance.now() - t0;
      this.changed();
    } catch (e) { clear(this.err, errorBox(e)); this.changed(); }
  }

  private async fetchPage(offset: number, my: number): Promise<TablePage | null> {
    this.pending.add(offset);
    const page = await mediaApi.table(refOf(this.run), this.key, { step: this.step, offset, limit: PAGE,
      sort: this.st.sort || undefined, order: this.st.order, q: this.st.q, filter: this.st.filter });
    if (my !== this.gen) return null;
    clear(this.err);
    if (offset === 0) this.setColumns(page.columns, page.column_types);
    this.total = page.total; this.nrows = page.nrows;
    page.rows.forEach((r, i) => this.rows.set(offset + i, r));
    this.info.textContent = ` ${page.total.toLocaleString()}${page.total !== page.nrows ? ` of ${page.nrows.toLocaleString()}` : ""} rows`;
    this.spacer.style.height = `${this.total * this.rowH}px`;
    this.pending.delete(offset);
    return page;
  }

  private setColumns(cols: string[], types: Record<string, string>) {
    this.columns = cols; this.types = types ?? {};
    const media = cols.some((c) => /image|video/.test(this.types[c] ?? ""));
    this.rowH = media ? 64 : 28;
    const tpl = `56px ${cols.map((c) => (/image/.test(this.types[c] ?? "") ? "72px" : "minmax(90px, 1fr)")).join(" ")}`;
    this.el.style.setProperty("--mt-cols", tpl);
    this.el.style.setProperty("--mt-row", `${this.rowH}px`);
    clear(this.head, h("div", { class: "mt-th muted" }, "#"), cols.map((col) => {
      const on = this.st.sort === col;
      const sort = () => { Object.assign(this.st, nextSort(this.st, col)); this.resort(); };
      return h("div", { class: `mt-th sortable${on ? " on" : ""}`, "data-col": col, title: `${col} (${this.types[col] ?? "?"}): click to sort`,
        tabindex: "0", role: "button", onclick: sort, onkeydown: (e: KeyboardEvent) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } } },
      col, on ? (this.st.order === "asc" ? " ▲" : " ▼") : "");
    }));
  }

  /** Render the rows in view (recreated per frame: at most ~20 rows), fetch missing pages. */
  private paint() {
    const top = this.scroller.scrollTop, first = Math.floor(top / this.rowH), last = Math.min(this.total, Math.ceil((top + VIEW_H) / this.rowH) + 2);
    const els: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const r = this.rows.get(i);
      els.push(h("div", { class: "mt-row", "data-pos": String(i), style: { transform: `translateY(${i * this.rowH}px)` } },
        h("div", { class: "mt-td muted" }, r ? String(r.index) : "…"), r ? r.cells.map((v) => this.cell(v)) : []));
    }
    this.spacer.replaceChildren(...els);
    const my = this.gen;
    for (const off of pagesFor(first, last, PAGE)) if (!this.rows.has(off) && !this.pending.has(off)) this.fetchPage(off, my).then((p) => { if (p) this.paint(); }).catch(() => {});
  }

  private cell(v: unknown): HTMLElement {
    const t = typeOf(v);
    const o = v as Record<string, unknown>;
    if (t === "image-file" && typeof o.url === "string") {
      const img = h("img", { class: "mt-img", alt: cellText(v), title: cellText(v) });
      const ref = { url: o.url, thumb: typeof o.thumbnail === "string" ? o.thumbnail : undefined, width: Number(o.width) || 0, height: Number(o.height) || 0 };
      mediaUrl(displayUrl(ref, 64, window.devicePixelRatio)).then((u) => { img.src = u; }).catch(() => {});
      return h("div", { class: "mt-td media" }, img);
    }
    if (t === "audio-file" && typeof o.url === "string") {
      const b = h("button", { class: "link", title: "play" }, "▶");
      b.onclick = async () => { const a = new Audio(await mediaUrl(o.url as string)); a.play().catch(() => {}); };
      return h("div", { class: "mt-td" }, b, ` ${cellText(v)}`);
    }
    const text = cellText(v);
    return h("div", { class: `mt-td${typeof v === "number" ? " num" : ""}`, title: text }, text);
  }

  probe() {
    const rows = [...this.rows.entries()].sort((a, b) => a[0] - b[0]).slice(0, 50).map(([, r]) => ({ index: r.index, cells: r.cells.map(cellText) }));
    return { run: this.run.run_id, step: this.step, columns: this.columns, types: this.types, nrows: this.nrows, total: this.total,
      rows, domRows: this.spacer.childElementCount, queryMs: this.queryMs, gen: this.gen, error: this.err.textContent };
  }

  destroy() { this.gen++; cancelAnimationFrame(this.raf); }
}
