import { describe, expect, it } from "vitest";
import { canvasSvg } from "../src/lib/svgctx";

describe("SVG drawing context (canvas-drawn panels' export)", () => {
  it("writes what the canvas calls draw: dots, lines, text, rotation, alpha, dashes", () => {
    const doc = canvasSvg(200, 100, (g) => {
      g.fillStyle = "#e15759"; g.globalAlpha = 0.25;
      g.beginPath(); g.arc(50, 40, 4, 0, Math.PI * 2); g.fill();
      g.globalAlpha = 1; g.strokeStyle = "#555"; g.lineWidth = 2; g.setLineDash([4, 3]);
      g.beginPath(); g.moveTo(10, 90); g.lineTo(190, 90); g.stroke();
      g.setLineDash([]);
      g.font = "11px sans-serif"; g.textAlign = "right"; g.fillStyle = "#444";
      g.fillText("1e-8 < x & y", 80, 20);
      g.save(); g.translate(12, 50); g.rotate(-Math.PI / 2); g.textAlign = "center"; g.fillText("summary.loss", 0, 0); g.restore();
      g.fillText("after restore", 5, 5);
      g.fillRect(1, 2, 3, 4);
    });
    expect(doc.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"')).toBe(true);
    // A full circle is two half arcs, filled, with the alpha it was drawn with.
    expect(doc).toContain('<path d="M54 40A4 4 0 1 1 46 40A4 4 0 1 1 54 40Z" fill="#e15759" fill-opacity="0.25" stroke="none"/>');
    expect(doc).toContain('<path d="M10 90L190 90" fill="none" stroke="#555" stroke-width="2" stroke-dasharray="4 3"/>');
    expect(doc).toContain('<text x="80" y="20" font-size="11" font-family="sans-serif" text-anchor="end" fill="#444">1e-8 &lt; x &amp; y</text>');
    expect(doc).toContain('<g transform="translate(12 50) rotate(-90)"><text x="0" y="0" font-size="11" font-family="sans-serif" text-anchor="middle" fill="#444">summary.loss</text></g>');
    expect(doc).toContain('<text x="5" y="5" font-size="11" font-family="sans-serif" text-anchor="end" fill="#444">after restore</text>');
    expect(doc).toContain('<rect x="1" y="2" width="3" height="4" fill="#444"/>');
    expect(doc.trim().endsWith("</svg>")).toBe(true);
  });
  it("draws partial arcs clockwise and measures text without a DOM", () => {
    let width = 0;
    const doc = canvasSvg(10, 10, (g) => {
      g.beginPath(); g.arc(0, 0, 2, 0, Math.PI / 2); g.stroke();
      g.font = "10px sans-serif"; width = g.measureText("abcd").width;
    });
    expect(doc).toContain('d="M2 0A2 2 0 0 1 0 2"');
    expect(width).toBeGreaterThan(10);
  });
});
