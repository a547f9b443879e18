// Virtualised runs table: only the rows inside the viewport (plus a small overscan) exist in
// the DOM, recycled from a pool, so 100,000 runs scroll like 100. Fixed row height keeps the
// index ↔ offset mapping trivial. The selection, pin and name columns are frozen (sticky) on
// horizontal scroll; every column is resizable (drag or arrow keys on its edge) and every column
// after the name can be reordered (drag the header, or Alt+←/→); the layout is kept per project
// in localStorage. Double-click a cell to copy its text.

import type { Run } from "../api";
import { runColor } from "../lib/colors";
import { h, fmtDuration, fmtTime, toSeconds } from "../lib/dom";
import { fieldValue } from "../lib/filters";
import { formatValue } from "../lib/tjson";
import { hook } from "../hook";
import { arrange, FROZEN, MIN_W, reorder, type Layout } from "../lib/table";

export const ROW_H = 28;
/** Rows before the end of the loaded ones at which the next page is asked for. */
const NEAR_END_ROWS = 100;
export type Row = { kind: "run"; run: Run } | { kind: "group"; label: string; count: number; key: string };

export type { Column } from "../lib/table";
import type { Column } from "../lib/table";

export interface TableOpts {
  isSelected(id: string): boolean;
  isPinned(id: string): boolean;
  toggleSelect(id: string): void;
  togglePin(id: string): void;
  openRun(run: Run, e: MouseEvent): void;
  runHref(run: Run): string;
  sort: () => string;
  onSort(key: string): void;
  onRemoveColumn(key: string): void;
  toggleGroup(key: string): void;
  /** The viewport reached the last loaded rows: load the next server page. */
  onNearEnd?(): void;
  /** localStorage key of the column layout (widths, order, hidden base columns). */
  storageKey?: string;
}



export const BASE_COLUMNS: Column[] = [
  { key: "_sel", label: "", width: 44, sortable: false },
  { key: "_pin", label: "", width: 26, sortable: false },
  { key: "name", label: "Name", width: 180, sortable: true },
  { key: "state", label: "State", width: 125, sortable: true },
  { key: "tags", label: "Tags", width: 120, sortable: false },
  { key: "group", label: "Group", width: 100, sortable: true },
  { key: "created_at", label: "Created", width: 130, sortable: true },
];

export function cellText(run: Run, key: string, now: number): string {
  if (key === "state") {
    const start = run._created;
    const end = run.state === "running" ? now : toSeconds(run.heartbeat_at ?? run.updated_at);
    return `${run.state} · ${fmtDuration(end - start)}`;
  }
  if (key === "created_at") return fmtTime(run.created_at);
  if (key === "tags") return run.tags.join(", ");
  const v = fieldValue(run as unknown as Record<string, unknown>, key);
  return v === undefined || v === null ? "" : formatValue(v);
}

export class RunTable {
  readonly el: HTMLDivElement;
  private head: HTMLDivElement;
  private body: HTMLDivElement;
  private spacer: HTMLDivElement;
  private pool: HTMLDivElement[] = [];
  private rows: Row[] = [];
  private columns: Column[] = BASE_COLUMNS;
  private extra: string[] = [];
  private layout: Layout = { widths: {}, order: [], hidden: [] };
  private headWrap: HTMLDivElement;
  private raf = 0;
  private hasRunning = false;
  private timer: ReturnType<typeof setInterval>;

  constructor(private opts: TableOpts) {
    this.head = h("div", { class: "thead" });
    this.spacer = h("div", { class: "tspacer" });
    // The body scrolls both ways; the header follows its horizontal offset.
    const headWrap = h("div", { class: "thead-wrap" }, this.head);
    this.headWrap = headWrap;
    this.body = h("div", { class: "tbody", onscroll: () => { headWrap.scrollLeft = this.body.scrollLeft; this.schedule(); } }, this.spacer);
    this.body.addEventListener("dblclick", (e) => this.copyCell(e));
    this.el = h("div", { class: "runtable", role: "table", "aria-label": "Runs" }, headWrap, this.body);
    this.layout = this.loadLayout();
    // Running rows show a live duration: repaint the visible rows once a second.
    this.timer = setInterval(() => { if (this.hasRunning) this.paint(); }, 1000);
    new ResizeObserver(() => this.schedule()).observe(this.body);
  }

  destroy() { clearInterval(this.timer); cancelAnimationFrame(this.raf); }

  setColumns(extra: string[]) {
    this.extra = extra;
    const all = BASE_COLUMNS.concat(extra.map((k) => ({ key: k, label: k, width: 120, sortable: true })));
    this.columns = arrange(all, this.layout);
    this.applyWidths();
    this.renderHead();
    this.pool.forEach((r) => r.remove());
    this.pool = [];
    this.paint();
  }

  /** The columns shown, in order (run-table CSV export uses the same). */
  get shownColumns(): Column[] { return this.columns.filter((c) => !c.key.startsWith("_")); }
  /** Base columns that can be hidden (the name cannot). */
  get hideable(): string[] { return BASE_COLUMNS.filter((c) => !FROZEN.has(c.key)).map((c) => c.key); }
  get hiddenBase(): string[] { return this.layout.hidden; }
  setHiddenBase(keys: string[]) { this.layout.hidden = keys; this.saveLayout(); this.setColumns(this.extra); }

  private applyWidths() {
    this.el.style.setProperty("--cols", this.columns.map((c) => `${c.width}px`).join(" "));
    this.el.style.setProperty("--width", `${this.columns.reduce((a, c) => a + c.width, 0)}px`);
    // Frozen columns stick at their offsets from the left edge.
    let left = 0;
    for (const c of this.columns) {
      if (!FROZEN.has(c.key)) break;
      this.el.style.setProperty(`--left-${c.key}`, `${left}px`);
      left += c.width;
    }
  }

  private loadLayout(): Layout {
    const empty: Layout = { widths: {}, order: [], hidden: [] };
    if (!this.opts.storageKey) return empty;
    try { return { ...empty, ...JSON.parse(localStorage.getItem(this.opts.storageKey) ?? "{}") }; } catch { return empty; }
  }

  private saveLayout() {
    if (this.opts.storageKey) localStorage.setItem(this.opts.storageKey, JSON.stringify(this.layout));
  }

  private resize(key: string, width: number) {
    this.layout.widths[key] = Math.max(MIN_W, Math.round(width));
    this.saveLayout();
    this.columns = this.columns.map((c) => (c.key === key ? { ...c, width: this.layout.widths[key] } : c));
    this.applyWidths();
  }

  private move(key: string, target: string | number) {
    const shown = this.columns.filter((c) => !FROZEN.has(c.key)).map((c) => c.key);
    this.layout.order = reorder(shown, key, target);
    this.saveLayout();
    this.setColumns(this.extra);
    (this.head.querySelector(`[data-key="${CSS.escape(key)}"]`) as HTMLElement | null)?.focus();
  }

  /** Double-click copies a cell's text (the name cell copies the run's name). */
  private copyCell(e: MouseEvent) {
    const cell = (e.target as HTMLElement).closest(".td") as HTMLElement | null;
    if (!cell || cell.classList.contains("sel") || cell.classList.contains("pin")) return;
    const text = cell.textContent ?? "";
    hook.table.copied = text;
    void navigator.clipboard?.writeText(text).catch(() => {});
    cell.classList.add("copied");
    setTimeout(() => cell.classList.remove("copied"), 600);
  }

  setRows(rows: Row[]) {
    this.rows = rows;
    this.hasRunning = rows.some((r) => r.kind === "run" && r.run.state === "running");
    this.spacer.style.height = `${rows.length * ROW_H}px`;
    hook.table.rows = rows.filter((r) => r.kind === "run").map((r) => (r as { run: Run }).run.run_id);
    this.paint();
    // performance.now() counts from the navigation: the benchmark's "first page after navigation".
    if (rows.length && !hook.table.firstRowsAt) hook.table.firstRowsAt = performance.now();
  }

  scrollToTop() { this.body.scrollTop = 0; }
  get scroller() { return this.body; }

  renderHead() {
    const sort = this.opts.sort();
    this.head.replaceChildren(...this.columns.map((c) => this.headCell(c, sort)));
    this.headWrap.scrollLeft = this.body.scrollLeft;
  }

  /** A header cell: sortable by click or Enter/Space, movable by drag or Alt+←/→, resizable by its edge. */
  private headCell(c: Column, sort: string) {
    const dir = sort === c.key ? "ascending" : sort === `-${c.key}` ? "descending" : "none";
    const arrow = dir === "ascending" ? " ▲" : dir === "descending" ? " ▼" : "";
    const movable = !FROZEN.has(c.key);
    const label = c.key === "_sel" ? "Select" : c.key === "_pin" ? "Pin" : c.label;
    const cell = h("div", { class: `th${c.sortable ? " sortable" : ""}${FROZEN.has(c.key) ? ` frozen f${c.key}` : ""}`, title: c.key, "data-key": c.key,
      role: "columnheader", "aria-sort": c.sortable ? dir : undefined, "aria-label": label, tabindex: c.sortable || movable ? 0 : undefined,
      draggable: movable ? "true" : undefined,
      onclick: () => c.sortable && this.opts.onSort(c.key),
      onkeydown: (e: KeyboardEvent) => {
        if ((e.key === "Enter" || e.key === " ") && c.sortable) { e.preventDefault(); this.opts.onSort(c.key); }
        else if (movable && e.altKey && (e.key === "ArrowLeft" || e.key === "ArrowRight")) { e.preventDefault(); this.move(c.key, e.key === "ArrowLeft" ? -1 : 1); }
      },
      ondragstart: (e: DragEvent) => { e.dataTransfer?.setData("text/x-trackway-col", c.key); },
      ondragover: (e: DragEvent) => { if (movable && e.dataTransfer?.types.includes("text/x-trackway-col")) e.preventDefault(); },
      ondrop: (e: DragEvent) => { const k = e.dataTransfer?.getData("text/x-trackway-col"); if (k && k !== c.key && movable) { e.preventDefault(); this.move(k, c.key); } },
    }, h("span", { class: "lbl" }, c.label + arrow));
    if (!BASE_COLUMNS.some((b) => b.key === c.key)) cell.append(h("button", { class: "x", title: `Remove column ${c.key}`, "aria-label": `Remove column ${c.key}`,
      onclick: (e: Event) => { e.stopPropagation(); this.opts.onRemoveColumn(c.key); } }, "×"));
    if (c.key !== "_sel" && c.key !== "_pin") cell.append(this.resizer(c));
    return cell;
  }

  /** The drag handle on a header's right edge; arrow keys resize by 16 px. */
  private resizer(c: Column) {
    const grip = h("div", { class: "col-resize", role: "separator", tabindex: 0, "aria-label": `Resize column ${c.label}`, "aria-orientation": "vertical",
      "aria-valuenow": c.width, onclick: (e: Event) => e.stopPropagation(),
      onkeydown: (e: KeyboardEvent) => {
        if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
        e.preventDefault(); e.stopPropagation();
        const w = (this.columns.find((x) => x.key === c.key)?.width ?? c.width) + (e.key === "ArrowLeft" ? -16 : 16);
        this.resize(c.key, w);
        grip.setAttribute("aria-valuenow", String(Math.max(MIN_W, w)));
      },
      onpointerdown: (e: PointerEvent) => {
        e.preventDefault(); e.stopPropagation();
        const x0 = e.clientX, w0 = this.columns.find((x) => x.key === c.key)?.width ?? c.width;
        const onMove = (m: PointerEvent) => this.resize(c.key, w0 + m.clientX - x0);
        const onUp = () => { window.removeEventListener("pointermove", onMove); window.removeEventListener("pointerup", onUp); };
        window.addEventListener("pointermove", onMove);
        window.addEventListener("pointerup", onUp);
      } });
    return grip;
  }

  private schedule() {
    if (!this.raf) this.raf = requestAnimationFrame(() => { this.raf = 0; this.paint(); });
  }

  /** Render the rows that intersect the viewport into recycled row elements. */
  paint() {
    const t0 = performance.now();
    const top = this.body.scrollTop;
    const height = this.body.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_H) - 5);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_H) + 5);
    const need = last - first;
    while (this.pool.length < need) {
      const r = h("div", { class: "trow" });
      this.pool.push(r);
      this.body.append(r);
    }
    const now = Date.now() / 1000;
    const visible: string[] = [];
    for (let i = 0; i < this.pool.length; i++) {
      const el = this.pool[i];
      const idx = first + i;
      if (idx >= last) { el.style.display = "none"; continue; }
      el.style.display = "";
      el.style.transform = `translateY(${idx * ROW_H}px)`;
      const row = this.rows[idx];
      if (row.kind === "run") visible.push(row.run.run_id);
      this.fillRow(el, row, now);
    }
    hook.table.visible = visible;
    if (this.opts.onNearEnd && last >= this.rows.length - NEAR_END_ROWS) this.opts.onNearEnd();
    const ms = hook.table.paintMs;
    if (ms.length >= 1000) ms.shift();
    ms.push(performance.now() - t0);
  }

  /**
   * Fill a recycled row. Cells are built once per row element and column set, then only their
   * text and attributes change, so a fast scroll touches text nodes instead of rebuilding DOM.
   */
  private fillRow(el: HTMLDivElement, row: Row, now: number) {
    if (row.kind === "group") {
      el.className = "trow group";
      el.dataset.layout = "";
      el.dataset.run = "";
      el.replaceChildren(h("div", { class: "gcell", onclick: () => this.opts.toggleGroup(row.key) }, `${row.label}  (${row.count})`));
      return;
    }
    const run = row.run;
    if (el.dataset.layout !== this.layoutKey) this.buildCells(el);
    const sel = this.opts.isSelected(run.run_id);
    el.className = `trow${sel ? " sel" : ""}`;
    el.dataset.run = run.run_id;
    const cells = el.children;
    this.columns.forEach((c, i) => {
      const cell = cells[i] as HTMLElement;
      if (c.key === "_sel") {
        (cell.firstChild as HTMLInputElement).checked = sel;
        (cell.firstChild as HTMLInputElement).setAttribute("aria-label", `Select run ${run.name}`);
        (cell.lastChild as HTMLElement).style.background = runColor(run.run_id);
      } else if (c.key === "_pin") {
        const pinned = this.opts.isPinned(run.run_id);
        cell.className = `td pin frozen f_pin${pinned ? " on" : ""}`;
        const b = cell.firstChild as HTMLButtonElement;
        b.textContent = pinned ? "★" : "☆";
        b.setAttribute("aria-pressed", String(pinned));
        b.setAttribute("aria-label", `${pinned ? "Unpin" : "Pin"} run ${run.name}`);
      } else if (c.key === "name") {
        const a = cell.firstChild as HTMLAnchorElement;
        a.href = this.opts.runHref(run);
        a.textContent = run.name;
        a.title = run.name;
      } else {
        const t = cellText(run, c.key, now);
        if (c.key === "state") cell.className = `td state ${run.state}`;
        if (cell.textContent !== t) { cell.textContent = t; cell.title = t; }
      }
    });
  }

  private get layoutKey() { return this.columns.map((c) => c.key).join("\u0000"); }

  /** Cell skeletons; handlers look the run up from the row's data-run at event time. */
  private buildCells(el: HTMLDivElement) {
    el.dataset.layout = this.layoutKey;
    const runOf = () => this.rows.find((r) => r.kind === "run" && r.run.run_id === el.dataset.run) as { run: Run } | undefined;
    el.replaceChildren(...this.columns.map((c) => {
      if (c.key === "_sel") return h("div", { class: "td sel frozen f_sel" }, h("input", { type: "checkbox", onchange: () => el.dataset.run && this.opts.toggleSelect(el.dataset.run) }), h("span", { class: "swatch" }));
      if (c.key === "_pin") return h("div", { class: "td pin frozen f_pin" }, h("button", { class: "pinbtn", onclick: () => el.dataset.run && this.opts.togglePin(el.dataset.run) }));
      if (c.key === "name") return h("div", { class: "td name frozen fname" }, h("a", { onclick: (e: MouseEvent) => { const r = runOf(); if (r) this.opts.openRun(r.run, e); } }));
      return h("div", { class: "td" });
    }));
  }
}
