import { describe, expect, it } from "vitest";
import { aggregate, align, fillForward, mergeIncrement, normaliseSeries, type BucketSeries } from "../src/lib/buckets";

const s = (run_id: string, x: number[], y: number[]): BucketSeries => ({
  run_id, x, last: y, min: y.map((v) => v - 1), max: y.map((v) => v + 1), mean: y, count: x.map(() => 1), nonfinite: x.map(() => 0), exact: true,
});

describe("bucket alignment", () => {
  it("aligns runs with different x on the union with gaps", () => {
    const a = align([s("a", [0, 2, 4], [1, 2, 3]), s("b", [1, 2], [10, 20])]);
    expect(a.x).toEqual([0, 1, 2, 4]);
    expect(a.last).toEqual([[1, null, 2, 3], [null, 10, 20, null]]);
    expect(a.min[1]).toEqual([null, 9, 19, null]);
  });
  it("snaps to a grid when the union is too large, keeping the last value per cell", () => {
    const a = align([s("a", [0, 1, 2, 3, 9], [1, 2, 3, 4, 5]), s("b", [0.5, 9], [7, 8])], 2);
    expect(a.x).toEqual([3, 9]);
    expect(a.last).toEqual([[4, 5], [7, 8]]);
    expect(a.min[0]).toEqual([0, 4]); // min over the cell
    expect(a.max[0]).toEqual([5, 6]);
  });
  it("ignores non-finite x and sorts", () => {
    const a = align([s("a", [5, NaN, 1], [1, 2, 3])]);
    expect(a.x).toEqual([1, 5]);
    expect(a.last[0]).toEqual([3, 1]);
  });
  it("decodes tagged NaN cells from the server", () => {
    const n = normaliseSeries({ run_id: "r", x: [0, 1], last: [{ $f: "NaN" }, 2], exact: true });
    expect(n.last[0]).toBeNaN();
    expect(n.min).toEqual(n.last);
    expect(n.count).toEqual([1, 1]);
  });
});

describe("live increments", () => {
  it("replaces points at or after fromX and keeps earlier ones", () => {
    const merged = mergeIncrement(s("a", [0, 1, 2], [1, 1, 1]), s("a", [2, 3], [5, 6]), 2);
    expect(merged.x).toEqual([0, 1, 2, 3]);
    expect(merged.last).toEqual([1, 1, 5, 6]);
  });
});

describe("group aggregation", () => {
  it("computes mean with min/max over members, skipping gaps", () => {
    const g = aggregate([[1, 2, null], [3, null, NaN]]);
    expect(g.mean).toEqual([2, 2, null]);
    expect(g.min).toEqual([1, 2, null]);
    expect(g.max).toEqual([3, 2, null]);
  });
  it("fills gaps forward but not past the end", () => {
    expect(fillForward([null, 1, null, 2, null])).toEqual([null, 1, 1, 2, null]);
  });
});
