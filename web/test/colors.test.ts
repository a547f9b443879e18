import { describe, expect, it } from "vitest";
import { assignColors, paletteColor, ramp, runColor, withAlpha } from "../src/lib/colors";

describe("run colours", () => {
  it("is stable per run id and spreads across runs", () => {
    expect(runColor("abc123")).toBe(runColor("abc123"));
    const seen = new Set(Array.from({ length: 50 }, (_, i) => runColor(`run-${i}`)));
    expect(seen.size).toBeGreaterThan(10);
  });
  it("makes translucent variants and a ramp", () => {
    expect(withAlpha("#ff0000", 0.5)).toBe("rgba(255,0,0,0.5)");
    expect(ramp(0)).toBe("rgb(68,1,84)");
    expect(ramp(1)).toBe("rgb(253,231,37)");
    expect(ramp(NaN)).toBe("rgb(68,1,84)");
  });
});

describe("colour assignment over the runs in view", () => {
  it("gives every visible run its own colour, for any number of runs", () => {
    for (const n of [2, 6, 20, 21, 100]) {
      const ids = Array.from({ length: n }, (_, i) => `run-${i}`);
      const m = assignColors(ids);
      expect(m.size).toBe(n);
      expect(new Set(m.values()).size).toBe(n);
    }
  });
  it("depends on the set of runs, not their order", () => {
    const ids = ["a1", "b2", "c3", "d4", "e5"];
    expect([...assignColors(ids).entries()].sort()).toEqual([...assignColors([...ids].reverse()).entries()].sort());
  });
  it("lets a picked colour win and keeps the others distinct from it", () => {
    const ids = ["a1", "b2", "c3"];
    const auto = assignColors(ids);
    const m = assignColors(ids, { b2: auto.get("a1")! });
    expect(m.get("b2")).toBe(auto.get("a1"));
    expect(new Set(m.values()).size).toBe(3);
  });
  it("extends the palette with valid hex colours", () => {
    expect(paletteColor(25)).toMatch(/^#[0-9a-f]{6}$/);
  });
});
