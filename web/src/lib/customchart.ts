// Custom charts (`plot.*`, `plot_table`, `sklearn.plot_*`): the data is a table under
// `<key>_table` and a `custom-chart` descriptor under `<key>` names a wandb Vega preset (`spec`)
// and which table columns fill its fields (docs/media-api.md). We draw the presets ourselves,
// so this module turns (preset, fields, table) into one of five drawable shapes. Pure; tested.

export type ChartShape =
  | { kind: "line"; x: string; y: string; series: { name: string; x: number[]; y: number[] }[]; area?: boolean }
  | { kind: "scatter"; x: string; y: string; series: { name: string; x: number[]; y: number[] }[] }
  | { kind: "bar"; label: string; value: string; categories: string[]; series: { name: string; values: (number | null)[] }[] }
  | { kind: "histogram"; value: string; edges: number[]; counts: number[] }
  | { kind: "heatmap"; rowsLabel: string; colsLabel: string; rows: string[]; cols: string[]; cells: number[][] };

export interface TableData { columns: string[]; data: unknown[][] }

/** Presets by family: which shape draws them and the default column of each role. */
type Family = "line" | "scatter" | "bar" | "histogram" | "heatmap" | "curve";
const PRESETS: [RegExp, Family][] = [
  [/confusion/, "heatmap"],
  [/area-under-curve|roc|pr[-_]?curve|precision|calibration|learning[-_]?curve|elbow|line[-_]?series|lineseries/, "curve"],
  [/scatter|residual|outlier|silhouette|decision/, "scatter"],
  [/histogram/, "histogram"],
  [/bar|feature[-_]?importance|metrics|class[-_]?proportion|summary/, "bar"],
  [/line/, "line"],
];

export function familyOf(panelDefId: string): Family | null {
  const id = panelDefId.toLowerCase();
  for (const [re, f] of PRESETS) if (re.test(id)) return f;
  return null;
}

const num = (v: unknown): number | null => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : null);

/** The first of `names` that is a table column (field mapping first, then wandb's defaults). */
function col(t: TableData, fields: Record<string, string>, roles: string[], defaults: string[]): string | null {
  for (const r of roles) if (fields[r] && t.columns.includes(fields[r])) return fields[r];
  for (const d of defaults) if (t.columns.includes(d)) return d;
  return null;
}

/** Rows grouped by a series column (or one series), as numeric x/y pairs. */
function seriesOf(t: TableData, x: string, y: string, by: string | null) {
  const xi = t.columns.indexOf(x), yi = t.columns.indexOf(y), si = by ? t.columns.indexOf(by) : -1;
  const groups = new Map<string, { name: string; x: number[]; y: number[] }>();
  for (const row of t.data) {
    const xv = num(row[xi]), yv = num(row[yi]);
    if (xv === null || yv === null) continue;
    const name = si >= 0 ? String(row[si]) : y;
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, x: [], y: [] }));
    g.x.push(xv); g.y.push(yv);
  }
  return [...groups.values()];
}

/** Turn a preset + its table into a drawable shape, or an error that names what is missing. */
export function chartShape(spec: { panelDefId: string; fields: Record<string, string> }, t: TableData): ChartShape | { error: string } {
  const fam = familyOf(spec.panelDefId);
  const f = spec.fields;
  const need = (what: string) => ({ error: `${spec.panelDefId}: the table has no ${what} column (columns: ${t.columns.join(", ")})` });
  switch (fam) {
    case "heatmap": {
      const a = col(t, f, ["Actual", "actual", "y"], ["Actual", "actual", "y_true"]);
      const p = col(t, f, ["Predicted", "predicted", "x"], ["Predicted", "predicted", "y_pred"]);
      const n = col(t, f, ["nPredictions", "Count", "count", "value", "z"], ["nPredictions", "Count", "count", "z"]);
      if (!a || !p || !n) return need("Actual/Predicted/nPredictions");
      return confusion(t, a, p, n);
    }
    case "curve": {
      const x = col(t, f, ["x", "step", "train_size", "fpr", "recall"], ["fpr", "recall", "train_size", "step", "x", "k", "mean_predicted_value", "cluster_ranges"]);
      const y = col(t, f, ["y", "lineVal", "score", "tpr", "precision"], ["tpr", "precision", "score", "lineVal", "y", "fraction_of_positives", "errors"]);
      const by = col(t, f, ["class", "lineKey", "dataset", "model", "stroke", "color"], ["class", "lineKey", "dataset", "model", "name"]);
      if (!x || !y) return need("x/y");
      const series = seriesOf(t, x, y, by).map((s) => sortByX(s));
      return { kind: "line", x, y, series, area: /area-under-curve|roc|pr/.test(spec.panelDefId) };
    }
    case "line": case "scatter": {
      // sklearn's presets name no fields: their columns are known (residuals, outliers, silhouette).
      const x = col(t, f, ["x"], ["y_pred", "instance_indicies", "x", t.columns[0]]), y = col(t, f, ["y"], ["residuals", "distance", "y", t.columns[1]]);
      if (!x || !y) return need("x/y");
      const by = col(t, f, ["stroke", "color", "groupKeys", "class"], Object.keys(f).length ? [] : ["dataset", "colors"]);
      const series = seriesOf(t, x, y, by);
      return fam === "line" ? { kind: "line", x, y, series: series.map(sortByX) } : { kind: "scatter", x, y, series };
    }
    case "bar": {
      const label = col(t, f, ["label", "feature_names", "metric_name", "class", "x"], ["label", "feature_names", "metric_name", "class", t.columns[0]]);
      const value = col(t, f, ["value", "importances", "metric_value", "count", "y"], ["value", "importances", "metric_value", "count", t.columns[1]]);
      if (!label || !value) return need("label/value");
      const by = col(t, f, ["color", "model_name", "dataset", "groupKeys"], ["model_name", "dataset"]);
      return bars(t, label, value, by && by !== label ? by : null);
    }
    case "histogram": {
      const value = col(t, f, ["value"], [t.columns[0]]);
      if (!value) return need("value");
      const vi = t.columns.indexOf(value);
      return { kind: "histogram", value, ...binValues(t.data.map((r) => num(r[vi])).filter((v): v is number => v !== null && Number.isFinite(v))) };
    }
    default:
      return { error: `no drawing for the preset ${spec.panelDefId}` };
  }
}

function sortByX(s: { name: string; x: number[]; y: number[] }) {
  const idx = s.x.map((_, i) => i).sort((a, b) => s.x[a] - s.x[b]);
  return { name: s.name, x: idx.map((i) => s.x[i]), y: idx.map((i) => s.y[i]) };
}

function confusion(t: TableData, a: string, p: string, n: string): ChartShape {
  const ai = t.columns.indexOf(a), pi = t.columns.indexOf(p), ni = t.columns.indexOf(n);
  const labels: string[] = [];
  const seen = new Set<string>();
  for (const r of t.data) for (const v of [String(r[ai]), String(r[pi])]) if (!seen.has(v)) { seen.add(v); labels.push(v); }
  const idx = new Map(labels.map((l, i) => [l, i]));
  const cells = labels.map(() => labels.map(() => 0));
  for (const r of t.data) cells[idx.get(String(r[ai]))!][idx.get(String(r[pi]))!] += num(r[ni]) ?? 0;
  return { kind: "heatmap", rowsLabel: a, colsLabel: p, rows: labels, cols: labels, cells };
}

function bars(t: TableData, label: string, value: string, by: string | null): ChartShape {
  const li = t.columns.indexOf(label), vi = t.columns.indexOf(value), bi = by ? t.columns.indexOf(by) : -1;
  const cats: string[] = [], catIdx = new Map<string, number>();
  const ser = new Map<string, (number | null)[]>();
  for (const r of t.data) {
    const c = String(r[li]);
    if (!catIdx.has(c)) { catIdx.set(c, cats.length); cats.push(c); }
  }
  for (const r of t.data) {
    const name = bi >= 0 ? String(r[bi]) : value;
    let vals = ser.get(name);
    if (!vals) ser.set(name, (vals = cats.map(() => null)));
    vals[catIdx.get(String(r[li]))!] = num(r[vi]);
  }
  return { kind: "bar", label, value, categories: cats, series: [...ser.entries()].map(([name, values]) => ({ name, values })) };
}

/** Equal-width bins (Sturges' rule, at most 64) over the finite values. */
export function binValues(values: number[], maxBins = 64): { edges: number[]; counts: number[] } {
  if (!values.length) return { edges: [], counts: [] };
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const n = Math.max(1, Math.min(maxBins, Math.ceil(Math.log2(values.length) + 1)));
  if (hi === lo) hi = lo + 1;
  const w = (hi - lo) / n;
  const counts = new Array(n).fill(0);
  for (const v of values) counts[Math.min(n - 1, Math.floor((v - lo) / w))]++;
  return { edges: Array.from({ length: n + 1 }, (_, i) => lo + i * w), counts };
}
