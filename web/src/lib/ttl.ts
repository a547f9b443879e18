// An artifact version's time to live as the pages show and edit it. The server keeps `ttl`
// seconds counted from the version's creation and answers `expires_at` (docs/artifacts.md);
// PATCH sends `ttl` in whole seconds, `null` keeps the version for good.

export const TTL_UNITS = { days: 86400, hours: 3600 } as const;
export type TtlUnit = keyof typeof TTL_UNITS;
/** The longest TTL the editor accepts: 100 years (a typo of a few zeros is caught). */
export const MAX_TTL_DAYS = 36500;

/** The TTL in seconds of a version (from its expiry and creation), or null when it has none. */
export function ttlOf(v: { created_at: number; expires_at?: number | null }): number | null {
  return v.expires_at === null || v.expires_at === undefined ? null : Math.max(0, Math.round(v.expires_at - v.created_at));
}

/** The editor's value and unit for a TTL: whole days when it is a whole number of days. */
export function ttlInput(ttl: number | null): { value: string; unit: TtlUnit } {
  if (ttl === null) return { value: "", unit: "days" };
  if (ttl % TTL_UNITS.days === 0) return { value: String(ttl / TTL_UNITS.days), unit: "days" };
  return { value: String(Math.round((ttl / TTL_UNITS.hours) * 100) / 100), unit: "hours" };
}

/** Whole seconds from the editor's value, or the reason it is refused. */
export function ttlSeconds(value: string, unit: TtlUnit): { seconds: number } | { error: string } {
  const n = Number(value.trim());
  if (!value.trim() || !Number.isFinite(n) || n <= 0) return { error: `a time to live is a positive number of ${unit}` };
  const seconds = Math.round(n * TTL_UNITS[unit]);
  if (seconds > MAX_TTL_DAYS * TTL_UNITS.days) return { error: `at most ${MAX_TTL_DAYS.toLocaleString("en")} days` };
  return { seconds: Math.max(1, seconds) };
}

/** A span of seconds in its two largest units: "6 d 23 h", "5 h 10 min", "45 s". */
export function span(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return hr ? `${d} d ${hr} h` : `${d} d`;
  if (hr) return m ? `${hr} h ${m} min` : `${hr} h`;
  if (m) return `${m} min`;
  return `${s} s`;
}

/** When the version goes, relative to `now` (Unix seconds). */
export function expiryText(expiresAt: number | null | undefined, now: number): string {
  if (expiresAt === null || expiresAt === undefined) return "kept for good";
  return expiresAt > now ? `expires in ${span(expiresAt - now)}` : `expired ${span(now - expiresAt)} ago`;
}
