import { describe, expect, it } from "vitest";
import {
  boxLabel, boxRect, classMap, colorizeMask, displayUrl, histogramGrid, imageRefs, kindOfType, maskClasses, mediaKeysOf, panelKeys, stepAt, unionSteps,
} from "../src/lib/media";
import { binValues, chartShape, familyOf } from "../src/lib/customchart";
import { cellText, nextSort, pagesFor, parseTableFilter } from "../src/lib/mediatable";

describe("panel kinds", () => {
  it("maps wandb _type names to panels", () => {
    expect(kindOfType("image-file")).toBe("image");
    expect(kindOfType("images/separated")).toBe("image");
    expect(kindOfType("table-file")).toBe("table");
    expect(kindOfType("histogram")).toBe("histogram");
    expect(kindOfType("custom-chart")).toBe("chart");
    expect(kindOfType("video-file")).toBe("video");
    expect(kindOfType("string")).toBe("text");
    expect(kindOfType("plotly-file")).toBe("plotly");
    expect(kindOfType("nonsense")).toBeNull();
  });
  it("finds media and text keys in summaries, typed values as leaves", () => {
    const m = mediaKeysOf([
      { loss: 0.1, img: { _type: "image-file", path: "x", width: 2 }, phase: "train", eval: { table: { _type: "table-file" }, acc: 0.5 }, _step: 3 },
      { img: { _type: "images/separated" }, roc: { _type: "custom-chart", table_key: "roc_table" }, roc_table: { _type: "table-file" } },
    ]);
    expect([...m]).toEqual([["img", "image-file"], ["phase", "string"], ["eval.table", "table-file"], ["roc", "custom-chart"], ["roc_table", "table-file"]]);
    expect(panelKeys(m, (k) => (k === "roc" ? "roc_table" : null)).map(([k]) => k)).toEqual(["img", "phase", "eval.table", "roc"]);
  });
});

describe("steps", () => {
  it("shows the last logged step at or below the slider", () => {
    expect(stepAt([0, 5, 10], 7)).toBe(5);
    expect(stepAt([0, 5, 10], 10)).toBe(10);
    expect(stepAt([3, 5], 1)).toBe(3);
    expect(stepAt([], 1)).toBeNull();
    expect(unionSteps([[0, 4, 8], [2, 4]])).toEqual([0, 2, 4, 8]);
  });
});

describe("boxes and masks", () => {
  it("places pixel-domain and fractional boxes", () => {
    expect(boxRect({ position: { minX: 10, maxX: 50, minY: 5, maxY: 40 }, domain: "pixel", class_id: 1 }, 200, 100, 100, 50))
      .toEqual({ x: 20, y: 10, w: 80, h: 70 });
    const r = boxRect({ position: { middle: [0.5, 0.5], width: 0.5, height: 0.2 }, class_id: 1 }, 200, 100, 100, 50)!;
    expect([r.x, r.y, r.w, r.h].map((v) => Math.round(v * 1e9) / 1e9)).toEqual([50, 40, 100, 20]);
    expect(boxRect({ position: {}, class_id: 1 }, 10, 10, 10, 10)).toBeNull();
  });
  it("labels boxes by caption or class name, with scores", () => {
    expect(boxLabel({ position: {}, class_id: 2, scores: { acc: 0.5 } }, { 2: "dog" })).toBe("dog acc=0.50");
    expect(boxLabel({ position: {}, class_id: 9, box_caption: "x" }, {})).toBe("x");
    expect(classMap([{ id: 1, name: "cat" }], { "2": "dog" })).toEqual({ 1: "cat", 2: "dog" });
  });
  it("colours only the enabled classes of a mask", () => {
    const rgba = colorizeMask([0, 1, 2, 1], (id) => id === 1, 1);
    expect([...rgba.slice(0, 4)]).toEqual([0, 0, 0, 0]);
    expect(rgba[7]).toBe(255);
    expect(rgba[11]).toBe(0);
    expect(maskClasses([0, 1, 2, 1, 7])).toEqual([0, 1, 2, 7]);
  });
  it("reads images/separated with per-image references or plain urls", () => {
    const refs = imageRefs({ _type: "images/separated", width: 4, height: 4, captions: ["a", "b"], urls: ["/u1", "/u2"] });
    expect(refs.map((r) => [r.url, r.caption, r.width])).toEqual([["/u1", "a", 4], ["/u2", "b", 4]]);
    const one = imageRefs({ _type: "image-file", url: "/x", width: 3, height: 2, masks: { gt: { _type: "mask", url: "/m", class_labels: { 1: "cat" } } },
      boxes: { p: { box_data: [{ position: { minX: 0, maxX: 1, minY: 0, maxY: 1 }, class_id: 1 }], class_labels: { 1: "cat" } } } });
    expect(one[0].masks[0].url).toBe("/m");
    expect(one[0].boxes).toHaveLength(1);
    expect(one[0].classes).toEqual({ 1: "cat" });
  });
  it("draws large images from the server's thumbnail at the device's density, small ones from the file", () => {
    const [big] = imageRefs({ _type: "images/separated", width: 1200, height: 600, urls: ["/f/a.png"], thumbnails: ["/t/a.png"] });
    expect(big.thumb).toBe("/t/a.png");
    expect(displayUrl(big, 110)).toBe("/t/a.png?size=110");
    expect(displayUrl(big, 220, 2)).toBe("/t/a.png?size=440");
    expect(displayUrl(big, 900, 2)).toBe("/f/a.png"); // needs more pixels than the file has
    expect(displayUrl(big, 700)).toBe("/t/a.png?size=700");
    const [small] = imageRefs({ _type: "image-file", url: "/f/m.png", thumbnail: "/t/m.png", width: 28, height: 28 });
    expect(displayUrl(small, 110)).toBe("/f/m.png");
    expect(displayUrl({ url: "/f/x.png", width: 5000, height: 10 }, 100)).toBe("/f/x.png"); // no thumbnail route offered
  });
});

describe("histograms over steps", () => {
  it("re-bins every step onto one grid, keeping the counts", () => {
    const g = histogramGrid([{ step: 0, bins: [0, 1, 2], values: [4, 2] }, { step: 1, bins: [1, 3], values: [10] }], 3);
    expect(g.lo).toBe(0);
    expect(g.hi).toBe(3);
    expect([...g.cols[0]]).toEqual([4, 2, 0]);
    expect([...g.cols[1]].map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0, 5, 5]);
    expect(g.max).toBe(5);
  });
});

describe("custom charts", () => {
  const roc = { columns: ["class", "fpr", "tpr"], data: [["a", 0.5, 0.8], ["a", 0, 0], ["b", 0, 0.1], ["a", 1, 1]] };
  it("draws wandb presets as the right shapes", () => {
    expect(familyOf("wandb/area-under-curve/v0")).toBe("curve");
    expect(familyOf("wandb/confusion_matrix/v1")).toBe("heatmap");
    expect(familyOf("wandb/bar/v0")).toBe("bar");
    expect(familyOf("wandb/lineseries/v0")).toBe("curve");
    expect(familyOf("wandb/scatter/v0")).toBe("scatter");
    const s = chartShape({ panelDefId: "wandb/area-under-curve/v0", fields: { x: "fpr", y: "tpr", class: "class" } }, roc);
    expect(s).toMatchObject({ kind: "line", series: [{ name: "a", x: [0, 0.5, 1], y: [0, 0.8, 1] }, { name: "b", x: [0], y: [0.1] }] });
  });
  it("builds a confusion matrix from Actual/Predicted/nPredictions rows", () => {
    const s = chartShape({ panelDefId: "wandb/confusion_matrix/v1", fields: {} },
      { columns: ["Actual", "Predicted", "nPredictions"], data: [["x", "x", 3], ["x", "y", 1], ["y", "y", 2]] });
    expect(s).toEqual({ kind: "heatmap", rowsLabel: "Actual", colsLabel: "Predicted", rows: ["x", "y"], cols: ["x", "y"], cells: [[3, 1], [0, 2]] });
  });
  it("bars, histograms and errors naming the missing column", () => {
    expect(chartShape({ panelDefId: "wandb/bar/v0", fields: { label: "l", value: "v" } }, { columns: ["l", "v"], data: [["a", 1], ["b", 2]] }))
      .toMatchObject({ kind: "bar", categories: ["a", "b"], series: [{ values: [1, 2] }] });
    const h = chartShape({ panelDefId: "wandb/histogram/v0", fields: { value: "v" } }, { columns: ["v"], data: [[0], [1], [1], [2]] });
    expect("kind" in h && h.kind === "histogram" && h.counts.reduce((a: number, b: number) => a + b, 0)).toBe(4);
    const e = chartShape({ panelDefId: "wandb/confusion_matrix/v1", fields: {} }, { columns: ["a"], data: [] });
    expect("error" in e && e.error).toContain("Actual");
    expect(binValues([])).toEqual({ edges: [], counts: [] });
  });
  it("draws sklearn presets, which name no fields, from their known columns", () => {
    expect(chartShape({ panelDefId: "wandb/residuals_plot/v1", fields: {} }, { columns: ["dataset", "y_pred", "residuals", "train_score", "test_score"],
      data: [["train", 1, 0.5, 0.9, 0.8], ["test", 2, -0.5, 0.9, 0.8]] })).toMatchObject({ kind: "scatter", x: "y_pred", y: "residuals", series: [{ name: "train" }, { name: "test" }] });
    expect(chartShape({ panelDefId: "wandb/elbow/v1", fields: {} }, { columns: ["cluster_ranges", "errors", "clustering_time"], data: [[2, 10, 0.1], [1, 20, 0.1]] }))
      .toMatchObject({ kind: "line", x: "cluster_ranges", y: "errors", series: [{ x: [1, 2], y: [20, 10] }] });
    expect(chartShape({ panelDefId: "wandb/learning_curve/v1", fields: {} }, { columns: ["dataset", "score", "train_size"], data: [["train", 0.9, 10], ["test", 0.8, 10]] }))
      .toMatchObject({ kind: "line", series: [{ name: "train" }, { name: "test" }] });
    expect(chartShape({ panelDefId: "wandb/confusion_matrix/v1", fields: {} }, { columns: ["Predicted", "Actual", "Count"], data: [["a", "b", 2]] }))
      .toMatchObject({ kind: "heatmap", cells: [[0, 2], [0, 0]] });
    expect(chartShape({ panelDefId: "wandb/class_proportions/v1", fields: {} }, { columns: ["class", "dataset", "count"], data: [["a", "train", 3], ["a", "test", 1]] }))
      .toMatchObject({ kind: "bar", categories: ["a"], series: [{ name: "train", values: [3] }, { name: "test", values: [1] }] });
  });
});

describe("table panel", () => {
  const cols = ["id", "label", "score"];
  it("parses the filter line into the server's filter", () => {
    expect(parseTableFilter("score > 0.5, label = cat", cols)).toEqual({ filter: { score: { $gt: 0.5 }, label: { $eq: "cat" } }, error: null });
    expect(parseTableFilter("Score>=1, score<=2", cols).filter).toEqual({ score: { $gte: 1, $lte: 2 } });
    expect(parseTableFilter("label ~ at, id in 1|2", cols).filter).toEqual({ label: { $contains: "at" }, id: { $in: [1, 2] } });
    expect(parseTableFilter("label != '3'", cols).filter).toEqual({ label: { $ne: "3" } });
    expect(parseTableFilter("nope = 1", cols).error).toContain("no column");
    expect(parseTableFilter("score", cols).error).toContain("expected");
  });
  it("cycles sort asc → desc → off", () => {
    let s = nextSort({ sort: "", order: "asc" }, "id");
    expect(s).toEqual({ sort: "id", order: "asc" });
    s = nextSort(s, "id");
    expect(s).toEqual({ sort: "id", order: "desc" });
    expect(nextSort(s, "id")).toEqual({ sort: "", order: "asc" });
  });
  it("shows media cells by type and file name", () => {
    expect(cellText({ _type: "image-file", path: "media/images/ab.png", caption: "c" })).toBe("image-file ab.png “c”");
    expect(cellText({ _type: "histogram", values: [1, 2] })).toBe("histogram (2 bins)");
    expect(cellText(null)).toBe("");
    expect(cellText(1.5)).toBe("1.5");
    expect(pagesFor(150, 450, 200)).toEqual([0, 200, 400]);
  });
});
