import { describe, expect, it } from "vitest";
import { axisData, axisTicks, brushed, defaultAxes, denorm, norm } from "../src/lib/axes";

const runs = [
  { config: { lr: 0.1, opt: "adam" }, summary: { acc: 0.9 } },
  { config: { lr: 0.01, opt: "sgd" }, summary: { acc: { $f: "NaN" } } },
  { config: { lr: 0.001, opt: "adam" }, summary: {} },
];

describe("axes", () => {
  it("extracts numeric axes with range and gaps", () => {
    const a = axisData(runs, "config.lr");
    expect(a.min).toBe(0.001);
    expect(a.max).toBe(0.1);
    expect(norm(a, 0.1)).toBe(1);
    expect(axisData(runs, "summary.acc").vals).toEqual([0.9, null, null]);
  });
  it("turns strings into ordinal categories", () => {
    const a = axisData(runs, "config.opt");
    expect(a.cats).toEqual(["adam", "sgd"]);
    expect(a.vals).toEqual([0, 1, 0]);
  });
  it("brushes across axes", () => {
    const axes = [axisData(runs, "config.lr"), axisData(runs, "config.opt")];
    expect(brushed(axes, new Map([["config.lr", [0.005, 1]]]), 3)).toEqual([0, 1]);
    expect(brushed(axes, new Map<string, [number, number]>([["config.lr", [0.005, 1]], ["config.opt", [0, 0.5]]]), 3)).toEqual([0]);
  });
});

describe("default axes and ticks", () => {
  const sweep = [
    { config: { lr: 0.1, opt: "adam", seed: 1, data: { path: "/d" } }, summary: { loss: 0.3, _runtime: 5 } },
    { config: { lr: 0.01, opt: "sgd", seed: 1, data: { path: "/d" } }, summary: { loss: 0.2, _runtime: 6 } },
  ];
  const keys = ["config.data", "config.data.path", "config.lr", "config.opt", "config.seed", "summary._runtime", "summary.loss"];
  it("picks the config keys that vary, then the primary metric", () => {
    expect(defaultAxes(sweep, keys)).toEqual(["config.lr", "config.opt", "summary.loss"]);
  });
  it("labels every category and round numbers", () => {
    expect(axisTicks(axisData(sweep, "config.opt")).map((t) => t.label)).toEqual(["adam", "sgd"]);
    const lr = axisTicks(axisData(sweep, "config.lr")).map((t) => t.label);
    expect(lr).toEqual(["0.02", "0.04", "0.06", "0.08", "0.10"]);
  });
});

describe("log axes", () => {
  const lrs = [{ c: { lr: 3e-5 } }, { c: { lr: 0.002 } }, { c: { lr: 0.1 } }, { c: { lr: 0 } }, { c: { lr: "adam" } }];
  it("span whole decades with ticks at powers of ten, non-positive values left out", () => {
    const a = axisData(lrs, "c.lr", true);
    expect(a.log).toBe(true);
    expect([a.min, a.max]).toEqual([1e-5, 0.1]);
    expect(a.vals).toEqual([3e-5, 0.002, 0.1, null, null]);
    expect(axisTicks(a).map((t) => t.label)).toEqual(["10µ", "100µ", "0.001", "0.01", "0.1"]);
    expect(axisTicks(a).map((t) => t.t)).toEqual([0, 0.25, 0.5, 0.75, 1].map((v) => expect.closeTo(v, 9)));
    expect(norm(a, 1e-3)).toBeCloseTo(0.5, 9);
    expect(denorm(a, 0.5)).toBeCloseTo(1e-3, 12);
  });
  it("keep a linear axis when asked, and when no value is positive", () => {
    expect(axisData(lrs, "c.lr").log).toBeUndefined();
    expect(axisData([{ v: -1 }, { v: 0 }], "v", true).log).toBeUndefined();
    expect(denorm(axisData([{ v: 2 }, { v: 4 }], "v"), 0.5)).toBe(3);
  });
});
