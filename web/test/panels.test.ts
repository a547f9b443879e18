import { describe, expect, it } from "vitest";
import { cleanPanels, crossKind, newPanelId, parseExpr, resolveMetrics } from "../src/lib/panels";

describe("panels", () => {
  it("expands /regex/ entries against the known keys", () => {
    expect(resolveMetrics(["loss", "/^val\\//", "/(/"], ["loss", "val/a", "val/b", "train/a"])).toEqual(["loss", "val/a", "val/b"]);
  });
  it("parses expressions with precedence; names may hold /", () => {
    const e = parseExpr("val/loss / train/loss")!;
    expect(e.operands).toEqual(["val/loss", "train/loss"]);
    expect(e.eval({ "val/loss": 3, "train/loss": 2 })).toBe(1.5);
    expect(parseExpr("1 + a * 2 - b / 4")!.eval({ a: 3, b: 8 })).toBe(5);
    expect(parseExpr("loss")).toBeNull();
    expect(parseExpr("2 * 3")).toBeNull();
    expect(Number.isNaN(parseExpr("a / b")!.eval({ a: 1 }))).toBe(true);
  });
  it("keeps only valid panel fields and numbers new panels", () => {
    expect(cleanPanels({ p: { title: "t", ymin: "x", logy: true, kind: "bar" }, q: 3 })).toEqual({ p: { title: "t", logy: true, kind: "bar" } });
    expect(newPanelId({ "custom:1": {} })).toBe("custom:2");
    // A panel's own aggregation: "" (each run) is kept apart from unset (follow the workspace).
    expect(cleanPanels({ a: { group: "config.opt", band: false }, b: { group: "" }, c: { group: 3, band: "yes" } }))
      .toEqual({ a: { group: "config.opt", band: false }, b: { group: "" }, c: {} });
  });
  it("knows cross-run panels by id or kind and keeps their axes", () => {
    expect(crossKind("xrun:parallel", undefined)).toBe("parallel");
    expect(crossKind("xrun:nope", undefined)).toBeNull();
    expect(crossKind("custom:2", { kind: "scatter" })).toBe("scatter");
    expect(crossKind("loss", { kind: "bar" })).toBeNull();
    expect(cleanPanels({ "custom:1": { kind: "scatter", sx: "config.lr", sy: 3, axes: ["a", 1], logAxes: ["a"] }, b: { kind: "pie" } }))
      .toEqual({ "custom:1": { kind: "scatter", sx: "config.lr", axes: ["a"], logAxes: ["a"] }, b: {} });
  });
});
