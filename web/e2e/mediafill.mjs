// Media test data written through the public API, the way the SDK and agent store it
// (docs/media-api.md): files uploaded with PUT .../files/{path}, typed references in history.
// Used by the browser tests (e2e/media.mjs) and the perf script.

import crypto from "node:crypto";
import zlib from "node:zlib";
import { putFile, RunWriter } from "./backend.mjs";

const CRC = new Int32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c; });
function crc32(buf) { let c = -1; for (const b of buf) c = CRC[(c ^ b) & 255] ^ (c >>> 8); return (c ^ -1) >>> 0; }
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A PNG of w×h pixels; `px(x, y)` gives [r,g,b] (channels 3) or a grey level (channels 1). */
export function png(w, hgt, px, channels = 3) {
  const raw = Buffer.alloc((w * channels + 1) * hgt);
  for (let y = 0; y < hgt; y++) {
    raw[y * (w * channels + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const v = px(x, y), o = y * (w * channels + 1) + 1 + x * channels;
      if (channels === 1) raw[o] = v; else { raw[o] = v[0]; raw[o + 1] = v[1]; raw[o + 2] = v[2]; }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(hgt, 4); ihdr[8] = 8; ihdr[9] = channels === 1 ? 0 : 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

/** 16-bit mono PCM WAV of a sine tone. */
export function wav(seconds, rate = 8000, hz = 440) {
  const n = Math.round(seconds * rate), data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  const hd = Buffer.alloc(44);
  hd.write("RIFF", 0); hd.writeUInt32LE(36 + data.length, 4); hd.write("WAVEfmt ", 8); hd.writeUInt32LE(16, 16); hd.writeUInt16LE(1, 20); hd.writeUInt16LE(1, 22);
  hd.writeUInt32LE(rate, 24); hd.writeUInt32LE(rate * 2, 28); hd.writeUInt16LE(2, 32); hd.writeUInt16LE(16, 34); hd.write("data", 36); hd.writeUInt32LE(data.length, 40);
  return Buffer.concat([hd, data]);
}

/** A 4×3 two-frame GIF (what Video(format="gif") stores when no mp4 encoder is installed). */
export const GIF = Buffer.from("R0lGODlhBAADAIEAAP8AAAAAAAAAAAAAACH/C05FVFNDQVBFMi4wAwEAAAAh+QQAGQAAACwAAAAABAADAAAICAABCBxIUGBAACH5BAEZAAEALAAAAAAEAAMAgQAA/wAAAAAAAAAAAAgIAAEIHEhQYEAAOw==", "base64");

const hash = (b) => crypto.createHash("sha256").update(b).digest("hex");

/** Upload bytes under media/<dir>/<hash32>.<ext> and return the reference fields. */
export async function upload(backend, run, dir, ext, bytes) {
  const path = `media/${dir}/${hash(bytes).slice(0, 32)}.${ext}`;
  await putFile(backend.url, backend.key, run, path, bytes);
  return { path, sha256: hash(bytes), size: bytes.length };
}

/** A table file (wandb's table JSON) uploaded, and its `table-file` reference. */
export async function tableRef(backend, run, columns, data, column_types = {}) {
  const body = Buffer.from(JSON.stringify({ _type: "table", columns, ncols: columns.length, nrows: data.length, column_types, data }));
  const f = await upload(backend, run, "table", "table.json", body);
  return { _type: "table-file", ...f, ncols: columns.length, nrows: data.length, columns, log_mode: "IMMUTABLE" };
}

/** An image whose colour depends on (run, step): the tests can tell which one is shown. */
export const imageColor = (runIdx, step) => [(40 * runIdx + 3 * step) % 256, (7 * step) % 256, 200 - 30 * runIdx];

export { RunWriter };
