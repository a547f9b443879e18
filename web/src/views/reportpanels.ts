// The live panels of a report: each queries its run set's project with the reader's own
// credentials when the report opens (so it shows what the server holds now, and only from
// projects the reader may read). Line charts reuse the workspace's ChartCard; run tables and
// scatter plots are drawn here. Each panel can also hand over its data for the static export.

import { api, type Run } from "../api";
import { ChartCard, type ChartSettings } from "../components/chart";
import { cellText } from "../components/runtable";
import { fieldValue } from "../lib/filters";
import { h, clear } from "../lib/dom";
import { runColor } from "../lib/colors";
import type { Block, ReportDoc, RunSet } from "../reportsapi";

/** Runs a panel draws at most (the first page of its run set, newest first). */
export const PANEL_RUNS = 100;

export interface LivePanel { el: HTMLElement; load(): Promise<void>; destroy(): void }
type PanelBlock = Extract<Block, { type: "panel" }>;

export async function runsOf(rs: RunSet): Promise<Run[]> {
  const page = await api.runsPage(rs.entity, rs.project, rs.filters ?? null, null, PANEL_RUNS);
  return page.runs;
}

type RunsOf = (rs: RunSet) => Promise<Run[]>;

/** runsOf, asked once per distinct run set (the name of a run set does not change its runs). */
export function sharedRuns(): RunsOf {
  const asked = new Map<string, Promise<Run[]>>();
  return (rs) => {
    const k = JSON.stringify([rs.entity, rs.project, rs.filters ?? null]);
    let p = asked.get(k);
    if (!p) { p = runsOf(rs); asked.set(k, p); }
    return p;
  };
}

function settingsOf(doc: ReportDoc): ChartSettings {
  return { smoothing: doc.settings.smoothing, x: doc.settings.x || "_step", log: false, band: false, zoom: null, group: "" };
}

function caption(b: PanelBlock): HTMLElement {
  const rs = b.runset;
  return h("div", { class: "runset muted" }, `${rs.name ? `${rs.name} · ` : ""}${rs.entity}/${rs.project}`,
    rs.filters ? ` · filter ${JSON.stringify(rs.filters)}` : "");
}

function linePanel(b: PanelBlock, doc: ReportDoc, runsOf: RunsOf): LivePanel {
  let runs: Run[] = [];
  const card = new ChartCard(b.keys[0] ?? "", {
    settings: () => settingsOf(doc), runs: () => runs, groups: () => null, onZoom: () => {}, syncKey: "report",
    panel: () => ({ metrics: b.keys, title: b.title }),
  });
  card.visible = true;
  const el = h("div", { class: "report-panel line" }, caption(b), card.el);
  return {
    el,
    async load() { runs = await runsOf(b.runset); await card.load(true); },
    destroy() { card.destroy(); },
  };
}

function runsPanel(b: PanelBlock, runsOf: RunsOf): LivePanel {
  const body = h("div", { class: "muted" }, "loading…");
  const el = h("div", { class: "report-panel runs" }, b.title ? h("div", { class: "chart-title" }, b.title) : null, caption(b), body);
  return {
    el,
    async load() {
      const runs = await runsOf(b.runset);
      const now = Date.now() / 1000;
      clear(body, h("table", { class: "grid report-runs" },
        h("thead", null, h("tr", null, h("th", null, "Run"), h("th", null, "State"), b.keys.map((k) => h("th", null, k)))),
        h("tbody", null, runs.map((r) => h("tr", { "data-run": r.run_id }, h("td", null, r.name), h("td", null, r.state),
          b.keys.map((k) => h("td", { class: "num", "data-key": k }, cellText(r, k, now))))))));
    },
    destroy() {},
  };
}

/** A number of a run-table field, if it holds one. */
export function numberOf(run: Run, key: string): number | null {
  const v = fieldValue(run, key);
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export interface Point { x: number; y: number; color: string; label: string }

/** An SVG scatter plot of points (also what the static export embeds). */
export function scatterSvg(points: Point[], xl: string, yl: string): SVGSVGElement {
  const W = 480, H = 260, P = 40;
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => P + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * P);
  const sy = (y: number) => H - P - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * P);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "report-svg");
  const add = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  add("rect", { x: P, y: P / 2, width: W - 2 * P, height: H - 1.5 * P, fill: "none", stroke: "#ccc" });
  add("text", { x: W / 2, y: H - 8, "text-anchor": "middle", "font-size": 11 }, `${xl} (${fmt(x0)} … ${fmt(x1)})`);
  add("text", { x: 4, y: 14, "font-size": 11 }, `${yl} (${fmt(y0)} … ${fmt(y1)})`);
  for (const p of points) add("circle", { cx: sx(p.x), cy: sy(p.y), r: 4, fill: p.color }).append(title(p.label));
  return svg;
}

function title(text: string) {
  const t = document.createElementNS("http://www.w3.org/2000/svg", "title");
  t.textContent = text;
  return t;
}

function fmt(v: number): string { return Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : "–"; }

export function scatterPoints(runs: Run[], xk: string, yk: string): Point[] {
  return runs.flatMap((r) => {
    const x = numberOf(r, xk), y = numberOf(r, yk);
    return x === null || y === null ? [] : [{ x, y, color: runColor(r.run_id), label: `${r.name}: ${x}, ${y}` }];
  });
}

function scatterPanel(b: PanelBlock, runsOf: RunsOf): LivePanel {
  const body = h("div", { class: "muted" }, "loading…");
  const [xk, yk] = [b.keys[0] ?? "", b.keys[1] ?? ""];
  const el = h("div", { class: "report-panel scatter" }, h("div", { class: "chart-title" }, b.title || `${yk} vs ${xk}`), caption(b), body);
  return {
    el,
    async load() {
      const pts = scatterPoints(await runsOf(b.runset), xk, yk);
      clear(body, pts.length ? scatterSvg(pts, xk, yk) : h("div", { class: "muted" }, "no run has both values"));
    },
    destroy() {},
  };
}

/** The live panel of a block. */
export function livePanel(b: PanelBlock, doc: ReportDoc, runs: RunsOf = runsOf): LivePanel {
  const p = b.kind === "line" ? linePanel(b, doc, runs) : b.kind === "runs" ? runsPanel(b, runs) : scatterPanel(b, runs);
  const load = p.load.bind(p);
  // A panel over a project the reader may not read says so in place; the others still draw.
  p.load = () => load().catch((e: Error) => { p.el.append(h("div", { class: "error" }, `This panel cannot load: ${e.message}`)); });
  return p;
}
