// Logs a run to Trackway from Node.js with nothing but the standard library, by appending
// records to a run log as docs/run-format.md describes. CI runs it (python/tests/test_foreign_writer.py).
//
//   node examples/node/log.mjs <root> [run_id]
//
// <root> is a run root (e.g. ./trackway); `trackway sync <root>` or a running agent uploads it.
// Prints the new run directory.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";

// ---- Trackway JSON (docs/run-format.md section 3) ----------------------------------------
// JSON.stringify writes 1.0 as `1`, which would read back as an integer, so floats are marked
// with `float()` and the encoder writes them with a `.` or an exponent.
class Float { constructor(v) { this.v = v; } }
export const float = (v) => new Float(v);

const TAGS = new Set(["$f", "$int", "$map"]);
const I64_MIN = -(2n ** 63n), U64_MAX = 2n ** 64n - 1n;

export function encode(v) {
  if (v instanceof Float) {
    if (Number.isNaN(v.v)) return '{"$f":"NaN"}';
    if (v.v === Infinity) return '{"$f":"Infinity"}';
    if (v.v === -Infinity) return '{"$f":"-Infinity"}';
    if (Object.is(v.v, -0)) return "-0.0";
    const s = String(v.v);
    return /[.eE]/.test(s) ? s : s + ".0";
  }
  if (typeof v === "bigint") {
    return v >= I64_MIN && v <= U64_MAX ? v.toString() : `{"$int":"${v.toString()}"}`;
  }
  if (typeof v === "number") {
    if (!Number.isInteger(v)) return encode(float(v)); // 0.5 is a float however it was written
    return String(v);
  }
  if (v === null || typeof v === "string" || typeof v === "boolean") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(encode).join(",") + "]";
  const keys = Object.keys(v);
  const body = "{" + keys.map((k) => JSON.stringify(k) + ":" + encode(v[k])).join(",") + "}";
  // A user map that looks like a tag is escaped.
  return keys.length === 1 && TAGS.has(keys[0]) ? `{"$map":${body}}` : body;
}

// Record fields are written as plain JSON objects whose values are Trackway JSON.
function record(fields) {
  return "{" + Object.entries(fields).map(([k, v]) => JSON.stringify(k) + ":" + encode(v)).join(",") + "}";
}

// A map of user values: keys as given, values in Trackway JSON, never escaped at the top.
function data(obj) {
  return "{" + Object.entries(obj).map(([k, v]) => JSON.stringify(k) + ":" + encode(v)).join(",") + "}";
}

// ---- the run directory and the log --------------------------------------------------------
function stamp(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export class RunLog {
  constructor(root, runId) {
    this.runId = runId;
    this.dir = path.join(root, `run-${stamp(new Date())}-${runId}`);
    fs.mkdirSync(path.join(this.dir, "files"), { recursive: true });
    // O_APPEND; every record goes out with one write(2).
    this.fd = fs.openSync(path.join(this.dir, "run.jsonl"), "a");
    this.t0 = performance.now();
  }
  append(line) { fs.writeSync(this.fd, line + "\n"); }
  now() { return { ts: float(Date.now() / 1000), rt: float((performance.now() - this.t0) / 1000) }; }

  start(fields) {
    this.append(record({
      t: "run", v: 1, log_id: crypto.randomBytes(8).toString("hex"), run_id: this.runId,
      created_at: float(Date.now() / 1000), host: os.hostname(), pid: process.pid, ...fields,
    }));
  }
  config(obj) { this.append(`{"t":"config","data":${data(obj)}}`); }
  history(step, obj) {
    const { ts, rt } = this.now();
    this.append(`{"t":"history","step":${step},"ts":${encode(ts)},"rt":${encode(rt)},"data":${data(obj)}}`);
  }
  summary(obj) { this.append(`{"t":"summary","full":${data(obj)}}`); }
  // An image as raw 8-bit pixels (row-major, channels interleaved): the agent encodes the PNG
  // and uploads it (docs/run-format.md, `media`). Returns the reference to log in a history row.
  image(pixels, width, height, channels) {
    const rel = `media/images/${crypto.createHash("sha256").update(pixels).digest("hex").slice(0, 32)}.png`;
    fs.mkdirSync(path.join(this.dir, "files", "media", "images"), { recursive: true });
    fs.writeFileSync(path.join(this.dir, "files", rel + ".raw"), pixels);
    this.append(record({ t: "media", path: rel, encode: { format: "png", width, height, channels, src: rel + ".raw" } }));
    return { _type: "image-file", path: rel, format: "png", width, height };
  }
  finish(exitCode) {
    const { ts, rt } = this.now();
    this.append(record({ t: "finish", exit_code: exitCode, ts, rt }));
    fs.closeSync(this.fd);
  }
}

// ---- a small "training" run ---------------------------------------------------------------
function main() {
  const [root, runId = "node" + crypto.randomBytes(3).toString("hex")] = process.argv.slice(2);
  if (!root) {
    console.error("usage: node log.mjs <root> [run_id]");
    process.exit(2);
  }
  const run = new RunLog(root, runId);
  run.start({ project: "node-example", name: "from-node", tags: ["node", "stdlib"], mode: "offline" });
  run.config({ lr: float(0.001), layers: 4, optimizer: "adam", schedule: { warmup: float(1), steps: [100, 200] } });
  run.history(0, { loss: float(1), acc: float(0.25) });
  run.history(1, { loss: float(NaN), acc: float(0.5) });
  run.history(1, { "eval/loss": float(0.75) }); // same step: part of row 1
  const pixels = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]); // 2x2 RGB
  run.history(2, { loss: float(0.125), big: 2n ** 70n, inf: float(-Infinity), tag: { $f: "not a float" },
                   sample: run.image(pixels, 2, 2, 3) });
  run.summary({ loss: float(0.125), acc: float(0.5), "eval/loss": float(0.75), best: float(NaN), big: 2n ** 70n });
  run.finish(0);
  console.log(run.dir);
}

main();
