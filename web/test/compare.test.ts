import { describe, expect, it } from "vitest";
import { diffRows } from "../src/lib/compare";

describe("compare rows", () => {
  it("marks differing keys, shows missing ones as a dash", () => {
    const rows = diffRows([
      { state: "finished", config: { lr: 0.1, model: { depth: 4 } }, summary: { acc: 0.9, _step: 3 } },
      { state: "finished", config: { lr: 0.2, model: { depth: 4 } }, summary: {} },
    ]);
    const by = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(by["config.lr"].differs).toBe(true);
    expect(by["config.model.depth"].differs).toBe(false);
    expect(by["summary.acc"].values).toEqual(["0.9", "—"]);
    expect(by.state.differs).toBe(false);
    expect(by["summary._step"]).toBeUndefined();
    expect(rows[0].key).toBe("group"); // attributes first, then config, then summary
  });
});
