// Run-file transforms (pure, unit-tested): URL paths, what kind of preview a file gets, sizes,
// and whether fetched bytes look like text.

export interface RunFile { path: string; size: number; sha256: string; version: number; versions: number; updated_at: unknown }

export type PreviewKind = "text" | "image" | "other";

const TEXT_EXT = new Set(("txt log out err md markdown rst json jsonl ndjson yaml yml toml ini cfg conf env csv tsv py pyi ipynb sh bash zsh " +
  "r jl js mjs cjs ts tsx jsx rs go c h cc cpp hpp java kt scala rb pl lua sql xml html htm css diff patch tex bib gitignore " +
  "dockerfile makefile lock requirements").split(" "));
const IMAGE_EXT = new Set("png jpg jpeg gif webp svg bmp ico avif".split(" "));

/** The extension (lowercase, no dot) of a path's last segment; "" when it has none. */
export function extension(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const dot = name.lastIndexOf(".");
  if (dot > 0) return name.slice(dot + 1);
  return name; // "Makefile", "Dockerfile": the whole name decides
}

/** Preview by extension first, then by the served Content-Type. */
export function previewKind(path: string, contentType = ""): PreviewKind {
  const ext = extension(path);
  if (IMAGE_EXT.has(ext)) return "image";
  if (TEXT_EXT.has(ext)) return "text";
  const ct = contentType.toLowerCase();
  if (ct.startsWith("image/")) return "image";
  if (ct.startsWith("text/") || /json|xml|yaml|toml|javascript/.test(ct)) return "text";
  return "other";
}

/** Bytes that contain NUL, or too many control characters, are not shown as text. */
export function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0) return false;
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 27) odd++;
  }
  return odd <= n / 100;
}

/** A file path for the URL: each segment percent-encoded, the slashes kept. */
export function encodeFilePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1) || path;
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** Concatenate chunks into one array of at most `limit` bytes. */
export function joinChunks(chunks: Uint8Array[], limit: number): Uint8Array {
  const total = Math.min(limit, chunks.reduce((s, c) => s + c.length, 0));
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    if (at >= total) break;
    const take = Math.min(c.length, total - at);
    out.set(take === c.length ? c : c.subarray(0, take), at);
    at += take;
  }
  return out;
}

/** Decode a text prefix; a multi-byte character cut at the end is dropped, not shown as U+FFFD. */
export function decodePrefix(bytes: Uint8Array, truncated: boolean): string {
  let end = bytes.length;
  if (truncated) {
    // Back up to the start of a UTF-8 sequence that may be incomplete (at most 3 bytes back).
    for (let k = 1; k <= 3 && end - k >= 0; k++) {
      const b = bytes[end - k];
      if ((b & 0xc0) === 0x80) continue; // continuation byte
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      if (need > k) end -= k;
      break;
    }
  }
  return new TextDecoder("utf-8").decode(bytes.subarray(0, end));
}

/** The class of a unified-diff line: added, deleted, hunk header, or plain. */
export function diffLineClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---")) return "";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  if (line.startsWith("@@")) return "hunk";
  return "";
}
