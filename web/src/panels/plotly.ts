// Plotly panel: the logged figure JSON drawn by plotly.js. The library (the "basic" bundle:
// scatter, bar and pie traces, ~370 KB gzipped) is loaded on first use only, so pages without
// a Plotly figure never download it; histograms and heatmaps are redrawn with those traces
// (lib/plotlyconv). See docs/web.md for why this bundle.

import { fetchText } from "../mediaapi";
import { toBasic, type Trace } from "../lib/plotlyconv";
import { h, steppedPanel } from "./stepped";
import type { Panel, PanelCtx } from "./common";

interface PlotlyLib { newPlot(el: HTMLElement, data: unknown[], layout: Record<string, unknown>, config: Record<string, unknown>): Promise<unknown> }
let lib: Promise<PlotlyLib> | null = null;
const plotly = () => (lib ??= import("plotly.js-basic-dist-min").then((m) => (m.default ?? m) as PlotlyLib));

export function plotlyPanel(ctx: PanelCtx): Panel {
  return steppedPanel("plotly", ctx, (_run, item) => {
    const v = item.value as Record<string, unknown>;
    const box = h("div", { class: "media-plotly" });
    const note = h("div", { class: "muted" });
    const ready = Promise.all([fetchText(String(v.url)), plotly()]).then(async ([text, Plotly]) => {
      const fig = JSON.parse(text) as { data?: Trace[]; layout?: Record<string, unknown> };
      const data = fig.data ?? [];
      const types = data.map((t) => t.type ?? "scatter");
      const { data: drawable, converted, missing } = toBasic(data);
      if (missing.length) note.textContent = `trace types not drawn here (scatter, bar, pie, histogram, heatmap, histogram2d are): ${missing.join(", ")}`;
      await Plotly.newPlot(box, drawable, { ...(fig.layout ?? {}), autosize: true, height: 320 }, { displaylogo: false, responsive: true });
      return { src: v.path, traces: data.length, types, drawn: box.querySelectorAll(".trace").length, converted, unsupported: missing };
    });
    return { el: h("div", null, note, box), ready };
  });
}
