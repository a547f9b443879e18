import { describe, expect, it } from "vitest";
import { parseSmoothing, partitionStarts, smoothSeries, smoothTB } from "../src/lib/smoothing";

// Golden vectors from TensorBoard's data_transformer_test.ts (peers.md 5.1).
const close = (got: (number | null)[], want: number[]) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    const g = got[i] as number;
    if (!Number.isFinite(w)) expect(Object.is(g, w) || (Number.isNaN(w) && Number.isNaN(g))).toBe(true);
    else expect(Math.abs(g - w)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(w)));
  });
};

describe("TensorBoard debiased EMA", () => {
  it("matches the decreasing reference vector at w=0.6", () => {
    close(smoothTB([1, 0.5, 0], 0.6), [1, 0.6875, 0.336734693877551]);
  });
  it("matches the increasing reference vector at w=0.6", () => {
    close(smoothTB([0, 0.5, 1], 0.6), [0, 0.3125, 0.6632653061224489]);
  });
  it("passes non-finite points through without counting them", () => {
    close(smoothTB([-Infinity, 1, NaN, Infinity, 0.5], 0.6), [-Infinity, 1, NaN, Infinity, 0.6875]);
  });
  it("w=1 turns every finite point into 0", () => {
    close(smoothTB([1, 0.5, 0], 1), [0, 0, 0]);
  });
  it("w=0 is the identity", () => {
    close(smoothTB([3, -1, 7.5], 0), [3, -1, 7.5]);
  });
  it("returns constant series unchanged", () => {
    expect(smoothTB([0.3, 0.3, 0.3], 0.1)).toEqual([0.3, 0.3, 0.3]);
  });
  it("normalises bad weights (NaN -> 0, >1 -> 1)", () => {
    close(smoothTB([1, 0.5, 0], NaN), [1, 0.5, 0]);
    close(smoothTB([1, 0.5, 0], 5), [0, 0, 0]);
  });
  it("keeps null gaps", () => {
    close(smoothTB([1, null as unknown as number, 0.5], 0.6).map((v) => v ?? NaN), [1, NaN, 0.6875]);
  });
  it("restarts the EMA when x decreases", () => {
    expect(partitionStarts([0, 1, 2, 0, 1])).toEqual([0, 3]);
    close(smoothSeries([0, 1, 2, 0, 1, 2], [1, 0.5, 0, 1, 0.5, 0], 0.6), [
      1, 0.6875, 0.336734693877551, 1, 0.6875, 0.336734693877551,
    ]);
  });
  it("clamps and rounds persisted values like TensorBoard", () => {
    expect(parseSmoothing("0.12345")).toBe(0.123);
    expect(parseSmoothing(2)).toBe(0.999);
    expect(parseSmoothing(-1)).toBe(0);
    expect(parseSmoothing("junk")).toBe(0.6);
  });
});
