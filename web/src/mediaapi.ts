// Client for the media routes of docs/media-api.md (typed references, tables, histograms) and a
// cache of media bytes. Media files need the Bearer key, so they are fetched and shown through
// object URLs; the cache keeps the most recent ones so a step slider moving back and forth does
// not download the same image twice.

import { ApiError, authHeaders, call, type RunRef } from "./api";
import { decode, type Decoded } from "./lib/tjson";

export interface MediaKeyInfo { key: string; type: string; count: number; first_step: number; last_step: number }
export interface MediaItem { step: number; value: Decoded }
export interface RunItems extends RunRef { items: MediaItem[]; error: { code: string; message: string } | null }
export interface TablePage {
  key: string; step: number; columns: string[]; column_types: Record<string, string>;
  nrows: number; total: number; offset: number; rows: { index: number; cells: Decoded[] }[];
}
export interface HistogramSeries { key: string; steps: number[]; histograms: { step: number; bins: number[]; values: number[] }[]; min: number; max: number; max_count: number }
export interface TableQuery { step?: number | null; offset?: number; limit?: number; sort?: string; order?: "asc" | "desc"; filter?: Record<string, Record<string, unknown>> | null; q?: string }

const enc = encodeURIComponent;
const runPath = (r: RunRef) => `/runs/${enc(r.entity)}/${enc(r.project)}/${enc(r.run_id)}`;

export const mediaApi = {
  keys: async (r: RunRef) => (await call<{ keys?: MediaKeyInfo[] }>("GET", `${runPath(r)}/media/keys`)).keys ?? [],
  async items(r: RunRef, key: string, minStep: number | null = null, maxStep: number | null = null, limit = 10000): Promise<MediaItem[]> {
    const out: MediaItem[] = [];
    let cursor: string | null = null;
    do {
      const q = new URLSearchParams({ key, limit: String(limit) });
      if (minStep !== null) q.set("min_step", String(minStep));
      if (maxStep !== null) q.set("max_step", String(maxStep));
      if (cursor) q.set("cursor", cursor);
      const page: { items?: MediaItem[]; next_cursor?: string | null } = await call("GET", `${runPath(r)}/media?${q}`);
      for (const it of page.items ?? []) out.push({ step: it.step, value: decode(it.value) });
      cursor = page.next_cursor ?? null;
    } while (cursor);
    return out;
  },
  /** One request for many runs: at most `steps` evenly spaced steps per run. */
  async query(runs: RunRef[], key: string, steps = 100, minStep: number | null = null, maxStep: number | null = null): Promise<RunItems[]> {
    const body = { runs: runs.map(({ entity, project, run_id }) => ({ entity, project, run_id })), key, min_step: minStep, max_step: maxStep, steps };
    const r = await call<{ runs?: RunItems[] }>("POST", "/media/query", body);
    return (r.runs ?? []).map((x) => ({ ...x, items: (x.items ?? []).map((it) => ({ step: it.step, value: decode(it.value) })) }));
  },
  async table(r: RunRef, key: string, tq: TableQuery = {}): Promise<TablePage> {
    const q = new URLSearchParams({ key, offset: String(tq.offset ?? 0), limit: String(tq.limit ?? 10000) });
    if (tq.step !== undefined && tq.step !== null) q.set("step", String(tq.step));
    if (tq.sort) { q.set("sort", tq.sort); q.set("order", tq.order ?? "asc"); }
    if (tq.filter && Object.keys(tq.filter).length) q.set("filter", JSON.stringify(tq.filter));
    if (tq.q) q.set("q", tq.q);
    const page = await call<TablePage>("GET", `${runPath(r)}/tables?${q}`);
    return { ...page, rows: page.rows.map((row) => ({ index: row.index, cells: row.cells.map(decode) })) };
  },
  histograms: (r: RunRef, key: string, samples = 500) =>
    call<HistogramSeries>("GET", `${runPath(r)}/histograms?key=${enc(key)}&samples=${samples}`),
};

// ---- media bytes ---------------------------------------------------------------------------

const CACHE_MAX = 600;
const blobs = new Map<string, Promise<string>>(); // API url → object URL (insertion order = age)

/** An object URL for a media file's `url` (an /api/v1/... path), fetched once with the key. */
export function mediaUrl(url: string): Promise<string> {
  const hit = blobs.get(url);
  if (hit) { blobs.delete(url); blobs.set(url, hit); return hit; }
  const p = fetchBlob(url).then((b) => URL.createObjectURL(b));
  p.catch(() => blobs.delete(url));
  blobs.set(url, p);
  while (blobs.size > CACHE_MAX) {
    const [old, op] = blobs.entries().next().value as [string, Promise<string>];
    blobs.delete(old);
    op.then((u) => URL.revokeObjectURL(u), () => {});
  }
  return p;
}

export async function fetchBlob(url: string): Promise<Blob> {
  const res = await fetch(url, { headers: authHeaders() });
  if (!res.ok) {
    const text = await res.text().catch(() => "");
    let err: { code?: string; message?: string } = {};
    try { err = JSON.parse(text).error ?? {}; } catch { /* not JSON */ }
    throw new ApiError(res.status, err.code ?? String(res.status), err.message ?? (text.slice(0, 200) || res.statusText));
  }
  return res.blob();
}

/** A media file's text (HTML, Plotly JSON, table JSON); not cached (each is read once per view). */
export async function fetchText(url: string): Promise<string> {
  return (await fetchBlob(url)).text();
}
