// Axis tick labels for any magnitude (1e-12 … 1e12 and beyond), negative values and log
// scales, and the units of system metrics. One rule for every chart: labels of one axis are
// formatted together so they stay distinct (0.0025 and 0.0075 never both read `0.003`), and a
// non-zero value is never printed as `0`.

const SI: [number, string][] = [
  [1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"], [1, ""], [1e-3, "m"], [1e-6, "µ"], [1e-9, "n"], [1e-12, "p"],
];

/** The SI prefix for a magnitude, or null outside p … T (scientific notation then). */
function prefixFor(mag: number): [number, string] | null {
  if (mag >= 1e15 || mag < 1e-12) return null;
  for (const p of SI) if (mag >= p[0]) return p;
  return SI[SI.length - 1];
}

const trim = (s: string) => (s.includes(".") && !s.includes("e") ? s.replace(/\.?0+$/, "") : s);

/** One value on its own with `sig` significant digits: SI prefix, scientific beyond p … T. */
export function formatTick(v: number, sig = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e4) return trim(v.toPrecision(sig));
  const p = prefixFor(a);
  if (!p) return trim(v.toExponential(sig - 1)).replace(/\.?0+e/, "e");
  return `${trim((v / p[0]).toPrecision(sig))}${p[1]}`;
}

/**
 * Labels for the ticks of a linear axis, spaced `step` apart: one scale for the whole axis (the
 * prefix of its largest tick), with just enough decimals for neighbouring ticks to differ.
 */
export function formatTicks(ticks: number[], step?: number): string[] {
  const finite = ticks.filter(Number.isFinite);
  if (!finite.length) return ticks.map(String);
  const mag = Math.max(...finite.map(Math.abs));
  if (mag === 0) return ticks.map(() => "0");
  const inc = step && step > 0 ? step : spacing(finite) || mag;
  const p = mag >= 1e-3 && mag < 1e4 ? ([1, ""] as [number, string]) : prefixFor(mag);
  if (!p) return ticks.map((v) => formatTick(v, sigFor(v, inc)));
  for (let dec = Math.max(0, -Math.floor(Math.log10(inc / p[0]) + 1e-9)); dec <= 12; dec++) {
    // Enough decimals that every label reads back as its tick (within a thousandth of a step).
    const exact = ticks.every((v) => !Number.isFinite(v) || Math.abs(Number(fixed(v / p[0], dec)) * p[0] - v) <= inc * 1e-3);
    if (!exact) continue;
    const out = ticks.map((v) => (v === 0 ? "0" : `${fixed(v / p[0], dec)}${p[1]}`));
    if (distinct(out, ticks)) return out;
  }
  return ticks.map((v) => formatTick(v, 6));
}

function fixed(v: number, dec: number): string {
  const s = v.toFixed(dec);
  return s === "-0" || /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

function spacing(ticks: number[]): number {
  let d = Infinity;
  for (let i = 1; i < ticks.length; i++) { const g = Math.abs(ticks[i] - ticks[i - 1]); if (g > 0 && g < d) d = g; }
  return Number.isFinite(d) ? d : 0;
}

function sigFor(v: number, inc: number): number {
  if (v === 0) return 1;
  return Math.min(15, Math.max(1, Math.floor(Math.log10(Math.abs(v))) - Math.floor(Math.log10(inc)) + 1));
}

function distinct(labels: string[], ticks: number[]): boolean {
  const seen = new Map<string, number>();
  for (let i = 0; i < labels.length; i++) {
    const prev = seen.get(labels[i]);
    if (prev !== undefined && prev !== ticks[i]) return false;
    seen.set(labels[i], ticks[i]);
  }
  return true;
}

/**
 * Ticks of a log axis: the powers of ten from the decade at or below `min` to the one at or
 * above `max` (every k-th decade when there are more than `n`), so the axis ends on round values.
 */
export function logTicks(min: number, max: number, n = 8): number[] {
  if (!(min > 0) || !(max > 0)) return [];
  const lo = Math.floor(Math.log10(min) + 1e-9), hi = Math.max(lo + 1, Math.ceil(Math.log10(max) - 1e-9));
  const k = Math.max(1, Math.ceil((hi - lo) / n));
  const out: number[] = [];
  for (let e = lo; e <= hi; e += k) out.push(Number(`1e${e}`));
  if (out[out.length - 1] < Number(`1e${hi}`)) out.push(Number(`1e${hi}`));
  return out;
}

// ---- units -------------------------------------------------------------------------------

export interface Unit { suffix: string; /** value × scale = bytes, for byte units shown in KiB … TiB */ bytes?: number }

/** The unit of a system metric (the sampler's key names, crates/trackway-sysmon), or null. */
export function unitOf(key: string): Unit | null {
  if (!key.startsWith("system/")) return null;
  const k = key.slice(7);
  if (/percent|Percent$|^cpu$|^gpu\.\d+\.(gpu|memory|memoryAllocated)$/.test(k)) return { suffix: "%" };
  if (/Bytes$|^network\.(sent|recv)$/.test(k)) return { suffix: "B", bytes: 1 };
  if (/MB$|^disk\.(in|out)$/.test(k)) return { suffix: "B", bytes: 1024 * 1024 };
  if (/GB$/.test(k)) return { suffix: "B", bytes: 1e9 };
  if (/Watts$/.test(k)) return { suffix: "W" };
  if (/temp$/i.test(k)) return { suffix: "°C" };
  if (/Clock$/i.test(k)) return { suffix: "MHz" };
  return null;
}

const BIN: [number, string][] = [[2 ** 40, "TiB"], [2 ** 30, "GiB"], [2 ** 20, "MiB"], [2 ** 10, "KiB"], [1, "B"]];

/** Tick labels with the unit of `key` (bytes scaled to KiB … TiB by the largest tick). */
export function formatTicksWithUnit(ticks: number[], step: number | undefined, unit: Unit | null): string[] {
  if (!unit) return formatTicks(ticks, step);
  if (unit.bytes === undefined) return formatTicks(ticks, step).map((s) => `${s}${unit.suffix === "%" ? "" : " "}${unit.suffix}`);
  const bytes = ticks.map((v) => v * unit.bytes!);
  const mag = Math.max(0, ...bytes.filter(Number.isFinite).map(Math.abs));
  const [div, name] = BIN.find(([d]) => mag >= d) ?? BIN[BIN.length - 1];
  const scaled = bytes.map((b) => b / div);
  return formatTicks(scaled, step !== undefined ? (step * unit.bytes) / div : undefined).map((s) => `${s} ${name}`);
}

/** One value with its unit (tooltips, legends), 6 significant digits. */
export function formatWithUnit(v: number, unit: Unit | null): string {
  if (!unit || !Number.isFinite(v)) return formatTick(v, 6);
  if (unit.bytes === undefined) return `${formatTick(v, 6)}${unit.suffix === "%" ? "" : " "}${unit.suffix}`;
  const b = v * unit.bytes;
  const [div, name] = BIN.find(([d]) => Math.abs(b) >= d) ?? BIN[BIN.length - 1];
  return `${formatTick(b / div, 6)} ${name}`;
}
