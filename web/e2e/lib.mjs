// Shared helpers for the browser tests and the perf script: Debian's chromium driven by
// playwright-core (no browser download), a tiny assertion/report layer, screenshots.

import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = path.resolve(WEB, "..");
export const ARTIFACTS = path.join(ROOT, "test-artifacts", "web");

export async function launch() {
  const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
  if (!fs.existsSync(executablePath)) throw new Error(`${executablePath} not found: install Debian's chromium (make chromium)`);
  return chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

export async function newPage(browser, baseUrl, key) {
  const ctx = await browser.newContext({ viewport: { width: 1500, height: 950 }, baseURL: baseUrl });
  if (key) await ctx.addInitScript((k) => localStorage.setItem("trackway.apiKey", k), key);
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error(`  [browser error] ${e.message}`));
  return page;
}

export async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Poll fn in the page until it returns a truthy value (or throw after timeout). */
export async function until(page, fn, arg, timeout = 15000, what = "condition") {
  const t0 = Date.now();
  for (;;) {
    const v = await page.evaluate(fn, arg).catch(() => null);
    if (v) return v;
    if (Date.now() - t0 > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class Suite {
  results = [];
  async test(name, fn) {
    // TRACKWAY_E2E_ONLY=<text>: run only the tests whose name contains it (while developing one).
    const only = process.env.TRACKWAY_E2E_ONLY;
    if (only && !name.includes(only)) return;
    const t0 = Date.now();
    try { await fn(); this.results.push({ name, ok: true }); console.log(`ok - ${name} (${Date.now() - t0} ms)`); }
    catch (e) { this.results.push({ name, ok: false }); console.log(`not ok - ${name}: ${e.stack ?? e}`); }
  }
  summary() {
    const passed = this.results.filter((r) => r.ok).length, failed = this.results.length - passed;
    console.log(`${passed} passed, ${failed} failed`);
    return failed === 0 && passed > 0;
  }
}

export function assert(cond, msg) { if (!cond) throw new Error(`assertion failed: ${msg}`); }
