import { describe, expect, it } from "vitest";
import { formatTick, formatTicks, formatTicksWithUnit, formatWithUnit, logTicks, unitOf } from "../src/lib/ticks";

const range = (lo: number, step: number, n: number) => Array.from({ length: n }, (_, i) => lo + i * step);

describe("tick labels", () => {
  it("labels every magnitude from 1e-12 to 1e12 without collapsing to 0", () => {
    for (let e = -12; e <= 12; e++) {
      const step = 10 ** e;
      const ticks = range(step, step, 5);
      const labels = formatTicks(ticks, step);
      expect(new Set(labels).size, `1e${e}: ${labels}`).toBe(5);
      for (const l of labels) expect(l, `1e${e}`).not.toMatch(/^-?0(\.0*)?$/);
    }
  });
  it("uses SI prefixes", () => {
    expect(formatTicks([0, 1e-8, 2e-8, 3e-8], 1e-8)).toEqual(["0", "10n", "20n", "30n"]);
    expect(formatTicks([1e9, 2e9, 3e9], 1e9)).toEqual(["1G", "2G", "3G"]);
    expect(formatTicks([3000000000, 3000500000, 3001000000], 500000)).toEqual(["3.0000G", "3.0005G", "3.0010G"]);
    expect(formatTicks([0, 2e12, 4e12], 2e12)).toEqual(["0", "2T", "4T"]);
    expect(formatTicks([1e-12, 2e-12], 1e-12)).toEqual(["1p", "2p"]);
  });
  it("keeps neighbouring ticks distinct", () => {
    expect(formatTicks([0, 0.0025, 0.005, 0.0075, 0.01], 0.0025)).toEqual(["0", "0.0025", "0.0050", "0.0075", "0.0100"]);
    expect(formatTicks([0.2, 0.4, 0.6], 0.2)).toEqual(["0.2", "0.4", "0.6"]);
    expect(formatTicks([0, 50, 100], 50)).toEqual(["0", "50", "100"]);
  });
  it("handles negatives", () => {
    expect(formatTicks([-2e-6, -1e-6, 0, 1e-6], 1e-6)).toEqual(["-2µ", "-1µ", "0", "1µ"]);
    expect(formatTicks([-1, -0.5, 0, 0.5], 0.5)).toEqual(["-1.0", "-0.5", "0", "0.5"]);
  });
  it("labels log-scale ticks one by one", () => {
    expect([1e-4, 1e-3, 0.01, 0.1].map((v) => formatTick(v))).toEqual(["100µ", "0.001", "0.01", "0.1"]);
    expect(formatTick(1e-8)).toBe("10n");
    expect(formatTick(2.5e-15)).toBe("2.5e-15");
    expect(formatTick(3e20)).toBe("3e+20");
    expect(formatTick(-4.2e6)).toBe("-4.2M");
  });
});

describe("units of system metrics", () => {
  it("knows the sampler's keys", () => {
    expect(unitOf("system/cpu_percent")?.suffix).toBe("%");
    expect(unitOf("system/gpu.0.gpu")?.suffix).toBe("%");
    expect(unitOf("system/gpu.0.temp")?.suffix).toBe("°C");
    expect(unitOf("system/gpu.0.powerWatts")?.suffix).toBe("W");
    expect(unitOf("system/proc.memory.rssMB")?.bytes).toBe(1024 * 1024);
    expect(unitOf("train/loss")).toBeNull();
  });
  it("formats with units", () => {
    expect(formatTicksWithUnit([0, 50, 100], 50, unitOf("system/cpu_percent"))).toEqual(["0%", "50%", "100%"]);
    expect(formatTicksWithUnit([0, 1024, 2048], 1024, unitOf("system/proc.memory.rssMB"))).toEqual(["0 GiB", "1 GiB", "2 GiB"]);
    expect(formatWithUnit(71.5, unitOf("system/gpu.0.temp"))).toBe("71.5 °C");
    expect(formatWithUnit(3 * 2 ** 30, unitOf("system/gpu.0.memoryAllocatedBytes"))).toBe("3 GiB");
  });
});

describe("logTicks", () => {
  it("gives the powers of ten around the range", () => {
    expect(logTicks(0.003, 0.2)).toEqual([0.001, 0.01, 0.1, 1]);
    expect(logTicks(1, 1000)).toEqual([1, 10, 100, 1000]);
    expect(logTicks(5, 5)).toEqual([1, 10]);
    expect(logTicks(0, 10)).toEqual([]);
  });
  it("thins out many decades but keeps both ends", () => {
    const t = logTicks(1e-12, 1e12);
    expect(t[0]).toBe(1e-12);
    expect(t[t.length - 1]).toBe(1e12);
    expect(t.length).toBeLessThanOrEqual(10);
  });
});
