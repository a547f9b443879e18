import { describe, expect, it } from "vitest";
import { DEFAULT_STATE, decodeState, encodeState, parseRoute, routePath, type ViewState } from "../src/lib/urlstate";

describe("routes", () => {
  it("parses every view and round-trips paths with odd characters", () => {
    expect(parseRoute("/")).toEqual({ view: "entities" });
    expect(parseRoute("/signin")).toEqual({ view: "signin" });
    expect(parseRoute("/admin")).toEqual({ view: "projects", entity: "admin" });
    expect(parseRoute("/admin/mnist")).toEqual({ view: "workspace", entity: "admin", project: "mnist" });
    expect(parseRoute("/admin/mnist/compare")).toEqual({ view: "compare", entity: "admin", project: "mnist" });
    const r = { view: "run", entity: "a b", project: "p/x", run: "r%1" } as const;
    expect(parseRoute(routePath(r))).toEqual(r);
  });
});

describe("view state in the query string", () => {
  it("omits defaults", () => {
    expect(encodeState(DEFAULT_STATE)).toBe("");
    expect(decodeState("")).toEqual(DEFAULT_STATE);
  });
  it("round-trips a full state", () => {
    const s: ViewState = {
      ...DEFAULT_STATE, selected: ["a,1", "b"], pinned: ["b"], q: "^x.*", smoothing: 0.85, x: "_runtime",
      zoom: [10, 250.5], log: true, band: false, sort: "summary.acc", group: "config.model",
      cols: ["config.lr", "summary.acc"], search: "train/", tab: "scatter", sx: "config.lr", sy: "summary.acc",
      color: "summary.loss", axes: ["config.lr", "summary.acc"],
      filters: [{ field: "config.lr", op: ">", value: "0.01" }, { field: "name", op: "~", value: "a&b=c" }],
    };
    expect(decodeState(encodeState(s))).toEqual(s);
  });
  it("clamps smoothing and rejects broken values", () => {
    const s = decodeState("?s=5&zoom=9,1&f=notjson");
    expect(s.smoothing).toBe(0.999);
    expect(s.zoom).toBeNull();
    expect(s.filters).toEqual([]);
  });
});
