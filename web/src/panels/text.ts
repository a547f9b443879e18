// Text panel: a key that holds strings (or other non-numeric plain values) lists its values by
// step, newest first, instead of drawing an empty line chart.

import { call } from "../api";
import { decode } from "../lib/tjson";
import { cellText } from "../lib/mediatable";
import { card, clear, errorBox, h, refOf, runLabel, type Panel, type PanelCtx } from "./common";

const SAMPLES = 200;
const MAX_RUNS = 8;

export function textPanel(ctx: PanelCtx): Panel {
  const c = card("text", ctx.key);
  const runs = ctx.runs.slice(0, MAX_RUNS);
  async function load() {
    try {
      const all = await Promise.all(runs.map(async (r) => {
        const ref = refOf(r);
        const q = new URLSearchParams({ keys: ctx.key, samples: String(SAMPLES) });
        const page = await call<{ rows?: Record<string, unknown>[] }>("GET", `/runs/${encodeURIComponent(ref.entity)}/${encodeURIComponent(ref.project)}/${encodeURIComponent(ref.run_id)}/history?${q}`);
        return (page.rows ?? []).filter((row) => row[ctx.key] !== undefined && row[ctx.key] !== null)
          .map((row) => ({ step: Number(row._step), text: cellText(decode(row[ctx.key] as never)) }));
      }));
      clear(c.body, h("div", { class: "text-runs" }, runs.map((r, i) => h("div", { class: "text-run" }, runLabel(r),
        h("table", { class: "grid text-values" }, h("tbody", null, all[i].slice().reverse().map((v) =>
          h("tr", null, h("td", { class: "num muted" }, String(v.step)), h("td", null, v.text)))))))));
      c.setStatus("");
      c.probe({ runs: runs.map((r, i) => ({ run: r.run_id, values: all[i] })) });
    } catch (e) { c.setStatus(""); clear(c.body, errorBox(e)); }
  }
  return { el: c.el, load, destroy() {} };
}
