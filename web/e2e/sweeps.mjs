// Sweeps UI (docs/sweeps.md) against the real server: a sweep made and claimed through the API,
// its trials' runs written through ingest; the list, the sweep page (state, progress, best run,
// scatter + parallel coordinates, parameter importance, trials), the pause/resume controls and
// the workspace grouping the sweep's runs.

import { assert, shot, until } from "./lib.mjs";
import { RunWriter } from "./backend.mjs";

export async function sweepTests(suite, page, call) {
  const config = { method: "random", metric: { name: "loss", goal: "minimize" }, run_cap: 8,
    parameters: { lr: { distribution: "log_uniform_values", min: 0.0001, max: 0.1 }, opt: { values: ["adam", "sgd"] } } };
  const { sweep } = await call("POST", "/sweeps", { project: "e2e-sweep", name: "lr-search", config });
  let best = null;
  for (let i = 0; i < 6; i++) {
    const { trial } = await call("POST", `/sweeps/admin/e2e-sweep/${sweep.id}/claim`, { agent: "e2e" });
    const loss = Math.abs(Math.log10(trial.config.lr) + 2.5) + (trial.config.opt === "sgd" ? 0.25 : 0.125) + 0.0001 * i;
    if (!best || loss < best.loss) best = { run: trial.run_id, loss };
    const w = new RunWriter(call, { project: "e2e-sweep", run_id: trial.run_id, name: trial.run_id, config: trial.config });
    await w.start();
    for (let s = 0; s < 3; s++) w.log(s, { loss: loss + 0.5 / (s + 1.5) - 0.2 });
    w.log(3, { loss });
    w.finish(0);
    await w.flush();
  }

  await suite.test("sweeps list and sweep page: state, progress, best run, plots, trials", async () => {
    await page.goto("/admin/e2e-sweep/sweeps");
    await page.waitForSelector("#sweeps >> text=lr-search");
    await page.click("#sweeps >> text=lr-search");
    await page.waitForSelector("#sweep-state");
    await until(page, () => document.querySelectorAll("#sweep-trials tbody tr").length === 6, null, 15000, "6 trial rows");
    const text = (sel) => page.$eval(sel, (e) => e.textContent);
    assert((await text("#sweep-state")) === "running", "state running");
    assert((await text("#sweep-progress")).includes("6 of 8"), `progress ${await text("#sweep-progress")}`);
    assert((await text("#sweep-best")).includes(best.run), `best run ${best.run} in ${await text("#sweep-best")}`);
    assert(await page.$("#scatter-canvas") && await page.$("#parallel-canvas"), "scatter and parallel coordinates");
    // Parameter importance: the workspace's panel, explaining the sweep's metric by its parameters.
    await until(page, () => window.__trackway.importance?.keys.length === 2, null, 15000, "importance of 2 parameters");
    const imp = await page.evaluate(() => window.__trackway.importance);
    assert(imp.metric === "summary.loss", `importance explains the sweep metric, not ${imp.metric}`);
    assert([...imp.keys].sort().join() === "config.lr,config.opt", `importance keys ${imp.keys}`);
    assert(imp.importance.every((v) => v >= 0 && v <= 1) && Math.abs(imp.importance.reduce((a, b) => a + b, 0) - 1) < 1e-6,
      `importances are shares summing to 1: ${imp.importance}`);
    assert(await page.$("#importance-panel tr[data-key='config.lr']"), "an importance row per parameter");
    await shot(page, "40-sweep");
  });

  await suite.test("sweep controls pause and resume the sweep", async () => {
    await page.click("#sweep-pause");
    await until(page, () => document.querySelector("#sweep-state")?.textContent === "paused", null, 10000, "paused");
    const claim = await call("POST", `/sweeps/admin/e2e-sweep/${sweep.id}/claim`, { agent: "e2e" });
    assert(claim.paused === true, "a paused sweep hands out nothing");
    await page.click("#sweep-resume");
    await until(page, () => document.querySelector("#sweep-state")?.textContent === "running", null, 10000, "running");
  });

  await suite.test("workspace groups a sweep's runs by their sweep", async () => {
    // One run outside the sweep: it groups apart, as (none).
    const other = new RunWriter(call, { project: "e2e-sweep", run_id: "not-a-trial", name: "manual", config: { lr: 0.01 } });
    await other.start();
    other.log(0, { loss: 1 });
    other.finish(0);
    await other.flush();
    await page.goto("/admin/e2e-sweep");
    await page.waitForSelector("#group-by option[value='sweep']", { state: "attached", timeout: 15000 });
    await page.selectOption("#group-by", "sweep");
    const labels = () => [...document.querySelectorAll(".trow.group .gcell")].map((e) => e.textContent);
    await until(page, (id) => {
      const l = [...document.querySelectorAll(".trow.group .gcell")].map((e) => e.textContent);
      return l.some((t) => t.includes(id) && t.includes("(6)")) && l.some((t) => t.includes("(none)") && t.includes("(1)"));
    }, sweep.id, 15000, "a group of the sweep's 6 runs and one of the other run").catch(async (e) => {
      throw new Error(`${e.message}; groups: ${JSON.stringify(await page.evaluate(labels))}`);
    });
    assert((await page.evaluate(labels)).length === 2, "two groups");
    await shot(page, "41-workspace-by-sweep");
  });
}
