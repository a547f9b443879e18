import { describe, expect, it } from "vitest";
import { chartCsv, chartSvg, fileName, valuesCsv } from "../src/lib/chartexport";

describe("chart export", () => {
  it("writes one row per x with a value, raw and smoothed columns per line", () => {
    const csv = chartCsv("_step", [0, 1, 2], [
      { label: "run a", raw: [1, null, 3], smooth: [1, null, 2] },
      { label: 'b,"x"', raw: [null, null, 5] },
    ]);
    expect(csv).toBe('_step,run a,run a (smoothed),"b,""x"""\r\n0,1,1,\r\n2,3,2,5\r\n');
    expect(valuesCsv("test/acc", [{ label: "r1", value: 0.9 }])).toBe("run,test/acc\r\nr1,0.9\r\n");
  });
  it("draws lines with gaps, markers, ticks, a legend and escapes text", () => {
    const svg = chartSvg({
      title: "loss <train>", width: 200, height: 100,
      xTicks: [{ pos: 0, label: "0" }, { pos: 200, label: "1k" }], yTicks: [{ pos: 50, label: "10n" }],
      series: [
        { label: "raw", color: "#f00", points: [[0, 0], [1, 1]], opacity: 0.25, legend: false },
        { label: "a&b", color: "#00f", dash: [6, 3], points: [[0, 10], [50, 20], null, [100, 30], [150, 40]], markers: true },
      ],
    });
    expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true);
    expect(svg).toContain("loss &lt;train&gt;");
    expect(svg.match(/<polyline/g)).toHaveLength(3); // the raw line, and the gap splits the other in two
    expect(svg).toContain('stroke-dasharray="6 3"');
    expect(svg.match(/<circle/g)).toHaveLength(4);
    expect(svg).toContain(">10n</text>");
    expect(svg).toContain(">1k</text>");
    expect(svg).toContain(">a&amp;b</text>");
    expect(svg).not.toContain(">raw</text>"); // not in the legend
    // Well-formed enough for an <img>: no element repeats an attribute.
    for (const tag of svg.match(/<[a-z]+ [^>]*>/g) ?? []) {
      const names = [...tag.matchAll(/ ([a-z-]+)="/g)].map((m) => m[1]);
      expect(new Set(names).size, tag).toBe(names.length);
    }
  });
  it("names files after the title", () => {
    expect(fileName("train/loss (edited)", "png")).toBe("train_loss_edited.png");
    expect(fileName("///", "csv")).toBe("chart.csv");
  });
});
