// Only the media panel tests (e2e/media.mjs), for quick iteration: node e2e/media-run.mjs
import { launch, newPage, Suite } from "./lib.mjs";
import { client, startBackend } from "./backend.mjs";
import { fillMedia, mediaTests } from "./media.mjs";

const backend = await startBackend();
const browser = await launch();
const suite = new Suite();
try {
  const call = client(backend.url, backend.key);
  await fillMedia(backend, call);
  const page = await newPage(browser, backend.pageUrl, backend.key);
  await mediaTests(suite, page, backend, call);
} finally { await browser.close(); await backend.stop(); }
process.exit(suite.summary() ? 0 : 1);
