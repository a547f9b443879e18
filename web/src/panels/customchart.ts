// Custom charts (`plot.*`, `plot_table`, `sklearn.plot_*`): the `custom-chart` descriptor names a
// wandb Vega preset and which table columns fill it; lib/customchart.ts maps that onto a line,
// scatter, bar, histogram or heatmap (confusion matrix), drawn here on a canvas by our own
// code. Presets it cannot draw fall back to the table itself.

import { mediaApi } from "../mediaapi";
import { chartShape, type ChartShape } from "../lib/customchart";
import { formatNumber } from "../lib/tjson";
import { axes, canvas, extent, heat, legend, points, polyline, SERIES_COLORS } from "./plot";
import { h, steppedPanel } from "./stepped";
import { refOf, type Panel, type PanelCtx } from "./common";
import { cellText } from "../lib/mediatable";

const W = 460, H = 300;
const color = (i: number) => SERIES_COLORS[i % SERIES_COLORS.length];

export function customChartPanel(ctx: PanelCtx): Panel {
  return steppedPanel("chart", ctx, (run, item) => {
    const v = item.value as { spec?: string; fields?: Record<string, string>; string_fields?: Record<string, string> };
    const box = h("div", { class: "custom-chart" });
    const ready = mediaApi.table(refOf(run), ctx.key, { step: item.step, limit: 10000 }).then((t) => {
      const spec = { panelDefId: String(v.spec ?? ""), fields: v.fields ?? {} };
      const shape = chartShape(spec, { columns: t.columns, data: t.rows.map((r) => r.cells) });
      const title = v.string_fields?.title;
      if (title) box.append(h("div", { class: "chart-sub" }, title));
      if ("error" in shape) {
        box.append(h("div", { class: "muted" }, shape.error), fallbackTable(t.columns, t.rows.map((r) => r.cells)));
        return { spec: spec.panelDefId, kind: "table", error: shape.error, rows: t.total };
      }
      box.append(draw(shape, v.string_fields ?? {}));
      return { spec: spec.panelDefId, rows: t.total, ...summary(shape) };
    });
    return { el: box, ready };
  });
}

/** What the tests read back: the drawn shape's data, not its pixels. */
function summary(s: ChartShape): Record<string, unknown> {
  switch (s.kind) {
    case "line": case "scatter": return { kind: s.kind, x: s.x, y: s.y, series: s.series.map((x) => ({ name: x.name, points: x.x.length, x: x.x, y: x.y })) };
    case "bar": return { kind: "bar", categories: s.categories, series: s.series };
    case "histogram": return { kind: "histogram", edges: s.edges, counts: s.counts };
    case "heatmap": return { kind: "heatmap", rows: s.rows, cols: s.cols, cells: s.cells };
  }
}

function draw(s: ChartShape, strings: Record<string, string>): HTMLElement {
  const { cv, g } = canvas(W, H);
  const xl = strings["x-axis-title"], yl = strings["y-axis-title"];
  const wrap = h("div", null, cv);
  if (s.kind === "line" || s.kind === "scatter") {
    // ROC and PR curves live in the unit square: show all of it, even for a perfect classifier.
    const unit = s.kind === "line" && s.area ? [0, 1] : [];
    const f = axes(g, W, H, extent([...unit, ...s.series.flatMap((x) => x.x)]), extent([...unit, ...s.series.flatMap((x) => x.y)]), { x: xl ?? s.x, y: yl ?? s.y });
    s.series.forEach((ser, i) => (s.kind === "line" ? polyline(f, ser.x, ser.y, color(i), s.area) : points(f, ser.x, ser.y, color(i))));
    if (s.series.length > 1 || s.series[0]?.name !== s.y) wrap.append(legend(s.series.map((x) => x.name)));
  } else if (s.kind === "bar") {
    const vals = s.series.flatMap((x) => x.values.filter((v): v is number => v !== null));
    const [lo, hi0] = extent([0, ...vals]);
    const hi = hi0 * 1.05;
    const n = s.categories.length, k = s.series.length;
    const f = axes(g, W, H, [0, n], [lo, hi], { x: xl ?? s.label, y: yl ?? s.value },
      n <= 24 ? s.categories.map((c, i) => ({ at: i + 0.5, label: c.length > 10 ? `${c.slice(0, 9)}…` : c })) : []);
    const bw = (f.w / Math.max(1, n)) * 0.8 / k;
    s.series.forEach((ser, j) => ser.values.forEach((v, i) => {
      if (v === null) return;
      g.fillStyle = color(j);
      const x = f.sx(i + 0.1) + j * bw, y0 = f.sy(0), y1 = f.sy(v);
      g.fillRect(x, Math.min(y0, y1), Math.max(1, bw - 1), Math.abs(y1 - y0));
    }));
    if (k > 1) wrap.append(legend(s.series.map((x) => x.name)));
  } else if (s.kind === "histogram") {
    const f = axes(g, W, H, extent(s.edges), [0, Math.max(1, ...s.counts) * 1.05], { x: xl ?? s.value, y: yl ?? "count" });
    s.counts.forEach((c, i) => {
      g.fillStyle = color(0);
      g.fillRect(f.sx(s.edges[i]), f.sy(c), Math.max(1, f.sx(s.edges[i + 1]) - f.sx(s.edges[i]) - 1), f.sy(0) - f.sy(c));
    });
  } else {
    const n = s.rows.length, m = s.cols.length;
    const lab = (c: string) => (c.length > 8 ? `${c.slice(0, 7)}…` : c);
    // Top row = first class, as confusion matrices are read.
    const f = axes(g, W, H, [0, m], [0, n], { x: s.colsLabel, y: s.rowsLabel }, s.cols.map((c, j) => ({ at: j + 0.5, label: lab(c) })),
      s.rows.map((r, i) => ({ at: n - i - 0.5, label: lab(r) })));
    const max = Math.max(0, ...s.cells.flat());
    g.textAlign = "center"; g.textBaseline = "middle";
    s.cells.forEach((row, i) => row.forEach((v, j) => {
      const x = f.sx(j), y = f.sy(n - i), w = f.sx(j + 1) - x, hh = f.sy(n - i - 1) - y;
      g.fillStyle = heat(v, max); g.fillRect(x, y, w, hh);
      if (w > 18 && hh > 12) { g.fillStyle = v / max > 0.5 ? "#fff" : "#111"; g.fillText(formatNumber(v), x + w / 2, y + hh / 2); }
    }));
  }
  return wrap;
}

function fallbackTable(columns: string[], rows: unknown[][]) {
  return h("table", { class: "grid" }, h("thead", null, h("tr", null, columns.map((c) => h("th", null, c)))),
    h("tbody", null, rows.slice(0, 50).map((r) => h("tr", null, r.map((v) => h("td", null, cellText(v)))))));
}
