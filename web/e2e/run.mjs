// End-to-end tests in headless Chromium against a real `trackway server` (or, until the
// binary has `server --port`, the mock), filled with runs through the public API.
//   node e2e/run.mjs          (needs npm run build first; screenshots → test-artifacts/web/)

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { assert, launch, newPage, ROOT, shot, Suite, until, WEB } from "./lib.mjs";
import { client, putFile, RunWriter, startBackend, SystemWriter } from "./backend.mjs";
import { fillMedia, mediaTests, sdkMediaTests } from "./media.mjs";
import { workspaceTests } from "./workspace.mjs";
import { sweepTests } from "./sweeps.mjs";
import { artifactTests } from "./artifacts.mjs";
import { runTableTests } from "./runtable.mjs";
import { startMock } from "../mock/server.mjs";
import { teamsTests } from "./teams.mjs";
import { reportsTests } from "./reports.mjs";
import { oidcTests } from "./oidc.mjs";

const LRS = [0.1, 0.05, 0.02, 0.01, 0.005, 0.001];
const STEPS = 200;
const loss = (i, s) => 1 / (1 + s * LRS[i]) + 0.01 * i + 0.003 * Math.sin(s * 0.7 + i) + 0.0001;
const acc = (i, s) => 1 - loss(i, s) / 2;

/** TensorBoard's debiased EMA, written out again here so the test does not trust the app's copy. */
function tbSmooth(ys, w) {
  if (ys.every((y) => y === ys[0])) return ys.slice();
  let last = 0, k = 0;
  return ys.map((y) => { if (y === null || !Number.isFinite(y)) return y; last = last * w + (1 - w) * y; k++; return last / (w === 1 ? 1 : 1 - Math.pow(w, k)); });
}
const near = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

async function fill(call) {
  for (let i = 0; i < LRS.length; i++) {
    const w = new RunWriter(call, { project: "e2e", run_id: `e2e-${i}`, name: `alpha-${i}`, tags: i % 2 ? ["odd"] : ["even"],
      group: i < 3 ? "first" : "second", config: { lr: LRS[i], optimizer: i % 2 ? "sgd" : "adam", model: { layers: 2 + i } } });
    await w.start();
    for (let s = 0; s < STEPS; s++) {
      const row = { loss: loss(i, s), acc: acc(i, s), "train/loss": loss(i, s) * 1.1 };
      if (s % 10 === 0) row["eval/acc"] = acc(i, s) - 0.02;
      w.log(s, row);
    }
    w.finish(0);
    await w.flush();
  }
}

async function main() {
  const backend = await startBackend();
  const call = client(backend.url, backend.key);
  const suite = new Suite();
  const browser = await launch();
  let live = null;
  try {
    await fill(call);
    const page = await newPage(browser, backend.pageUrl, null);
    const ws = "/admin/e2e";
    const tw = (fn, arg, what, timeout) => until(page, fn, arg, timeout, what);

    await suite.test("sign in with an API key and reach the projects page", async () => {
      await page.goto("/admin/e2e");
      await page.waitForSelector("#api-key");
      await shot(page, "01-signin");
      await page.fill("#api-key", "wrong-key");
      await page.click("button[type=submit]");
      await page.waitForSelector("text=not accepted");
      await page.fill("#api-key", backend.key);
      await page.click("button[type=submit]");
      await page.waitForSelector(".runtable");
      assert(new URL(page.url()).pathname === ws, `returned to ${ws} after sign-in, got ${page.url()}`);
      await page.goto("/admin");
      await page.waitForSelector("table.projects >> text=e2e");
      await shot(page, "02-projects");
      // A one-click link with the key in the fragment signs in and drops the key from the URL.
      const other = await newPage(browser, backend.pageUrl, null);
      await other.goto(`/admin/e2e#key=${encodeURIComponent(backend.key)}`);
      await other.waitForSelector(".runtable");
      assert(!other.url().includes("key="), "key removed from the address bar");
      await other.context().close();
    });

    await suite.test("runs table lists every run and sorts by name", async () => {
      await page.goto(ws);
      await tw(() => window.__trackway.table.total === 6, null, "6 runs");
      const rows = await page.evaluate(() => window.__trackway.table.rows);
      assert(rows.length === 6 && LRS.every((_, i) => rows.includes(`e2e-${i}`)), `rows ${rows}`);
      // Sorting is the server's: each click asks for the first page in the new order.
      await page.click(".th[data-key=name]");
      await tw(() => window.__trackway.table.rows.join() === "e2e-5,e2e-4,e2e-3,e2e-2,e2e-1,e2e-0", null, "descending by name");
      await page.click(".th[data-key=name]");
      await tw(() => window.__trackway.table.rows.join() === "e2e-0,e2e-1,e2e-2,e2e-3,e2e-4,e2e-5", null, "ascending by name");
      assert(new URL(page.url()).searchParams.get("sort") === "name", "sort is in the URL");
      await page.check(".trow[data-run=e2e-3] input[type=checkbox]");
      await page.check(".trow[data-run=e2e-4] input[type=checkbox]");
      await tw(() => window.__trackway.charts.loss?.runs.join() === "e2e-3,e2e-4", null, "checked runs are charted");
      await page.click("#select-all");
      await tw(() => window.__trackway.charts.loss?.runs.length === 6, null, "select all charts every run");
      assert(new URL(page.url()).searchParams.get("runs") === "*", "select-all is one token in the URL");
      await page.uncheck(".trow[data-run=e2e-0] input[type=checkbox]");
      await tw(() => window.__trackway.charts.loss?.runs.length === 5, null, "unchecking one of all");
      await page.click(".trow[data-run=e2e-1] .td.pin");
      await tw(() => window.__trackway.table.rows[0] === "e2e-1", null, "pinned run first");
      await page.click(".trow[data-run=e2e-1] .td.pin");
      await page.click("#column-search");
      await page.fill("#column-search", "config.l");
      await page.click(".picker-item >> text=config.lr");
      await page.click(".th[data-key='config.lr']");
      await tw(() => window.__trackway.table.rows.join() === "e2e-0,e2e-1,e2e-2,e2e-3,e2e-4,e2e-5", null, "descending by config.lr");
      const cell = await page.textContent(".trow[data-run=e2e-0] .td:last-child");
      assert(cell === "0.1", `config.lr column shows 0.1, got ${cell}`);
      await page.goto(ws);
    });

    await suite.test("a chart shows exactly the logged values", async () => {
      await tw(() => { const c = window.__trackway.charts.loss; return c && c.runs.length === 6 && c.x.length >= 200; }, null, "loss chart with 6 runs");
      const c = await page.evaluate(() => { const c = window.__trackway.charts.loss; return { runs: c.runs, x: c.x, raw: c.raw }; });
      for (let i = 0; i < 6; i++) {
        const col = c.raw[c.runs.indexOf(`e2e-${i}`)];
        for (let s = 0; s < STEPS; s++) {
          const j = c.x.indexOf(s);
          assert(j >= 0 && near(col[j], loss(i, s)), `run ${i} step ${s}: chart ${col[j]} vs logged ${loss(i, s)}`);
        }
      }
      await page.locator(".chart[data-metric='eval/acc']").scrollIntoViewIfNeeded();
      await page.waitForSelector(".chart[data-metric='eval/acc'] canvas");
      await page.locator(".chart[data-metric=loss]").scrollIntoViewIfNeeded();
      await page.hover(".chart[data-metric=loss] .u-over", { position: { x: 200, y: 60 } });
      await page.waitForSelector(".chart[data-metric=loss] .tip-row");
      await shot(page, "03-workspace");
    });

    await suite.test("smoothing follows TensorBoard's EMA and changes the line", async () => {
      const check = async (w) => {
        await tw((w) => window.__trackway.charts.loss?.smoothing === w, w, `smoothing ${w}`);
        const c = await page.evaluate(() => { const c = window.__trackway.charts.loss; return { runs: c.runs, raw: c.raw, smooth: c.smooth }; });
        const i = c.runs.indexOf("e2e-2");
        const want = tbSmooth(c.raw[i], w);
        assert(want.every((v, j) => v === null ? c.smooth[i][j] === null : near(c.smooth[i][j], v)), `smoothed column matches TB at ${w}`);
        return c;
      };
      const c6 = await check(0.6);
      await page.fill("#smoothing-input", "0.95");
      await page.dispatchEvent("#smoothing-input", "change");
      const c95 = await check(0.95);
      const i = c95.runs.indexOf("e2e-2");
      assert(c95.smooth[i][150] !== c6.smooth[i][150], "line changed");
      await shot(page, "04-smoothing-095");
      await page.fill("#smoothing-input", "0");
      await page.dispatchEvent("#smoothing-input", "change");
      const c0 = await check(0);
      assert(c0.smooth[i].every((v, j) => v === c0.raw[i][j]), "weight 0 draws the raw line");
      assert(new URL(page.url()).searchParams.get("s") === "0", "smoothing is in the URL");
    });

    await suite.test("a filter narrows the table, and the URL restores it", async () => {
      // The server is the only evaluator of filters; the mock backend does not implement them.
      if (backend.kind !== "server") { console.log("    (needs TRACKWAY_E2E_BACKEND=server: only the server evaluates filters)"); return; }
      await page.fill("#filter-field", "config.lr");
      await page.selectOption("#filter-op", ">");
      await page.fill("#filter-value", "0.008");
      await page.click("#filter-add");
      await tw(() => window.__trackway.table.total === 4, null, "4 runs after config.lr > 0.008");
      const req = page.waitForRequest((r) => r.url().includes("/runs?") && r.url().includes("filters=") && r.url().includes("regex"));
      await page.fill("#name-search", "ALPHA-[01]$");
      await tw(() => window.__trackway.table.total === 2, null, "2 runs after the name regex");
      // The server must evaluate the UI's filter itself (the UI's own check is only a safety net).
      const sent = new URL((await req).url()).searchParams.get("filters");
      const direct = await call("GET", `/projects/admin/e2e/runs?limit=50&filters=${encodeURIComponent(sent)}`);
      if (backend.kind === "server") assert(direct.runs.length === 2 && direct.runs.every((r) => ["e2e-0", "e2e-1"].includes(r.run_id)), `server applied ${sent}: ${direct.runs.map((r) => r.run_id)}`);
      await shot(page, "05-filtered");
      await page.reload();
      await tw(() => window.__trackway.table.total === 2, null, "filter restored from the URL");
      const sm = await page.inputValue("#smoothing-input");
      assert(sm === "0", `smoothing restored from the URL, got ${sm}`);
      await page.goto(ws);
      await tw(() => window.__trackway.table.total === 6, null, "unfiltered again");
      if (backend.kind === "server") assert((await call("GET", `/projects/admin/e2e/runs?filters=${encodeURIComponent(JSON.stringify({ "config.lr": { $gt: 0.008 } }))}`)).runs.length === 4, "server filter on config.lr");
    });

    await suite.test("time filters and refused regexes are the server's verdict, not the UI's", async () => {
      if (backend.kind !== "server") { console.log("    (needs TRACKWAY_E2E_BACKEND=server: only the server evaluates filters)"); return; }
      await page.goto(ws);
      await tw(() => window.__trackway.table.total === 6, null, "6 runs");
      // created_at against an ISO date: the server compares times (the old TypeScript copy
      // compared a number with a string and showed no runs at all).
      await page.fill("#filter-field", "created_at");
      await page.selectOption("#filter-op", ">");
      await page.fill("#filter-value", "2024-01-01");
      await page.click("#filter-add");
      await tw(() => window.__trackway.table.total === 6 && window.__trackway.table.rows.length === 6, null, "6 runs created after 2024-01-01");
      await page.goto(`${ws}?sort=name`);
      await tw(() => window.__trackway.table.rows.length === 6, null, "unfiltered, sorted by name");
      const byName = await page.evaluate(() => window.__trackway.table.rows);
      assert(byName.join() === [...byName].sort().join(), `the server's name order is shown: ${byName}`);
      // A regex the server's dialect refuses (look-behind) is an error on screen, and the UI does
      // not fall back to downloading the project unfiltered.
      const unfiltered = [];
      page.on("request", (r) => { if (r.url().includes("/runs?") && !r.url().includes("filters=")) unfiltered.push(r.url()); });
      await page.fill("#name-search", "(?<=a)lpha");
      await tw(() => !document.querySelector("#filter-error").hidden, null, "the refusal is shown");
      const msg = await page.textContent("#filter-error");
      assert(/regex|filter/i.test(msg), `the error says why: ${msg}`);
      assert(await page.evaluate(() => window.__trackway.table.total) === 0, "no runs listed for a refused filter");
      assert(unfiltered.length === 0, `no unfiltered download: ${unfiltered}`);
      await page.goto(ws);
      await tw(() => window.__trackway.table.total === 6, null, "unfiltered again");
    });

    await suite.test("x-axis, log scale and zoom re-query the server", async () => {
      await page.goto(`${ws}?runs=e2e-0,e2e-1&x=_runtime&log=1`);
      await tw(() => window.__trackway.charts.loss?.runs.length === 2, null, "2 selected runs charted");
      const x = await page.evaluate(() => window.__trackway.charts.loss.x);
      assert(x[x.length - 1] < 199, `relative time on x (last ${x[x.length - 1]})`);
      await page.goto(`${ws}?runs=e2e-0&x=acc`);
      await tw(() => window.__trackway.charts.loss?.x.length >= 150, null, "loss against acc");
      const xa = await page.evaluate(() => window.__trackway.charts.loss.x);
      assert(xa.some((v) => near(v, acc(0, 100))) && xa.every((v, i) => i === 0 || v > xa[i - 1]), "x is the logged acc, ascending");
      await page.goto(`${ws}?runs=e2e-0&zoom=50,100`);
      await tw(() => { const c = window.__trackway.charts.loss; return c && c.x.length > 0 && c.x[0] >= 50 && c.x[c.x.length - 1] <= 100; }, null, "zoomed range only");
      await shot(page, "06-zoomed");
    });

    await suite.test("grouping draws one mean line per group", async () => {
      await page.goto(`${ws}?group=config.optimizer`);
      await tw(() => { const c = window.__trackway.charts.loss; return c && c.runs.length === 2 && c.runs.every((r) => r.startsWith("group:")); }, null, "2 group lines");
      const c = await page.evaluate(() => window.__trackway.charts.loss);
      const j = c.x.indexOf(10), gi = c.runs.indexOf("group:adam");
      const want = (loss(0, 10) + loss(2, 10) + loss(4, 10)) / 3;
      assert(near(c.raw[gi][j], want), `adam mean at step 10: ${c.raw[gi][j]} vs ${want}`);
      await shot(page, "07-grouped");
    });

    await suite.test("scatter and parallel coordinates plot every run; brushing selects", async () => {
      // Panels on the workspace grid (section "across runs"), scrolled to.
      const reveal = async (id) => { await page.waitForSelector(`.chart[data-metric="${id}"]`); await page.locator(`.chart[data-metric="${id}"]`).scrollIntoViewIfNeeded(); };
      await page.goto(`${ws}?sx=config.lr&sy=summary.loss&color=summary.acc`);
      await reveal("xrun:scatter");
      await tw(() => window.__trackway.scatter?.points === 6, null, "6 scatter points");
      await shot(page, "08-scatter");
      await page.goto(`${ws}?axes=config.lr,config.model.layers,summary.acc`);
      await reveal("xrun:parallel");
      await tw(() => window.__trackway.parallel?.lines === 6, null, "6 lines");
      // Charts above it are still loading and may push the panel down: bring the canvas itself
      // into view, let the layout settle, then brush where it is now.
      const canvas = page.locator("#parallel-canvas");
      await canvas.scrollIntoViewIfNeeded();
      await page.waitForTimeout(500);
      await canvas.scrollIntoViewIfNeeded();
      const box = await canvas.boundingBox();
      await page.mouse.move(box.x + 40, box.y + 30);
      await page.mouse.down();
      await page.mouse.move(box.x + 40, box.y + 200, { steps: 4 });
      await page.mouse.up();
      await tw(() => window.__trackway.parallel?.brushed > 0 && new URL(location.href).searchParams.get("runs"), null, "brush selects runs");
      await shot(page, "09-parallel");
    });

    await suite.test("run page shows overview, config, summary, console state; notes save", async () => {
      await page.goto("/admin/e2e/runs/e2e-0");
      await page.waitForSelector("#config-table >> text=lr");
      const cfg = await page.textContent("#config-table");
      assert(cfg.includes("0.1") && cfg.includes("model.layers") && cfg.includes("adam"), `config table: ${cfg}`);
      const sum = await page.textContent("#summary-table");
      assert(sum.includes("loss") && sum.includes("acc"), `summary table: ${sum}`);
      await page.fill("#run-notes", "checked by e2e");
      await page.click("#save-notes");
      await page.waitForSelector("text=saved");
      await shot(page, "10-run-overview");
      await page.reload();
      await page.waitForSelector("#run-notes");
      assert((await page.inputValue("#run-notes")) === "checked by e2e", "notes persisted through PATCH");
      await page.click("#tab-charts");
      await tw(() => window.__trackway.charts.loss?.runs.length === 1, null, "run chart");
      await shot(page, "11-run-charts");
      await page.click("#tab-console");
      await page.waitForSelector("#console-log, #console-empty");
      await shot(page, "12-run-console");
    });

    await suite.test("compare highlights differing config", async () => {
      await page.goto("/admin/e2e/compare?runs=e2e-0,e2e-1");
      await page.waitForSelector("#compare-table tr.diff >> text=config.lr");
      const same = await page.locator("#compare-table tr:not(.diff) >> text=state").count();
      assert(same === 1, "state is the same for both runs");
      await shot(page, "13-compare");
    });

    await suite.test("console tab: live lines after the last one held, stderr marked, search highlights", async () => {
      const w = new RunWriter(call, { project: "e2e-run", run_id: "console-0", name: "console-run" });
      await w.start();
      const text = (n) => (n % 7 === 3 ? `Warning: slow batch ${n}` : `epoch ${n} loss ${(1 / (n + 1)).toFixed(4)}`);
      for (let n = 0; n < 30; n++) w.output(n, n % 7 === 3 ? "err" : "out", text(n));
      await w.flush();
      const asked = [];
      const onReq = (r) => { if (r.url().includes("/output")) asked.push(new URL(r.url()).searchParams.get("after_line")); };
      page.on("request", onReq);
      try {
        await page.goto("/admin/e2e-run/runs/console-0?tab=console");
        await tw(() => document.querySelectorAll("#console-log .cl").length === 30, null, "30 console lines");
        const errs = await page.$$eval("#console-log .cl.err", (els) => els.map((e) => e.querySelector(".tx").textContent));
        assert(errs.join("|") === [3, 10, 17, 24].map(text).join("|"), `stderr lines marked: ${errs}`);
        const first = await page.$eval("#console-log .cl", (e) => [e.querySelector(".ln").textContent, e.querySelector(".tx").textContent]);
        assert(first[0] === "1" && first[1] === text(0), `first line numbered 1: ${first}`);
        const color = await page.$eval("#console-log .cl.err .tx", (e) => getComputedStyle(e).color);
        const plain = await page.$eval("#console-log .cl:not(.err) .tx", (e) => getComputedStyle(e).color);
        assert(color !== plain, `stderr drawn differently (${color} vs ${plain})`);
        for (let n = 30; n < 40; n++) w.output(n, n % 7 === 3 ? "err" : "out", text(n));
        await w.flush();
        await tw(() => document.querySelectorAll("#console-log .cl").length === 40, null, "live lines arrive", 15000);
        assert(asked.includes("29"), `a poll asked only for lines after 29: ${asked}`);
        await shot(page, "17-run-console-live");
        await page.fill("#console-search", "warning");
        await tw(() => { const l = document.querySelectorAll("#console-log .cl"); return l.length === 6 && [...l].every((e) => e.querySelector("mark")?.textContent === "Warning"); }, null, "6 lines contain warning, highlighted");
        await shot(page, "18-run-console-search");
      } finally { page.off("request", onReq); }
      w.finish(0); await w.flush();
    });

    await suite.test("files tab lists files with size and versions, previews text and images, downloads", async () => {
      const w = new RunWriter(call, { project: "e2e-run", run_id: "files-0", name: "files-run" });
      await w.start(); w.finish(0); await w.flush();
      const ref = { project: "e2e-run", run_id: "files-0" };
      const put = (p, b) => putFile(backend.url, backend.key, ref, p, b);
      await put("notes/readme.txt", "first version\n");
      const v2 = await put("notes/readme.txt", "second version\nwith two lines\n");
      assert(v2.version === 2, `second upload is version 2: ${JSON.stringify(v2)}`);
      const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><rect width="120" height="80" fill="#2f6fde"/><circle cx="60" cy="40" r="25" fill="#facc15"/></svg>';
      await put("media/plot.svg", svg);
      const big = Array.from({ length: 12000 }, (_, i) => `line ${String(i).padStart(6, "0")} of a long log\n`).join("");
      await put("big.log", big);
      await page.goto("/admin/e2e-run/runs/files-0?tab=files");
      await page.waitForSelector("#files-table");
      const rows = await page.$$eval("#files-table tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
      assert(rows.map((r) => r[0]).join() === "big.log,media/plot.svg,notes/readme.txt", `listed paths: ${rows.map((r) => r[0])}`);
      assert(rows[2][1] === "30 B" && rows[2][2].includes("v2 (latest)"), `size and version of readme: ${rows[2]}`);
      await page.click("#files-table tr[data-path='notes/readme.txt'] td.path");
      await page.waitForSelector("#file-text >> text=second version");
      await page.selectOption("#files-table tr[data-path='notes/readme.txt'] select", "1");
      await tw(() => document.querySelector("#file-text")?.textContent === "first version\n", null, "version 1 previewed");
      const dl = page.waitForEvent("download");
      await page.click("#file-download");
      const got = fs.readFileSync(await (await dl).path(), "utf8");
      assert(got === "first version\n", `downloaded version 1: ${JSON.stringify(got)}`);
      await page.click("#files-table tr[data-path='media/plot.svg'] td.path");
      await tw(() => { const i = document.querySelector("#file-image"); return i && i.complete && i.naturalWidth === 120; }, null, "image preview drawn");
      await shot(page, "19-run-files-image");
      await page.click("#files-table tr[data-path='big.log'] td.path");
      await page.waitForSelector("#file-preview >> text=The first 256 KB");
      const shownLen = await page.$eval("#file-text", (e) => e.textContent.length);
      assert(shownLen === 256 * 1024 && big.startsWith(await page.$eval("#file-text", (e) => e.textContent)), `text preview is the first 256 KB (${shownLen})`);
      await page.click("#files-table tr[data-path='notes/readme.txt'] td.path");
      await page.selectOption("#files-table tr[data-path='notes/readme.txt'] select", "");
      await page.waitForSelector("#file-text >> text=with two lines");
      await shot(page, "20-run-files-text");
      await put("late/added.txt", "uploaded after the page opened\n");
      await page.click("#files-refresh");
      await page.waitForSelector("#files-table tr[data-path='late/added.txt']");
      assert((await page.$$("#files-table tr.on")).length === 1, "the previewed file stays selected after a refresh");
    });

    await suite.test("system tab charts the run's system stream against relative time", async () => {
      const w = new RunWriter(call, { project: "e2e-run", run_id: "system-0", name: "system-run" });
      await w.start();
      for (let s = 0; s < 5; s++) w.log(s, { loss: 0.5 / (s + 1) + 0.0001 });
      w.finish(0); await w.flush();
      const sys = new SystemWriter(w);
      const cpu = (k) => 20 + 30 * Math.abs(Math.sin(k / 4)) + 0.5;
      for (let k = 0; k < 20; k++) sys.stats(w.t0 + 5 + 10 * k, { "system/cpu": cpu(k), "system/memory_percent": 40.25 + k / 8 });
      await sys.flush();
      await page.goto("/admin/e2e-run/runs/system-0?tab=system");
      await tw(() => window.__trackway.charts["system/cpu"]?.x.length === 20, null, "system/cpu chart with 20 points");
      const c = await page.evaluate(() => window.__trackway.charts["system/cpu"]);
      assert(c.x.every((x, k) => Math.abs(x - (5 + 10 * k)) < 1e-3), `x is seconds since the run started: ${c.x.slice(0, 4)}`);
      assert(c.raw[0].every((v, k) => near(v, cpu(k))), "values are the sampled ones");
      await page.waitForSelector(".chart[data-metric='system/memory_percent'] canvas");
      assert((await page.inputValue("#x-axis")) === "_runtime", "relative time is the default x");
      await shot(page, "21-run-system");
      await page.selectOption("#x-axis", "_timestamp");
      await tw((t0) => { const x = window.__trackway.charts["system/cpu"]?.x; return x && Math.abs(x[0] - (t0 + 5)) < 1e-3; }, w.t0, "wall time on x");
    });

    await suite.test("a live run's chart grows while it logs", async () => {
      const w = new RunWriter(call, { project: "e2e", run_id: "live-0", name: "live-run", config: { lr: 0.03 } });
      await w.start();
      let step = 0, stop = false;
      const writer = (async () => {
        while (!stop) {
          for (let k = 0; k < 5; k++, step++) w.log(step, { loss: 1 / (1 + step * 0.03) + 0.0001 });
          await w.flush();
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      live = { stop: async () => { stop = true; await writer; } };
      await page.goto(`${ws}?runs=live-0`);
      await tw(() => window.__trackway.charts.loss?.x.length > 0, null, "live chart");
      const n0 = await page.evaluate(() => window.__trackway.charts.loss.x.length);
      await tw((n0) => window.__trackway.charts.loss.x.length >= n0 + 10, n0, "chart grows", 20000);
      const n1 = await page.evaluate(() => window.__trackway.charts.loss.x.length);
      await shot(page, "14-live");
      await page.goto("/admin/e2e/runs/live-0?tab=charts");
      await tw(() => window.__trackway.charts.loss?.x.length > 0, null, "live run page chart");
      const r0 = await page.evaluate(() => window.__trackway.charts.loss.x.length);
      await tw((r0) => window.__trackway.charts.loss.x.length >= r0 + 10, r0, "run page chart grows", 20000);
      await live.stop();
      w.finish(0); await w.flush();
      console.log(`# live chart grew from ${n0} to ${n1} points`);
    });

    if (backend.kind === "server") await sweepTests(suite, page, call);

    // Media panels (docs/media-api.md), filled through the API like the agent uploads them. A
    // server built without the media routes (before they are merged) gets them from the mock,
    // said loudly; TRACKWAY_E2E_MEDIA=server makes that a failure.
    const mediaRoutes = backend.kind === "mock" || (await fetch(`${backend.url}/api/v1/runs/admin/e2e/e2e-0/media/keys`, { headers: { Authorization: `Bearer ${backend.key}` } })).ok;
    if (mediaRoutes) {
      await fillMedia(backend, call);
      await mediaTests(suite, page, backend, call);
    } else if (process.env.TRACKWAY_E2E_MEDIA === "server") {
      await suite.test("media routes on the server", async () => { throw new Error("the server answers 404 to GET .../media/keys (docs/media-api.md)"); });
    } else {
      console.log("# media panels: the server has no media routes (docs/media-api.md): testing the panels against the MOCK; set TRACKWAY_E2E_MEDIA=server to make this a failure");
      const m = await startMock();
      try {
        const mb = { url: m.url, key: m.key }, mcall = client(m.url, m.key);
        await fillMedia(mb, mcall);
        const mp = await newPage(browser, m.url, m.key);
        await mediaTests(suite, mp, mb, mcall);
        await mp.context().close();
      } finally { await m.close(); }
    }

    // Real scripts through the Python SDK, when both the real server and the SDK are here.
    const py = process.env.TRACKWAY_PYTHON ?? path.join(ROOT, ".venv", "bin", "python");
    const sdkOk = backend.kind === "server" && fs.existsSync(py) && spawnSync(py, ["-c", "import trackway"]).status === 0;
    if (!sdkOk) {
      const why = backend.kind !== "server" ? "the backend is the mock" : `${py} cannot import trackway`;
      if (process.env.TRACKWAY_E2E_SDK === "1") await suite.test("Python SDK scripts", async () => { throw new Error(why); });
      else console.log(`# NOT RUN: Python SDK scripts (${why}); set TRACKWAY_E2E_SDK=1 to make this a failure`);
    } else {
      // TRACKWAY_EXE: the SDK starts `<exe> agent` to upload (without it, the agent runs through the extension).
      const sdkEnv = { ...process.env, TRACKWAY_EXE: process.env.TRACKWAY_EXE ?? backend.bin, TRACKWAY_BASE_URL: backend.url, TRACKWAY_API_KEY: backend.key, TRACKWAY_MODE: "online",
        TRACKWAY_DIR: fs.mkdtempSync(path.join(backend.tmp, "sdk-")), TRACKWAY_CONFIG_DIR: path.join(backend.tmp, "sdk-config") };
      const script = path.join(WEB, "e2e", "sdk_log.py");
      await workspaceTests(suite, browser, backend, call, py, sdkEnv);
      await suite.test("a run logged by a Python script shows its values, config and console", async () => {
        const r = spawnSync(py, [script, "sdk1", "60", "0"], { env: sdkEnv, encoding: "utf8", timeout: 60000 });
        assert(r.status === 0, `script failed: ${r.stderr}`);
        await page.goto("/admin/sdk/runs/sdk1?tab=charts");
        await tw(() => window.__trackway.charts.loss?.x.length === 60, null, "60 logged steps in the run chart", 30000);
        const c = await page.evaluate(() => window.__trackway.charts.loss);
        assert(c.x.every((x, j) => x === j && near(c.raw[0][j], 1 / (1 + 0.02 * j) + 0.0001)), "values equal what the script logged");
        // The agent may upload trackway-metadata.json after the script has exited: wait for it.
        let meta = {};
        for (let i = 0; i < 100 && !meta.program; i++) {
          meta = (await call("GET", "/runs/admin/sdk/sdk1")).metadata ?? {};
          if (!meta.program) await new Promise((r) => setTimeout(r, 200));
        }
        assert(meta.program, `the agent's metadata reached the run within 20 s: ${JSON.stringify(meta).slice(0, 300)}`);
        await page.goto("/admin/sdk/runs/sdk1");
        await page.waitForSelector("#config-table >> text=model.layers");
        const overviewText = await page.textContent("#run-overview");
        assert(overviewText.includes("sdk_log.py sdk1 60 0") && overviewText.split("sdk_log.py").length === 2, `the command line from the agent's metadata: ${overviewText}`);
        if (meta.git?.commit) assert((await page.textContent("#run-git")).includes(meta.git.commit.slice(0, 12)), "git commit shown");
        await shot(page, "25-sdk-overview");
        if (meta.git?.dirty) {
          await page.click("#run-diff");
          await page.waitForSelector("#file-text >> text=diff --git");
          await shot(page, "24-sdk-diff");
          await page.click("#tab-overview");
        } else console.log(`# SDK run sdk1: git ${JSON.stringify(meta.git ?? null)} (no uncommitted changes, so no diff link to follow)`);
        // The SDK captures stdout/stderr into `output` records of run.jsonl; the agent uploads them.
        await page.click("#tab-console");
        await page.waitForSelector("#console-log .cl >> text=step 50", { timeout: 20000 });
        const lines = await page.$$eval("#console-log .cl", (els) => els.map((e) => [e.classList.contains("err"), e.querySelector(".tx").textContent]));
        const outs = lines.filter(([err]) => !err).map(([, t]) => t), errs = lines.filter(([err]) => err).map(([, t]) => t);
        assert(outs[0] === "starting training" && outs.includes("step 50 loss 0.5001"), `stdout lines: ${outs.slice(0, 8)}`);
        // (The SDK's own "trackway: run … logging to …" notice goes to stderr too, and is captured.)
        assert(errs.filter((t) => t.startsWith("warning:")).join("|") === "warning: step 5 was slow|warning: step 30 was slow|warning: step 55 was slow", `stderr lines: ${errs}`);
        assert(!outs.some((t) => t.startsWith("warning:")), "no stderr line shown as stdout");
        await shot(page, "15-sdk-run");
        // What the agent uploaded besides run.jsonl (files, system.jsonl) is its business, not the
        // UI's; say what arrived so the screenshots below can be read against it.
        const files = (await call("GET", "/runs/admin/sdk/sdk1/files")).files.map((f) => f.path);
        const sysKeys = (await call("GET", "/runs/admin/sdk/sdk1/history/keys?stream=system")).keys;
        console.log(`# SDK run sdk1: files [${files}], system keys [${sysKeys}]`);
        await page.click("#tab-files");
        await page.waitForSelector(files.length ? "#files-table" : "#files-empty");
        if (files.includes("output.log")) {
          await page.click("#files-table tr[data-path='output.log'] td.path");
          await page.waitForSelector("#file-text >> text=step 50 loss");
        }
        await shot(page, "23-sdk-files");
      });
      const hasMediaSdk = spawnSync(py, ["-c", "import trackway, sys; sys.exit(0 if hasattr(trackway, 'Image') and hasattr(trackway, 'plot') else 1)"]).status === 0;
      if (mediaRoutes && hasMediaSdk) {
        await sdkMediaTests(suite, page, call, (id) => {
          const r = spawnSync(py, [path.join(WEB, "e2e", "sdk_media.py"), id], { env: sdkEnv, encoding: "utf8", timeout: 120000 });
          assert(r.status === 0, `sdk_media.py failed: ${r.stderr}`);
        });
      } else {
        const why = !mediaRoutes ? "the server has no media routes" : "the SDK has no trackway.Image / trackway.plot";
        if (process.env.TRACKWAY_E2E_MEDIA === "server") await suite.test("Python SDK media script", async () => { throw new Error(why); });
        else console.log(`# NOT RUN: Python SDK media script (${why}); set TRACKWAY_E2E_MEDIA=server to make this a failure`);
      }
      await artifactTests(suite, page, call, () => {
        const r = spawnSync(py, [path.join(WEB, "e2e", "sdk_artifacts.py")], { env: { ...sdkEnv, TRACKWAY_DIR: fs.mkdtempSync(path.join(backend.tmp, "arts-")) }, cwd: backend.tmp, encoding: "utf8", timeout: 120000 });
        assert(r.status === 0, `sdk_artifacts.py failed: ${r.stderr}`);
      });
      await runTableTests(suite, page, { backend, call, py, sdkEnv });

      await suite.test("a live Python script's chart grows while it logs", async () => {
        const proc = spawn(py, [script, "sdk2", "400", "0.05"], { env: sdkEnv, stdio: "ignore" });
        try {
          await page.goto("/admin/sdk?runs=sdk2");
          await tw(() => window.__trackway.charts.loss?.x.length > 0, null, "live SDK chart", 30000);
          const n0 = await page.evaluate(() => window.__trackway.charts.loss.x.length);
          await tw((n0) => window.__trackway.charts.loss.x.length >= n0 + 20, n0, "SDK chart grows", 30000);
          await shot(page, "16-sdk-live");
          await page.goto("/admin/sdk/runs/sdk2?tab=console");
          await tw(() => document.querySelectorAll("#console-log .cl").length > 0, null, "live SDK console", 20000);
          const c0 = await page.$$eval("#console-log .cl", (e) => e.length);
          await tw((c0) => document.querySelectorAll("#console-log .cl").length >= c0 + 3, c0, "SDK console grows while the script prints", 30000);
          await shot(page, "22-sdk-live-console");
          const sysKeys = (await call("GET", "/runs/admin/sdk/sdk2/history/keys?stream=system")).keys;
          console.log(`# SDK run sdk2 (live): system keys [${sysKeys}]`);
          if (sysKeys.length) {
            await page.goto("/admin/sdk/runs/sdk2?tab=system");
            await tw((k) => window.__trackway.charts[k]?.x.length > 0, sysKeys[0], `${sysKeys[0]} charted`, 20000);
            await shot(page, "26-sdk-system");
          }
        } finally { proc.kill("SIGTERM"); }
      });
    }
    await teamsTests(suite, browser, backend, call);
    await reportsTests(suite, browser, backend, call);
    await oidcTests(suite, browser, backend);
  } finally {
    await live?.stop().catch(() => {});
    await browser.close();
    await backend.stop();
  }
  process.exit(suite.summary() ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
