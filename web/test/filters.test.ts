import { describe, expect, it } from "vitest";
import { buildFilter, parseValue } from "../src/lib/filters";

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

describe("the UI leaves evaluation to the server", () => {
  it("sends a time filter as typed, for the server to compare as a date", () => {
    expect(buildFilter([{ field: "created_at", op: ">", value: "2024-01-01" }])).toEqual({ created_at: { $gt: "2024-01-01" } });
  });
  it("ships no client-side evaluator", async () => {
    const mod = await import("../src/lib/filters");
    expect(Object.keys(mod)).not.toContain("matchFilter");
  });
});
