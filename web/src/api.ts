// Client for docs/api.md. Every response value that may carry Trackway JSON (config, summary,
// metadata) is decoded here, once, so views only see plain JS values.

import { decode, type Decoded } from "./lib/tjson";
import { normaliseSeries, type BucketSeries } from "./lib/buckets";
import type { Filter } from "./lib/filters";
import { parsePage, type OutputPage } from "./lib/console";
import { encodeFilePath, type RunFile } from "./lib/files";

export interface Run {
  entity: string; project: string; run_id: string; name: string; state: string;
  created_at: unknown; updated_at: unknown; heartbeat_at: unknown; exit_code: number | null;
  tags: string[]; notes: string | null; group: string | null; job_type: string | null; host: string | null;
  config: Record<string, Decoded>; summary: Record<string, Decoded>; metadata: Record<string, Decoded>;
  last_step: number | null; row_count: number | null; url?: string;
  /** When a stop was requested (the Stop button, `POST …/stop`); null or absent when none. */
  stop_requested_at?: number | null;
  /** The sweep this run is a trial of (run list and run reads), null or absent when none. */
  sweep?: string | null;
  /** client-side: created_at in seconds, precomputed for sorting */
  _created: number;
}

export interface Keys { config: string[]; summary: string[]; history: string[] }
export interface Project { entity: string; name: string; run_count: number; last_run_at: unknown }
export interface RunRef { entity: string; project: string; run_id: string }

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) { super(message); }
}

const KEY = "trackway.apiKey";
export const auth = {
  get: () => localStorage.getItem(KEY) ?? "",
  set: (k: string) => localStorage.setItem(KEY, k),
  clear: () => localStorage.removeItem(KEY),
};

/** Called when the server refuses the key (revoked or expired mid-session): main.ts sends the
 *  user to sign in with the server's message. */
let onUnauthorized: (e: ApiError) => void = () => {};
export function setUnauthorizedHandler(f: (e: ApiError) => void) { onUnauthorized = f; }

export function authHeaders(): Record<string, string> {
  const key = auth.get();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** A JSON document as the server sent it, before a decoder gives it a type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the decoders below check each field
export type RawJson = any;

/** The CSRF token of a cookie session (the `tw_csrf` cookie), echoed on changes. */
function csrfToken(): string | null {
  const m = /(?:^|;\s*)tw_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : null;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers = authHeaders();
  const csrf = method !== "GET" && !headers.Authorization ? csrfToken() : null;
  if (csrf) headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: RawJson = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* non-JSON error page */ }
  if (!res.ok) {
    const err = json?.error ?? {};
    const e = new ApiError(res.status, err.code ?? String(res.status), err.message ?? (text.slice(0, 200) || res.statusText));
    if (res.status === 401) onUnauthorized(e);
    throw e;
  }
  return json as T;
}

export function decodeRun(raw: RawJson): Run {
  const obj = (v: unknown) => (v && typeof v === "object" ? (decode(v) as Record<string, Decoded>) : {});
  const created = typeof raw.created_at === "number" ? raw.created_at : Date.parse(raw.created_at) / 1000;
  return {
    ...raw, name: raw.name ?? raw.run_id, tags: Array.isArray(raw.tags) ? raw.tags : [],
    config: obj(raw.config), summary: obj(raw.summary), metadata: obj(raw.metadata), _created: created,
  };
}

const enc = encodeURIComponent;
const proj = (e: string, p: string) => `${enc(e)}/${enc(p)}`;

export const api = {
  health: () => call<{ status: string; version: string }>("GET", "/health"),
  viewer: () => call<{ username: string; entity: string; admin: boolean }>("GET", "/viewer"),
  entities: () => call<{ name: string }[]>("GET", "/entities"),
  projects: (entity: string) => call<Project[]>("GET", `/projects?entity=${enc(entity)}`),
  keys: (e: string, p: string) => call<Keys>("GET", `/projects/${proj(e, p)}/keys`),
  /** One page of the run table, filtered and sorted by the server (the only evaluator of the
   *  filter language); `order` is a column key, "-" prefixed for descending. */
  async runsPage(e: string, p: string, filter: Filter | null, cursor: string | null, limit = 1000, order = "-created_at") {
    const q = new URLSearchParams({ order, limit: String(limit) });
    if (filter) q.set("filters", JSON.stringify(filter));
    if (cursor) q.set("cursor", cursor);
    const r = await call<{ runs: RawJson[]; next_cursor: string | null; total: number }>("GET", `/projects/${proj(e, p)}/runs?${q}`);
    return { runs: r.runs.map(decodeRun), next: r.next_cursor, total: r.total };
  },
  run: async (e: string, p: string, id: string) => decodeRun(await call<RawJson>("GET", `/runs/${proj(e, p)}/${enc(id)}`)),
  patchRun: async (e: string, p: string, id: string, body: { name?: string; notes?: string; tags?: string[] }) =>
    decodeRun(await call<RawJson>("PATCH", `/runs/${proj(e, p)}/${enc(id)}`, body)),
  /** Deletes the run with its history, console and files (DELETE /runs/…). */
  deleteRun: (e: string, p: string, id: string) => call<{ deleted: string[] }>("DELETE", `/runs/${proj(e, p)}/${enc(id)}`),
  /** Moves the run to another project of the same or another entity (created if needed). */
  moveRun: async (e: string, p: string, id: string, project: string, entity?: string) =>
    decodeRun(await call<RawJson>("POST", `/runs/${proj(e, p)}/${enc(id)}/move`, entity ? { project, entity } : { project })),
  /** Asks a running run to stop: its agent (or wandb's SDK) interrupts the script; it ends `killed`. */
  stopRun: async (e: string, p: string, id: string) =>
    decodeRun(await call<RawJson>("POST", `/runs/${proj(e, p)}/${enc(id)}/stop`)),
  /** Tag, untag or delete up to 1,000 runs of a project in one request. */
  bulkRuns: (e: string, p: string, run_ids: string[], action: "tag" | "untag" | "delete", tags: string[] = []) =>
    call<{ changed: string[]; missing: string[] }>("POST", `/projects/${proj(e, p)}/runs/bulk`, { run_ids, action, tags }),
  async chart(runs: RunRef[], metric: string, x: string, xMin: number | null, xMax: number | null, buckets: number, stream?: string): Promise<BucketSeries[]> {
    const body: Record<string, unknown> = { runs, metric, x, x_min: xMin, x_max: xMax, buckets };
    if (stream) body.stream = stream;
    const r = await call<{ series: RawJson[] }>("POST", "/charts/query", body);
    return (r.series ?? []).map(normaliseSeries);
  },
  runPath: (e: string, p: string, id: string) => `/runs/${proj(e, p)}/${enc(id)}`,
  /** A run's metric keys of its history or its system series (`history/keys?stream=`). */
  runKeys: async (e: string, p: string, id: string, stream: "history" | "system") =>
    (await call<{ keys?: string[] }>("GET", `${api.runPath(e, p, id)}/history/keys?stream=${stream}`)).keys ?? [],
  /** Console lines after `after` (null: from the first), optionally only those containing q. */
  async output(e: string, p: string, id: string, after: number | null, q: string, limit = 5000): Promise<OutputPage> {
    const qs = new URLSearchParams({ limit: String(limit) });
    if (after !== null) qs.set("after_line", String(after));
    if (q) qs.set("q", q);
    return parsePage(await call<unknown>("GET", `${api.runPath(e, p, id)}/output?${qs}`));
  },
  files: async (e: string, p: string, id: string) => (await call<{ files?: RunFile[] }>("GET", `${api.runPath(e, p, id)}/files`)).files ?? [],
  /**
   * A run file's bytes as a streaming Response. The API needs the Bearer key, so images and
   * downloads go through fetch + blob URLs rather than plain links.
   */
  async file(e: string, p: string, id: string, path: string, version: number | null): Promise<Response> {
    const v = version === null ? "" : `?version=${version}`;
    const res = await fetch(`/api/v1${api.runPath(e, p, id)}/files/${encodeFilePath(path)}${v}`, { headers: authHeaders() });
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      let err: RawJson = {};
      try { err = JSON.parse(text).error ?? {}; } catch { /* not JSON */ }
      throw new ApiError(res.status, err.code ?? String(res.status), err.message ?? (text.slice(0, 200) || res.statusText));
    }
    return res;
  },
};
