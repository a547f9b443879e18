// Image panel: one column of images per run at the slider's step, captions under them, boxes
// and masks drawn on an overlay canvas and toggled per class. One POST /media/query fetches the
// references of every run (≤ 100 evenly spaced steps each); image bytes come through the
// object-URL cache, so moving the slider back costs nothing.

import type { Run } from "../api";
import { mediaApi, mediaUrl, type RunItems } from "../mediaapi";
import { boxLabel, boxRect, classCss, colorizeMask, displayUrl, imageRefs, maskClasses, type ImageRef } from "../lib/media";
import { card, clear, errorBox, h, itemAt, refOf, runLabel, StepSlider, type Panel, type PanelCtx } from "./common";

const THUMB = 220; // px: the longer side of an image as drawn
const SMALL = 110; // … when a step holds several images, or many runs share the panel
const MAX_STEPS = 100;
const MAX_RUNS = 32; // images of more runs would not fit one card

interface Shown { run: string; step: number | null; images: { url: string; src: string; caption: string; loaded: boolean; width: number; height: number; boxes: number; masks: number[] }[] }

export function imagePanel(all: PanelCtx): Panel {
  const ctx = { ...all, runs: all.runs.slice(0, MAX_RUNS) };
  const c = card("image", ctx.key);
  let data: RunItems[] = [];
  const enabled = new Map<number, boolean>(); // class id → shown
  const names = new Map<number, string>();
  let shown: Shown[] = [];
  let seq = 0;
  let openMs = 0; // first load: query → every image of the shown step decoded
  let openedAt = 0; // … and when that was, in ms since the page's navigation started
  const slider = new StepSlider(() => draw());
  const classBar = h("div", { class: "class-toggles" });
  c.tools.append(slider.el, classBar);
  const grid = h("div", { class: "image-grid" });
  c.body.append(grid);

  const probe = () => c.probe({ runs: shown, step: slider.value(), steps: slider.steps,
    classes: [...names].map(([id, name]) => ({ id, name, on: enabled.get(id) !== false })), openMs, openedAt, drawnAt: performance.now() });

  async function load() {
    const t0 = performance.now();
    try {
      data = await mediaApi.query(ctx.runs.map(refOf), ctx.key, MAX_STEPS);
      slider.setSteps(data.map((d) => d.items.map((i) => i.step)));
      c.setStatus(all.runs.length > MAX_RUNS ? `first ${MAX_RUNS} of ${all.runs.length} runs` : "");
      await draw();
      if (!openMs) { openedAt = performance.now(); openMs = openedAt - t0; }
      probe();
    } catch (e) { c.setStatus(""); clear(grid, errorBox(e)); }
  }

  /** Lay out the images of every run at the slider's step; resolves when all are decoded. */
  async function draw() {
    const my = ++seq;
    const step = slider.value();
    const byRun = new Map(data.map((d) => [d.run_id, d]));
    const cols: HTMLElement[] = [];
    const waits: Promise<void>[] = [];
    shown = [];
    for (const run of ctx.runs) {
      const d = byRun.get(run.run_id);
      const it = d ? itemAt(d.items, step) : null;
      const refs = it ? imageRefs(it.value) : [];
      const entry: Shown = { run: run.run_id, step: it?.step ?? null, images: [] };
      shown.push(entry);
      for (const r of refs) for (const [id, n] of Object.entries(r.classes)) { names.set(Number(id), n); }
      const thumb = refs.length > 1 || ctx.runs.length > 4 ? SMALL : THUMB;
      const figs = h("div", { class: "figs" }, refs.map((r) => figure(r, entry, waits, () => my === seq, thumb)));
      cols.push(h("div", { class: "image-run" }, runLabel(run), it && it.step !== step ? h("div", { class: "muted" }, `step ${it.step}`) : null,
        d?.error ? h("div", { class: "muted" }, d.error.message) : !refs.length ? h("div", { class: "muted" }, "no image at this step") : null, figs));
    }
    clear(grid, cols);
    renderClassBar();
    probe();
    await Promise.all(waits);
    if (my === seq) probe();
  }

  function figure(r: ImageRef, entry: Shown, waits: Promise<void>[], current: () => boolean, thumb: number) {
    // Small images (MNIST) are scaled up with crisp pixels, large ones down, to one size.
    const scale = thumb / Math.max(1, r.width, r.height);
    const w = Math.max(1, Math.round((r.width || thumb) * scale)), hgt = Math.max(1, Math.round((r.height || thumb) * scale));
    const img = h("img", { class: "media-img", width: w, height: hgt, alt: r.caption });
    const overlay = h("canvas", { class: "overlay", width: w, height: hgt });
    const shownUrl = displayUrl(r, Math.max(w, hgt), window.devicePixelRatio);
    const info = { url: r.url, src: shownUrl, caption: r.caption, loaded: false, width: 0, height: 0, boxes: 0, masks: [] as number[] };
    entry.images.push(info);
    waits.push(mediaUrl(shownUrl).then((src) => new Promise<void>((resolve) => {
      if (!current()) return resolve();
      img.onload = () => { info.width = img.naturalWidth; info.height = img.naturalHeight; resolve(); };
      img.onerror = () => resolve();
      img.src = src;
    })).then(() => paintOverlay(overlay, r, info)).then(() => { info.loaded = info.width > 0; }) // decoded, boxes and masks drawn
      .catch(() => { img.alt = r.uploaded ? "could not load" : "not uploaded yet"; }));
    return h("figure", { class: "media-fig" }, h("div", { class: "img-wrap", style: { width: `${w}px`, height: `${hgt}px` } }, img, overlay),
      r.caption ? h("figcaption", null, r.caption) : null);
  }

  async function paintOverlay(cv: HTMLCanvasElement, r: ImageRef, info: Shown["images"][number]) {
    const g = cv.getContext("2d");
    if (!g) return;
    g.clearRect(0, 0, cv.width, cv.height);
    const iw = r.width || info.width, ih = r.height || info.height;
    info.masks = [];
    for (const m of r.masks) {
      const ids = await maskIds(m.url);
      if (!ids) continue;
      for (const id of maskClasses(ids.data)) { info.masks.push(id); if (!names.has(id)) names.set(id, m.classes[id] ?? `class ${id}`); }
      const rgba = colorizeMask(ids.data, (id) => id !== 0 && enabled.get(id) !== false);
      const off = new OffscreenCanvas(ids.w, ids.h);
      off.getContext("2d")!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, ids.w, ids.h), 0, 0);
      g.imageSmoothingEnabled = false;
      g.drawImage(off, 0, 0, cv.width, cv.height);
    }
    info.boxes = 0;
    g.font = "11px system-ui, sans-serif";
    for (const { box } of r.boxes) {
      if (enabled.get(box.class_id) === false) continue;
      const rect = boxRect(box, cv.width, cv.height, iw, ih);
      if (!rect) continue;
      info.boxes++;
      g.strokeStyle = classCss(box.class_id); g.lineWidth = 2;
      g.strokeRect(rect.x, rect.y, rect.w, rect.h);
      const label = boxLabel(box, r.classes);
      const tw = g.measureText(label).width + 6;
      g.fillStyle = classCss(box.class_id, 0.85);
      g.fillRect(rect.x, Math.max(0, rect.y - 14), tw, 14);
      g.fillStyle = "#fff";
      g.fillText(label, rect.x + 3, Math.max(11, rect.y - 3));
    }
  }

  function renderClassBar() {
    if (!names.size) { clear(classBar); return; }
    clear(classBar, h("span", { class: "muted" }, "Classes "), [...names].sort((a, b) => a[0] - b[0]).map(([id, name]) =>
      h("label", { class: "class-toggle" }, h("input", { type: "checkbox", checked: enabled.get(id) !== false, "data-class": String(id),
        onchange: (e: Event) => { enabled.set(id, (e.target as HTMLInputElement).checked); draw(); } }),
      h("span", { class: "swatch", style: { background: classCss(id) } }), name)));
  }

  return { el: c.el, load, destroy() { seq++; } };
}

const masks = new Map<string, Promise<{ data: Uint8Array; w: number; h: number } | null>>();

/** A mask PNG's class ids (its first channel), decoded once per URL. */
function maskIds(url: string) {
  let p = masks.get(url);
  if (!p) {
    p = mediaUrl(url).then(async (src) => {
      const bmp = await createImageBitmap(await (await fetch(src)).blob(), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
      const off = new OffscreenCanvas(bmp.width, bmp.height);
      const g = off.getContext("2d")!;
      g.drawImage(bmp, 0, 0);
      const px = g.getImageData(0, 0, bmp.width, bmp.height).data;
      const ids = new Uint8Array(bmp.width * bmp.height);
      for (let i = 0; i < ids.length; i++) ids[i] = px[i * 4];
      return { data: ids, w: bmp.width, h: bmp.height };
    }).catch(() => null);
    masks.set(url, p);
  }
  return p;
}

export type { Run };
