// Trackway JSON (docs/run-format.md section 3): plain JSON plus three tagged forms that
// make every value round-trip. The UI's one decoder (run fields, chart columns alike), with the
// rules of the Rust one in trackway-types: malformed tags are refused, never guessed at. The
// cases in crates/trackway-types/testdata/tjson_golden.json are checked in every language.

export type Decoded =
  | null
  | boolean
  | number
  | bigint
  | string
  | Decoded[]
  | { [k: string]: Decoded };

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A tagged value that is not valid Trackway JSON (the server never stores one). */
export class TjsonError extends Error {}

/** Decode one Trackway JSON value: $f → NaN/±Infinity, $int → number or bigint, $map → map.
 *  Throws TjsonError for a malformed tag, as the Rust decoder refuses it. */
export function decode(v: unknown): Decoded {
  if (v === null || typeof v !== "object") return v as Decoded;
  if (Array.isArray(v)) return v.map(decode);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const k = keys[0];
    if (k === "$f") return decodeFloat(o.$f);
    if (k === "$int") return decodeInt(o.$int);
    if (k === "$map" && o.$map && typeof o.$map === "object" && !Array.isArray(o.$map)) return decodeMap(o.$map as object);
  }
  return decodeMap(o);
}

function decodeMap(o: object): { [k: string]: Decoded } {
  const out: { [k: string]: Decoded } = {};
  for (const [k, val] of Object.entries(o)) out[k] = decode(val);
  return out;
}

function decodeFloat(s: unknown): number {
  if (s === "NaN") return NaN;
  if (s === "Infinity") return Infinity;
  if (s === "-Infinity") return -Infinity;
  throw new TjsonError(`unknown $f value ${JSON.stringify(s)} (expected NaN, Infinity or -Infinity)`);
}

function decodeInt(s: unknown): number | bigint {
  if (typeof s !== "string" || !/^-?\d+$/.test(s)) throw new TjsonError(`$int value ${JSON.stringify(s)} is not an integer`);
  const b = BigInt(s);
  // Small enough to be exact as a double: keep it a number so arithmetic stays simple.
  return b <= SAFE && b >= -SAFE ? Number(b) : b;
}

/** A value as a chartable number, or null when it is not numeric. */
export function toNumber(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const d = decode(v);
    if (typeof d === "number" || typeof d === "bigint") return Number(d);
  }
  return null;
}

/** Display a decoded value compactly (tables, legends). */
export function formatValue(v: unknown): string {
  if (v === undefined) return "";
  if (v === null) return "null";
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const a = Math.abs(n);
  if (a !== 0 && (a < 1e-4 || a >= 1e15)) return n.toExponential(4);
  // Large non-integers (Unix timestamps, byte counts) keep every integer digit.
  if (a >= 1e5) return String(Number(n.toFixed(3)));
  return String(Number(n.toPrecision(6)));
}

/**
 * Read a dotted key from a nested map. The exact key wins (keys may contain dots themselves),
 * then the nested path.
 */
export function getPath(obj: unknown, key: string): Decoded | undefined {
  if (!obj || typeof obj !== "object") return undefined;
  const o = obj as Record<string, Decoded>;
  if (key in o) return o[key];
  const dot = key.indexOf(".");
  if (dot < 0) return undefined;
  // Try every split point so "a.b.c" finds {"a.b": {"c": 1}} as well as {"a": {"b.c": 1}}.
  for (let i = dot; i >= 0; i = key.indexOf(".", i + 1)) {
    const head = key.slice(0, i);
    if (head in o) {
      const r = getPath(o[head], key.slice(i + 1));
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

/** Flatten nested maps to dotted keys (arrays stay leaves). */
export function flatten(obj: unknown, prefix = "", out: Record<string, Decoded> = {}) {
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) return out;
  for (const [k, v] of Object.entries(obj as Record<string, Decoded>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}
