// Browser tests of the media panels (docs/media-api.md) against the backend under test, filled
// through the public API: files with PUT .../files, typed references in history rows. Each
// test reads what a panel shows from window.__trackway.media (not pixels) and takes a
// screenshot. Run from e2e/run.mjs.

import { assert, shot, until } from "./lib.mjs";
import { GIF, imageColor, png, RunWriter, tableRef, upload, wav } from "./mediafill.mjs";

export const MEDIA_PROJECT = "media";
const STEPS = 10;
const LABELS = ["cat", "dog", "bird"];
const BINS = Array.from({ length: 11 }, (_, i) => -1 + i * 0.2);
export const histValues = (r, s) => BINS.slice(1).map((_, b) => (b + 1) * (s + 1) + r);
export const score = (k) => Math.round(((k * 37) % 101) / 101 * 1e4) / 1e4 + 0.00001;

async function fillRun(backend, call, r) {
  const ref = { project: MEDIA_PROJECT, run_id: `med-${r}` };
  const w = new RunWriter(call, { project: MEDIA_PROJECT, run_id: ref.run_id, name: `media-${r}`, config: { r } });
  await w.start();
  const maskBytes = png(16, 12, (x) => (x < 8 ? 1 : 2), 1);
  const mask = await upload(backend, ref, "images/mask", "png", maskBytes);
  for (let s = 0; s < STEPS; s++) {
    const img = await upload(backend, ref, "images", "png", png(16, 12, () => imageColor(r, s)));
    const grid = [];
    for (let k = 0; k < 3; k++) grid.push({ _type: "image-file", format: "png", width: 8, height: 8, caption: `g${k} s${s}`,
      ...(await upload(backend, ref, "images", "png", png(8, 8, () => [k * 80, 255 - s * 20, 60 * r]))) });
    const row = {
      loss: 1 / (s + 1) + 0.0001,
      phase: s % 2 ? "eval" : "train",
      examples: { _type: "image-file", format: "png", width: 16, height: 12, caption: `run ${r} step ${s}`, ...img,
        classes: { _type: "classes", class_set: [{ id: 1, name: "cat" }, { id: 2, name: "dog" }] },
        boxes: { predictions: { box_data: [
          { position: { minX: 1, maxX: 7, minY: 1, maxY: 6 }, domain: "pixel", class_id: 1, box_caption: "cat", scores: { score: 0.9 } },
          { position: { middle: [0.75, 0.5], width: 0.3, height: 0.5 }, class_id: 2, box_caption: "dog" }], class_labels: { 1: "cat", 2: "dog" } } },
        masks: { ground_truth: { _type: "mask", format: "png", width: 16, height: 12, class_labels: { 1: "cat", 2: "dog" }, ...mask } } },
      grid: { _type: "images/separated", count: 3, format: "png", width: 8, height: 8, filenames: grid.map((g) => g.path), captions: grid.map((g) => g.caption), images: grid },
      weights: { _type: "histogram", bins: BINS, values: histValues(r, s) },
    };
    if (s === STEPS - 1) Object.assign(row, await lastStep(backend, ref, r));
    w.log(s, row);
  }
  w.finish(0);
  await w.flush();
}

async function lastStep(backend, ref, r) {
  const imgs = [];
  for (let k = 0; k < 5; k++) imgs.push({ _type: "image-file", format: "png", width: 8, height: 8, ...(await upload(backend, ref, "images", "png", png(8, 8, () => [k * 50, 100, 100]))) });
  const rows = Array.from({ length: 300 }, (_, k) => [k, k < 5 ? imgs[k] : null, LABELS[(k + r) % 3], score(k)]);
  const preds = await tableRef(backend, ref, ["id", "image", "label", "score"], rows, { id: "number", image: "image-file", label: "string", score: "number" });
  const chart = async (key, spec, columns, data, fields, title) => ({
    [`${key}_table`]: await tableRef(backend, ref, columns, data),
    [key]: { _type: "custom-chart", spec, table_key: `${key}_table`, fields, string_fields: { title } },
  });
  const roc = [];
  for (const cls of ["cat", "dog"]) for (let i = 0; i <= 10; i++) roc.push([cls, i / 10, Math.min(1, Math.sqrt(i / 10) + (cls === "dog" ? 0.05 : 0))]);
  const cm = [];
  for (const a of LABELS) for (const p of LABELS) cm.push([a, p, a === p ? 10 + r : 2]);
  const helix = Array.from({ length: 400 }, (_, i) => [Math.cos(i / 20), Math.sin(i / 20), i / 100, i % 3]);
  const pdb = [[0, 0, 0, "C"], [1.4, 0, 0, "C"], [2.1, 1.2, 0, "O"], [-0.7, 1.2, 0, "N"], [0.2, -1.1, 0.9, "S"]]
    .map(([x, y, z, el], i) => `HETATM${String(i + 1).padStart(5)}  ${el.padEnd(3)} LIG A   1    ${[x, y, z].map((c) => c.toFixed(3).padStart(8)).join("")}  1.00  0.00          ${el.padStart(2)}`).join("\n");
  return {
    preds,
    bigimg: { _type: "image-file", format: "png", width: 600, height: 300, ...(await upload(backend, ref, "images", "png", png(600, 300, (x) => [x < 300 ? 255 : 0, 0, 40 * r]))) },
    fig2: { _type: "plotly-file", ...(await upload(backend, ref, "plotly", "plotly.json", Buffer.from(JSON.stringify({
      data: [{ type: "histogram", x: [1, 1, 2, 3, 3, 3], xbins: { start: 0, size: 1 } }, { type: "heatmap", z: [[1, 2], [3, 4]], xaxis: "x2", yaxis: "y2" }, { type: "sankey" }],
      layout: { grid: { rows: 1, columns: 2 } } })))) },
    cloud: { _type: "object3D-file", format: "pts.json", ...(await upload(backend, ref, "object3D", "pts.json", Buffer.from(JSON.stringify(helix)))) },
    mol: { _type: "molecule-file", format: "pdb", ...(await upload(backend, ref, "molecule", "pdb", Buffer.from(pdb))) },
    audio: { _type: "audio-file", sample_rate: 8000, duration: 0.5, caption: "tone", ...(await upload(backend, ref, "audio", "wav", wav(0.5))) },
    video: { _type: "video-file", format: "gif", width: 4, height: 3, fps: 4, ...(await upload(backend, ref, "videos", "gif", GIF)) },
    report: { _type: "html-file", ...(await upload(backend, ref, "html", "html", Buffer.from(`<h1 id="t">report ${r}</h1><script>document.getElementById("t").dataset.ran = "1"</script>`))) },
    fig: { _type: "plotly-file", ...(await upload(backend, ref, "plotly", "plotly.json", Buffer.from(JSON.stringify({
      data: [{ type: "scatter", x: [1, 2, 3], y: [2, 4, 8 + r], name: "line" }, { type: "bar", x: [1, 2, 3], y: [3, 1, 2], name: "bars" }], layout: { title: { text: `fig ${r}` } } })))) },
    ...(await chart("roc", "wandb/area-under-curve/v0", ["class", "fpr", "tpr"], roc, { x: "fpr", y: "tpr", class: "class" }, "ROC")),
    ...(await chart("cm", "wandb/confusion_matrix/v1", ["Actual", "Predicted", "nPredictions"], cm, { Actual: "Actual", Predicted: "Predicted", nPredictions: "nPredictions" }, "Confusion")),
    ...(await chart("bars", "wandb/bar/v0", ["label", "value"], LABELS.map((l, i) => [l, i + 1.5]), { label: "label", value: "value" }, "Bars")),
    ...(await chart("curve", "wandb/line/v0", ["x", "y"], Array.from({ length: 20 }, (_, i) => [i, i * i + 0.5]), { x: "x", y: "y" }, "Line")),
    ...(await chart("points", "wandb/scatter/v0", ["a", "b"], Array.from({ length: 15 }, (_, i) => [i + 0.5, (i * 7) % 5]), { x: "a", y: "b" }, "Scatter")),
    ...(await chart("spread", "wandb/histogram/v0", ["v"], Array.from({ length: 64 }, (_, i) => [Math.sin(i) + 0.001]), { value: "v" }, "Histogram")),
    ...(await chart("series", "wandb/lineseries/v0", ["step", "lineKey", "lineVal"], [0, 1, 2].flatMap((st) => ["a", "b"].map((k) => [st, k, st * (k === "a" ? 1 : 2) + 0.5])), { step: "step", lineKey: "lineKey", lineVal: "lineVal" }, "Series")),
  };
}

export async function fillMedia(backend, call) {
  for (let r = 0; r < 2; r++) await fillRun(backend, call, r);
}

const probe = (page, id) => page.evaluate((id) => window.__trackway.media[id], id);
async function openPanel(page, key, id, ready, what) {
  await page.locator(`.media-slot[data-key='${key}']`).scrollIntoViewIfNeeded();
  return until(page, ({ id, ready }) => { const p = window.__trackway.media[id]; return p && new Function("p", `return ${ready}`)(p) ? p : null; }, { id, ready }, 20000, what);
}

export async function mediaTests(suite, page, backend, call) {
  const runPage = `/admin/${MEDIA_PROJECT}/runs/med-0?tab=media`;

  await suite.test("media tab: image panel shows each step's image with caption, boxes and masks toggled per class", async () => {
    await page.goto(runPage);
    const p = await openPanel(page, "examples", "image:examples", "p.runs.length === 1 && p.runs[0].images.length === 1 && p.runs[0].images[0].loaded", "image panel");
    assert(p.steps.length === STEPS && p.step === STEPS - 1, `slider over ${STEPS} steps at the last: ${p.steps} ${p.step}`);
    const im = p.runs[0].images[0];
    assert(im.caption === "run 0 step 9" && im.width === 16 && im.height === 12, `caption and size: ${JSON.stringify(im)}`);
    assert(im.boxes === 2 && im.masks.join() === "1,2", `2 boxes, mask classes 1,2: ${JSON.stringify(im)}`);
    // The pixel drawn is the one logged at that step (colour encodes run and step).
    const px = await page.evaluate(() => { const img = document.querySelector(".panel-image .media-img"); const c = document.createElement("canvas"); c.width = 16; c.height = 12; const g = c.getContext("2d"); g.drawImage(img, 0, 0); return [...g.getImageData(15, 11, 1, 1).data.slice(0, 3)]; });
    assert(px.join() === imageColor(0, 9).join(), `pixel of step 9: ${px} vs ${imageColor(0, 9)}`);
    await shot(page, "30-media-image");
    await page.uncheck(".panel-image input[data-class='1']");
    const off = await until(page, () => { const p = window.__trackway.media["image:examples"]; return p.classes.find((c) => c.id === 1)?.on === false && p.runs[0].images[0].loaded ? p : null; }, null, 10000, "class 1 off");
    assert(off.runs[0].images[0].boxes === 1, `one box left with cat hidden: ${off.runs[0].images[0].boxes}`);
    await shot(page, "31-media-image-class-off");
    await page.check(".panel-image input[data-class='1']");
    await page.locator(".media-slot[data-key='examples'] .step-slider").fill("3");
    const s3 = await until(page, () => { const p = window.__trackway.media["image:examples"]; return p.step === 3 && p.runs[0].images[0]?.loaded ? p : null; }, null, 10000, "slider at step 3");
    assert(s3.runs[0].images[0].caption === "run 0 step 3" && s3.runs[0].images[0].boxes === 2, `step 3 image: ${JSON.stringify(s3.runs[0])}`);
    const grid = await openPanel(page, "grid", "image:grid", "p.runs[0]?.images.length === 3 && p.runs[0].images.every((i) => i.loaded)", "images/separated");
    assert(grid.runs[0].images.map((i) => i.caption).join() === "g0 s9,g1 s9,g2 s9", `3 images with captions: ${grid.runs[0].images.map((i) => i.caption)}`);
  });

  await suite.test("media tab: histogram panel shows every step's histogram as a heatmap", async () => {
    const p = await openPanel(page, "weights", "histogram:weights", "p.runs.length === 1", "histogram panel");
    const r = p.runs[0];
    assert(r.steps.join() === [...Array(STEPS).keys()].join(), `steps ${r.steps}`);
    assert(r.totals.every((t, s) => Math.abs(t - histValues(0, s).reduce((a, b) => a + b, 0)) < 1e-9), `counts per step: ${r.totals}`);
    assert(Math.abs(r.lo + 1) < 1e-9 && Math.abs(r.hi - 1) < 1e-9 && r.bins.every((b) => b === 10), `range and bins: ${r.lo} ${r.hi} ${r.bins}`);
    await shot(page, "32-media-histogram");
  });

  await suite.test("media tab: table panel pages, sorts and filters on the server, shows media cells", async () => {
    const p = await openPanel(page, "preds", "table:preds", "p.runs[0]?.total === 300", "table panel");
    const t = p.runs[0];
    assert(t.columns.join() === "id,image,label,score" && t.types.image === "image-file", `columns ${t.columns} ${JSON.stringify(t.types)}`);
    assert(t.domRows < 40, `virtualised: ${t.domRows} rows in the DOM`);
    await page.waitForSelector(".panel-table .mt-img[src^='blob:']");
    await page.click(".panel-table .mt-th[data-col=score]");
    await page.click(".panel-table .mt-th[data-col=score]");
    const desc = await until(page, () => { const p = window.__trackway.media["table:preds"]; return p.sort === "score" && p.order === "desc" && p.runs[0].rows.length ? p : null; }, null, 10000, "sorted by score desc");
    const want = Array.from({ length: 300 }, (_, k) => score(k)).sort((a, b) => b - a);
    assert(desc.runs[0].rows.slice(0, 10).every((r, i) => Math.abs(Number(r.cells[3]) - want[i]) < 1e-9), `top scores ${desc.runs[0].rows.slice(0, 10).map((r) => r.cells[3])}`);
    await shot(page, "33-media-table-sorted");
    await page.fill(".panel-table .table-filter", "label = cat, score > 0.5");
    await page.dispatchEvent(".panel-table .table-filter", "change");
    const n = Array.from({ length: 300 }, (_, k) => k).filter((k) => LABELS[k % 3] === "cat" && score(k) > 0.5).length;
    await until(page, (n) => window.__trackway.media["table:preds"].runs[0].total === n, n, 10000, `${n} rows after the filter`);
    const f = await probe(page, "table:preds");
    assert(f.runs[0].rows.every((r) => r.cells[2] === "cat" && Number(r.cells[3]) > 0.5), "filtered rows match");
    await page.fill(".panel-table .table-filter", "");
    await page.dispatchEvent(".panel-table .table-filter", "change");
    await page.fill(".panel-table .table-q", "bird");
    await until(page, () => window.__trackway.media["table:preds"].runs[0].total === 100, null, 10000, "100 bird rows after the text search");
    await shot(page, "34-media-table-search");
  });

  await suite.test("media tab: audio, video, HTML (sandboxed) and Plotly panels", async () => {
    const a = await openPanel(page, "audio", "audio:audio", "p.runs.length === 1", "audio panel");
    assert(Math.abs(a.runs[0].duration - 0.5) < 0.01 && a.runs[0].caption === "tone", `audio: ${JSON.stringify(a.runs[0])}`);
    const v = await openPanel(page, "video", "video:video", "p.runs.length === 1", "video panel");
    assert(v.runs[0].player === "img" && v.runs[0].width === 4 && v.runs[0].height === 3, `gif video: ${JSON.stringify(v.runs[0])}`);
    await shot(page, "35-media-audio-video");
    const hp = await openPanel(page, "report", "html:report", "p.runs.length === 1", "html panel");
    assert(hp.runs[0].sandbox === "allow-scripts", `sandbox: ${hp.runs[0].sandbox}`);
    // Scripts run inside the frame, but it has an opaque origin: the page cannot reach into it.
    const reach = await page.evaluate(() => { try { return document.querySelector(".media-html").contentDocument === null ? "opaque" : "same-origin"; } catch { return "opaque"; } });
    assert(reach === "opaque", `the HTML frame is cross-origin to the app: ${reach}`);
    const frame = page.frames().find((fr) => fr.parentFrame() && fr !== page.mainFrame());
    const ran = await frame.evaluate(() => document.getElementById("t")?.dataset.ran);
    assert(ran === "1", "the HTML's own script ran in the sandbox");
    await shot(page, "36-media-html");
    const pl = await openPanel(page, "fig", "plotly:fig", "p.runs.length === 1", "plotly panel");
    assert(pl.runs[0].traces === 2 && pl.runs[0].types.join() === "scatter,bar" && pl.runs[0].drawn === 2, `plotly: ${JSON.stringify(pl.runs[0])}`);
    await page.locator(".media-slot[data-key='fig']").scrollIntoViewIfNeeded();
    await shot(page, "37-media-plotly");
  });

  await suite.test("media tab: a large image is drawn from a server thumbnail, 3D points and molecules in a rotatable view", async () => {
    const big = await openPanel(page, "bigimg", "image:bigimg", "p.runs.length === 1 && p.runs[0].images.length === 1 && p.runs[0].images[0].loaded", "big image panel");
    const im = big.runs[0].images[0];
    assert(im.src.includes("/thumbnails/") && im.width < 600 && im.width === 2 * im.height, `thumbnail drawn, aspect kept: ${JSON.stringify(im)}`);
    const px = await page.evaluate(() => { const img = document.querySelector(".media-slot[data-key='bigimg'] .media-img"); const c = document.createElement("canvas"); c.width = img.naturalWidth; c.height = img.naturalHeight; const g = c.getContext("2d"); g.drawImage(img, 0, 0); return [[...g.getImageData(2, 2, 1, 1).data.slice(0, 3)], [...g.getImageData(c.width - 3, 2, 1, 1).data.slice(0, 3)]]; });
    assert(px[0].join() === "255,0,0" && px[1].join() === "0,0,0", `the thumbnail is the same picture: ${JSON.stringify(px)}`);
    const cloud = await openPanel(page, "cloud", "object3d:cloud", "p.runs.length === 1 && !p.pending", "3D panel");
    assert(cloud.runs[0].viewer && cloud.runs[0].points === 400, `400 points in the 3D view: ${JSON.stringify(cloud.runs[0])}`);
    const mol = await openPanel(page, "mol", "molecule:mol", "p.runs.length === 1 && !p.pending", "molecule panel");
    assert(mol.runs[0].viewer && mol.runs[0].points === 5, `5 atoms: ${JSON.stringify(mol.runs[0])}`);
    const cv = page.locator(".media-slot[data-key='cloud'] canvas.view3d");
    const before = await cv.screenshot();
    const box = await cv.boundingBox();
    await page.mouse.move(box.x + 100, box.y + 100); await page.mouse.down(); await page.mouse.move(box.x + 180, box.y + 130, { steps: 5 }); await page.mouse.up();
    await page.waitForTimeout(100);
    assert(!before.equals(await cv.screenshot()), "dragging rotates the view");
    await shot(page, "38-media-3d-molecule");
    const pl = (await openPanel(page, "fig2", "plotly:fig2", "p.runs.length === 1", "plotly histogram/heatmap")).runs[0];
    assert(pl.converted.sort().join() === "heatmap,histogram" && pl.unsupported.join() === "sankey" && pl.drawn === 2, `histogram + heatmap drawn, sankey named: ${JSON.stringify(pl)}`);
    await page.locator(".media-slot[data-key='fig2']").scrollIntoViewIfNeeded();
    await shot(page, "38-media-plotly-converted");
  });

  await suite.test("media tab: custom charts (ROC, confusion matrix, bar, line, scatter, histogram, line series) drawn from their tables", async () => {
    const roc = await openPanel(page, "roc", "chart:roc", "p.runs.length === 1", "roc");
    const r = roc.runs[0];
    assert(r.kind === "line" && r.series.map((s) => s.name).join() === "cat,dog" && r.series.every((s) => s.points === 11), `roc: ${JSON.stringify(r).slice(0, 300)}`);
    assert(r.series[0].x[10] === 1 && r.series[0].y[4] === Math.sqrt(0.4), `roc points: ${r.series[0].x} ${r.series[0].y}`);
    await shot(page, "38-media-roc");
    const cm = (await openPanel(page, "cm", "chart:cm", "p.runs.length === 1", "confusion")).runs[0];
    assert(cm.kind === "heatmap" && cm.rows.join() === LABELS.join() && cm.cells.every((row, i) => row.every((v, j) => v === (i === j ? 10 : 2))), `cm: ${JSON.stringify(cm)}`);
    await page.locator(".media-slot[data-key='cm']").scrollIntoViewIfNeeded();
    await shot(page, "39-media-confusion");
    const bars = (await openPanel(page, "bars", "chart:bars", "p.runs.length === 1", "bars")).runs[0];
    assert(bars.kind === "bar" && bars.categories.join() === LABELS.join() && bars.series[0].values.join() === "1.5,2.5,3.5", `bars: ${JSON.stringify(bars)}`);
    const line = (await openPanel(page, "curve", "chart:curve", "p.runs.length === 1", "line")).runs[0];
    assert(line.kind === "line" && line.series[0].points === 20 && line.series[0].y[3] === 9.5, `line: ${JSON.stringify(line).slice(0, 200)}`);
    const sc = (await openPanel(page, "points", "chart:points", "p.runs.length === 1", "scatter")).runs[0];
    assert(sc.kind === "scatter" && sc.series[0].points === 15, `scatter: ${JSON.stringify(sc).slice(0, 200)}`);
    const hi = (await openPanel(page, "spread", "chart:spread", "p.runs.length === 1", "histogram chart")).runs[0];
    assert(hi.kind === "histogram" && hi.counts.reduce((a, b) => a + b, 0) === 64, `histogram chart: ${JSON.stringify(hi).slice(0, 200)}`);
    const ls = (await openPanel(page, "series", "chart:series", "p.runs.length === 1", "line series")).runs[0];
    assert(ls.kind === "line" && ls.series.map((s) => s.name).join() === "a,b" && ls.series[1].y.join() === "0.5,2.5,4.5", `line series: ${JSON.stringify(ls).slice(0, 300)}`);
    await page.locator(".media-slot[data-key='series']").scrollIntoViewIfNeeded();
    await shot(page, "40-media-custom-charts");
    const keys = await page.$$eval(".media-slot", (els) => els.map((e) => e.dataset.key));
    assert(!keys.some((k) => k.endsWith("_table")), `a chart's data table is drawn by the chart, not listed: ${keys}`);
  });

  await suite.test("a key holding text or media never gets a line chart; text keys list their values", async () => {
    const t = await openPanel(page, "phase", "text:phase", "p.runs.length === 1", "text panel");
    assert(t.runs[0].values.length === STEPS && t.runs[0].values[3].text === "eval", `text values: ${JSON.stringify(t.runs[0].values.slice(0, 4))}`);
    await page.goto(`/admin/${MEDIA_PROJECT}/runs/med-0?tab=charts`);
    await until(page, () => window.__trackway.charts.loss?.x.length === 10, null, 15000, "loss charted");
    const cards = await page.$$eval(".chart[data-metric]", (els) => els.map((e) => e.dataset.metric));
    assert(cards.join() === "loss", `only numeric keys get line charts on the run page: ${cards}`);
    await page.goto(`/admin/${MEDIA_PROJECT}?runs=med-0,med-1`);
    await until(page, () => window.__trackway.charts.loss?.runs.length === 2, null, 15000, "workspace loss chart");
    // Cross-run panels (scatter, parallel coordinates, importance: ids `xrun:…`) share the grid; they are not line charts.
    const ws = await page.$$eval(".chart[data-metric]", (els) => els.map((e) => e.dataset.metric).filter((m) => !m.startsWith("xrun:")));
    assert(ws.join() === "loss", `only numeric keys get line charts in the workspace: ${ws}`);
  });

  await suite.test("a live run's image panel follows new steps", async () => {
    const ref = { project: MEDIA_PROJECT, run_id: "med-live" };
    const w = new RunWriter(call, { project: MEDIA_PROJECT, run_id: ref.run_id, name: "media-live" });
    await w.start();
    const log = async (s) => {
      const f = await upload(backend, ref, "images", "png", png(8, 8, () => imageColor(3, s)));
      w.log(s, { live_img: { _type: "image-file", format: "png", width: 8, height: 8, caption: `live ${s}`, ...f } });
      await w.flush();
    };
    for (let s = 0; s < 3; s++) await log(s);
    await page.goto(`/admin/${MEDIA_PROJECT}/runs/med-live?tab=media`);
    await openPanel(page, "live_img", "image:live_img", "p.steps.length === 3 && p.runs[0].images[0]?.loaded", "live image panel");
    for (let s = 3; s < 6; s++) await log(s);
    const p = await until(page, () => { const p = window.__trackway.media["image:live_img"]; return p.steps.length === 6 && p.step === 5 && p.runs[0].images[0]?.loaded ? p : null; }, null, 20000, "the panel gains the new steps");
    assert(p.runs[0].images[0].caption === "live 5", `the newest image is shown: ${p.runs[0].images[0].caption}`);
    w.finish(0); await w.flush();
  });

  await suite.test("workspace: media panels compare runs (images side by side, the same table across runs)", async () => {
    await page.goto(`/admin/${MEDIA_PROJECT}?runs=med-0,med-1`);
    const p = await openPanel(page, "examples", "image:examples", "p.runs.length === 2 && p.runs.every((r) => r.images[0]?.loaded)", "workspace image panel");
    const slots = await page.$$eval(".media-slot", (els) => els.map((e) => e.dataset.key));
    assert(!slots.includes("live_img") && slots.includes("preds"), `panels for the charted runs' keys only: ${slots}`);
    const caps = Object.fromEntries(p.runs.map((r) => [r.run, r.images[0].caption]));
    assert(caps["med-0"] === "run 0 step 9" && caps["med-1"] === "run 1 step 9", `captions per run: ${JSON.stringify(caps)}`);
    await shot(page, "41-workspace-media-images");
    const t = await openPanel(page, "preds", "table:preds", "p.runs.length === 2 && p.runs.every((r) => r.total === 300)", "table compare");
    const row0 = Object.fromEntries(t.runs.map((r) => [r.run, r.rows[0].cells[2]]));
    assert(row0["med-0"] === "cat" && row0["med-1"] === "dog", `row 0 label per run: ${JSON.stringify(row0)}`);
    await page.click(".panel-table .mt[data-run='med-1'] .mt-th[data-col=label]");
    await until(page, () => { const p = window.__trackway.media["table:preds"]; return p.sort === "label" && p.runs.every((r) => r.rows[0]?.cells[2] === "bird"); }, null, 10000, "both runs sorted by label");
    await page.locator(".media-slot[data-key='preds']").scrollIntoViewIfNeeded();
    await shot(page, "42-workspace-media-table-compare");
    const h = await openPanel(page, "weights", "histogram:weights", "p.runs.length === 2", "workspace histograms");
    assert(h.runs.find((r) => r.run === "med-1").totals[0] === histValues(1, 0).reduce((a, b) => a + b, 0), "second run's histogram");
    await page.locator(".media-slot[data-key='weights']").scrollIntoViewIfNeeded();
    await shot(page, "43-workspace-media-histograms");
  });
}

/** Wait until the agent has uploaded what the SDK script logged (references and their files). */
async function waitUploaded(call, run, keys) {
  for (let i = 0; i < 150; i++) {
    const have = new Set(((await call("GET", `/runs/admin/sdkmedia/${run}/media/keys`).catch(() => null))?.keys ?? []).map((k) => k.key));
    if (keys.every((k) => have.has(k))) {
      const ex = await call("GET", `/runs/admin/sdkmedia/${run}/media?key=examples`);
      const files = new Set((await call("GET", `/runs/admin/sdkmedia/${run}/files`)).files.map((f) => f.path));
      if (ex.items.length && ex.items.every((it) => it.value.uploaded !== false && files.has(it.value.path))) return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the agent did not deliver ${keys} within 30 s`);
}

/** A real script (e2e/sdk_media.py) through the SDK and agent, checked panel by panel. */
export async function sdkMediaTests(suite, page, call, run) {
  await suite.test("a Python script's images, histograms, table, audio, video, HTML, Plotly and charts show in their panels", async () => {
    run("sm1");
    await waitUploaded(call, "sm1", ["examples", "grid", "weights", "preds", "tone", "clip", "report", "fig", "roc", "cm", "curve", "bars", "pr", "pts", "spread", "series", "confusion_matrix", "feature_importances", "class_proportions", "summary_metrics", "precision_recall"]);
    await page.goto("/admin/sdkmedia/runs/sm1?tab=media");
    const im = await openPanel(page, "examples", "image:examples", "p.runs[0]?.images[0]?.loaded", "SDK image panel");
    assert(im.steps.length === 6 && im.runs[0].images[0].caption === "step 5" && im.runs[0].images[0].width === 16, `SDK image: ${JSON.stringify(im.runs[0])}`);
    assert(im.runs[0].images[0].boxes === 2 && im.runs[0].images[0].masks.join() === "1,2", `SDK boxes and mask: ${JSON.stringify(im.runs[0].images[0])}`);
    assert(im.classes.map((c) => c.name).join() === "cat,dog", `class toggles: ${JSON.stringify(im.classes)}`);
    const px = await page.evaluate(() => { const img = document.querySelector(".media-slot[data-key=examples] .media-img"); const c = document.createElement("canvas"); c.width = 16; c.height = 12; const g = c.getContext("2d"); g.drawImage(img, 0, 0); return [...g.getImageData(3, 3, 1, 1).data.slice(0, 3)]; });
    assert(px.join() === "50,100,200", `the PNG the agent encoded holds the logged pixels: ${px}`);
    const grid = (await openPanel(page, "grid", "image:grid", "p.runs[0]?.images.length === 2 && p.runs[0].images.every((i) => i.loaded)", "SDK image list")).runs[0];
    assert(grid.images.map((i) => i.caption).join() === "grid 0,grid 1", `a list of images under one key: ${JSON.stringify(grid.images)}`);
    await shot(page, "50-sdk-media-image");
    const hw = (await openPanel(page, "weights", "histogram:weights", "p.runs.length === 1", "SDK histogram")).runs[0];
    assert(hw.steps.length === 6 && hw.totals.every((t, s) => t === 55 * (s + 1)) && hw.bins.every((b) => b === 10), `SDK histogram: ${JSON.stringify(hw)}`);
    const ha = (await openPanel(page, "acts", "histogram:acts", "p.runs.length === 1", "array → histogram")).runs[0];
    assert(ha.bins.every((b) => b === 32) && ha.totals.every((t) => t === 200), `a 200-element array became a 32-bin histogram: ${JSON.stringify(ha.bins)} ${ha.totals}`);
    await shot(page, "51-sdk-media-histograms");
    const t = (await openPanel(page, "preds", "table:preds", "p.runs[0]?.total === 40", "SDK table")).runs[0];
    assert(t.columns.join() === "id,image,label,score" && t.rows[1].cells[2] === "dog", `SDK table: ${JSON.stringify(t).slice(0, 400)}`);
    await page.waitForSelector(".media-slot[data-key=preds] .mt-img[src^='blob:']");
    await page.click(".media-slot[data-key=preds] .mt-th[data-col=score]");
    await page.click(".media-slot[data-key=preds] .mt-th[data-col=score]");
    await until(page, () => window.__trackway.media["table:preds"].runs[0].rows[0]?.cells[3] === "0.975", null, 10000, "SDK table sorted by score desc");
    await shot(page, "52-sdk-media-table");
    const a = (await openPanel(page, "tone", "audio:tone", "p.runs.length === 1", "SDK audio")).runs[0];
    assert(Math.abs(a.duration - 1) < 0.01, `SDK audio: ${JSON.stringify(a)}`);
    const v = (await openPanel(page, "clip", "video:clip", "p.runs.length === 1", "SDK video")).runs[0];
    assert(v.player === "img" && v.width === 16 && v.height === 12, `SDK gif: ${JSON.stringify(v)}`);
    const hh = (await openPanel(page, "report", "html:report", "p.runs.length === 1", "SDK html")).runs[0];
    assert(hh.sandbox === "allow-scripts", `SDK html sandbox: ${JSON.stringify(hh)}`);
    const pl = (await openPanel(page, "fig", "plotly:fig", "p.runs.length === 1", "SDK plotly")).runs[0];
    assert(pl.traces === 2 && pl.drawn === 2, `SDK plotly: ${JSON.stringify(pl)}`);
    await shot(page, "53-sdk-media-players");
    const roc = (await openPanel(page, "roc", "chart:roc", "p.runs.length === 1", "SDK roc")).runs[0];
    assert(roc.kind === "line" && roc.series.length === 2, `SDK roc: ${JSON.stringify(roc).slice(0, 300)}`);
    const cm = (await openPanel(page, "cm", "chart:cm", "p.runs.length === 1", "SDK confusion")).runs[0];
    assert(cm.kind === "heatmap" && cm.cells.flat().reduce((x, y) => x + y, 0) === 8, `SDK confusion matrix: ${JSON.stringify(cm)}`);
    const line = (await openPanel(page, "curve", "chart:curve", "p.runs.length === 1", "SDK line")).runs[0];
    assert(line.kind === "line" && line.series[0].points === 10 && line.series[0].y[9] === 81, `SDK line: ${JSON.stringify(line).slice(0, 300)}`);
    const bars = (await openPanel(page, "bars", "chart:bars", "p.runs.length === 1", "SDK bars")).runs[0];
    assert(bars.kind === "bar" && bars.series[0].values.join() === "1.5,2.5", `SDK bars: ${JSON.stringify(bars)}`);
    const pr = (await openPanel(page, "pr", "chart:pr", "p.runs.length === 1", "SDK pr")).runs[0];
    assert(pr.kind === "line" && pr.x === "recall" && pr.series.map((s) => s.name).join() === "neg,pos" && pr.series[0].points === 21, `SDK pr: ${JSON.stringify(pr).slice(0, 300)}`);
    const pts = (await openPanel(page, "pts", "chart:pts", "p.runs.length === 1", "SDK scatter")).runs[0];
    assert(pts.kind === "scatter" && pts.series[0].points === 10, `SDK scatter: ${JSON.stringify(pts).slice(0, 200)}`);
    const sp = (await openPanel(page, "spread", "chart:spread", "p.runs.length === 1", "SDK histogram chart")).runs[0];
    assert(sp.kind === "histogram" && sp.counts.reduce((x, y) => x + y, 0) === 50, `SDK histogram chart: ${JSON.stringify(sp).slice(0, 200)}`);
    const ser = (await openPanel(page, "series", "chart:series", "p.runs.length === 1", "SDK line series")).runs[0];
    assert(ser.kind === "line" && ser.series.map((s) => s.name).join() === "a,b" && ser.series[1].y.join() === "2,4,6", `SDK line series: ${JSON.stringify(ser).slice(0, 300)}`);
    const cp = (await openPanel(page, "class_proportions", "chart:class_proportions", "p.runs.length === 1", "sklearn class proportions")).runs[0];
    assert(cp.kind === "bar" && cp.series.length === 2, `sklearn class proportions: ${JSON.stringify(cp)}`);
    const sm = (await openPanel(page, "summary_metrics", "chart:summary_metrics", "p.runs.length === 1", "sklearn summary metrics")).runs[0];
    assert(sm.kind === "bar" && sm.categories.length >= 3, `sklearn summary metrics: ${JSON.stringify(sm)}`);
    const skpr = (await openPanel(page, "precision_recall", "chart:precision_recall", "p.runs.length === 1", "sklearn precision-recall")).runs[0];
    assert(skpr.kind === "line" && skpr.x === "recall" && skpr.series.length === 2, `sklearn precision-recall: ${JSON.stringify(skpr).slice(0, 300)}`);
    const skc = (await openPanel(page, "confusion_matrix", "chart:confusion_matrix", "p.runs.length === 1", "sklearn confusion")).runs[0];
    assert(skc.kind === "heatmap" && skc.cells.flat().reduce((x, y) => x + y, 0) === 20, `sklearn confusion matrix over 20 test rows: ${JSON.stringify(skc)}`);
    const fi = (await openPanel(page, "feature_importances", "chart:feature_importances", "p.runs.length === 1", "sklearn importances")).runs[0];
    assert(fi.kind === "bar" && fi.categories.length === 4, `sklearn feature importances: ${JSON.stringify(fi)}`);
    await page.locator(".media-slot[data-key=feature_importances]").scrollIntoViewIfNeeded();
    await shot(page, "54-sdk-media-charts");
    const tx = (await openPanel(page, "phase", "text:phase", "p.runs.length === 1", "SDK text")).runs[0];
    assert(tx.values.map((x) => x.text).join() === "train,eval,train,eval,train,eval", `SDK text values: ${JSON.stringify(tx.values)}`);
    await page.goto("/admin/sdkmedia/runs/sm1?tab=charts");
    await until(page, () => window.__trackway.charts.loss?.x.length === 6, null, 15000, "SDK loss chart");
    const cards = await page.$$eval(".chart[data-metric]", (els) => els.map((e) => e.dataset.metric));
    assert(cards.join() === "loss", `only loss gets a line chart: ${cards}`);
  });
}
