// Browser tests of the artifact pages (views/artifacts.ts) on data logged by a real Python
// script (e2e/sdk_artifacts.py): project Artifacts page, version page (aliases, metadata, files
// with preview, lineage graph, time to live shown and edited) and the run page's artifacts tab.

import { assert, shot, until } from "./lib.mjs";

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
    // v0 was logged with a 7-day TTL (artifact.ttl), v1 without one.
    assert((await page.textContent("#artifact-expiry")).startsWith("kept for good"), "v1 has no TTL");
    const badge = await page.textContent("#artifact-versions li[data-version='0'] .badge.ttl");
    assert(/^expires in 6 d 2\d h$/.test(badge), `v0's 7-day TTL in the versions list: ${badge}`);
    await page.goto("/admin/arts/artifacts/dataset/best");
    await page.waitForSelector("#lineage-graph");
    const v0 = await page.textContent("main");
    assert(v0.includes("dataset:v0") && v0.includes("best") && v0.includes("producer-one") && v0.includes("consumer"),
      `v0 with its alias, producer and consumer: ${v0.slice(0, 400)}`);
    await shot(page, "41-artifact-version");
    await ttlTests(page, call);
    const runs = (await call("GET", "/projects/admin/arts/runs")).runs ?? [];
    const consumer = runs.find((r) => r.name === "consumer");
    assert(consumer, `consumer run among ${runs.map((r) => r.name)}`);
    await page.goto(`/admin/arts/runs/${consumer.run_id}?tab=artifacts`);
    await page.waitForSelector("#run-artifacts >> text=dataset:v0");
    assert((await page.textContent("#run-artifacts")).includes("expires in 29 d"), "the run's artifacts show v0's TTL");
    await shot(page, "42-run-artifacts");
  });
}

/** On v0's page: the TTL logged by the script is shown, an invalid one is refused in place,
 *  a new one is stored (read back through the API), and "Keep for good" clears it. */
async function ttlTests(page, call) {
  const version = () => call("GET", "/artifacts/admin/arts/dataset/v0");
  const v0 = await version();
  assert(Math.round(v0.expires_at - v0.created_at) === 7 * 86400, `v0 expires 7 days after creation: ${JSON.stringify(v0.expires_at)}`);
  assert((await page.textContent("#artifact-expiry-head")).startsWith("expires in 6 d"), "the header says when v0 expires");
  assert(await page.inputValue("#artifact-ttl") === "7" && await page.inputValue("#artifact-ttl-unit") === "days", "the editor holds 7 days");
  await page.fill("#artifact-ttl", "-2");
  await page.click("#artifact-ttl-set");
  await page.waitForSelector("#artifact-ttl-error:not([hidden])");
  assert((await version()).expires_at === v0.expires_at, "a refused TTL changes nothing");
  await page.fill("#artifact-ttl", "30");
  await page.click("#artifact-ttl-set");
  await page.waitForSelector("#artifact-expiry >> text=expires in 29 d");
  const v30 = await version();
  assert(Math.round(v30.expires_at - v30.created_at) === 30 * 86400, `30 days stored: ${v30.expires_at - v30.created_at}`);
  await shot(page, "43-artifact-ttl");
  await page.click("#artifact-ttl-clear");
  await until(page, () => document.querySelector("#artifact-expiry")?.textContent.startsWith("kept for good"), null, 10000, "TTL cleared");
  assert((await version()).expires_at === null, "kept for good through the API");
  await page.fill("#artifact-ttl", "30");
  await page.click("#artifact-ttl-set");
  await page.waitForSelector("#artifact-expiry >> text=expires in 29 d");
}
