// Media panel figures for e2e/perf.mjs (PERF_ONLY=media): an image panel of 16 runs × 100
// steps opening in the workspace, and a 10,000-row table panel sorting. Against the real
// server when it has the media routes (docs/media-api.md), else the mock (said so).

import { launch, newPage, shot, until } from "./lib.mjs";
import { client, startBackend } from "./backend.mjs";
import { png, RunWriter, tableRef, upload } from "./mediafill.mjs";
import { startMock } from "../mock/server.mjs";

const env = (k, d) => Number(process.env[k] ?? d);
const pct = (a, p) => { const s = a.slice().sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

async function backendWithMedia() {
  const b = await startBackend();
  if (b.kind === "mock") return b;
  const probe = await fetch(`${b.url}/api/v1/runs/admin/none/none/media/keys`, { headers: { Authorization: `Bearer ${b.key}` } });
  const body = await probe.json().catch(() => ({}));
  if (body?.error?.code === "run_not_found") return b; // the route exists; the run does not
  await b.stop();
  const m = await startMock();
  console.log("# media perf: the server has no media routes yet, so these figures are against the MOCK");
  return { kind: "mock", url: m.url, pageUrl: m.url, key: m.key, stop: m.close };
}

async function fillImages(b, runs, steps) {
  const call = client(b.url, b.key);
  const t0 = Date.now();
  const ids = [];
  for (let r = 0; r < runs; r++) {
    const ref = { project: "perfmedia", run_id: `img-${r}` };
    ids.push(ref.run_id);
    const w = new RunWriter(call, { project: "perfmedia", run_id: ref.run_id, name: `img-${r}` });
    await w.start();
    for (let s = 0; s < steps; s++) {
      const f = await upload(b, ref, "images", "png", png(64, 64, (x, y) => [(x * 4 + r * 13) % 256, (y * 4 + s * 2) % 256, (s * 7) % 256]));
      w.log(s, { img: { _type: "image-file", format: "png", width: 64, height: 64, caption: `run ${r} step ${s}`, ...f } });
    }
    w.finish(0); await w.flush();
  }
  console.log(`# filled ${b.kind} with ${runs} runs × ${steps} steps of 64×64 images in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return ids;
}

async function imagePerf(browser, b) {
  const runs = env("PERF_IMAGE_RUNS", 16), steps = env("PERF_IMAGE_STEPS", 100);
  const ids = await fillImages(b, runs, steps);
  const page = await newPage(browser, b.pageUrl, b.key);
  const opens = [], navs = [], slides = [];
  for (let i = 0; i < 3; i++) {
    await page.goto("/"); // warm: the bundle is cached, as for a returning user
    await page.goto(`/admin/perfmedia?runs=${ids.join(",")}`);
    const p = await until(page, (n) => { const p = window.__trackway.media["image:img"]; return p && p.openMs > 0 && p.runs.length === n && p.runs.every((r) => r.images[0]?.loaded) ? p : null; }, runs, 60000, "image panel");
    opens.push(p.openMs); navs.push(p.openedAt);
    // Move the slider: every run's image of another step, decoded.
    for (const target of [10, 50, 90]) {
      const ms = await page.evaluate(async (target) => {
        const t0 = performance.now();
        const el = document.querySelector(".media-slot[data-key=img] .step-slider");
        el.value = String(target); el.dispatchEvent(new Event("input"));
        for (;;) {
          const p = window.__trackway.media["image:img"];
          if (p.step === target && p.runs.every((r) => r.images[0]?.loaded)) return performance.now() - t0;
          await new Promise((r) => requestAnimationFrame(r));
        }
      }, target);
      slides.push(ms);
    }
  }
  console.log(`image panel (${b.kind}, ${runs} runs × ${steps} steps, 64×64 PNGs), 3 opens: query → ${runs} images decoded p50 ${pct(opens, 0.5).toFixed(0)} ms (max ${Math.max(...opens).toFixed(0)} ms); navigation start → panel complete p50 ${pct(navs, 0.5).toFixed(0)} ms (max ${Math.max(...navs).toFixed(0)} ms; target ≤ 1000 ms: max/target ${(Math.max(...navs) / 1000).toFixed(2)})`);
  console.log(`  step slider → ${runs} new images decoded: p50 ${pct(slides, 0.5).toFixed(0)} ms, max ${Math.max(...slides).toFixed(0)} ms`);
  await shot(page, "perf-image-panel");
  await page.context().close();
}

async function tableSortPerf(browser, b) {
  const n = env("PERF_TABLE_ROWS", 10000);
  const call = client(b.url, b.key);
  const ref = { project: "perfmedia", run_id: "table-0" };
  const w = new RunWriter(call, { project: "perfmedia", run_id: ref.run_id, name: "big-table" });
  await w.start();
  const rows = Array.from({ length: n }, (_, k) => [k, ["cat", "dog", "bird", "fish"][k % 4], ((k * 7919) % 10007) / 10007 + 0.00001, `note ${(k * 31) % 997}`]);
  w.log(0, { big: await tableRef(b, ref, ["id", "label", "score", "note"], rows, { id: "number", label: "string", score: "number", note: "string" }) });
  w.finish(0); await w.flush();
  const page = await newPage(browser, b.pageUrl, b.key);
  await page.goto("/admin/perfmedia/runs/table-0?tab=media");
  await until(page, (n) => window.__trackway.media["table:big"]?.runs[0]?.total === n, n, 60000, "table panel");
  const times = [];
  for (const col of ["score", "score", "note", "label", "id", "score", "note", "note"]) {
    times.push(await page.evaluate(async (col) => {
      const gen = window.__trackway.media["table:big"].runs[0].gen;
      const t0 = performance.now();
      document.querySelector(`.media-slot[data-key=big] .mt-th[data-col=${col}]`).click();
      for (;;) {
        const r = window.__trackway.media["table:big"].runs[0];
        if (r.gen > gen && r.queryMs > 0 && r.rows.length) return performance.now() - t0;
        await new Promise((res) => setTimeout(res, 2));
      }
    }, col));
  }
  console.log(`table panel (${b.kind}, ${n.toLocaleString()} rows): header click → sorted first page painted p50 ${pct(times, 0.5).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (${times.length} sorts, server-side; target ≤ 200 ms: max/target ${(Math.max(...times) / 200).toFixed(2)})`);
  await shot(page, "perf-table-sort");
  await page.context().close();
}

export async function mediaPerf(browser) {
  const b = await backendWithMedia();
  try {
    await imagePerf(browser, b);
    await tableSortPerf(browser, b);
  } finally { await b.stop(); }
}

// Standalone: node e2e/mediaperf.mjs
if (import.meta.url === `file://${process.argv[1]}`) {
  const browser = await launch();
  try { await mediaPerf(browser); } finally { await browser.close(); }
}
