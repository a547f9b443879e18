import { describe, expect, it } from "vitest";
import { ramp, runColor, withAlpha } from "../src/lib/colors";

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
