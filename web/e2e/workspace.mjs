// Browser tests of the workspace's charts (issue 13): colours and legends, tick labels of
// known magnitudes, markers for one-point metrics, NaN/Inf markers, panel editing kept in the
// URL and in the server-side autosaved view (seen by a second browser session), saved views,
// chart export (CSV, PNG, SVG), scatter/parallel-coordinates panels on the grid, long names.
// The project is filled by a real Python SDK script (e2e/sdk_workspace.py).

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ARTIFACTS, assert, newPage, shot, until, WEB } from "./lib.mjs";
import { RunWriter, SystemWriter } from "./backend.mjs";

const N = 12;

export async function workspaceTests(suite, browser, backend, call, py, sdkEnv) {
  const r = spawnSync(py, [path.join(WEB, "e2e", "sdk_workspace.py"), String(N)], { env: sdkEnv, encoding: "utf8", timeout: 180000 });
  if (r.status !== 0) { await suite.test("workspace: SDK fill", async () => { throw new Error(`sdk_workspace.py failed: ${r.stderr}`); }); return; }
  // The agent uploads after the script exits: wait until every run's last step is in.
  for (let i = 0; i < 150; i++) {
    const page = await call("GET", `/projects/admin/ws/runs?limit=100&filters=${encodeURIComponent(JSON.stringify({ state: "finished" }))}`);
    if (page.total === N) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  const page = await newPage(browser, backend.pageUrl, backend.key);
  const tw = (fn, arg, what, timeout) => until(page, fn, arg, timeout, what);
  const chart = (m) => page.evaluate((k) => window.__trackway.charts[k] ?? null, m);
  const all = `/admin/ws?runs=*`;

  await suite.test("workspace: every chart has a legend of exactly the visible runs, in distinct colours", async () => {
    await page.goto(all);
    await tw((n) => window.__trackway.charts.loss?.runs.length === n, N, `${N} runs in the loss chart`, 30000);
    const legend = await page.$$eval('.chart[data-metric="loss"] .chart-legend .leg', (els) => els.map((e) => e.getAttribute("title")));
    const names = (await call("GET", "/projects/admin/ws/runs?limit=100")).runs.map((x) => x.name);
    assert(legend.length === N && names.every((n) => legend.includes(n)), `legend ${legend} vs runs ${names}`);
    const c = await chart("loss");
    assert(new Set(c.colors).size === N, `distinct colours: ${c.colors}`);
    const swatches = await page.$$eval('.chart[data-metric="loss"] .chart-legend .swatch', (els) => els.map((e) => getComputedStyle(e).backgroundColor));
    assert(new Set(swatches).size === N, `distinct legend swatches: ${swatches}`);
    // Hover highlights, click hides a run (and a second click brings it back).
    const first = page.locator('.chart[data-metric="loss"] .chart-legend .leg').first();
    await first.click();
    assert(await first.evaluate((e) => e.classList.contains("off")), "clicked legend entry is off");
    await shot(page, "ws-01-legend-colours");
    await first.click();
    // The tooltip of a right-column chart stays inside the window.
    const box = await page.locator('.chart[data-metric="loss"] .u-over').boundingBox();
    await page.mouse.move(box.x + box.width - 4, box.y + box.height / 2);
    await tw(() => [...document.querySelectorAll(".tip")].some((t) => t.style.display === "block"), null, "tooltip shown");
    const tip = await page.evaluate(() => { const t = [...document.querySelectorAll(".tip")].find((x) => x.style.display === "block"); const b = t.getBoundingClientRect(); return { l: b.left, r: b.right, w: innerWidth }; });
    assert(tip.l >= 0 && tip.r <= tip.w, `tooltip inside the window: ${JSON.stringify(tip)}`);
    await shot(page, "ws-02-tooltip");
  });

  await suite.test("workspace: tick labels of nano, giga and log-scale values read back exactly", async () => {
    await page.goto(`${all}&search=${encodeURIComponent("^(tiny|huge|lr)$")}`);
    await tw(() => ["tiny", "huge", "lr"].every((k) => window.__trackway.charts[k]?.yTicks?.length), null, "tick labels", 30000);
    // The ticks of the data, not of the empty chart drawn before the history arrives.
    await tw(() => window.__trackway.charts.tiny.yTicks.some((l) => l.endsWith("n")), null, "tiny ticks of the data", 10000).catch(() => {});
    const tiny = (await chart("tiny")).yTicks, huge = (await chart("huge")).yTicks;
    assert(tiny.every((l) => l === "0" || /^[\d.]+n$/.test(l)) && new Set(tiny).size === tiny.length, `tiny ticks ${tiny}`);
    assert(huge.every((l) => /^[\d.]+G$/.test(l)) && new Set(huge).size === huge.length, `huge ticks ${huge}`);
    // Log y on the learning-rate panel, set through the panel editor.
    await page.locator('.chart[data-metric="lr"]').hover();
    await page.click('.chart[data-metric="lr"] button.edit');
    await page.selectOption('.panel-editor select[name="logy"]', "1");
    await page.click("#panel-save");
    await tw(() => window.__trackway.charts.lr?.yTicks?.length && new URL(location.href).searchParams.get("panels")?.includes("logy"), null, "log-y lr chart", 20000);
    await page.waitForTimeout(300);
    const lr = (await chart("lr")).yTicks;
    const shown = lr.filter(Boolean);
    assert(shown.length > 1 && shown.every((l) => l !== "0" && l !== "0.00") && new Set(shown).size === shown.length && shown.some((l) => /µ$/.test(l)), `log lr ticks ${lr}`);
    await shot(page, "ws-03-magnitudes");
  });

  await suite.test("workspace: a one-point metric is a marker, NaN/Inf are counted, text gets no line chart", async () => {
    await page.goto(`${all}&search=${encodeURIComponent("^(test/acc|bad|phase)$")}`);
    await tw((n) => window.__trackway.charts["test/acc"]?.markers?.length === n, N, "test/acc markers", 30000);
    await tw(() => window.__trackway.charts.bad?.nonfinite === 2, null, "NaN/Inf counted", 20000);
    const badge = await page.textContent('.chart[data-metric="bad"] .nonfinite');
    assert(badge.includes("2 NaN/Inf"), `badge ${badge}`);
    const legend = await page.$$eval('.chart[data-metric="bad"] .chart-legend .leg', (els) => els.map((e) => e.getAttribute("title")));
    assert(legend.length === 1 && legend[0].startsWith("sweep-00"), `only the run that logged "bad" is in its legend: ${legend}`);
    const phase = await page.$('.chart[data-metric="phase"]');
    assert(!phase || !(await phase.isVisible()) || (await page.textContent('.chart[data-metric="phase"] .chart-status')).includes("no numeric"), "no empty line chart for a text key");
    await shot(page, "ws-04-nonfinite");
    await page.locator('.chart[data-metric="test/acc"]').scrollIntoViewIfNeeded();
    await shot(page, "ws-04b-one-point-markers");
  });

  await suite.test("workspace: a panel edit persists across a reload and for a second browser session", async () => {
    await page.goto(all);
    await tw(() => window.__trackway.charts.loss?.runs.length > 0, null, "loss chart", 30000);
    await page.locator('.chart[data-metric="loss"]').hover();
    await page.click('.chart[data-metric="loss"] button.edit');
    await page.fill('.panel-editor input[name="title"]', "Training loss (edited)");
    await page.fill('.panel-editor input[name="metrics"]', "loss, /^test\\//");
    await page.fill('.panel-editor input[name="ymax"]', "2");
    await page.click("#panel-save");
    await tw(() => document.querySelector('.chart[data-metric="loss"] .chart-title')?.textContent === "Training loss (edited)", null, "edited title");
    await tw(() => window.__trackway.charts.loss?.runs.some((r) => r.endsWith(":test/acc")), null, "two metrics in one panel", 20000);
    await shot(page, "ws-05-panel-edited");
    await page.waitForTimeout(1200); // the autosave is debounced
    await page.reload();
    await page.waitForSelector('.chart[data-metric="loss"] .chart-title >> text=Training loss (edited)');
    // A second browser session opens the project without any view state in its URL.
    const other = await newPage(browser, backend.pageUrl, backend.key);
    await other.goto("/admin/ws");
    await other.waitForSelector('.chart[data-metric="loss"] .chart-title >> text=Training loss (edited)', { timeout: 20000 });
    assert(new URL(other.url()).searchParams.get("panels")?.includes("Training loss"), `the URL reflects the loaded view: ${other.url()}`);
    await until(other, () => window.__trackway.charts.loss?.runs.some((r) => r.endsWith(":test/acc")), null, 20000, "the edited panel's two metrics in the second session");
    await shot(other, "ws-06-second-session");
    // Duplicate and delete panels.
    await other.locator('.chart[data-metric="loss"]').hover();
    await other.click('.chart[data-metric="loss"] button.dup');
    await other.waitForSelector('.chart[data-metric="custom:1"]');
    await other.locator('.chart[data-metric="custom:1"]').hover();
    await other.click('.chart[data-metric="custom:1"] button.del');
    await until(other, () => !document.querySelector('.chart[data-metric="custom:1"]'), null, 5000, "deleted panel gone");
    await other.context().close();
  });

  await suite.test("workspace: a panel's own aggregation overrides the workspace grouping and persists", async () => {
    const search = `&search=${encodeURIComponent("^(lr|tiny)$")}`;
    const grouped = (k) => window.__trackway.charts[k]?.runs.length > 0 && window.__trackway.charts[k].runs.every((r) => r.startsWith("group:"));
    await page.goto(`${all}&group=config.optimizer${search}`);
    await tw(() => ["lr", "tiny"].every((k) => window.__trackway.charts[k]?.runs.length === 3), null, "grouped charts", 30000);
    // The tiny panel draws each run although the workspace groups by optimizer.
    await page.locator('.chart[data-metric="tiny"]').hover();
    await page.click('.chart[data-metric="tiny"] button.edit');
    await page.selectOption('.panel-editor select[name="group"]', "-");
    await page.click("#panel-save");
    await tw((n) => window.__trackway.charts.tiny?.runs.length === n && !window.__trackway.charts.tiny.runs.some((r) => r.startsWith("group:")), N, "tiny per run", 20000);
    assert(await page.evaluate(grouped, "lr"), "the other panel keeps the workspace grouping");
    // Without workspace grouping, the lr panel groups by optimizer on its own, in distinct colours.
    const url = new URL(page.url());
    url.searchParams.delete("group");
    await page.goto(url.pathname + url.search);
    await tw((n) => ["lr", "tiny"].every((k) => window.__trackway.charts[k]?.runs.length === n), N, "ungrouped charts", 30000);
    await page.locator('.chart[data-metric="lr"]').hover();
    await page.click('.chart[data-metric="lr"] button.edit');
    await page.selectOption('.panel-editor select[name="group"]', "config.optimizer");
    await page.click("#panel-save");
    await tw(() => window.__trackway.charts.lr?.runs.length === 3 && window.__trackway.charts.lr.runs.every((r) => r.startsWith("group:")), null, "lr grouped by its panel", 20000);
    const lr = await chart("lr");
    assert(new Set(lr.colors).size === 3, `distinct group colours ${lr.colors}`);
    assert((await chart("tiny")).runs.length === N, "tiny still per run");
    await shot(page, "ws-15-panel-aggregation");
    await page.reload();
    await tw(() => window.__trackway.charts.lr?.runs.length === 3 && window.__trackway.charts.lr.runs.every((r) => r.startsWith("group:")), null, "panel grouping after a reload", 30000);
    const panels = JSON.parse(new URL(page.url()).searchParams.get("panels"));
    assert(panels.lr.group === "config.optimizer" && panels.tiny.group === "", `stored panel aggregation ${JSON.stringify(panels)}`);
  });

  await suite.test("workspace: a shared saved view and the project default", async () => {
    await page.goto(`${all}&s=0.8`);
    await page.waitForSelector("#view-save");
    page.once("dialog", (d) => d.accept("smooth 0.8"));
    await page.click("#view-default");
    await page.waitForSelector("#view-status >> text=project default");
    const list = (await call("GET", "/projects/admin/ws/views")).views;
    const v = list.find((x) => x.name === "smooth 0.8");
    assert(v && v.default && v.shared && v.state.includes("s=0.8"), `stored view ${JSON.stringify(list)}`);
    await shot(page, "ws-07-saved-view");
  });

  await suite.test("workspace: bar, scalar and expression panels on the same grid", async () => {
    await page.goto(`${all}&search=custom`);
    await page.waitForSelector("#add-panel");
    const add = async (kind, metrics, title) => {
      await page.click("#add-panel");
      await page.selectOption('.panel-editor select[name="kind"]', kind);
      await page.fill('.panel-editor input[name="title"]', title);
      await page.fill('.panel-editor input[name="metrics"]', metrics);
      await page.click("#panel-save");
    };
    await add("bar", "test/acc", "final accuracy");
    await add("scalar", "test/acc", "mean accuracy");
    await add("line", "tiny / huge", "tiny per huge");
    const probes = await tw((n) => {
      const c = Object.values(window.__trackway.charts).filter((x) => x.metric.startsWith("custom:"));
      return c.length === 3 && c.every((x) => x.runs.length === n) ? c : null;
    }, N, "three custom panels drawn", 30000);
    const byKind = Object.fromEntries(probes.map((c) => [c.kind ?? "line", c]));
    assert(byKind.bar && byKind.scalar && byKind.line, `kinds ${probes.map((c) => c.kind)}`);
    const names = (await call("GET", "/projects/admin/ws/runs?limit=100")).runs;
    const acc = Object.fromEntries(names.map((x) => [x.run_id, 0.9 - 0.01 * Number(x.run_id.slice(3))]));
    assert(byKind.bar.runs.every((id, j) => Math.abs(byKind.bar.raw[j][0] - acc[id]) < 1e-9), "bars are each run's logged value");
    const scalar = await page.textContent(".scalar-value");
    assert(scalar === "0.845", `scalar is the mean of 0.9 … 0.79: ${scalar}`);
    // Step 10 of run ws-00: tiny = 11e-9, huge = 3e9 + 1e7.
    const line = byKind.line, j = line.x.indexOf(10), r0 = line.runs.indexOf("ws-00");
    const want = 11e-9 / (3e9 + 1e7);
    assert(Math.abs(line.raw[r0][j] - want) <= 1e-9 * want, `expression value ${line.raw[r0][j]} vs ${want}`);
    await shot(page, "ws-10-bar-scalar-expression");
  });

  await suite.test("workspace: panels are reordered by dragging and resized by their corner", async () => {
    await page.goto(`${all}&search=${encodeURIComponent("^(huge|tiny)$")}`);
    await tw(() => window.__trackway.charts.tiny?.runs.length && window.__trackway.charts.huge?.runs.length, null, "two charts", 30000);
    const order = () => page.$$eval(".chart", (els) => els.map((e) => e.dataset.metric));
    assert(JSON.stringify(await order()) === '["huge","tiny"]', `initial order ${await order()}`);
    await page.dragAndDrop('.chart[data-metric="tiny"] .chart-head', '.chart[data-metric="huge"] .chart-head');
    await tw(() => [...document.querySelectorAll(".chart")].map((e) => e.dataset.metric).join() === "tiny,huge", null, "tiny moved first", 5000);
    const grip = await page.locator('.chart[data-metric="huge"] .resize-grip').boundingBox();
    const card = await page.locator('.chart[data-metric="huge"]').boundingBox();
    await page.mouse.move(grip.x + 4, grip.y + 4);
    await page.mouse.down();
    await page.mouse.move(card.x + card.width * 2 + 10, card.y + 420, { steps: 4 });
    await page.mouse.up();
    await tw(() => JSON.parse(new URL(location.href).searchParams.get("panels") ?? "{}").huge?.h, null, "resized panel stored", 5000);
    const panels = JSON.parse(new URL(page.url()).searchParams.get("panels"));
    // Wider than one column where the grid has two or more (the width snaps to whole columns).
    const cols = await page.$eval(".chart-cards", (g) => getComputedStyle(g).gridTemplateColumns.split(" ").length);
    assert(panels.tiny.pos < panels.huge.pos && panels.huge.h >= 400 && (panels.huge.w ?? 1) === Math.min(2, cols), `stored layout ${JSON.stringify(panels)} (${cols} columns)`);
    // The resized panel is redrawn; wait for its new plot rather than reading the old one mid-swap.
    await tw(() => (document.querySelector('.chart[data-metric="huge"] .u-wrap')?.getBoundingClientRect().height ?? 0) > 300, null, "taller plot", 5000).catch(() => {});
    const plotH = await page.$eval('.chart[data-metric="huge"] .u-wrap', (e) => e.getBoundingClientRect().height);
    assert(plotH > 300, `the plot follows the panel's height: ${plotH}`);
    await shot(page, "ws-11-reordered-resized");
  });

  await suite.test("workspace: parameter importance ranks lr for the loss; parallel coordinates default to the varying keys", async () => {
    await page.goto(`${all}&imp=summary.loss`);
    await page.waitForSelector('.chart[data-metric="xrun:importance"]', { timeout: 20000 });
    await page.locator('.chart[data-metric="xrun:importance"]').scrollIntoViewIfNeeded();
    await tw(() => window.__trackway.importance?.keys.length > 0, null, "importance table", 20000);
    const imp = await page.evaluate(() => window.__trackway.importance);
    assert(imp.keys.includes("config.lr") && imp.keys.includes("config.optimizer"), `importance keys ${imp.keys}`);
    assert(!imp.keys.includes("config.seed"), "a constant key explains nothing");
    await shot(page, "ws-08-importance");
    await page.goto(all);
    await page.waitForSelector('.chart[data-metric="xrun:parallel"]', { timeout: 20000 });
    await page.locator('.chart[data-metric="xrun:parallel"]').scrollIntoViewIfNeeded();
    await tw(() => window.__trackway.parallel?.axes.length > 0, null, "parallel axes", 20000);
    const axes = (await page.evaluate(() => window.__trackway.parallel.axes));
    assert(axes[0] === "config.lr" && axes.includes("config.optimizer") && !axes.includes("config.data") && !axes.includes("config.seed") && axes.at(-1) === "summary.loss", `default axes ${axes}`);
    await shot(page, "ws-09-parallel");
    // A log toggle per axis: config.lr gets ticks at powers of ten, kept in the URL.
    const decade = /^(0\.0*1|1|10|100)(p|n|µ|m|k|M|G|T)?$/;
    await page.click("#parallel-log-0");
    await tw(() => window.__trackway.parallel?.ticks[0].every((l) => /^(0\.0*1|1|10|100)[pnµmkMGT]?$/.test(l)), null, "log ticks on the lr axis", 10000);
    const pt = await page.evaluate(() => window.__trackway.parallel.ticks[0]);
    assert(pt.length >= 2 && pt.every((l) => decade.test(l)), `lr log ticks ${pt}`);
    assert(new URL(page.url()).searchParams.get("lx") === "config.lr", `log axes in the URL: ${page.url()}`);
    await shot(page, "ws-13-parallel-log");
    await page.goto(`${all}&sx=config.lr&sy=summary.loss&lx=config.lr`);
    await page.waitForSelector('.chart[data-metric="xrun:scatter"]', { timeout: 20000 });
    await page.locator('.chart[data-metric="xrun:scatter"]').scrollIntoViewIfNeeded();
    await tw(() => window.__trackway.scatter?.points > 0, null, "scatter points", 20000);
    assert(await page.isChecked("#scatter-logx"), "the lr log scale is restored from the URL");
    const sc = await page.evaluate(() => window.__trackway.scatter);
    assert(sc.xticks.every((l) => decade.test(l)) && !sc.yticks.every((l) => decade.test(l)), `scatter ticks x ${sc.xticks} y ${sc.yticks}`);
    await page.click("#scatter-logy");
    await tw(() => window.__trackway.scatter?.yticks.every((l) => /^(0\.0*1|1|10|100)[pnµmkMGT]?$/.test(l)), null, "log y ticks", 10000);
    await shot(page, "ws-14-scatter-log");
  });

  await suite.test("workspace: a chart exports its data as CSV and its picture as PNG and SVG", async () => {
    await page.goto(`${all}&search=${encodeURIComponent("^loss$")}&s=0.5`);
    await tw((n) => window.__trackway.charts.loss?.runs.length === n && window.__trackway.charts.loss.smoothing === 0.5, N, "loss chart", 30000);
    const get = async (cls, name) => {
      await page.locator('.chart[data-metric="loss"]').hover();
      await page.click('.chart[data-metric="loss"] button.export');
      if (cls === "exp-csv") await shot(page, "ws-16-export-menu");
      const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`.chart[data-metric="loss"] .${cls}`)]);
      const file = path.join(ARTIFACTS, name);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await dl.saveAs(file);
      return { file, suggested: dl.suggestedFilename() };
    };
    const c = await chart("loss");
    const csv = await get("exp-csv", "ws-16-loss.csv");
    const lines = fs.readFileSync(csv.file, "utf8").trim().split("\r\n");
    const head = lines[0].split(",");
    assert(csv.suggested === "loss.csv" && head[0] === "_step" && head.length === 1 + 2 * N && head.includes("sweep-00-lr0.1 (smoothed)"), `CSV header ${lines[0]}`);
    // Every drawn point is a row: the first run's raw values read back at their steps.
    const col = head.indexOf("sweep-00-lr0.1"), r0 = c.runs.indexOf("ws-00");
    const byX = new Map(lines.slice(1).map((l) => l.split(",")).map((cells) => [Number(cells[0]), cells[col]]));
    const drawn = c.x.map((x, j) => [x, c.raw[r0][j]]).filter(([, v]) => v !== null && v !== undefined);
    assert(drawn.length >= 40 && drawn.every(([x, v]) => Math.abs(Number(byX.get(x)) - v) < 1e-12), `CSV values equal the chart's (${drawn.length} points)`);
    const svg = await get("exp-svg", "ws-16-loss.svg");
    const doc = fs.readFileSync(svg.file, "utf8");
    const polylines = (doc.match(/<polyline/g) ?? []).length;
    assert(svg.suggested === "loss.svg" && doc.startsWith("<svg") && polylines >= 2 * N, `SVG with a raw and a smoothed line per run: ${polylines}`);
    const names = (await call("GET", "/projects/admin/ws/runs?limit=100")).runs.map((x) => x.name);
    assert(names.every((n) => doc.includes(`>${n}</text>`)), "the SVG legend names every run");
    const ticks = c.yTicks.filter(Boolean);
    assert(ticks.every((t) => doc.includes(`>${t}</text>`)), `the SVG has the chart's y ticks ${ticks}`);
    const png = await get("exp-png", "ws-16-loss-export.png");
    const b = fs.readFileSync(png.file);
    const w = b.readUInt32BE(16), hgt = b.readUInt32BE(20);
    assert(png.suggested === "loss.png" && b.subarray(1, 4).toString() === "PNG" && w > 400 && hgt > 200, `PNG ${w}×${hgt}`);
  });

  await suite.test("workspace: scatter, parallel coordinates and importance are panels on the grid; an added scatter panel persists", async () => {
    await page.goto(all);
    await tw(() => window.__trackway.charts.loss?.runs.length > 0, null, "loss chart", 30000);
    // One grid: the cross-run panels sit in its "across runs" section, next to the line charts' sections.
    const grid = await page.$$eval(".chartgrid:not(.system-grid) .chart[data-metric^='xrun:']", (els) => els.map((e) => [e.dataset.kind, e.closest(".chart-section")?.dataset.section]));
    assert(JSON.stringify(grid) === JSON.stringify([["scatter", "across runs"], ["parallel", "across runs"], ["importance", "across runs"]]), `cross-run panels ${JSON.stringify(grid)}`);
    assert(!(await page.$("#tab-scatter")), "no tabs any more");
    await page.locator('.chart[data-metric="xrun:parallel"]').scrollIntoViewIfNeeded();
    await tw((n) => window.__trackway.parallel?.lines === n, N, "parallel coordinates of every run", 20000);
    await shot(page, "ws-17-cross-run-panels");
    // Add a second scatter panel, with its own axes.
    await page.click("#add-panel");
    await page.selectOption('.panel-editor select[name="kind"]', "scatter");
    await page.fill('.panel-editor input[name="title"]', "lr vs loss");
    await page.click("#panel-save");
    const id = await tw(() => Object.entries(JSON.parse(new URL(location.href).searchParams.get("panels") ?? "{}")).find(([, c]) => c.kind === "scatter")?.[0], null, "a scatter panel in the URL", 5000);
    const sel = `.chart[data-metric="${id}"]`;
    const p = `scatter-${id.replace(":", "-")}`;
    await page.locator(sel).scrollIntoViewIfNeeded();
    await page.waitForSelector(`#${p}-canvas`);
    await page.selectOption(`#${p}-x`, "config.lr");
    await page.selectOption(`#${p}-y`, "summary.loss");
    await page.click(`#${p}-logx`);
    await tw((n) => window.__trackway.scatter?.points === n && window.__trackway.scatter.x === "config.lr", N, "the added scatter's points", 10000);
    await tw((id) => { const c = JSON.parse(new URL(location.href).searchParams.get("panels") ?? "{}")[id]; return c?.sx === "config.lr" && c.sy === "summary.loss" && c.logAxes?.includes("config.lr"); }, id, "its axes in the panel config", 5000);
    assert(await page.textContent(`${sel} .chart-title`) === "lr vs loss", "its title");
    await page.waitForTimeout(1200); // the autosave is debounced
    await page.reload();
    await page.locator(sel).scrollIntoViewIfNeeded();
    await tw((n) => window.__trackway.scatter?.points === n && window.__trackway.scatter.x === "config.lr", N, "the scatter panel after a reload", 20000);
    assert(await page.isChecked(`#${p}-logx`), "its log x after a reload");
    await shot(page, "ws-18-added-scatter-panel");
    // Its points export as CSV; deleting the workspace's importance panel hides it.
    await page.locator(sel).hover();
    await page.click(`${sel} button.export`);
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`${sel} .exp-csv`)]);
    const rows = fs.readFileSync(await dl.path(), "utf8").trim().split("\r\n");
    assert(rows[0] === "run_id,name,config.lr,summary.loss" && rows.length === N + 1, `scatter CSV ${rows[0]} (${rows.length} lines)`);
    await crossRunPictures(page, sel, N);
    await page.locator('.chart[data-metric="xrun:importance"]').hover();
    await page.click('.chart[data-metric="xrun:importance"] button.del');
    await tw(() => !document.querySelector('.chart[data-metric="xrun:importance"]') && JSON.parse(new URL(location.href).searchParams.get("panels"))["xrun:importance"]?.hidden, null, "importance panel deleted", 5000);
  });

  await suite.test("workspace: parallel coordinates export SVG (a line per run, every axis and tick) and PNG", async () => {
    await page.goto(all);
    const sel = '.chart[data-metric="xrun:parallel"]';
    await page.waitForSelector(sel, { timeout: 20000 });
    await page.locator(sel).scrollIntoViewIfNeeded();
    await tw((n) => window.__trackway.parallel?.lines === n, N, "parallel coordinates of every run", 20000);
    const pc = await page.evaluate(() => window.__trackway.parallel);
    const doc = await exportFile(page, sel, "exp-svg", "ws-19-parallel.svg");
    assert(doc.text.startsWith("<svg") && doc.suggested.endsWith(".svg"), `an SVG document: ${doc.text.slice(0, 80)}`);
    const texts = svgTexts(doc.text);
    assert(pc.axes.every((a) => texts.includes(a)), `every axis named: ${pc.axes} in ${texts.slice(0, 20)}`);
    const ticks = pc.ticks.flat().map((t) => (t.length > 14 ? `${t.slice(0, 13)}…` : t));
    assert(ticks.every((t) => texts.includes(t)), `every tick label of the canvas: ${ticks}`);
    // One stroked path per run (its polyline across the axes), plus the axes and tick marks.
    const paths = (doc.text.match(/<path/g) ?? []).length;
    assert(paths >= N + pc.axes.length, `${paths} paths for ${N} runs over ${pc.axes.length} axes`);
    await pngOf(page, sel, "ws-19-parallel.png");
  });

  await suite.test("workspace: long metric names never break a panel's toolbar or the chart toolbar", async () => {
    const long = "eval/a_metric_name_long_enough_to_overflow_any_panel_header_and_toolbar_if_nothing_shortened_it_with_an_ellipsis";
    await page.goto(`${all}&search=${encodeURIComponent("^eval/")}`);
    await tw((k) => window.__trackway.charts[k]?.runs.length > 0, long, "the long-named chart", 30000);
    const m = await page.evaluate((k) => {
      const card = document.querySelector(`.chart[data-metric="${k}"]`), head = card.querySelector(".chart-head"), b = card.getBoundingClientRect();
      const tools = [...card.querySelectorAll(".chart-tools button")].map((x) => x.getBoundingClientRect());
      const bar = document.querySelector(".chart-toolbar"), x = document.querySelector("#x-axis").getBoundingClientRect();
      return { head: [head.scrollWidth, head.clientWidth], inside: tools.every((t) => t.left >= b.left && t.right <= b.right + 0.5), title: card.querySelector(".chart-title").getAttribute("title"),
        bar: [bar.scrollWidth, bar.clientWidth], xRight: x.right, barRight: bar.getBoundingClientRect().right };
    }, long);
    assert(m.head[0] <= m.head[1] && m.inside, `the panel head fits its card: ${JSON.stringify(m)}`);
    assert(m.title === long, "the full name stays in the title's tooltip");
    assert(m.bar[0] <= m.bar[1] && m.xRight <= m.barRight, `the chart toolbar fits: ${JSON.stringify(m)}`);
    await page.locator(`.chart[data-metric="${long}"]`).hover();
    await shot(page, "ws-19-long-metric-name");
  });

  await suite.test("workspace: a system section charts the runs' system metrics with units and the runs' colours", async () => {
    for (let i = 0; i < 3; i++) {
      const w = new RunWriter(call, { project: "wssys", run_id: `sys-${i}`, name: `sys-${i}` });
      await w.start();
      for (let s = 0; s < 5; s++) w.log(s, { loss: 1 / (s + 1.5) });
      w.finish(0); await w.flush();
      const sys = new SystemWriter(w);
      for (let k = 0; k < 12; k++) sys.stats(w.t0 + 5 + 10 * k, { "system/cpu_percent": 20 + 5 * i + k + 0.5, "system/gpu.0.memoryAllocatedBytes": (2 + i) * 2 ** 30 + k * 2 ** 20 });
      await sys.flush();
    }
    await page.goto("/admin/wssys?runs=*");
    // Below the metric charts and the cross-run panels: scrolled to, as a user would.
    await page.waitForSelector('.system-grid .chart[data-metric="system/cpu_percent"]', { timeout: 30000 });
    await page.locator('.system-grid .chart[data-metric="system/cpu_percent"]').scrollIntoViewIfNeeded();
    await tw(() => window.__trackway.charts["system/cpu_percent"]?.runs.length === 3 && window.__trackway.charts["system/gpu.0.memoryAllocatedBytes"]?.yTicks?.length, null, "system charts of 3 runs", 30000);
    const cpu = await chart("system/cpu_percent"), mem = await chart("system/gpu.0.memoryAllocatedBytes");
    assert(cpu.yTicks.every((l) => /^[1-9]\d(\.\d+)?%$/.test(l)), `cpu ticks in % (values 20–46): ${cpu.yTicks}`);
    assert(mem.yTicks.every((l) => / (GiB|MiB)$/.test(l)), `memory ticks in GiB: ${mem.yTicks}`);
    const loss = await chart("loss");
    assert(JSON.stringify(cpu.colors) === JSON.stringify(loss.colors) && new Set(cpu.colors).size === 3, "the same distinct colours as the metric charts");
    await page.locator('.system-grid .chart[data-metric="system/cpu_percent"]').scrollIntoViewIfNeeded();
    await shot(page, "ws-12-system-section");
  });
  await page.context().close();
}

// `node e2e/workspace.mjs`: these tests alone, against a fresh real server.
if (process.argv[1]?.endsWith("workspace.mjs")) {
  const { startBackend, client } = await import("./backend.mjs");
  const { launch, ROOT, Suite } = await import("./lib.mjs");
  const fs = await import("node:fs");
  const backend = await startBackend();
  const browser = await launch();
  const suite = new Suite();
  try {
    const py = process.env.TRACKWAY_PYTHON ?? path.join(ROOT, ".venv", "bin", "python");
    const sdkEnv = { ...process.env, TRACKWAY_EXE: process.env.TRACKWAY_EXE ?? backend.bin, TRACKWAY_BASE_URL: backend.url, TRACKWAY_API_KEY: backend.key,
      TRACKWAY_MODE: "online", TRACKWAY_DIR: fs.mkdtempSync(path.join(backend.tmp, "sdk-")), TRACKWAY_CONFIG_DIR: path.join(backend.tmp, "sdk-config") };
    await workspaceTests(suite, browser, backend, client(backend.url, backend.key), py, sdkEnv);
  } finally { await browser.close(); await backend.stop(); }
  process.exit(suite.summary() ? 0 : 1);
}

/** Downloads a panel's export (`cls` in its ⤓ menu) into test-artifacts and reads it. */
async function exportFile(page, sel, cls, name) {
  await page.locator(sel).hover();
  await page.click(`${sel} button.export`);
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`${sel} .${cls}`)]);
  const file = path.join(ARTIFACTS, name);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await dl.saveAs(file);
  return { file, suggested: dl.suggestedFilename(), text: cls === "exp-png" ? "" : fs.readFileSync(file, "utf8") };
}

/** The text nodes of an SVG document, unescaped. */
function svgTexts(doc) {
  const un = (t) => t.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
  return [...doc.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => un(m[1]));
}

/** The panel's PNG export: a real PNG of the panel's size (the SVG rasterised at 2×). */
async function pngOf(page, sel, name) {
  const png = await exportFile(page, sel, "exp-png", name);
  const b = fs.readFileSync(png.file);
  const w = b.readUInt32BE(16), hgt = b.readUInt32BE(20);
  assert(png.suggested.endsWith(".png") && b.subarray(1, 4).toString() === "PNG" && w > 400 && hgt === 840, `PNG ${w}×${hgt}`);
}

/** An added scatter panel's SVG: a circle per run at the canvas's points, its axis names and
 *  tick labels as text; and its PNG. */
async function crossRunPictures(page, sel, n) {
  const doc = await exportFile(page, sel, "exp-svg", "ws-18-scatter.svg");
  // Read after the export: drawing the SVG is this panel's drawing, which the hook then describes
  // (the workspace's own scatter panel writes the same hook when it draws).
  const sc = await page.evaluate(() => window.__trackway.scatter);
  assert(sc.x === "config.lr" && sc.y === "summary.loss", `the hook describes the exported panel: ${sc.x} ${sc.y}`);
  assert(doc.text.startsWith("<svg") && doc.suggested === "lr_vs_loss.svg", `the scatter's SVG ${doc.suggested}: ${doc.text.slice(0, 80)}`);
  const texts = svgTexts(doc.text);
  assert(texts.includes("config.lr") && texts.includes("summary.loss"), `axis names in ${texts.slice(0, 20)}`);
  assert([...sc.xticks, ...sc.yticks].every((t) => texts.includes(t)), `every tick label ${sc.xticks} / ${sc.yticks}`);
  // A point is an arc path: count the filled paths that are not the axes' stroke.
  const dots = (doc.text.match(/<path[^>]*fill="(?!none)[^"]*"[^>]*stroke="none"/g) ?? []).length;
  assert(dots === n, `${dots} points drawn in the SVG for ${n} runs (canvas: ${sc.points})`);
  await pngOf(page, sel, "ws-18-scatter.png");
}
