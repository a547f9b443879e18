// Export of a report to one self-contained HTML file: the text, and every panel drawn as SVG
// from the data the server holds now, with that data embedded as JSON. No script or network is
// needed to read it (opened offline, mailed, archived); print it to PDF from any browser.

import { marked } from "marked";
import DOMPurify from "dompurify";
import { api } from "../api";
import { smoothTB } from "../lib/smoothing";
import { runColor } from "../lib/colors";
import { cellText } from "../components/runtable";
import type { Report } from "../reportsapi";
import { runsOf, scatterPoints, scatterSvg } from "./reportpanels";

export function markdownHtml(text: string): string {
  return DOMPurify.sanitize(marked.parse(text, { async: false }) as string);
}

interface Line { label: string; color: string; x: number[]; y: (number | null)[] }

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** An SVG line chart of already-fetched lines. */
export function lineSvg(lines: Line[], xl: string, yl: string): string {
  const W = 640, H = 280, P = 44;
  const xs = lines.flatMap((l) => l.x), ys = lines.flatMap((l) => l.y.filter((v): v is number => v !== null));
  if (!xs.length || !ys.length) return `<p class="muted">no data</p>`;
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => P + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * P);
  const sy = (y: number) => H - P - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * P);
  const paths = lines.map((l) => {
    const pts = l.x.map((x, i) => (l.y[i] === null ? null : `${sx(x).toFixed(1)},${sy(l.y[i]!).toFixed(1)}`)).filter(Boolean).join(" ");
    return `<polyline data-label="${esc(l.label)}" fill="none" stroke="${l.color}" stroke-width="1.5" points="${pts}"><title>${esc(l.label)}</title></polyline>`;
  }).join("");
  const n = (v: number) => Number(v.toPrecision(4)).toString();
  return `<svg class="report-svg" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">` +
    `<rect x="${P}" y="${P / 2}" width="${W - 2 * P}" height="${H - 1.5 * P}" fill="none" stroke="#ccc"/>${paths}` +
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${esc(xl)} (${n(x0)} … ${n(x1)})</text>` +
    `<text x="4" y="14" font-size="11">${esc(yl)} (${n(y0)} … ${n(y1)})</text></svg>` +
    `<div class="legend">${lines.map((l) => `<span style="color:${l.color}">■</span> ${esc(l.label)}`).join(" &nbsp; ")}</div>`;
}

async function panelHtml(r: Report, b: Extract<Report["doc"]["blocks"][number], { type: "panel" }>, data: unknown[]): Promise<string> {
  const runs = await runsOf(b.runset);
  const head = `<h3>${esc(b.title || b.keys.join(", "))}</h3><p class="muted">${esc(`${b.runset.entity}/${b.runset.project}`)}</p>`;
  if (b.kind === "runs") {
    const now = Date.now() / 1000;
    data.push({ kind: "runs", runs: runs.map((x) => ({ run_id: x.run_id, name: x.name, values: b.keys.map((k) => cellText(x, k, now)) })) });
    return `${head}<table><tr><th>Run</th><th>State</th>${b.keys.map((k) => `<th>${esc(k)}</th>`).join("")}</tr>` +
      runs.map((x) => `<tr><td>${esc(x.name)}</td><td>${esc(x.state)}</td>${b.keys.map((k) => `<td>${esc(cellText(x, k, now))}</td>`).join("")}</tr>`).join("") + "</table>";
  }
  if (b.kind === "scatter") {
    const pts = scatterPoints(runs, b.keys[0] ?? "", b.keys[1] ?? "");
    data.push({ kind: "scatter", points: pts });
    return head + scatterSvg(pts, b.keys[0] ?? "", b.keys[1] ?? "").outerHTML;
  }
  const refs = runs.map((x) => ({ entity: x.entity, project: x.project, run_id: x.run_id }));
  const x = r.doc.settings.x || "_step";
  const lines: Line[] = [];
  for (const m of b.keys) {
    const series = refs.length ? await api.chart(refs, m, x, null, null, 400) : [];
    for (const s of series) {
      const run = runs.find((q) => q.run_id === s.run_id);
      const y = r.doc.settings.smoothing > 0 ? smoothTB(s.last, r.doc.settings.smoothing) : s.last;
      lines.push({ label: `${run?.name ?? s.run_id}${b.keys.length > 1 ? ` · ${m}` : ""}`, color: runColor(s.run_id), x: s.x, y });
    }
  }
  data.push({ kind: "line", x, lines });
  return head + lineSvg(lines, x, b.keys.join(", "));
}

/** The report as one HTML document with its data embedded. */
export async function exportHtml(r: Report): Promise<string> {
  const parts: string[] = [], data: unknown[] = [];
  for (const b of r.doc.blocks) {
    parts.push(b.type === "markdown" ? `<section class="md">${markdownHtml(b.text)}</section>`
      : `<section class="panel">${await panelHtml(r, b, data).catch((e: Error) => `<p class="error">${esc(e.message)}</p>`)}</section>`);
  }
  const json = JSON.stringify({ report: { entity: r.entity, id: r.id, version: r.version, title: r.title }, panels: data }).replace(/</g, "\\u003c");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(r.title)}</title><style>
body{font:14px system-ui,sans-serif;max-width:900px;margin:2em auto;color:#222}section{margin:1.5em 0}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}.muted{color:#777}
.report-svg{width:100%;max-width:680px;height:auto}.legend{font-size:12px}</style></head><body>
<h1>${esc(r.title)}</h1><p class="muted">${esc(r.entity)} · version ${r.version} · exported ${new Date().toISOString()}</p>
${parts.join("\n")}
<script type="application/json" id="report-data">${json}</script></body></html>`;
}
