// Browser tests of the artifact pages (views/artifacts.ts) on data logged by a real Python
// script (e2e/sdk_artifacts.py): project Artifacts page, version page (aliases, metadata, files
// with preview, lineage graph) and the run page's artifacts tab.

import { assert, shot } from "./lib.mjs";

export async function artifactTests(suite, page, call, runScript) {
  await suite.test("artifact pages: types, versions, aliases, files, lineage, run tab", async () => {
    runScript();
    await page.goto("/admin/arts/artifacts");
    await page.waitForSelector("#artifacts tr[data-name='dataset']");
    const text = await page.textContent("#artifacts");
    assert(text.includes("dataset") && text.includes("2"), `the dataset with 2 versions: ${text}`);
    await shot(page, "40-artifacts");
    await page.click("#artifacts tr[data-name='dataset'] a");
    await page.waitForSelector("#artifact-versions");
    const head = await page.textContent("h2");
    assert(head.includes("dataset:v1") && head.includes("latest"), `latest is v1: ${head}`);
    assert((await page.textContent("#artifact-metadata")).includes('"source": "two"'), "metadata shown");
    await page.click("#artifact-files tr[data-path='readme.txt']");
    await page.waitForSelector("#artifact-text >> text=hello two");
    await page.goto("/admin/arts/artifacts/dataset/best");
    await page.waitForSelector("#lineage-graph");
    const v0 = await page.textContent("main");
    assert(v0.includes("dataset:v0") && v0.includes("best") && v0.includes("producer-one") && v0.includes("consumer"),
      `v0 with its alias, producer and consumer: ${v0.slice(0, 400)}`);
    await shot(page, "41-artifact-version");
    const runs = (await call("GET", "/projects/admin/arts/runs")).runs ?? [];
    const consumer = runs.find((r) => r.name === "consumer");
    assert(consumer, `consumer run among ${runs.map((r) => r.name)}`);
    await page.goto(`/admin/arts/runs/${consumer.run_id}?tab=artifacts`);
    await page.waitForSelector("#run-artifacts >> text=dataset:v0");
    await shot(page, "42-run-artifacts");
  });
}
