// Pure logic behind the media panels: what kind of panel a logged value needs, where a box sits
// on an image, how a mask is coloured per class, which logged step a slider position shows.
// No DOM here, so all of it is unit-tested (test/media.test.ts).

export type MediaKind =
  | "image" | "histogram" | "table" | "audio" | "video" | "html" | "plotly"
  | "object3d" | "molecule" | "chart" | "text" | "number";

/** wandb's `_type` names (and Trackway's, which keep them) → the panel that shows them. */
const TYPE_KIND: Record<string, MediaKind> = {
  "image-file": "image", "images/separated": "image", "images": "image",
  "histogram": "histogram", "histogram-file": "histogram",
  "table-file": "table", "partitioned-table": "table", "incremental-table": "table", "joined-table": "table", "table": "table",
  "audio-file": "audio", "audio": "audio",
  "video-file": "video", "videos": "video", "video": "video",
  "html-file": "html", "html": "html",
  "plotly-file": "plotly", "plotly": "plotly",
  "object3D-file": "object3d", "object3D": "object3d",
  "molecule-file": "molecule", "molecule": "molecule",
  "custom-chart": "chart",
};

/** The panel kind for a key's `_type` ("string" for text keys); null when none shows it. */
export function kindOfType(t: string): MediaKind | null {
  if (t === "string") return "text";
  return TYPE_KIND[t] ?? null;
}

/** A value's `_type`, or "" for plain values. */
export function typeOf(v: unknown): string {
  return v && typeof v === "object" && !Array.isArray(v) && typeof (v as { _type?: unknown })._type === "string"
    ? (v as { _type: string })._type : "";
}

/** The logged step to show for a slider position: the last step at or below `want`. */
export function stepAt(steps: number[], want: number): number | null {
  if (!steps.length) return null;
  let lo = 0, hi = steps.length - 1;
  if (want < steps[0]) return steps[0];
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (steps[mid] <= want) lo = mid; else hi = mid - 1;
  }
  return steps[lo];
}

/** Union of the steps several runs logged a key at, ascending, no duplicates. */
export function unionSteps(lists: number[][]): number[] {
  const all = new Set<number>();
  for (const l of lists) for (const s of l) all.add(s);
  return [...all].sort((a, b) => a - b);
}

// ---- bounding boxes -------------------------------------------------------------------------

/** wandb's box position: corners or middle + size; fractions of the image unless domain is "pixel". */
export interface BoxPosition { minX?: number; maxX?: number; minY?: number; maxY?: number; middle?: [number, number]; width?: number; height?: number }
export interface Box { position: BoxPosition; class_id: number; box_caption?: string; scores?: Record<string, number>; domain?: string }
export interface Rect { x: number; y: number; w: number; h: number }

/** A box in the pixels of a `width`×`height` drawing of the image. */
export function boxRect(b: Box, width: number, height: number, imgW: number, imgH: number): Rect | null {
  const p = b.position ?? {};
  let x0: number, x1: number, y0: number, y1: number;
  if (p.middle && p.width !== undefined && p.height !== undefined) {
    x0 = p.middle[0] - p.width / 2; x1 = p.middle[0] + p.width / 2;
    y0 = p.middle[1] - p.height / 2; y1 = p.middle[1] + p.height / 2;
  } else if ([p.minX, p.maxX, p.minY, p.maxY].every((n) => typeof n === "number")) {
    x0 = p.minX!; x1 = p.maxX!; y0 = p.minY!; y1 = p.maxY!;
  } else return null;
  const sx = b.domain === "pixel" ? width / imgW : width, sy = b.domain === "pixel" ? height / imgH : height;
  if (![x0, x1, y0, y1, sx, sy].every(Number.isFinite)) return null;
  return { x: Math.min(x0, x1) * sx, y: Math.min(y0, y1) * sy, w: Math.abs(x1 - x0) * sx, h: Math.abs(y1 - y0) * sy };
}

/** The label drawn on a box: its caption, else the class name, plus any scores. */
export function boxLabel(b: Box, classes: Record<number, string>): string {
  const base = b.box_caption ?? classes[b.class_id] ?? `class ${b.class_id}`;
  const scores = b.scores ? Object.entries(b.scores).map(([k, v]) => `${k}=${Number(v).toFixed(2)}`).join(" ") : "";
  return scores ? `${base} ${scores}` : base;
}

/** `class_labels` of boxes/masks and `Classes` entries as one id → name map. */
export function classMap(...sources: unknown[]): Record<number, string> {
  const out: Record<number, string> = {};
  for (const s of sources) {
    if (Array.isArray(s)) for (const c of s) { if (c && typeof c.id === "number") out[c.id] = String(c.name ?? c.id); }
    else if (s && typeof s === "object") for (const [k, v] of Object.entries(s)) if (Number.isFinite(Number(k))) out[Number(k)] = String(v);
  }
  return out;
}

// ---- class colours and masks ------------------------------------------------------------------

const CLASS_PALETTE: [number, number, number][] = [
  [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240],
  [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [220, 190, 255], [170, 110, 40], [128, 0, 0],
];

/** A class id's colour, the same in boxes, masks and the class toggles. */
export function classColor(id: number): [number, number, number] {
  return CLASS_PALETTE[((id % CLASS_PALETTE.length) + CLASS_PALETTE.length) % CLASS_PALETTE.length];
}
export const classCss = (id: number, a = 1) => { const [r, g, b] = classColor(id); return `rgba(${r},${g},${b},${a})`; };

/**
 * Colour a class-id mask (one byte per pixel, read from the mask PNG's red channel) as RGBA:
 * enabled classes get their colour at `alpha`, everything else stays transparent.
 */
export function colorizeMask(ids: ArrayLike<number>, enabled: (id: number) => boolean, alpha = 0.45): Uint8ClampedArray {
  const out = new Uint8ClampedArray(ids.length * 4);
  const a = Math.round(alpha * 255);
  const cache = new Map<number, boolean>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    let on = cache.get(id);
    if (on === undefined) { on = enabled(id); cache.set(id, on); }
    if (!on) continue;
    const [r, g, b] = classColor(id);
    out[i * 4] = r; out[i * 4 + 1] = g; out[i * 4 + 2] = b; out[i * 4 + 3] = a;
  }
  return out;
}

/** The class ids present in a mask, ascending. */
export function maskClasses(ids: ArrayLike<number>): number[] {
  const seen = new Uint8Array(256);
  for (let i = 0; i < ids.length; i++) seen[ids[i] & 255] = 1;
  const out: number[] = [];
  for (let i = 0; i < 256; i++) if (seen[i]) out.push(i);
  return out;
}

// ---- histograms over steps -----------------------------------------------------------------

export interface HistStep { step: number; bins: number[]; values: number[] }

/**
 * Re-bin every step's histogram onto one shared grid of `rows` bins over the union range, so
 * the steps line up as columns of a heatmap. Counts are spread over the bins an input bin
 * overlaps, in proportion to the overlap (a histogram's mass is uniform inside a bin).
 */
export function histogramGrid(steps: HistStep[], rows = 64): { lo: number; hi: number; rows: number; cols: Float64Array[]; max: number } {
  let lo = Infinity, hi = -Infinity;
  for (const s of steps) if (s.bins.length >= 2) { lo = Math.min(lo, s.bins[0]); hi = Math.max(hi, s.bins[s.bins.length - 1]); }
  if (!Number.isFinite(lo)) return { lo: 0, hi: 0, rows, cols: steps.map(() => new Float64Array(rows)), max: 0 };
  if (hi === lo) hi = lo + 1;
  const w = (hi - lo) / rows;
  let max = 0;
  const cols = steps.map((s) => {
    const col = new Float64Array(rows);
    for (let i = 0; i < s.values.length && i + 1 < s.bins.length; i++) {
      const a = s.bins[i], b = s.bins[i + 1], v = s.values[i];
      if (!(v > 0)) continue;
      if (b <= a) { col[Math.min(rows - 1, Math.max(0, Math.floor((a - lo) / w)))] += v; continue; }
      const r0 = Math.max(0, Math.floor((a - lo) / w)), r1 = Math.min(rows - 1, Math.floor((b - lo) / w - 1e-9));
      for (let r = r0; r <= r1; r++) {
        const overlap = Math.min(b, lo + (r + 1) * w) - Math.max(a, lo + r * w);
        if (overlap > 0) col[r] += (v * overlap) / (b - a);
      }
    }
    for (const c of col) if (c > max) max = c;
    return col;
  });
  return { lo, hi, rows, cols, max };
}

// ---- image references -------------------------------------------------------------------------

export interface MaskRef { group: string; url: string; classes: Record<number, string> }
export interface ImageRef {
  /** `thumb`: the server's thumbnail route for the file (add `?size=`), when it offers one. */
  url: string; thumb?: string; width: number; height: number; caption: string; uploaded: boolean;
  boxes: { group: string; box: Box }[]; masks: MaskRef[]; classes: Record<number, string>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);

/** One `image-file` reference as the panel needs it (null when it has no file URL). */
export function imageRef(v: unknown, fallbackCaption = ""): ImageRef | null {
  if (!isObj(v) || typeof v.url !== "string") return null;
  const boxes: ImageRef["boxes"] = [];
  const masks: MaskRef[] = [];
  const labels: unknown[] = [];
  if (isObj(v.classes)) labels.push((v.classes as Obj).class_set);
  if (isObj(v.boxes)) for (const [group, g] of Object.entries(v.boxes)) {
    if (!isObj(g)) continue;
    labels.push(g.class_labels);
    if (Array.isArray(g.box_data)) for (const b of g.box_data) if (isObj(b)) boxes.push({ group, box: b as unknown as Box });
  }
  if (isObj(v.masks)) for (const [group, m] of Object.entries(v.masks)) {
    if (!isObj(m) || typeof m.url !== "string") continue;
    labels.push(m.class_labels);
    masks.push({ group, url: m.url, classes: classMap(m.class_labels) });
  }
  return {
    url: v.url, thumb: typeof v.thumbnail === "string" ? v.thumbnail : undefined, width: Number(v.width) || 0, height: Number(v.height) || 0,
    caption: typeof v.caption === "string" ? v.caption : fallbackCaption, uploaded: v.uploaded !== false,
    boxes, masks, classes: classMap(...labels),
  };
}

/** The images one logged value holds: an `image-file`, or each image of `images/separated`. */
export function imageRefs(v: unknown): ImageRef[] {
  if (Array.isArray(v)) return v.flatMap(imageRefs);
  const t = typeOf(v);
  if (t === "image-file") { const r = imageRef(v); return r ? [r] : []; }
  if (t !== "images/separated" && t !== "images") return [];
  const o = v as Obj;
  const captions = Array.isArray(o.captions) ? o.captions.map(String) : [];
  if (Array.isArray(o.images)) return o.images.map((im, i) => imageRef(im, captions[i] ?? "")).filter((r): r is ImageRef => r !== null);
  const urls = Array.isArray(o.urls) ? o.urls : [];
  const thumbs = Array.isArray(o.thumbnails) ? o.thumbnails : [];
  return urls.map((u, i) => imageRef({ url: u, thumbnail: thumbs[i], width: o.width, height: o.height, caption: captions[i] ?? "" }))
    .filter((r): r is ImageRef => r !== null);
}

/**
 * The URL to draw an image at `px` CSS pixels on its longer side: the server's thumbnail at the
 * device's pixel density when the file is larger than that (so a grid of many runs never pulls
 * full-size files), the file itself otherwise.
 */
export function displayUrl(r: Pick<ImageRef, "url" | "thumb" | "width" | "height">, px: number, dpr = 1): string {
  const need = Math.ceil(px * Math.max(1, dpr));
  const known = Math.max(r.width, r.height);
  if (!r.thumb || (known > 0 && known <= need)) return r.url;
  return `${r.thumb}?size=${Math.min(1024, need)}`;
}

/**
 * The media keys a set of runs hold, read from their summaries (which keep each key's latest
 * value): key → `_type`, or "string" for text. Numeric keys are not listed. Typed values are
 * leaves; plain nested maps are walked with dotted keys.
 */
export function mediaKeysOf(summaries: Record<string, unknown>[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (o: Obj, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (k.startsWith("_")) continue;
      const key = prefix ? `${prefix}.${k}` : k;
      const t = typeOf(v);
      if (t) { if (!out.has(key)) out.set(key, t); }
      else if (typeof v === "string") { if (!out.has(key)) out.set(key, "string"); }
      else if (Array.isArray(v) && v.length && typeOf(v[0])) { if (!out.has(key)) out.set(key, typeOf(v[0])); }
      else if (isObj(v)) walk(v, key);
    }
  };
  for (const s of summaries) if (isObj(s)) walk(s, "");
  return out;
}

/** Keys to show as panels: a custom chart's data table (`table_key`) is drawn by the chart. */
export function panelKeys(keys: Map<string, string>, tableKeyOf: (key: string) => string | null = () => null): [string, string][] {
  const hidden = new Set<string>();
  for (const [k, t] of keys) if (t === "custom-chart") hidden.add(tableKeyOf(k) ?? `${k}_table`);
  return [...keys].filter(([k]) => !hidden.has(k));
}
