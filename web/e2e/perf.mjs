// Performance figures measured in headless Chromium. Prints numbers; asserts nothing.
//   node e2e/perf.mjs            (npm run build first)
// Env: PERF_RUNS (100), PERF_METRICS (20), PERF_STEPS (100000), PERF_TABLE_RUNS (100000),
// PERF_CONSOLE_LINES (50000), PERF_IMAGE_RUNS (16), PERF_IMAGE_STEPS (100), PERF_TABLE_ROWS (10000),
// PERF_BIG_RUNS (1000), PERF_BIG_METRICS (50), PERF_BIG_STEPS (10000),
// PERF_REPORT_RUNS (100), PERF_REPORT_STEPS (1000),
// PERF_ONLY (charts | big | table | report | console | media).
// The chart workspace is served by the mock (procedural history, bucketed per docs/api.md),
// so the figures measure the UI: fetch → align → smooth → draw. PERF_BACKEND=server fills a
// real `trackway server` through the ingest API instead (PERF_STEPS then defaults to 1000).

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { launch, newPage, shot, until, WEB } from "./lib.mjs";
import { startMock } from "../mock/server.mjs";
import { client, RunWriter, startBackend } from "./backend.mjs";
import { mediaPerf } from "./mediaperf.mjs";

const env = (k, d) => Number(process.env[k] ?? d);
const pct = (a, p) => { const s = a.slice().sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

function bundleSize() {
  const dir = path.join(WEB, "dist", "assets");
  let raw = 0, gz = 0, js = 0, lazy = 0;
  for (const f of fs.readdirSync(dir)) {
    const b = fs.readFileSync(path.join(dir, f));
    raw += b.length;
    const g = zlib.gzipSync(b, { level: 9 }).length;
    gz += g;
    if (f.endsWith(".js")) js += g;
    if (f.startsWith("plotly")) lazy += g; // loaded only when a Plotly panel opens
  }
  return { raw, gz, js, lazy };
}

async function workspaceBackend(runs = env("PERF_RUNS", 100), metrics = env("PERF_METRICS", 20), mockSteps = env("PERF_STEPS", 100000)) {
  if (process.env.PERF_BACKEND !== "server") {
    const steps = mockSteps;
    const m = await startMock({ runs, metrics, steps, live: 0 });
    return { ...m, project: "demo", desc: `mock: ${runs} runs × ${metrics} metrics × ${steps} steps`, stop: m.close };
  }
  const steps = env("PERF_STEPS", 1000);
  const b = await startBackend();
  await fillRuns(b, "perf", runs, metrics, steps);
  return { ...b, url: b.pageUrl, apiUrl: b.url, project: "perf", desc: `${b.kind}: ${runs} runs × ${metrics} metrics × ${steps} steps` };
}

/** Metric names of the filled runs: loss, acc, then train/m2, train/m3, ... */
const metricName = (k) => (k < 2 ? ["loss", "acc"][k] : `train/m${k}`);

/** `runs` runs of `metrics` metrics × `steps` steps written through the ingest API. */
async function fillRuns(b, project, runs, metrics, steps) {
  const call = client(b.url, b.key);
  const t0 = Date.now();
  for (let r = 0; r < runs; r++) {
    const w = new RunWriter(call, { project, run_id: `p${r}`, name: `perf-${r}`, config: { lr: 0.001 * (r + 1), layers: 2 + (r % 4) } });
    await w.start();
    for (let s = 0; s < steps; s++) {
      const row = {};
      for (let k = 0; k < metrics; k++) row[metricName(k)] = Math.exp(-s / 300) + 0.01 * r + k * 0.001 + 0.0001;
      w.log(s, row);
      if (s % 500 === 499) await w.flush();
    }
    w.finish(0); await w.flush();
  }
  console.log(`# filled ${b.kind} with ${runs}×${metrics}×${steps} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Targets of issue 13, printed next to each figure as measured / target. */
const TARGET = { firstPaint: 1500, smoothPerChart: 50, bigFirstPaint: 2000, bundleGz: 500, tableFirstPage: 300, reportOpen: 1500 };

async function chartsPerf(browser, big = false) {
  // big: 1,000 runs × 50 panels (the workspace charts the first 100 of them).
  const b = big ? await workspaceBackend(env("PERF_BIG_RUNS", 1000), env("PERF_BIG_METRICS", 50), env("PERF_BIG_STEPS", 10000)) : await workspaceBackend();
  try {
    const page = await newPage(browser, b.url, b.key);
    const ids = await (await fetch(`${b.apiUrl ?? b.url}/api/v1/projects/admin/${b.project}/runs?limit=1000`, { headers: { Authorization: `Bearer ${b.key}` } })).json();
    const runIds = ids.runs.map((r) => r.run_id);
    const url = big ? `/admin/${b.project}?runs=*` : `/admin/${b.project}?runs=${runIds.join(",")}`;
    await page.goto("/"); // warm: load the bundle once, as a returning user would have it cached
    const t0 = Date.now();
    await page.goto(url);
    const first = await until(page, () => window.__trackway.firstChartAt, null, 60000, "first chart");
    const nav = await page.evaluate(() => performance.getEntriesByType("navigation")[0]?.startTime ?? 0);
    await until(page, () => { const c = Object.values(window.__trackway.charts); return c.length >= 2 && document.querySelectorAll(".chart .chart-status").length > 0; }, null, 60000, "charts");
    await page.waitForTimeout(1500);
    const st = await page.evaluate(() => ({ charts: Object.keys(window.__trackway.charts).length, timings: window.__trackway.timings, last: Math.max(...Object.values(window.__trackway.charts).map((c) => c.drawnAt)) }));
    console.log(`charts workspace (${b.desc}), ${runIds.length} runs charted:`);
    const target = big ? TARGET.bigFirstPaint : TARGET.firstPaint;
    console.log(`  first chart drawn ${(first - nav).toFixed(0)} ms after navigation start (target ≤ ${target} ms: ratio ${((first - nav) / target).toFixed(2)}; wall ${Date.now() - t0} ms incl. waits)`);
    console.log(`  ${st.charts} charts in view drawn by ${(st.last - nav).toFixed(0)} ms; per-chart fetch+draw p50 ${pct(st.timings.map((t) => t.ms), 0.5).toFixed(0)} ms, max ${Math.max(...st.timings.map((t) => t.ms)).toFixed(0)} ms`);
    const samples = [];
    for (const w of [0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.6, 0.8]) samples.push(await page.evaluate((w) => window.__trackway.smoothTest(w), w));
    const per = samples.map((s) => s.ms / Math.max(1, s.charts));
    console.log(`  smoothing change: ${samples[0].charts} visible charts, per chart p50 ${pct(per, 0.5).toFixed(1)} ms, max ${Math.max(...per).toFixed(1)} ms (target ≤ ${TARGET.smoothPerChart} ms: ratio ${(Math.max(...per) / TARGET.smoothPerChart).toFixed(2)}; whole redraw p50 ${pct(samples.map((s) => s.ms), 0.5).toFixed(0)} ms)`);
    await shot(page, big ? "perf-workspace-1000x50" : "perf-workspace");
  } finally { await b.stop(); }
}

/** The runs-bench binary (crates/trackway-store), built by `make bench` (bench/run_table.py). */
function runsBench() {
  const dirs = [process.env.CARGO_TARGET_DIR, path.join(WEB, "..", "target")].filter(Boolean);
  return dirs.map((d) => path.join(d, "release", "runs-bench")).find((b) => fs.existsSync(b)) ?? null;
}

/** N runs in a real server (bulk-inserted into its database by runs-bench --fill), else the mock. */
async function tableBackend(n) {
  const bench = runsBench();
  if (process.env.PERF_TABLE_BACKEND !== "mock" && bench) {
    const b = await startBackend();
    if (b.kind === "server") {
      const t0 = Date.now();
      const r = spawnSync(bench, ["--fill", path.join(b.tmp, "data", "trackway.db"), "admin", "table", String(n)], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`runs-bench --fill failed: ${r.stderr}`);
      console.log(`# filled the real server with ${n.toLocaleString()} runs (70 config/summary keys each) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return { url: b.pageUrl, key: b.key, path: "/admin/table", desc: "real server", close: b.stop };
    }
    await b.stop();
  }
  console.log(`# runs table on the MOCK API (${bench ? "no real server" : "runs-bench not built: run bench/run_table.py"})`);
  const m = await startMock({ runs: n, metrics: 4, steps: 100, live: 0 });
  return { url: m.url, key: m.key, path: "/admin/demo", desc: "mock API", close: m.close };
}

async function tablePerf(browser) {
  const n = env("PERF_TABLE_RUNS", 100000);
  const m = await tableBackend(n);
  try {
    const page = await newPage(browser, m.url, m.key);
    await page.goto("/"); // warm: load the bundle once, as a returning user would have it cached
    const firsts = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(`${m.path}?tab=scatter&i=${i}`);
      firsts.push(await until(page, () => window.__trackway.table.firstRowsAt, null, 60000, "first page"));
    }
    console.log(`runs table (${n.toLocaleString()} runs, ${m.desc}, server-side paging): first page of rows ${pct(firsts, 0.5).toFixed(0)} ms after navigation (median of 5; ${firsts.map((f) => f.toFixed(0)).join(", ")}; target ≤ ${TARGET.tableFirstPage} ms: ratio ${(pct(firsts, 0.5) / TARGET.tableFirstPage).toFixed(2)})`);
    const t0 = Date.now();
    await page.goto(`${m.path}?tab=scatter`);
    await until(page, () => window.__trackway.table.total > 0, null, 60000, "first page");
    const firstRows = Date.now() - t0;
    // The table holds the server's pages (500 runs each), loading the next one when scrolled
    // to the end; it never downloads every run.
    await until(page, (n) => window.__trackway.table.total >= n, n, 60000, "the server's total");
    const all = Date.now() - t0;
    await page.waitForTimeout(500);
    await page.evaluate(() => { window.__trackway.table.paintMs.length = 0; });
    const r = await page.evaluate(() => new Promise((resolve) => {
      const el = document.querySelector(".tbody");
      const frames = [];
      let last = performance.now(), i = 0;
      const step = (t) => {
        frames.push(t - last); last = t;
        el.scrollTop += i < 150 ? 900 : -700; // fast fling down, then back up
        if (++i < 300) requestAnimationFrame(step);
        else resolve({ frames: frames.slice(1), dom: el.querySelectorAll(".trow").length, top: el.scrollTop, paint: window.__trackway.table.paintMs.slice(-300) });
      };
      requestAnimationFrame(step);
    }));
    const dropped = r.frames.filter((f) => f > 1000 / 60 * 1.5).length;
    const loaded = await page.evaluate(() => window.__trackway.table.loaded);
    console.log(`  (wall clock incl. page load: first rows after ${firstRows} ms, total known after ${all} ms; ${loaded.toLocaleString()} rows loaded after scrolling (server pages)`);
    console.log(`  scroll 300 frames: p50 ${pct(r.frames, 0.5).toFixed(1)} ms, p95 ${pct(r.frames, 0.95).toFixed(1)} ms, max ${Math.max(...r.frames).toFixed(1)} ms, frames > 25 ms: ${dropped}; row elements in DOM: ${r.dom}`);
    console.log(`  table paint (our JS per frame): p50 ${pct(r.paint, 0.5).toFixed(2)} ms, p95 ${pct(r.paint, 0.95).toFixed(2)} ms, max ${Math.max(...r.paint).toFixed(2)} ms; machine load average ${(await import("node:os")).loadavg()[0].toFixed(1)} on ${(await import("node:os")).cpus().length} cores`);
    await page.evaluate(() => { document.querySelector(".tbody").scrollTop = 50000 * 28; });
    await page.waitForTimeout(200);
    await shot(page, "perf-table-100k");
  } finally { await m.close(); }
}

/** Issue 16: a report of 12 live panels (9 line charts, 2 scatter plots, a run table) over
 *  100 runs of the real server, opened by a signed-in reader: navigation start → every panel
 *  drawn. The panels query the server when the report opens (nothing is cached in the report). */
async function reportPerf(browser) {
  const runs = env("PERF_REPORT_RUNS", 100), steps = env("PERF_REPORT_STEPS", 1000), metrics = 9;
  const b = await startBackend();
  try {
    if (b.kind !== "server") { console.log("report: skipped, it needs the real server (cargo build --release -p trackway-cli)"); return; }
    await fillRuns(b, "perf-report", runs, metrics, steps);
    const runset = { entity: "admin", project: "perf-report" };
    const blocks = [{ type: "markdown", text: "# Loss study\n\nTwelve live panels over every run." }];
    for (let k = 0; k < metrics; k++) blocks.push({ type: "panel", kind: "line", runset, keys: [metricName(k)] });
    blocks.push({ type: "panel", kind: "scatter", runset, keys: ["config.lr", "summary.loss"] });
    blocks.push({ type: "panel", kind: "scatter", runset, keys: ["config.layers", "summary.acc"] });
    blocks.push({ type: "panel", kind: "runs", runset, keys: ["config.lr", "summary.loss", "summary.acc"] });
    const call = client(b.url, b.key);
    const r = await call("POST", "/reports/admin", { title: "Perf report", doc: { settings: { smoothing: 0.6, x: "_step" }, blocks } });
    const page = await newPage(browser, b.pageUrl, b.key);
    await page.goto("/"); // warm: load the bundle once, as a returning user would have it cached
    const opens = [], charts = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(`/reports/admin/${r.id}?i=${i}`);
      const done = await until(page, () => window.__trackway.report.doneAt, null, 60000, "every report panel drawn");
      const st = await page.evaluate(() => ({ ...window.__trackway.report, lines: Object.values(window.__trackway.charts).map((c) => c.runs.length), ms: window.__trackway.timings.map((t) => t.ms) }));
      if (st.panels !== 12 || st.lines.length !== metrics || st.lines.some((n) => n !== runs)) throw new Error(`report drew ${JSON.stringify(st)}`);
      opens.push(done); charts.push(...st.ms);
    }
    const p50 = pct(opens, 0.5);
    console.log(`report (${b.kind}, 12 panels over ${runs} runs × ${steps} steps): every panel drawn ${p50.toFixed(0)} ms after navigation (median of 5: ${opens.map((t) => t.toFixed(0)).join(", ")}; target ≤ ${TARGET.reportOpen} ms: ratio ${(p50 / TARGET.reportOpen).toFixed(2)})`);
    console.log(`  line panels: chart query + draw p50 ${pct(charts, 0.5).toFixed(0)} ms, max ${Math.max(...charts).toFixed(0)} ms (${metrics} at once); machine load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
    await shot(page, "perf-report");
  } finally { await b.stop(); }
}

/** A console of PERF_CONSOLE_LINES lines (real server when built, else the mock): load and search. */
async function consolePerf(browser) {
  const n = env("PERF_CONSOLE_LINES", 50000);
  const b = await startBackend({ mockOpts: { runs: 0 } });
  try {
    const call = client(b.url, b.key);
    const w = new RunWriter(call, { project: "perf-console", run_id: "c0", name: "console" });
    await w.start();
    for (let i = 0; i < n; i++) {
      w.output(i, i % 50 === 7 ? "err" : "out", `${i % 50 === 7 ? "WARNING" : "info"} step ${i} loss ${(1 / (i + 1)).toFixed(6)} ${"x".repeat(i % 60)}`);
      if (i % 5000 === 4999) await w.flush();
    }
    w.finish(0); await w.flush();
    const page = await newPage(browser, b.pageUrl, b.key);
    await page.goto("/");
    const t0 = Date.now();
    await page.goto("/admin/perf-console/runs/c0?tab=console");
    await until(page, () => document.querySelector("#console-log .cl"), null, 60000, "first console line");
    const first = Date.now() - t0;
    await until(page, (n) => document.querySelector("#console-info")?.textContent.startsWith(`${n} lines`), n, 120000, "all console lines");
    const all = Date.now() - t0;
    const dom = await page.$$eval("#console-log .cl", (e) => e.length);
    const t1 = Date.now();
    await page.fill("#console-search", "warning");
    const hits = Math.ceil((n - 7) / 50);
    await until(page, (h) => document.querySelector("#console-info")?.textContent.startsWith(`${h} lines containing`), hits, 60000, "search answered");
    console.log(`console (${b.kind}, ${n.toLocaleString()} lines): first lines after ${first} ms, all ${n.toLocaleString()} after ${all} ms (${dom.toLocaleString()} kept in the DOM); search → ${hits.toLocaleString()} highlighted hits after ${Date.now() - t1} ms (incl. 250 ms debounce)`);
    await shot(page, "perf-console");
  } finally { await b.stop(); }
}

async function main() {
  const b = bundleSize();
  console.log(`bundle: ${(b.raw / 1024).toFixed(1)} KB raw, ${(b.gz / 1024).toFixed(1)} KB gzipped in total (JS ${(b.js / 1024).toFixed(1)} KB gzipped, of which ${(b.lazy / 1024).toFixed(1)} KB is plotly.js, loaded on first use; ${((b.gz - b.lazy) / 1024).toFixed(1)} KB loaded up front; target ≤ ${TARGET.bundleGz} KB: ratio ${(b.gz / 1024 / TARGET.bundleGz).toFixed(2)})`);
  const browser = await launch();
  try {
    const only = process.env.PERF_ONLY; // charts | table | console | media
    if (!only || only === "charts") await chartsPerf(browser);
    if (!only || only === "charts" || only === "big") await chartsPerf(browser, true);
    if (!only || only === "table") await tablePerf(browser);
    if (!only || only === "report") await reportPerf(browser);
    if (!only || only === "console") await consolePerf(browser);
    if (!only || only === "media") await mediaPerf(browser);
  } finally { await browser.close(); }
}

main().catch((e) => { console.error(e); process.exit(1); });
