// The shape shared by panels that show one value per run at a step (audio, video, HTML, Plotly,
// custom charts, 3D/molecule files): a step slider, then one cell per run rendered by the panel
// kind. One POST /media/query fetches every run's references.

import type { Run } from "../api";
import { mediaApi, type MediaItem, type RunItems } from "../mediaapi";
import { card, clear, errorBox, h, itemAt, refOf, runLabel, StepSlider, type Panel, type PanelCtx } from "./common";

export interface Cell { el: HTMLElement; ready: Promise<Record<string, unknown>> }
export type RenderCell = (run: Run, item: MediaItem) => Cell;

const MAX_RUNS = 16;

export function steppedPanel(kind: string, ctx: PanelCtx, render: RenderCell, opts: { steps?: number } = {}): Panel {
  const c = card(kind, ctx.key);
  const runs = ctx.runs.slice(0, MAX_RUNS);
  let data: RunItems[] = [];
  let seq = 0;
  const slider = new StepSlider(() => draw());
  c.tools.append(slider.el);
  const grid = h("div", { class: `stepped-grid grid-${kind}` });
  c.body.append(grid);

  async function load() {
    try {
      data = await mediaApi.query(runs.map(refOf), ctx.key, opts.steps ?? 100);
      slider.setSteps(data.map((d) => d.items.map((i) => i.step)));
      c.setStatus(ctx.runs.length > MAX_RUNS ? `first ${MAX_RUNS} of ${ctx.runs.length} runs` : "");
      await draw();
    } catch (e) { c.setStatus(""); clear(grid, errorBox(e)); }
  }

  async function draw() {
    const my = ++seq;
    const step = slider.value();
    const byRun = new Map(data.map((d) => [d.run_id, d]));
    const cells: HTMLElement[] = [];
    const probes: Promise<Record<string, unknown>>[] = [];
    for (const run of runs) {
      const d = byRun.get(run.run_id);
      const it = d ? itemAt(d.items, step) : null;
      if (!it) { cells.push(h("div", { class: "stepped-cell" }, runLabel(run), h("div", { class: "muted" }, d?.error?.message ?? "nothing logged"))); continue; }
      const cell = render(run, it);
      cells.push(h("div", { class: "stepped-cell" }, runLabel(run), h("div", { class: "muted" }, `step ${it.step}`), cell.el));
      probes.push(cell.ready.then((p) => ({ run: run.run_id, step: it.step, ...p }), (e: Error) => ({ run: run.run_id, step: it.step, error: e.message })));
    }
    clear(grid, cells);
    c.probe({ step, steps: slider.steps, runs: [], pending: true });
    const runsProbe = await Promise.all(probes);
    if (my === seq) c.probe({ step, steps: slider.steps, runs: runsProbe });
  }

  return { el: c.el, load, destroy() { seq++; } };
}

export { h, clear };
