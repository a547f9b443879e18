import { describe, expect, it } from "vitest";
import { histogramToBar, heatmapToScatter, niceWidth, toBasic } from "../src/lib/plotlyconv";

describe("plotly traces outside the basic bundle", () => {
  it("bins a histogram into bars as plotly would: explicit bins, counts, histnorm", () => {
    const b = histogramToBar({ type: "histogram", x: [0.5, 1.5, 1.7, 2.2, 9.9], xbins: { start: 0, end: 10, size: 1 } });
    expect(b.type).toBe("bar");
    expect((b.y as number[]).slice(0, 3)).toEqual([1, 2, 1]);
    expect((b.y as number[])[9]).toBe(1);
    expect((b.x as number[])[0]).toBe(0.5);
    const p = histogramToBar({ type: "histogram", x: [1, 1, 2, 3], xbins: { start: 0, size: 1 }, histnorm: "percent" });
    expect((p.y as number[]).reduce((a, c) => a + c, 0)).toBeCloseTo(100);
  });
  it("counts categories, and sums the other axis with histfunc", () => {
    expect(histogramToBar({ type: "histogram", x: ["a", "b", "a"] })).toMatchObject({ x: ["a", "b"], y: [2, 1] });
    const s = histogramToBar({ type: "histogram", x: [0.1, 0.2, 1.5], y: [10, 5, 1], histfunc: "sum", xbins: { start: 0, size: 1 } });
    expect((s.y as number[]).slice(0, 2)).toEqual([15, 1]);
    const h = histogramToBar({ type: "histogram", y: [1, 2, 2], ybins: { start: 0, size: 1 } });
    expect(h.orientation).toBe("h");
    expect((h.x as number[]).slice(1, 3)).toEqual([1, 2]);
  });
  it("auto bins use nice widths", () => {
    expect(niceWidth(10, 5)).toBe(2);
    expect(niceWidth(0.3, 3)).toBeCloseTo(0.1);
    const auto = histogramToBar({ type: "histogram", x: Array.from({ length: 100 }, (_, i) => i) });
    expect((auto.y as number[]).reduce((a, c) => a + c, 0)).toBe(100);
  });
  it("draws a heatmap as coloured squares with every finite cell and its value on hover", () => {
    const s = heatmapToScatter({ type: "heatmap", z: [[1, 2, null], [3, 4, 5]], x: ["a", "b", "c"], y: ["r0", "r1"] });
    expect(s.x).toEqual(["a", "b", "a", "b", "c"]);
    expect(s.y).toEqual(["r0", "r0", "r1", "r1", "r1"]);
    expect((s.marker as { color: number[] }).color).toEqual([1, 2, 3, 4, 5]);
  });
  it("never hands plotly.js a key whose value is undefined (it reads `\"line\" in trace.marker`)", () => {
    const noUndefined = (o: unknown): boolean => !o || typeof o !== "object" || Object.values(o).every((v) => v !== undefined && noUndefined(v));
    const r = toBasic([{ type: "histogram", x: [1, 2] }, { type: "heatmap", z: [[1]] }]);
    expect(r.data.every(noUndefined)).toBe(true);
  });
  it("keeps basic traces, converts the known ones, names the rest", () => {
    const r = toBasic([{ type: "scatter" }, { type: "histogram", x: [1, 2] }, { type: "histogram2d", x: [1, 2, 2], y: [1, 1, 2] }, { type: "scatter3d" }]);
    expect(r.data.map((t) => t.type)).toEqual(["scatter", "bar", "scatter"]);
    expect(r.converted.sort()).toEqual(["histogram", "histogram2d"]);
    expect(r.missing).toEqual(["scatter3d"]);
    const cells = (r.data[2].marker as { color: number[] }).color;
    expect(cells.reduce((a, c) => a + c, 0)).toBe(3);
  });
});
