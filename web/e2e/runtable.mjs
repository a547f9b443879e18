// Browser tests of the runs table and its companions (issue 13 items 4, 8, 9, 10): column
// layout (frozen name, resize, reorder, default summary columns, bulk show/hide, copy), keyboard
// access, run edits from the UI read back through the Python `trackway.Api`, CSV export,
// server-side paging of many runs, compare of more than one page of runs, not-found pages,
// a key revoked mid-session, and invalid regexes. Called from run.mjs with the real server.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { assert, shot, until, WEB } from "./lib.mjs";
import { putFile, RunWriter } from "./backend.mjs";

const MANY = 1200;

/** MANY small runs written through the ingest API, three of them with a dirty git tree. */
async function fillMany(call, backend) {
  for (let i = 0; i < MANY; i++) {
    const w = new RunWriter(call, { project: "many", run_id: `m${String(i).padStart(4, "0")}`, name: `many-${i}`, config: { i, lr: 0.001 * (1 + (i % 7)) } });
    await w.start();
    if (i < 25) for (let s = 0; s < 5; s++) w.log(s, { loss: 1 / (s + 1 + i) + 0.0001 });
    w.finish(0); await w.flush();
  }
  for (let i = 0; i < 3; i++) {
    const run = { project: "many", run_id: `m000${i}` };
    const meta = { git: { commit: `abc${i}def0123456789`, branch: "main", dirty: true }, host: `box-${i}`, program: "train.py" };
    await putFile(backend.url, backend.key, run, "trackway-metadata.json", JSON.stringify(meta));
    await putFile(backend.url, backend.key, run, "diff.patch", `--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-lr = 0.1\n+lr = 0.0${i + 1}\n`);
  }
}

export async function runTableTests(suite, page, { backend, call, py, sdkEnv }) {
  const tw = (fn, arg, what, timeout) => until(page, fn, arg, timeout, what);
  // The e2e project's runs so far (the earlier tests add a live run to the six).
  const e2eRuns = (await call("GET", "/projects/admin/e2e/runs?limit=1")).total;
  const allE2e = () => tw((n) => window.__trackway.table.total === n, e2eRuns, `${e2eRuns} runs`);
  const dialogs = [];
  page.on("dialog", (d) => { const a = dialogs.shift(); if (a === undefined || a === false) void d.dismiss(); else if (a === true) void d.accept(); else void d.accept(a); });
  const pyRun = (args) => {
    const r = spawnSync(py, [path.join(WEB, "e2e", "sdk_edit.py"), ...args], { env: sdkEnv, encoding: "utf8", timeout: 120000 });
    assert(r.status === 0, `sdk_edit.py ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout;
  };

  await suite.test("runs table: default summary columns, frozen name, resize, reorder, bulk show/hide, copy", async () => {
    await page.goto("/admin/e2e");
    await allE2e();
    const heads = () => page.$$eval(".thead .th", (e) => e.map((x) => x.dataset.key));
    await tw(() => document.querySelector('.thead .th[data-key="summary.loss"]'), null, "default summary columns");
    const h0 = await heads();
    assert(["summary.acc", "summary.eval/acc", "summary.loss", "summary.train/loss"].every((k) => h0.includes(k)), `the charted metrics' summaries are columns: ${h0}`);
    // Resize the name column from the keyboard (its edge is a focusable separator).
    const w0 = await page.$eval('.thead .th[data-key="name"]', (e) => e.getBoundingClientRect().width);
    await page.focus('.thead .th[data-key="name"] .col-resize');
    for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowRight");
    const w1 = await page.$eval('.thead .th[data-key="name"]', (e) => e.getBoundingClientRect().width);
    assert(Math.abs(w1 - w0 - 80) < 2, `name column 80 px wider: ${w0} → ${w1}`);
    const cellW = await page.$eval(".trow .td.name", (e) => e.getBoundingClientRect().width);
    assert(Math.abs(cellW - w1) < 2, `rows follow the header width: ${cellW} vs ${w1}`);
    // Reorder: Alt+→ on the State header moves it one place right; the layout survives a reload.
    await page.focus('.thead .th[data-key="state"]');
    await page.keyboard.press("Alt+ArrowRight");
    const h1 = await heads();
    assert(h1.indexOf("state") === h1.indexOf("tags") + 1, `state moved after tags: ${h1}`);
    // Drag a header onto another: the HTML drag-and-drop events a mouse drag fires, with one
    // DataTransfer (the headers are partly scrolled out of the narrow table pane).
    await page.evaluate(() => {
      const dt = new DataTransfer();
      const at = (k) => document.querySelector(`.thead .th[data-key="${k}"]`);
      at("summary.loss").dispatchEvent(new DragEvent("dragstart", { dataTransfer: dt, bubbles: true }));
      at("tags").dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
      at("tags").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const h2 = await heads();
    assert(h2.indexOf("summary.loss") === h2.indexOf("tags") - 1, `summary.loss dropped before tags: ${h2}`);
    await page.reload();
    await allE2e();
    const h3 = await heads();
    assert(h3.join() === h2.join(), `layout kept across a reload: ${h3} vs ${h2}`);
    assert(Math.abs(await page.$eval('.thead .th[data-key="name"]', (e) => e.getBoundingClientRect().width) - w1) < 2, "width kept");
    // Bulk show: every config key at once, then hide them all again.
    await page.click("#colmgr-btn");
    await page.fill("#colmgr-search", "config.");
    await page.click("#colmgr-show");
    const h4 = await heads();
    assert(["config.lr", "config.optimizer", "config.model.layers"].every((k) => h4.includes(k)), `config columns shown: ${h4}`);
    // Frozen: scrolled right, the name cell stays at the same x and still shows the run.
    const x0 = await page.$eval(".trow .td.name", (e) => e.getBoundingClientRect().left);
    await page.$eval(".tbody", (e) => { e.scrollLeft = 400; });
    await page.waitForTimeout(100);
    const x1 = await page.$eval(".trow .td.name", (e) => e.getBoundingClientRect().left);
    assert(Math.abs(x1 - x0) < 1, `the name column is frozen: ${x0} → ${x1}`);
    await shot(page, "rt-40-table-frozen-scrolled");
    await page.click("#colmgr-hide");
    await page.fill("#colmgr-search", "");
    await page.click('#colmgr-panel input[data-col="tags"]');
    const h5 = await heads();
    assert(!h5.some((k) => k.startsWith("config.")) && !h5.includes("tags"), `config columns and tags hidden: ${h5}`);
    await page.click('#colmgr-panel input[data-col="tags"]');
    await page.click("#colmgr-btn");
    // Copy a cell by double-clicking it.
    const cell = page.locator(".trow .td").nth(5);
    const text = await cell.textContent();
    await cell.dblclick();
    const copied = await page.evaluate(() => window.__trackway.table.copied);
    assert(copied === text && text.length > 0, `copied ${copied} == ${text}`);
    await shot(page, "rt-41-table-columns");
  });

  await suite.test("keyboard: sort headers, pins and the column edge are focusable and labelled", async () => {
    await page.goto("/admin/e2e");
    await allE2e();
    await page.focus('.thead .th[data-key="name"]');
    await page.keyboard.press("Enter");
    await tw(() => new URL(location.href).searchParams.get("sort") === "-name", null, "sorted by name from the keyboard");
    assert(await page.getAttribute('.thead .th[data-key="name"]', "aria-sort") === "descending", "aria-sort says descending");
    const first = await page.evaluate(() => window.__trackway.table.rows[0]);
    const pin = page.locator(`.trow[data-run="${first}"] .pinbtn`);
    const label = await pin.getAttribute("aria-label");
    assert(/^Pin run /.test(label ?? ""), `pin labelled: ${label}`);
    await pin.focus();
    await page.keyboard.press("Enter");
    await tw(() => new URL(location.href).searchParams.get("pin"), null, "pinned from the keyboard");
    // The table repaints after the pin is saved: wait for the repainted button.
    await tw((run) => document.querySelector(`.trow[data-run="${run}"] .pinbtn`)?.getAttribute("aria-pressed") === "true", first, "pin is pressed");
    await page.keyboard.press("Enter");
    await tw(() => !new URL(location.href).searchParams.get("pin"), null, "unpinned");
    const sel = await page.getAttribute(".trow .td.sel input", "aria-label");
    assert(/^Select run /.test(sel ?? ""), `checkbox labelled: ${sel}`);
  });

  await suite.test("invalid regex: shown inline, and the table works again after it", async () => {
    await page.goto("/admin/e2e");
    await allE2e();
    await page.fill("#name-search", "resnet([");
    await tw(() => !document.querySelector("#filter-error").hidden, null, "error shown");
    assert(/regex|filter/i.test(await page.textContent("#filter-error")), "says why");
    assert(!(await page.textContent("#run-count")).includes("loading"), "not stuck on loading");
    await shot(page, "rt-42-invalid-regex");
    await page.fill("#name-search", "alpha-[23]");
    await tw(() => window.__trackway.table.total === 2 && document.querySelector("#filter-error").hidden, null, "valid regex: 2 runs, error gone");
  });

  await suite.test("run edits in the UI (rename, move, tag, delete) are what trackway.Api reads", async () => {
    pyRun(["make", "edit", "4"]);
    // Rename on the run page.
    await page.goto("/admin/edit/runs/e0");
    await page.waitForSelector("#run-name");
    await page.fill("#run-name", "renamed-in-ui");
    await page.click("#save-notes");
    await page.waitForSelector("text=saved");
    await shot(page, "rt-43-run-rename");
    // Move e1 to another project from its run page (a prompt asks where).
    await page.goto("/admin/edit/runs/e1");
    await page.waitForSelector("#run-move");
    dialogs.push("edit-moved");
    await page.click("#run-move");
    await page.waitForURL(/\/admin\/edit-moved\/runs\/e1/);
    // Bulk tag e2, e3 then bulk delete e3 (after confirming), from the table's selection.
    await page.goto("/admin/edit?sort=name");
    await tw(() => window.__trackway.table.total === 3, null, "3 runs left in edit");
    await page.click('.trow[data-run="e2"] .td.sel input');
    await page.click('.trow[data-run="e3"] .td.sel input');
    dialogs.push("best, keep");
    await page.click("#bulk-tag");
    await tw(() => /tagged 2/.test(document.querySelector("#bulk-status").textContent), null, "tagged");
    await page.click('.trow[data-run="e2"] .td.sel input');
    dialogs.push(true);
    await page.click("#bulk-delete");
    await tw(() => window.__trackway.table.total === 2, null, "e3 deleted");
    // A cancelled delete deletes nothing.
    await page.click('.trow[data-run="e2"] .td.sel input');
    dialogs.push(false);
    await page.click("#bulk-delete");
    await page.waitForTimeout(300);
    assert(await page.evaluate(() => window.__trackway.table.total) === 2, "cancelled: nothing deleted");
    await shot(page, "rt-44-bulk-edit");
    const seen = JSON.parse(pyRun(["read", "edit", "edit-moved"]));
    assert(JSON.stringify(Object.keys(seen.edit).sort()) === '["e0","e2"]', `Api sees e0, e2 in edit: ${JSON.stringify(seen)}`);
    assert(seen.edit.e0.name === "renamed-in-ui", `renamed: ${seen.edit.e0.name}`);
    assert(JSON.stringify(seen.edit.e2.tags) === '["best","keep"]', `tags: ${seen.edit.e2.tags}`);
    assert(seen["edit-moved"].e1?.name === "edit-1", `moved: ${JSON.stringify(seen["edit-moved"])}`);
  });

  await suite.test("Stop run on a running run's page: the writer's next ingest is told, the run ends killed", async () => {
    const w = new RunWriter(call, { project: "stops", run_id: "live-stop", name: "live-stop" });
    await w.start();
    w.log(0, { loss: 1 });
    assert((await w.flush()).stop_requested === false, "not asked yet");
    await page.goto("/admin/stops/runs/live-stop");
    await page.waitForSelector("#run-stop");
    dialogs.push(true);
    await page.click("#run-stop");
    await tw(() => /stopping/.test(document.querySelector("#run-action-status").textContent), null, "stopping shown");
    assert(!(await page.$("#run-stop")), "asked once: the button is gone");
    await shot(page, "rt-46-run-stop");
    w.log(1, { loss: 0.5 });
    assert((await w.flush()).stop_requested === true, "the next ingest answer says stop");
    w.finish(255);
    await w.flush();
    const done = await call("GET", "/runs/admin/stops/live-stop");
    assert(done.state === "killed" && done.stop_requested_at != null, `killed: ${JSON.stringify(done)}`);
    await page.reload();
    await page.waitForSelector("#run-move");
    assert(!(await page.$("#run-stop")), "no Stop button on a run that ended");
  });

  await suite.test(`server-side paging: ${MANY} runs arrive a page at a time, CSV export has them all`, async () => {
    await fillMany(call, backend);
    const limits = [];
    const onReq = (r) => { const u = new URL(r.url()); if (u.pathname.endsWith("/projects/admin/many/runs")) limits.push(Number(u.searchParams.get("limit"))); };
    page.on("request", onReq);
    try {
      await page.goto("/admin/many");
      await tw((n) => window.__trackway.table.total === n, MANY, `${MANY} runs counted`);
      const loaded = await page.evaluate(() => window.__trackway.table.loaded);
      // The first page (100), and the next (500) when the rows reach near the end of the view.
      assert(loaded === 100 || loaded === 600, `only the first page(s) are loaded: ${loaded}`);
      await page.$eval(".tbody", (e) => { e.scrollTop = e.scrollHeight; });
      await tw((l) => window.__trackway.table.loaded > l, loaded, "the next page after scrolling to the end");
      assert(limits.every((l) => l <= 1000), `no request asks for more than a page: ${limits}`);
      await shot(page, "rt-45-many-runs-paged");
      const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
      const file = path.join(backend.tmp, "runs.csv");
      await dl.saveAs(file);
      const lines = fs.readFileSync(file, "utf8").trim().split("\r\n");
      assert(lines.length === MANY + 1 && lines[0].startsWith("run_id,name,"), `CSV has a header and ${MANY} rows: ${lines.length}, ${lines[0]}`);
      assert(lines.some((l) => l.startsWith("m0007,many-7,")), "a known row is in it");
    } finally { page.off("request", onReq); }
  });

  await suite.test("compare 25 runs: paginated (no silent cut), charts overlaid, metadata and git diffs side by side", async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `m${String(i).padStart(4, "0")}`);
    await page.goto(`/admin/many/compare?runs=${ids.join(",")}`);
    await page.waitForSelector("#compare-pager >> text=of 25");
    const cols = await page.$$eval("#compare-table thead th", (e) => e.length - 1);
    assert(cols === 20, `first page shows 20 runs: ${cols}`);
    await tw(() => window.__trackway.charts.loss?.runs.length === 20, null, "the page's 20 runs overlaid in one chart", 20000);
    assert(await page.isVisible("#compare-table >> text=meta.git.commit"), "git commit row");
    await page.waitForSelector("#compare-diffs .diff-col >> nth=2");
    const diffs = await page.$$eval("#compare-diffs .diff-text", (e) => e.map((x) => x.textContent));
    assert(diffs.length === 3 && diffs.every((d, i) => d.includes(`+lr = 0.0${i + 1}`)), `three diffs side by side: ${diffs.length}`);
    await shot(page, "rt-46-compare-page1");
    await page.click("#compare-next");
    await page.waitForSelector("#compare-pager >> text=runs 21–25 of 25");
    assert(await page.$$eval("#compare-table thead th", (e) => e.length - 1) === 5, "second page shows the other 5");
    await tw(() => window.__trackway.charts.loss?.runs.length === 5, null, "charts follow the page", 20000);
  });

  await suite.test("not-found pages for a missing entity, project, run and path", async () => {
    for (const [url, text] of [["/nobody", "Entity nobody"], ["/admin/no-such-project", "no-such-project"], ["/admin/e2e/runs/nope", "nope"], ["/admin/e2e/foo/bar", "/admin/e2e/foo/bar"]]) {
      await page.goto(url);
      await page.waitForSelector("#not-found");
      const t = await page.textContent("#not-found");
      assert(t.includes(text), `${url}: ${t}`);
      assert(!(await page.$(".runtable")), `${url}: no workspace chrome`);
      await shot(page, `rt-47-not-found-${url.split("/").filter(Boolean).join("-")}`);
    }
  });

  await suite.test("a key revoked mid-session sends the user to sign in with a message", async () => {
    // Signed in and showing the table (its filters may be a saved view's: the count is not
    // what this test is about).
    await page.goto("/admin/e2e");
    await tw(() => (window.__trackway.table?.total ?? 0) > 0, null, "the runs table");
    await page.evaluate(() => localStorage.setItem("trackway.apiKey", "revoked-key"));
    await page.click("header nav >> text=admin");
    await page.waitForSelector("#signin-reason");
    const msg = await page.textContent("#signin-reason");
    assert(/sign in/i.test(msg) && new URL(page.url()).pathname === "/signin", `${page.url()}: ${msg}`);
    await shot(page, "rt-48-signin-revoked");
    await page.fill("#api-key", backend.key);
    await page.click("button[type=submit]");
    await page.waitForSelector("table.projects");
  });
}
