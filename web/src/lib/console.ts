// Console transforms (pure, unit-tested): merging pages of `GET .../output` into the lines we
// hold, and splitting a line into highlighted parts for the search term.

export interface OutputLine { line: number; stream: "out" | "err" | string; text: string; ts?: number | null }
export interface OutputPage { lines: OutputLine[]; after_line: number | null; more: boolean }

/** Normalise one answer of the output route; tolerant of missing fields. */
export function parsePage(raw: unknown): OutputPage {
  const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const lines = Array.isArray(r.lines) ? r.lines : [];
  const out: OutputLine[] = [];
  for (const l of lines) {
    if (!l || typeof l !== "object") continue;
    const o = l as Record<string, unknown>;
    if (typeof o.line !== "number" || !Number.isFinite(o.line)) continue;
    out.push({ line: o.line, stream: typeof o.stream === "string" ? o.stream : "out", text: typeof o.text === "string" ? o.text : "",
      ts: typeof o.ts === "number" ? o.ts : null });
  }
  const after = typeof r.after_line === "number" ? r.after_line : out.length ? out[out.length - 1].line : null;
  return { lines: out, after_line: after, more: r.more === true };
}

/**
 * Append a page to the held lines. Pages arrive in order, but a retried poll may repeat lines:
 * anything at or below the last held line number is dropped, so appending is idempotent.
 * Returns only the lines that were new (what the view has to paint).
 */
export function appendLines(held: OutputLine[], page: OutputLine[]): OutputLine[] {
  let last = held.length ? held[held.length - 1].line : -Infinity;
  const fresh: OutputLine[] = [];
  for (const l of page) {
    if (l.line <= last) continue;
    fresh.push(l);
    held.push(l);
    last = l.line;
  }
  return fresh;
}

/** Keep at most `max` lines (the newest); returns how many were dropped from the front. */
export function trimFront(held: OutputLine[], max: number): number {
  const drop = Math.max(0, held.length - max);
  if (drop) held.splice(0, drop);
  return drop;
}

export interface Part { text: string; hit: boolean }

/**
 * Split `text` around every occurrence of `q`, matched the way the server's `q` matches:
 * case-insensitive for ASCII letters only, so the highlight marks exactly the lines' hits.
 */
export function highlight(text: string, q: string): Part[] {
  if (!q) return [{ text, hit: false }];
  const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const hay = fold(text), needle = fold(q);
  const parts: Part[] = [];
  let i = 0;
  for (;;) {
    const j = hay.indexOf(needle, i);
    if (j < 0) break;
    if (j > i) parts.push({ text: text.slice(i, j), hit: false });
    parts.push({ text: text.slice(j, j + needle.length), hit: true });
    i = j + needle.length;
  }
  if (i < text.length || parts.length === 0) parts.push({ text: text.slice(i), hit: false });
  return parts;
}
