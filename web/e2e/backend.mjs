// The server under test: the real `trackway server` (port 0, temp data dir) when the binary
// supports it, else the mock in mock/server.mjs (said loudly). Runs are written through the
// public API (POST /runs + /ingest, docs/api.md) with a real run-log byte layout, so the same
// fill works against both.

import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./lib.mjs";
import { startMock } from "../mock/server.mjs";
import { startFront } from "./front.mjs";

export function serverBinary() {
  const dirs = [process.env.CARGO_TARGET_DIR, path.join(ROOT, "target"), "/work/target"].filter(Boolean);
  for (const d of dirs) { const b = path.join(d, "release", "trackway"); if (fs.existsSync(b)) return b; }
  return null;
}

async function supportsServer(bin) {
  return new Promise((resolve) => {
    const p = spawn(bin, ["server", "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d)); p.stderr.on("data", (d) => (out += d));
    p.on("close", () => resolve(out.includes("--port") && out.includes("--data-dir")));
    p.on("error", () => resolve(false));
  });
}

export async function startBackend({ mockOpts = { runs: 0 } } = {}) {
  const want = process.env.TRACKWAY_E2E_BACKEND ?? "auto"; // auto | server | mock
  const bin = serverBinary();
  const real = want !== "mock" && bin && (await supportsServer(bin));
  if (want === "server" && !real) throw new Error(`TRACKWAY_E2E_BACKEND=server but ${bin ?? "no trackway binary"} cannot run \`server --port\``);
  if (!real) {
    const m = await startMock(mockOpts);
    const why = want === "mock" ? "TRACKWAY_E2E_BACKEND=mock" : `the trackway binary ${bin ?? "(not built)"} has no \`server --port\``;
    console.log(`# backend: MOCK server (web/mock/server.mjs) at ${m.url}: ${why}`);
    return { kind: "mock", url: m.url, pageUrl: m.url, key: m.key, stop: m.close };
  }
  return startReal(bin);
}

/** A real server; `args`/`env` add server flags and environment (e2e/oidc.mjs: SSO settings). */
export async function startReal(bin, args = [], extraEnv = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "trackway-e2e-"));
  const env = { ...process.env, TRACKWAY_CONFIG_DIR: path.join(tmp, "config"), RUST_LOG: process.env.RUST_LOG ?? "warn", ...extraEnv };
  const proc = spawn(bin, ["server", "--port", "0", "--data-dir", path.join(tmp, "data"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${log}`)), 30000);
    const on = (d) => {
      log += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(log);
      if (m) { clearTimeout(t); resolve(m[1].replace(/\/$/, "")); }
    };
    proc.stdout.on("data", on); proc.stderr.on("data", on);
    proc.on("exit", (c) => { clearTimeout(t); reject(new Error(`server exited (${c}):\n${log}`)); });
  });
  const key = readKey(path.join(tmp, "config", "credentials.json"), url);
  console.log(`# backend: real trackway server ${bin} at ${url} (data ${tmp})`);
  // pageUrl: where the browser goes. By default the current web/dist in front of the real API.
  const front = process.env.TRACKWAY_E2E_EMBEDDED === "1" ? null : await startFront(url);
  console.log(front ? `# UI: current web/dist served at ${front.url}, /api forwarded to the server` : "# UI: the one embedded in the server binary");
  return {
    kind: "server", url, pageUrl: front?.url ?? url, key, tmp, bin,
    stop: async () => { await front?.close(); proc.kill("SIGTERM"); await new Promise((r) => setTimeout(r, 300)); fs.rmSync(tmp, { recursive: true, force: true }); },
  };
}

function readKey(file, url) {
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync(file)) {
      const c = JSON.parse(fs.readFileSync(file, "utf8"));
      const hosts = c.hosts ?? {};
      const h = hosts[url] ?? hosts[c.default_host] ?? Object.values(hosts)[0];
      if (h?.api_key) return h.api_key;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  throw new Error(`no api_key in ${file}`);
}

// ---- writing runs through the API ---------------------------------------------------------

export function client(url, key) {
  return async (method, p, body) => {
    const res = await fetch(`${url}/api/v1${p}`, { method, headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  };
}

// Test data avoids integer-valued floats, so plain JSON.stringify is exact Trackway JSON here.
const encodeLine = (rec) => JSON.stringify(rec);

/** A run-log writer that talks straight to the ingest API, keeping byte positions. */
export class RunWriter {
  constructor(call, { entity = "admin", project, run_id, name, config = {}, tags = [], group = null, job_type = null }) {
    this.call = call; this.entity = entity; this.project = project; this.run_id = run_id;
    this.log_id = crypto.randomBytes(8).toString("hex"); this.pos = 0; this.pending = []; this.t0 = Date.now() / 1000;
    this.runRecord = { t: "run", v: 1, log_id: this.log_id, run_id, project, entity, name, tags, notes: null, group, job_type, mode: "online",
      resume: null, resumed: false, starting_step: 0, created_at: this.t0, host: "e2e-host", pid: process.pid, config, settings: {} };
  }
  async start() {
    const { t, v, log_id, mode, resumed, starting_step, pid, settings, ...fields } = this.runRecord;
    void t; void v; void log_id; void mode; void resumed; void starting_step; void pid; void settings;
    await this.call("POST", "/runs", { ...fields, resume: null });
    this.add(this.runRecord);
    return this.flush();
  }
  add(rec) {
    const line = encodeLine(rec);
    this.pending.push([this.pos, JSON.parse(line)]);
    this.pos += Buffer.byteLength(line) + 1;
  }
  log(step, data) {
    const now = Date.now() / 1000;
    const enc = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Number.isNaN(v) ? { $f: "NaN" } : v]));
    this.add({ t: "history", step, ts: now, rt: now - this.t0, data: enc });
  }
  summary(full) { this.add({ t: "summary", full }); }
  /** A console line, as the SDK's capture writes it (`line` counts both streams from 0). */
  output(line, stream, text) { this.add({ t: "output", stream, line, ts: Date.now() / 1000, text }); }
  finish(exit_code = 0) { const now = Date.now() / 1000; this.add({ t: "finish", exit_code, ts: now, rt: now - this.t0 }); }
  async flush() {
    if (!this.pending.length) return;
    const records = this.pending;
    const from = records[0][0];
    this.pending = [];
    return this.call("POST", "/ingest", { entity: this.entity, project: this.project, run_id: this.run_id, log_id: this.log_id, from, to: this.pos, records });
  }
}

/** The run's second log, `system.jsonl` (docs/capture.md): a stream header, then `stats` rows. */
export class SystemWriter extends RunWriter {
  constructor(run) {
    super(run.call, { entity: run.entity, project: run.project, run_id: run.run_id, name: run.runRecord.name });
    this.add({ t: "stream", v: 1, kind: "system", log_id: this.log_id, run_id: run.run_id, run_log_id: run.log_id });
  }
  stats(ts, data) { this.add({ t: "stats", ts, samples: 1, window: 10.5, data }); }
}

/** Upload a run file through `PUT .../files/{path}`. */
export async function putFile(url, key, { entity = "admin", project, run_id }, filePath, bytes) {
  const p = filePath.split("/").map(encodeURIComponent).join("/");
  const res = await fetch(`${url}/api/v1/runs/${entity}/${project}/${run_id}/files/${p}`, { method: "PUT", headers: { Authorization: `Bearer ${key}` }, body: bytes });
  const text = await res.text();
  if (!res.ok) throw new Error(`PUT ${filePath} → ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}
