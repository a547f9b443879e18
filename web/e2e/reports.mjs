// Reports in the browser against the real server: a report is built in the editor (a markdown
// block, a line chart and a run table over a project), autosaved as versions, an old version
// restored; shared by a public link it opens signed out, read-only, and its chart holds the
// same values as the workspace's; the exported HTML opened offline shows the charts.
//   node e2e/reports.mjs   (alone: starts its own server) — or through e2e/run.mjs

import fs from "node:fs";
import path from "node:path";
import { assert, launch, newPage, shot, Suite, until, ARTIFACTS } from "./lib.mjs";
import { client, RunWriter, startBackend } from "./backend.mjs";

const STEPS = 50;
const loss = (i, s) => 1 / (1 + s * (i + 1) * 0.1) + 0.02 * i;

async function fill(call) {
  for (let i = 0; i < 3; i++) {
    const w = new RunWriter(call, { project: "rep", run_id: `rep-${i}`, name: `rep-run-${i}`, config: { lr: 0.1 * (i + 1) } });
    await w.start();
    for (let s = 0; s < STEPS; s++) w.log(s, { loss: loss(i, s) });
    w.finish(0);
    await w.flush();
  }
}

const probe = (page, what) => until(page, () => {
  const c = window.__trackway.charts.loss;
  return c && c.runs.length === 3 && c.raw.every((r) => r.filter((v) => v !== null).length > 0) ? c : null;
}, null, 20000, what);

export async function reportsTests(suite, browser, backend, call) {
  if (backend.kind !== "server") {
    await suite.test("reports (needs the real server)", async () => { throw new Error(`backend is ${backend.kind}`); });
    return;
  }
  await fill(call);
  const viewer = await call("GET", "/viewer");
  const entity = viewer.entity;
  let id = null, shareUrl = null;

  await suite.test("reports: built in the editor (text + two panels), autosaved as versions, an old version restored", async () => {
    const page = await newPage(browser, backend.pageUrl, backend.key);
    await page.goto(`/reports/${entity}`);
    await page.click("#new-report");
    await page.waitForSelector("input#report-title");
    id = Number(/\/reports\/[^/]+\/(\d+)/.exec(page.url())[1]);
    await page.fill("input#report-title", "Loss study");
    await page.fill(".md-edit", "# Findings\n\nThe **largest lr** converges fastest.");
    await page.click("#add-panel");
    await page.fill(".block.panel >> nth=0 >> .pe-project", "rep");
    await page.fill(".block.panel >> nth=0 >> .pe-keys", "loss");
    await page.press(".block.panel >> nth=0 >> .pe-keys", "Tab");
    await page.click("#add-panel");
    await page.selectOption(".block.panel >> nth=1 >> .pe-kind", "runs");
    await page.fill(".block.panel >> nth=1 >> .pe-keys", "summary.loss, config.lr");
    await page.press(".block.panel >> nth=1 >> .pe-keys", "Tab");
    await until(page, () => /saved/.test(document.querySelector("#save-state")?.textContent ?? ""), null, 15000, "autosave");
    await probe(page, "the line panel draws 3 runs");
    await page.waitForSelector(".report-runs tbody tr >> nth=2");
    await shot(page, "reports-01-editor");
    const saved = await call("GET", `/reports/${entity}/${id}`);
    assert(saved.title === "Loss study", `title saved: ${saved.title}`);
    assert(saved.doc.blocks.map((b) => b.kind ?? b.type).join() === "markdown,line,runs", `blocks saved: ${JSON.stringify(saved.doc.blocks)}`);
    const versions = await call("GET", `/reports/${entity}/${id}/versions`);
    assert(versions.versions.length >= 2 && versions.versions.at(-1).version === 1, `versions kept: ${JSON.stringify(versions)}`);
    // Restore version 1 (the starter: one markdown block), then the latest again.
    await page.click("#edit-toggle");
    await page.click("#versions li[data-version='1'] button.restore");
    await until(page, () => document.querySelectorAll("#report-blocks .block").length === 1, null, 10000, "version 1 restored");
    const back = saved.version;
    await page.click(`#versions li[data-version='${back}'] button.restore`);
    await until(page, () => document.querySelectorAll("#report-blocks .block").length === 3, null, 10000, "latest restored");
    const now = await call("GET", `/reports/${entity}/${id}`);
    assert(now.version === back + 2 && now.doc.blocks.length === 3, `restores are new versions: v${now.version}`);
    await page.fill("#comment-text", "Looks right to me.");
    await page.click("#comment-post");
    await page.waitForSelector("#comments li >> text=Looks right to me.");
    await probe(page, "chart after restore");
    await shot(page, "reports-02-view");
    await page.context().close();
  });

  await suite.test("reports: shared by link, opened signed out read-only, same values as the workspace", async () => {
    assert(id !== null, "the report exists");
    await call("PUT", `/projects/${entity}/rep/visibility`, { visibility: "public" });
    const page = await newPage(browser, backend.pageUrl, backend.key);
    await page.goto(`/reports/${entity}/${id}`);
    await page.waitForSelector("#report-visibility");
    await page.selectOption("#report-visibility", "public");
    await page.waitForSelector("#share >> text=Anyone with the link");
    shareUrl = await page.inputValue("#share-url");
    await page.goto(`/${entity}/rep`);
    const ws = await probe(page, "the workspace's loss chart");
    await page.context().close();

    const anon = await newPage(browser, backend.pageUrl, null);
    await anon.goto(new URL(shareUrl).pathname);
    await anon.waitForSelector("h1#report-title >> text=Loss study");
    const rep = await probe(anon, "the report's loss chart, signed out");
    await anon.waitForSelector(".report-runs tbody tr >> nth=2");
    await shot(anon, "reports-03-signed-out");
    for (const sel of ["#edit-toggle", ".md-edit", "#comment-text", "#add-panel"]) {
      assert((await anon.$(sel)) === null, `signed out: no ${sel}`);
    }
    assert(await anon.$eval("#report-visibility", (e) => e.disabled), "signed out: sharing cannot change");
    const byRun = (c) => Object.fromEntries(c.runs.map((r, i) => [r, c.x.map((x, j) => [x, c.raw[i][j]]).filter(([, v]) => v !== null)]));
    const a = byRun(ws), b = byRun(rep);
    assert(JSON.stringify(Object.keys(a).sort()) === JSON.stringify(Object.keys(b).sort()), `same runs: ${Object.keys(a)} vs ${Object.keys(b)}`);
    for (const r of Object.keys(a)) {
      assert(JSON.stringify(a[r]) === JSON.stringify(b[r]), `run ${r}: the report's points equal the workspace's`);
      assert(a[r].length === STEPS, `run ${r}: all ${STEPS} points (${a[r].length})`);
    }
    const cells = await anon.$$eval(".report-runs td[data-key='summary.loss']", (els) => els.map((e) => e.textContent));
    assert(cells.length === 3 && cells.every((c) => c && c.length > 0), `summary.loss cells: ${cells}`);
    // The public project itself opens signed out too (read-only workspace, not the sign-in page).
    await anon.goto(`/${entity}/rep`);
    const wsAnon = await probe(anon, "the public workspace, signed out");
    assert(JSON.stringify(byRun(wsAnon)) === JSON.stringify(a), "the signed-out workspace shows the same values");
    assert(await anon.$(".signin-link"), "signed out: a sign-in link in the header");
    await shot(anon, "reports-05-public-workspace-signed-out");
    const status = await anon.evaluate((p) => fetch(p, { method: "PUT", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: "x", doc: { blocks: [] } }) }).then((r) => r.status), `/api/v1/reports/${entity}/${id}`);
    assert(status === 401, `a signed-out save is refused: ${status}`);
    await anon.context().close();
  });

  await suite.test("reports: the exported HTML opened offline shows the charts", async () => {
    const page = await newPage(browser, backend.pageUrl, backend.key);
    await page.goto(`/reports/${entity}/${id}`);
    await probe(page, "the chart before export");
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#export-html")]);
    const file = path.join(ARTIFACTS, "report-export.html");
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await dl.saveAs(file);
    await page.context().close();
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 900 }, offline: true, javaScriptEnabled: false });
    const off = await ctx.newPage();
    await off.goto(`file://${file}`);
    const lines = await off.$$eval("polyline", (els) => els.map((e) => e.getAttribute("points").split(" ").length));
    assert(lines.length === 3 && lines.every((n) => n === STEPS), `3 lines of ${STEPS} points offline: ${lines}`);
    assert((await off.$$("table tr")).length === 4, "the run table (header + 3 runs)");
    assert((await off.textContent("h1")) === "Loss study", "the title");
    const data = JSON.parse(await off.textContent("#report-data"));
    assert(data.panels.length === 2, "the data of both panels embedded");
    await shot(off, "reports-04-export-offline");
    await ctx.close();
  });
}

// Alone: its own server and browser.
if (process.argv[1] && process.argv[1].endsWith("reports.mjs")) {
  const backend = await startBackend();
  const suite = new Suite();
  const browser = await launch();
  try { await reportsTests(suite, browser, backend, client(backend.url, backend.key)); }
  finally { await browser.close(); await backend.stop(); }
  process.exit(suite.summary() ? 0 : 1);
}
