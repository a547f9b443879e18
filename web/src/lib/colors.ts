// Run colours. The runs in view get distinct colours from a qualitative palette
// (assignColors): each run prefers the slot its id hashes to and probes on when that slot is
// taken, so the assignment depends only on the set of runs in view (stable while it does not
// change, and mostly stable when one run joins or leaves) and no two visible runs share a
// colour. A colour the user picked for a run wins. runColor (the hash slot alone) is for views
// that show one run at a time.

/** Tableau 10, then ten more hues chosen to stay apart from them and from each other. */
export const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#1a237e", "#f4b400", "#00796b", "#ad1457", "#6d4c41", "#00b0ff",
  "#76ff03", "#ff5252", "#4a148c", "#827717",
];

/** FNV-1a: small, fast, and well spread for short ids. */
export function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function runColor(runId: string): string {
  return PALETTE[hash(runId) % PALETTE.length];
}

/** Colour i of an endless qualitative sequence: the palette, then golden-angle hues. */
export function paletteColor(i: number): string {
  if (i < PALETTE.length) return PALETTE[i];
  const k = i - PALETTE.length;
  const hue = (k * 137.508) % 360;
  const light = [42, 58, 34, 66][Math.floor(k / 7) % 4];
  return hslHex(hue, 70, light);
}

function hslHex(hDeg: number, sPct: number, lPct: number): string {
  const s = sPct / 100, l = lPct / 100;
  const f = (n: number) => {
    const k = (n + hDeg / 30) % 12;
    const c = l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(c * 255).toString(16).padStart(2, "0");
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/**
 * Distinct colours for the runs in view. `picked` holds user-chosen colours (hex), which win;
 * the others take free palette slots (preferring their hash slot), extending the palette when
 * more runs than colours are in view.
 */
export function assignColors(ids: string[], picked: Record<string, string> = {}): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const id of ids) {
    const c = picked[id];
    if (c && !used.has(c.toLowerCase())) { out.set(id, c); used.add(c.toLowerCase()); }
  }
  const rest = [...new Set(ids)].filter((id) => !out.has(id)).sort();
  const size = Math.max(PALETTE.length, used.size + rest.length);
  const slots = Array.from({ length: size }, (_, i) => paletteColor(i));
  const taken = slots.map((c) => used.has(c));
  for (const id of rest) {
    // Probing only inside the base palette keeps the classic colours first; the extended
    // slots fill in order once it is full.
    let slot = -1;
    const start = hash(id) % PALETTE.length;
    for (let d = 0; d < PALETTE.length; d++) { const j = (start + d) % PALETTE.length; if (!taken[j]) { slot = j; break; } }
    if (slot < 0) slot = taken.indexOf(false);
    taken[slot] = true;
    out.set(id, slots[slot]);
  }
  return out;
}

export function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

/** Viridis-like ramp for "colour by metric": t in [0, 1]. */
export function ramp(t: number): string {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const c = Math.min(Math.max(Number.isFinite(t) ? t : 0, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(c), stops.length - 2);
  const f = c - i;
  const mix = (k: number) => Math.round(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f);
  return `rgb(${mix(0)},${mix(1)},${mix(2)})`;
}
