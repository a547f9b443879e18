// A small stand-in for `trackway server`, shaped exactly like docs/api.md, for UI development
// and the 100,000-run table perf check. History is procedural (no storage): every value is a
// pure function of (run, metric, step), and /charts/query buckets it the way the API says
// (min/max/last/mean/count per bucket; raw points and exact:true when few enough).
//
//   node mock/server.mjs [--port 8790] [--runs 40] [--metrics 12] [--steps 2000] [--live 1]

import crypto from "node:crypto";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mediaQuery, mediaRoute } from "./media.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const MOCK_KEY = "mock-key-0123456789";

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => ((s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5 >>> 0) / 4294967296);
}

export function makeRuns({ runs = 40, metrics = 12, steps = 2000, live = 1, entity = "admin", project = "demo" }) {
  const r = rng(42);
  const now = Date.now() / 1000;
  const opts = ["adam", "sgd", "adamw"];
  const names = [];
  const list = [];
  for (let i = 0; i < runs; i++) {
    const lr = [0.1, 0.03, 0.01, 0.003, 0.001][i % 5];
    const isLive = i < live;
    const created = now - (runs - i) * 60 - (isLive ? 30 : 3600);
    const name = `run-${String(i).padStart(Math.max(3, String(runs).length), "0")}`;
    names.push(name);
    list.push({
      entity, project, run_id: `r${i.toString(36).padStart(5, "0")}`, name,
      state: isLive ? "running" : i % 17 === 5 ? "crashed" : "finished",
      created_at: new Date(created * 1000).toISOString(), updated_at: new Date((created + 600) * 1000).toISOString(),
      heartbeat_at: new Date((isLive ? now : created + 600) * 1000).toISOString(), exit_code: isLive ? null : 0,
      tags: i % 3 === 0 ? ["baseline"] : ["sweep"], notes: null, group: `g${i % 4}`, job_type: "train", host: "mockbox",
      config: { lr, batch_size: [32, 64, 128][i % 3], optimizer: opts[i % 3], model: { layers: 2 + (i % 4), act: "relu" }, seed: i,
        big: { $int: "18446744073709551615" } },
      summary: {}, metadata: { command: "python train.py --lr " + lr, python: "3.12.3", git: { commit: "abc1234", remote: "https://example.invalid/repo.git" } },
      last_step: steps - 1, row_count: steps, _i: i, _created: created, _live: isLive, _seed: r(),
    });
  }
  const metricNames = ["loss", "acc"];
  for (let m = 0; metricNames.length < metrics; m++) metricNames.push(`${m % 2 ? "eval" : "train"}/m${m}`);
  for (const run of list) {
    run.summary = { loss: value(run, "loss", steps - 1), acc: value(run, "acc", steps - 1), best_acc: value(run, "acc", steps - 1) + 0.01,
      nan_metric: { $f: "NaN" } };
  }
  return { list, metricNames, steps };
}

function value(run, metric, step) {
  const lr = run.config.lr;
  const k = metric.length * 0.37 + run._seed;
  const noise = Math.sin(step * 12.9898 + k * 78.233) * 0.05;
  const base = Math.exp(-step * lr / 50) * (1 + run._seed);
  if (metric === "acc" || metric.endsWith("acc")) return 1 - base / 2 + noise / 2;
  return base + noise + k * 0.01;
}

function stepsOf(run, state) {
  if (!run._live) return state.steps;
  return Math.min(state.steps, 50 + Math.floor((Date.now() / 1000 - state.t0) * 20));
}

function xOf(run, x, step) {
  if (x === "_runtime") return step * 0.5;
  if (x === "_timestamp") return run._created + step * 0.5;
  return step;
}

/** Bucket one run's metric over [xMin, xMax] into at most `buckets` cells (sampled inside big cells). */
function query(run, metric, x, xMin, xMax, buckets, state) {
  const n = stepsOf(run, state);
  const lo = Math.max(0, xMin == null ? 0 : Math.ceil(x === "_step" ? xMin : xMin / 0.5 - (x === "_timestamp" ? run._created / 0.5 : 0)));
  const hiRaw = xMax == null ? n - 1 : Math.floor(x === "_step" ? xMax : xMax / 0.5 - (x === "_timestamp" ? run._created / 0.5 : 0));
  const hi = Math.min(n - 1, hiRaw);
  const out = { run_id: run.run_id, x: [], min: [], max: [], last: [], mean: [], count: [], exact: false };
  if (hi < lo) return { ...out, exact: true };
  const total = hi - lo + 1;
  if (total <= buckets) {
    for (let s = lo; s <= hi; s++) { const v = value(run, metric, s); out.x.push(xOf(run, x, s)); out.min.push(v); out.max.push(v); out.last.push(v); out.mean.push(v); out.count.push(1); }
    out.exact = true;
    return out;
  }
  const width = total / buckets;
  for (let b = 0; b < buckets; b++) {
    const s0 = lo + Math.floor(b * width), s1 = Math.min(hi, lo + Math.floor((b + 1) * width) - 1);
    if (s1 < s0) continue;
    const stride = Math.max(1, Math.floor((s1 - s0 + 1) / 16));
    let mn = Infinity, mx = -Infinity, sum = 0, c = 0;
    for (let s = s0; s <= s1; s += stride) { const v = value(run, metric, s); mn = Math.min(mn, v); mx = Math.max(mx, v); sum += v; c++; }
    const last = value(run, metric, s1);
    out.x.push(xOf(run, x, s1)); out.min.push(Math.min(mn, last)); out.max.push(Math.max(mx, last)); out.last.push(last); out.mean.push(sum / c); out.count.push(s1 - s0 + 1);
  }
  return out;
}

// ---- stored runs (filled through POST /runs and /ingest, exactly like the real server) ----

function createRun(state, body) {
  const id = body.run_id;
  let r = state.byId.get(id);
  if (r && body.resume === "never") return { conflict: true };
  if (!r) {
    const now = Date.now() / 1000;
    r = { entity: body.entity ?? "admin", project: body.project ?? "uncategorized", run_id: id, name: body.name ?? id, state: "running",
      created_at: new Date((body.created_at ?? now) * 1000).toISOString(), updated_at: new Date(now * 1000).toISOString(),
      heartbeat_at: new Date(now * 1000).toISOString(), exit_code: null, tags: body.tags ?? [], notes: body.notes ?? null,
      group: body.group ?? null, job_type: body.job_type ?? null, host: body.host ?? null, config: body.config ?? {}, summary: {},
      metadata: {}, last_step: null, row_count: 0, _created: body.created_at ?? now, _stored: true, _rows: [], _marks: {}, _explicitSummary: false, _output: [], _sys: [], _files: new Map() };
    state.list.push(r); state.byId.set(id, r); state.sorted = null;
    return { run: r, resumed: false };
  }
  return { run: r, resumed: true };
}

function applyRecord(r, rec) {
  const now = new Date().toISOString();
  r.updated_at = now; r.heartbeat_at = now;
  switch (rec.t) {
    case "run": for (const k of ["name", "tags", "notes", "group", "job_type", "host"]) if (rec[k] != null) r[k] = rec[k]; Object.assign(r.config, rec.config ?? {}); break;
    case "config": Object.assign(r.config, rec.data ?? {}); for (const k of rec.remove ?? []) delete r.config[k]; break;
    case "history": {
      const last = r._rows.at(-1);
      const row = last && last._step === rec.step ? last : { _step: rec.step };
      if (row !== last) r._rows.push(row);
      Object.assign(row, rec.data, { _timestamp: rec.ts, _runtime: rec.rt });
      r.last_step = rec.step; r.row_count = r._rows.length;
      if (!r._explicitSummary) for (const [k, v] of Object.entries(rec.data)) r.summary[k] = v;
      break;
    }
    case "summary": r._explicitSummary = true; if (rec.full) r.summary = rec.full; Object.assign(r.summary, rec.set ?? {}); break;
    case "meta": for (const k of ["name", "tags", "notes"]) if (k in rec) r[k] = rec[k]; break;
    case "output": r._output.push({ line: r._output.length, stream: rec.stream, text: rec.text, ts: rec.ts ?? null }); break;
    case "stats": r._sys.push({ _step: Math.round(rec.ts * 1000), _timestamp: rec.ts, _runtime: rec.ts - r._created, ...rec.data }); break;
    case "finish": r.state = rec.crashed ? "crashed" : rec.exit_code === 0 || rec.exit_code == null ? "finished" : "failed"; r.exit_code = rec.exit_code ?? null; break;
  }
}

const asNum = (v) => (typeof v === "number" ? v : v && typeof v === "object" && "$f" in v ? (v.$f === "NaN" ? NaN : v.$f.startsWith("-") ? -Infinity : Infinity) : null);

function queryStored(r, metric, x, xMin, xMax, buckets) {
  const pts = [];
  for (const row of r._rows) {
    const y = asNum(row[metric]), xv = asNum(row[x]);
    if (y === null || xv === null || !Number.isFinite(xv)) continue;
    if ((xMin != null && xv < xMin) || (xMax != null && xv > xMax)) continue;
    pts.push([xv, y]);
  }
  const out = { run_id: r.run_id, x: [], min: [], max: [], last: [], mean: [], count: [], exact: pts.length <= buckets };
  const enc = (v) => (Number.isFinite(v) ? v : { $f: Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity" });
  if (out.exact) {
    for (const [xv, y] of pts) { out.x.push(xv); for (const k of ["min", "max", "last", "mean"]) out[k].push(enc(y)); out.count.push(1); }
    return out;
  }
  const lo = pts[0][0], hi = pts.at(-1)[0], w = (hi - lo) / buckets || 1;
  let cur = -1, b = null;
  const flush = () => { if (b) { out.x.push(b.x); out.min.push(enc(b.mn)); out.max.push(enc(b.mx)); out.last.push(enc(b.last)); out.mean.push(enc(b.sum / b.c)); out.count.push(b.c); } };
  for (const [xv, y] of pts) {
    const c = Math.min(buckets - 1, Math.floor((xv - lo) / w));
    if (c !== cur) { flush(); cur = c; b = { x: xv, mn: y, mx: y, last: y, sum: 0, c: 0 }; }
    b.x = xv; b.mn = Math.min(b.mn, y); b.mx = Math.max(b.mx, y); b.last = y; b.sum += y; b.c++;
  }
  flush();
  return out;
}

/** Console lines, run files and system keys of a stored run (docs/api.md shapes). */
function runExtras(r, what, filePath, req, url, rawBody, res, json, err) {
  if (what === "output") {
    const after = url.searchParams.has("after_line") ? Number(url.searchParams.get("after_line")) : -1;
    const limit = Math.min(10000, Number(url.searchParams.get("limit") ?? 1000));
    const q = (url.searchParams.get("q") ?? "").toLowerCase();
    const lines = r._output.filter((l) => l.line > after && (!q || l.text.toLowerCase().includes(q))).slice(0, limit);
    return json(res, 200, { lines, after_line: lines.length ? lines.at(-1).line : after >= 0 ? after : null, more: lines.length === limit });
  }
  if (what === "history/keys") {
    const rows = url.searchParams.get("stream") === "system" ? r._sys : r._rows;
    return json(res, 200, { keys: [...new Set(rows.flatMap((row) => Object.keys(row)))].filter((k) => !k.startsWith("_")) });
  }
  if (!filePath) {
    const files = [...r._files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, vs]) => {
      const f = vs.at(-1);
      return { path, size: f.bytes.length, sha256: f.sha256, version: vs.length, versions: vs.length, updated_at: f.created_at };
    });
    return json(res, 200, { files });
  }
  const versions = r._files.get(filePath) ?? [];
  if (req.method === "PUT") {
    const sha256 = crypto.createHash("sha256").update(rawBody).digest("hex");
    const last = versions.at(-1);
    if (last?.sha256 !== sha256) versions.push({ bytes: rawBody, sha256, created_at: new Date().toISOString() });
    r._files.set(filePath, versions);
    return json(res, 200, { path: filePath, sha256, size: rawBody.length, version: versions.length, created: last?.sha256 !== sha256, created_at: versions.at(-1).created_at });
  }
  const v = url.searchParams.get("version");
  const f = v ? versions[Number(v) - 1] : versions.at(-1);
  if (!f) return err(res, 404, "not_found", "no such file");
  res.writeHead(200, { "content-type": FILE_TYPES[path.extname(filePath).toLowerCase()] ?? "application/octet-stream", "content-length": f.bytes.length, etag: `"${f.sha256}"` });
  res.end(f.bytes);
}
const FILE_TYPES = { ".txt": "text/plain", ".log": "text/plain", ".json": "application/json", ".png": "image/png", ".jpg": "image/jpeg", ".svg": "image/svg+xml",
  ".gif": "image/gif", ".wav": "audio/wav", ".mp4": "video/mp4", ".html": "text/html" };

const publicRun = (r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("_")));

export function startMock(opts = {}) {
  const state = { ...makeRuns(opts), t0: Date.now() / 1000 };
  const dist = opts.dist ?? path.join(here, "..", "dist");
  const byId = (state.byId = new Map(state.list.map((r) => [r.run_id, r])));
  const json = (res, code, body) => { const s = JSON.stringify(body); res.writeHead(code, { "content-type": "application/json" }); res.end(s); };
  const err = (res, code, c, m) => json(res, code, { error: { code: c, message: m } });
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    const p = url.pathname;
    if (!p.startsWith("/api/")) return serveStatic(dist, p, res);
    if (p === "/api/v1/health") return json(res, 200, { status: "ok", version: "mock" });
    if (req.headers.authorization !== `Bearer ${MOCK_KEY}`) return err(res, 401, "unauthorized", "missing or wrong API key");
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const rawBody = Buffer.concat(chunks);
    const body = rawBody.toString("utf8");
    const m = (re) => re.exec(p);
    let mm;
    if (p === "/api/v1/viewer") return json(res, 200, { username: "admin", entity: "admin", admin: true });
    if (p === "/api/v1/entities") return json(res, 200, [{ name: "admin" }]);
    if (p === "/api/v1/projects") {
      const by = new Map();
      for (const r of state.list) { const e = by.get(r.project) ?? { entity: r.entity, name: r.project, run_count: 0, last_run_at: null }; e.run_count++; e.last_run_at = r.created_at; by.set(r.project, e); }
      return json(res, 200, [...by.values()]);
    }
    if (p === "/api/v1/runs" && req.method === "POST") {
      const out = createRun(state, JSON.parse(body));
      if (out.conflict) return err(res, 409, "run_exists", "run exists");
      return json(res, 200, { run: publicRun(out.run), resumed: out.resumed, last_step: out.run.last_step });
    }
    if (p === "/api/v1/ingest" && req.method === "POST") {
      const b = JSON.parse(body);
      const r = byId.get(b.run_id);
      if (!r) return err(res, 404, "run_not_found", "no such run");
      const mark = r._marks[b.log_id] ?? 0;
      if (b.from > mark) return json(res, 409, { error: { code: "offset_gap", message: "gap" }, expected: mark });
      for (const [pos, rec] of b.records) if (pos >= mark) applyRecord(r, rec);
      r._marks[b.log_id] = Math.max(mark, b.to);
      return json(res, 200, { acked: b.to });
    }
    if ((mm = m(/^\/api\/v1\/projects\/([^/]+)\/([^/]+)\/keys$/)) && state.list.some((r) => r._stored)) {
      const keys = { config: new Set(), summary: new Set(), history: new Set() };
      for (const r of state.list.filter((x) => x.project === decodeURIComponent(mm[2]))) {
        Object.keys(r.config).forEach((k) => keys.config.add(k)); Object.keys(r.summary).forEach((k) => keys.summary.add(k));
        for (const row of r._rows ?? []) Object.keys(row).forEach((k) => keys.history.add(k));
      }
      return json(res, 200, { config: [...keys.config], summary: [...keys.summary], history: [...keys.history] });
    }
    if ((mm = m(/^\/api\/v1\/projects\/([^/]+)\/([^/]+)\/keys$/))) {
      return json(res, 200, { config: ["lr", "batch_size", "optimizer", "model.layers", "model.act", "seed", "big"], summary: ["loss", "acc", "best_acc", "nan_metric"],
        history: ["_step", "_runtime", "_timestamp", ...state.metricNames] });
    }
    if ((mm = m(/^\/api\/v1\/projects\/([^/]+)\/([^/]+)\/runs$/))) {
      const limit = Math.min(Number(url.searchParams.get("limit") ?? 50), 5000);
      const start = Number(url.searchParams.get("cursor") ?? 0);
      const proj = decodeURIComponent(mm[2]);
      const sorted = (state.sorted ??= state.list.slice().sort((a, b) => b._created - a._created)).filter((r) => r.project === proj);
      const page = sorted.slice(start, start + limit).map((r) => r._stored ? publicRun(r) : publicRun({ ...r, state: r._live && stepsOf(r, state) >= state.steps ? "finished" : r.state, last_step: stepsOf(r, state) - 1 }));
      return json(res, 200, { runs: page, next_cursor: start + limit < sorted.length ? String(start + limit) : null, total: sorted.length });
    }
    if ((mm = m(/^\/api\/v1\/runs\/([^/]+)\/([^/]+)\/([^/]+)$/))) {
      const r = byId.get(decodeURIComponent(mm[3]));
      if (!r) return err(res, 404, "run_not_found", "no such run");
      if (req.method === "PATCH") { const b = JSON.parse(body || "{}"); for (const k of ["name", "notes", "tags"]) if (k in b) r[k] = b[k]; }
      return json(res, 200, publicRun(r._stored ? r : { ...r, last_step: stepsOf(r, state) - 1 }));
    }
    if (p === "/api/v1/charts/query" && req.method === "POST") {
      const q = JSON.parse(body);
      const series = (q.runs ?? []).map((ref) => byId.get(ref.run_id)).filter(Boolean)
        .map((r) => r._stored ? queryStored(q.stream === "system" ? { ...r, _rows: r._sys } : r, q.metric, q.x ?? "_step", q.x_min, q.x_max, Math.max(1, q.buckets ?? 1000)) : query(r, q.metric, q.x ?? "_step", q.x_min, q.x_max, Math.max(1, q.buckets ?? 1000), state));
      return json(res, 200, { series });
    }
    if (p === "/api/v1/media/query" && req.method === "POST") return mediaQuery(byId, JSON.parse(body), (c, b) => json(res, c, b));
    if ((mm = m(/^\/api\/v1\/runs\/([^/]+)\/([^/]+)\/([^/]+)\/(media\/keys|media|tables|histograms|history)$/))) {
      const r = byId.get(decodeURIComponent(mm[3]));
      if (!r || !r._stored) return err(res, 404, "run_not_found", "no such run");
      return mediaRoute(r, mm[4], url, (c, b) => json(res, c, b), (c, code, msg) => err(res, c, code, msg));
    }
    if ((mm = m(/^\/api\/v1\/runs\/([^/]+)\/([^/]+)\/([^/]+)\/(output|files|history\/keys)(?:\/(.+))?$/))) {
      const r = byId.get(decodeURIComponent(mm[3]));
      if (!r || !r._stored) return err(res, 404, "run_not_found", "no such run");
      return runExtras(r, mm[4], mm[5] ? decodeURIComponent(mm[5]) : null, req, url, rawBody, res, json, err);
    }
    return err(res, 404, "not_found", `no route ${req.method} ${p}`);
  });
  return new Promise((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", () => {
    const url = `http://127.0.0.1:${server.address().port}`;
    resolve({ url, key: MOCK_KEY, state, close: () => new Promise((r) => server.close(r)) });
  }));
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };
function serveStatic(dist, p, res) {
  let file = path.join(dist, path.normalize(p).replace(/^(\.\.[/\\])+/, ""));
  if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(dist, "index.html");
  if (!fs.existsSync(file)) { res.writeHead(404); return res.end("web/dist is empty: run npm run build"); }
  res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? Number(process.argv[i + 1]) : d; };
  startMock({ port: arg("port", 8790), runs: arg("runs", 40), metrics: arg("metrics", 12), steps: arg("steps", 2000), live: arg("live", 1) })
    .then((m) => console.log(`mock trackway server listening on ${m.url} (API key ${m.key})`));
}
