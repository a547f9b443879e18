// Virtualised runs table: only the rows inside the viewport (plus a small overscan) exist in
// the DOM, recycled from a pool, so 100,000 runs scroll like 100. Fixed row height keeps the
// index ↔ offset mapping trivial.

import type { Run } from "../api";
import { runColor } from "../lib/colors";
import { h, fmtDuration, fmtTime, toSeconds } from "../lib/dom";
import { fieldValue } from "../lib/filters";
import { formatValue } from "../lib/tjson";
import { hook } from "../hook";

export const ROW_H = 28;
/** Rows before the end of the loaded ones at which the next page is asked for. */
const NEAR_END_ROWS = 100;
export type Row = { kind: "run"; run: Run } | { kind: "group"; label: string; count: number; key: string };

export interface Column { key: string; label: string; width: number; sortable: boolean }

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
  private raf = 0;
  private hasRunning = false;
  private timer: ReturnType<typeof setInterval>;

  constructor(private opts: TableOpts) {
    this.head = h("div", { class: "thead" });
    this.spacer = h("div", { class: "tspacer" });
    // The body scrolls both ways; the header follows its horizontal offset.
    const headWrap = h("div", { class: "thead-wrap" }, this.head);
    this.body = h("div", { class: "tbody", onscroll: () => { headWrap.scrollLeft = this.body.scrollLeft; this.schedule(); } }, this.spacer);
    this.el = h("div", { class: "runtable" }, headWrap, this.body);
    // Running rows show a live duration: repaint the visible rows once a second.
    this.timer = setInterval(() => { if (this.hasRunning) this.paint(); }, 1000);
    new ResizeObserver(() => this.schedule()).observe(this.body);
  }

  destroy() { clearInterval(this.timer); cancelAnimationFrame(this.raf); }

  setColumns(extra: string[]) {
    this.columns = BASE_COLUMNS.concat(extra.map((k) => ({ key: k, label: k, width: 120, sortable: true })));
    const tpl = this.columns.map((c) => `${c.width}px`).join(" ");
    this.el.style.setProperty("--cols", tpl);
    this.el.style.setProperty("--width", `${this.columns.reduce((a, c) => a + c.width, 0)}px`);
    this.renderHead();
    this.pool.forEach((r) => r.remove());
    this.pool = [];
    this.paint();
  }

  setRows(rows: Row[]) {
    this.rows = rows;
    this.hasRunning = rows.some((r) => r.kind === "run" && r.run.state === "running");
    this.spacer.style.height = `${rows.length * ROW_H}px`;
    hook.table.rows = rows.filter((r) => r.kind === "run").map((r) => (r as { run: Run }).run.run_id);
    this.paint();
  }

  scrollToTop() { this.body.scrollTop = 0; }
  get scroller() { return this.body; }

  renderHead() {
    const sort = this.opts.sort();
    this.head.replaceChildren(...this.columns.map((c) => {
      const dir = sort === c.key ? " ▲" : sort === `-${c.key}` ? " ▼" : "";
      const cell = h("div", { class: `th${c.sortable ? " sortable" : ""}`, title: c.key, "data-key": c.key,
        onclick: () => c.sortable && this.opts.onSort(c.key) }, h("span", { class: "lbl" }, c.label + dir));
      if (!BASE_COLUMNS.includes(c)) cell.append(h("button", { class: "x", title: "Remove column",
        onclick: (e: Event) => { e.stopPropagation(); this.opts.onRemoveColumn(c.key); } }, "×"));
      return cell;
    }));
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
        (cell.lastChild as HTMLElement).style.background = runColor(run.run_id);
      } else if (c.key === "_pin") {
        const pinned = this.opts.isPinned(run.run_id);
        cell.className = `td pin${pinned ? " on" : ""}`;
        cell.textContent = pinned ? "★" : "☆";
      } else if (c.key === "name") {
        const a = cell.firstChild as HTMLAnchorElement;
        a.href = this.opts.runHref(run);
        a.textContent = run.name;
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
      if (c.key === "_sel") return h("div", { class: "td sel" }, h("input", { type: "checkbox", onchange: () => el.dataset.run && this.opts.toggleSelect(el.dataset.run) }), h("span", { class: "swatch" }));
      if (c.key === "_pin") return h("div", { class: "td pin", onclick: () => el.dataset.run && this.opts.togglePin(el.dataset.run) });
      if (c.key === "name") return h("div", { class: "td name" }, h("a", { onclick: (e: MouseEvent) => { const r = runOf(); if (r) this.opts.openRun(r.run, e); } }));
      return h("div", { class: "td" });
    }));
  }
}
