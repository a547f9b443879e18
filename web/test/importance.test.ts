import { describe, expect, it } from "vitest";
import { parameterImportance, pearson } from "../src/lib/importance";

describe("parameter importance", () => {
  // loss depends strongly on lr, a little on the optimizer, not at all on the seed.
  const runs = Array.from({ length: 60 }, (_, i) => {
    const lr = 0.001 * (1 + (i * 7) % 30), opt = ["adam", "sgd"][i % 2], seed = (i * 13) % 17;
    return { config: { lr, opt, seed }, summary: { loss: 5 * lr + (opt === "sgd" ? 0.01 : 0) + 0.0001 * ((i * 31) % 5) } };
  });
  it("ranks the key that drives the metric first", () => {
    const r = parameterImportance(runs, ["config.seed", "config.opt", "config.lr"], "summary.loss");
    expect(r[0].key).toBe("config.lr");
    expect(r[0].importance).toBeGreaterThan(0.5);
    expect(r[0].correlation!).toBeGreaterThan(0.9);
    expect(r.reduce((s, x) => s + x.importance, 0)).toBeCloseTo(1, 6);
    expect(r[0].n).toBe(60);
  });
  it("correlation is signed and null for constants", () => {
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 9);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
  });
});
