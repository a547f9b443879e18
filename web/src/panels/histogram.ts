// Histogram panel: a key's histograms over steps as a heatmap per run (x = step, y = value,
// colour = count), from one GET .../histograms per run. Hovering a cell names its step, value
// range and count.

import { mediaApi, type HistogramSeries } from "../mediaapi";
import { histogramGrid } from "../lib/media";
import { formatNumber } from "../lib/tjson";
import { axes, canvas, heat } from "./plot";
import { card, clear, errorBox, h, refOf, runLabel, type Panel, type PanelCtx } from "./common";

const ROWS = 48;
const MAX_RUNS = 6; // one heatmap per run; more runs would not fit one card
const W = 440, H = 220;

export function histogramPanel(ctx: PanelCtx): Panel {
  const c = card("histogram", ctx.key);
  let dead = false;
  const runs = ctx.runs.slice(0, MAX_RUNS);

  async function load() {
    try {
      const all = await Promise.all(runs.map((r) => mediaApi.histograms(refOf(r), ctx.key).catch((e: Error) => e)));
      if (dead) return;
      const probes: Record<string, unknown>[] = [];
      clear(c.body, runs.map((r, i) => {
        const s = all[i];
        if (s instanceof Error) return h("div", null, runLabel(r), errorBox(s));
        const { el, probe } = heatmap(s);
        probes.push({ run: r.run_id, ...probe });
        return h("div", { class: "hist-run" }, runLabel(r), el);
      }), ctx.runs.length > MAX_RUNS ? h("div", { class: "muted" }, `first ${MAX_RUNS} of ${ctx.runs.length} runs`) : null);
      c.setStatus("");
      c.probe({ runs: probes });
    } catch (e) { c.setStatus(""); clear(c.body, errorBox(e)); }
  }
  return { el: c.el, load, destroy() { dead = true; } };
}

function heatmap(s: HistogramSeries) {
  const hs = s.histograms;
  const grid = histogramGrid(hs, ROWS);
  const { cv, g } = canvas(W, H);
  const n = hs.length;
  const f = axes(g, W, H, [n ? hs[0].step : 0, n ? hs[n - 1].step : 1], [grid.lo, grid.hi], { x: "step" });
  // Column i spans from its step to the next (the last one gets the mean width).
  const xs = hs.map((x) => x.step);
  const dx = n > 1 ? (xs[n - 1] - xs[0]) / (n - 1) : 1;
  const ch = f.h / ROWS;
  for (let i = 0; i < n; i++) {
    const xa = f.sx(xs[i]) - (n === 1 ? f.w / 2 : 0), xb = n === 1 ? xa + f.w : f.sx(i + 1 < n ? xs[i + 1] : xs[i] + dx);
    const col = grid.cols[i];
    for (let r = 0; r < ROWS; r++) {
      if (!(col[r] > 0)) continue;
      g.fillStyle = heat(col[r], grid.max);
      g.fillRect(Math.max(f.x0, xa), f.y0 + f.h - (r + 1) * ch, Math.min(f.x0 + f.w, xb) - Math.max(f.x0, xa) + 0.5, ch + 0.5);
    }
  }
  g.strokeStyle = "#999"; g.strokeRect(f.x0, f.y0, f.w, f.h);
  const tip = h("div", { class: "muted hist-tip" }, n ? `${n} steps · values ${formatNumber(grid.lo)} … ${formatNumber(grid.hi)}` : "no histograms");
  cv.addEventListener("mousemove", (e) => {
    const rect = cv.getBoundingClientRect();
    const px = e.clientX - rect.left, py = e.clientY - rect.top;
    if (px < f.x0 || px > f.x0 + f.w || py < f.y0 || py > f.y0 + f.h || !n) return;
    let i = 0;
    while (i + 1 < n && f.sx(xs[i + 1]) <= px) i++;
    const r = Math.min(ROWS - 1, Math.floor((f.y0 + f.h - py) / ch));
    const w = (grid.hi - grid.lo) / ROWS;
    tip.textContent = `step ${xs[i]} · [${formatNumber(grid.lo + r * w)}, ${formatNumber(grid.lo + (r + 1) * w)}) · ${formatNumber(Math.round(grid.cols[i][r] * 100) / 100)}`;
  });
  const totals = hs.map((x) => x.values.reduce((a, b) => a + b, 0));
  return { el: h("div", null, cv, tip), probe: { steps: xs, totals, bins: hs.map((x) => x.bins.length - 1), lo: grid.lo, hi: grid.hi, rows: ROWS, max: grid.max } };
}
