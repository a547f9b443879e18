import { describe, expect, it } from "vitest";
import { buildFilter, matchFilter, parseValue } from "../src/lib/filters";

const runs = [
  { run_id: "a", name: "alpha-1", state: "finished", tags: ["base"], config: { lr: 0.1, model: { layers: 4 } }, summary: { acc: 0.9 } },
  { run_id: "b", name: "beta-2", state: "running", tags: ["exp", "base"], config: { lr: 0.01, model: { layers: 8 } }, summary: { acc: 0.95 } },
  { run_id: "c", name: "gamma-3", state: "crashed", tags: [], config: { lr: 0.001 }, summary: {} },
];
const ids = (f: ReturnType<typeof buildFilter>) => runs.filter((r) => matchFilter(r, f)).map((r) => r.run_id);

describe("filter building", () => {
  it("builds MongoDB-style clauses ANDed together", () => {
    expect(buildFilter([
      { field: "config.lr", op: ">", value: "0.005" },
      { field: "state", op: "=", value: "running" },
    ])).toEqual({ $and: [{ "config.lr": { $gt: 0.005 } }, { state: "running" }] });
  });
  it("returns a single clause bare and null for nothing", () => {
    expect(buildFilter([{ field: "tags", op: "in", value: "a,b" }])).toEqual({ tags: { $in: ["a", "b"] } });
    expect(buildFilter([{ field: " ", op: "=", value: "x" }])).toBeNull();
  });
  it("adds the name regex", () => {
    expect(buildFilter([], "^al")).toEqual({ name: { $regex: "^al", $options: "i" } });
  });
  it("parses typed values", () => {
    expect(parseValue("1e-3")).toBe(0.001);
    expect(parseValue('"12"')).toBe("12");
    expect(parseValue("true")).toBe(true);
    expect(parseValue("relu")).toBe("relu");
  });
});

describe("filter evaluation", () => {
  it("compares config numbers and nested keys", () => {
    expect(ids(buildFilter([{ field: "config.lr", op: ">=", value: "0.01" }]))).toEqual(["a", "b"]);
    expect(ids(buildFilter([{ field: "config.model.layers", op: "=", value: "8" }]))).toEqual(["b"]);
  });
  it("matches array fields element-wise", () => {
    expect(ids(buildFilter([{ field: "tags", op: "=", value: "base" }]))).toEqual(["a", "b"]);
  });
  it("handles regex, exists and inequality", () => {
    expect(ids(buildFilter([], "A|gam"))).toEqual(["a", "b", "c"]);
    expect(ids(buildFilter([], "^gam"))).toEqual(["c"]);
    expect(ids(buildFilter([{ field: "summary.acc", op: "exists", value: "" }]))).toEqual(["a", "b"]);
    expect(ids(buildFilter([{ field: "state", op: "!=", value: "running" }]))).toEqual(["a", "c"]);
  });
  it("treats an invalid regex as matching nothing", () => {
    expect(ids(buildFilter([], "("))).toEqual([]);
  });
  it("regex is case-sensitive unless $options has i (as on the server)", () => {
    expect(ids({ name: { $regex: "^ALPHA" } })).toEqual([]);
    expect(ids({ name: { $regex: "^ALPHA", $options: "i" } })).toEqual(["a"]);
  });
  it("supports $not and $nor", () => {
    expect(ids({ "config.lr": { $not: { $gt: 0.005 } } })).toEqual(["c"]);
    expect(ids({ $nor: [{ state: "running" }, { tags: "base" }] })).toEqual(["c"]);
  });
  it("supports $or", () => {
    expect(ids({ $or: [{ state: "crashed" }, { "summary.acc": { $gt: 0.92 } }] })).toEqual(["b", "c"]);
  });
});
