// The filter bar's rows → the MongoDB-style filter JSON that
// GET /api/v1/projects/{e}/{p}/runs?filters= takes, plus a client-side evaluator of the same
// language (used for brushing, for live updates, and as a safety net if a server ignores a
// clause). Field paths: name, state, tags, group, job_type, host, created_at,
// config.<key>, summary.<key>.

import { getPath } from "./tjson";

export type Op = "=" | "!=" | ">" | ">=" | "<" | "<=" | "~" | "in" | "exists";
export const OPS: Op[] = ["=", "!=", ">", ">=", "<", "<=", "~", "in", "exists"];

export interface FilterRow { field: string; op: Op; value: string }
export type Filter = Record<string, unknown>;

const MONGO: Record<Exclude<Op, "=">, string> = {
  "!=": "$ne", ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte", "~": "$regex", in: "$in", exists: "$exists",
};

/** "0.1" → 0.1, "true" → true, "null" → null, quoted or anything else stays a string. */
export function parseValue(s: string): unknown {
  const t = s.trim();
  if (/^".*"$/.test(t)) return t.slice(1, -1);
  if (t === "true") return true;
  if (t === "false") return false;
  if (t === "null") return null;
  if (t !== "" && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return t;
}

export function rowToClause(r: FilterRow): Filter | null {
  if (!r.field.trim()) return null;
  let v: unknown;
  // Regex searches are case-insensitive in the UI; the server needs $options for that.
  if (r.op === "~") return { [r.field.trim()]: { $regex: r.value, $options: "i" } };
  else if (r.op === "in") v = r.value.split(",").map(parseValue);
  else if (r.op === "exists") v = r.value.trim() !== "false";
  else v = parseValue(r.value);
  return { [r.field.trim()]: r.op === "=" ? v : { [MONGO[r.op]]: v } };
}

/** Build the filter for the API: all rows ANDed, plus an optional regex on the run name. */
export function buildFilter(rows: FilterRow[], nameRegex = ""): Filter | null {
  const clauses: Filter[] = [];
  for (const r of rows) {
    const c = rowToClause(r);
    if (c) clauses.push(c);
  }
  if (nameRegex) clauses.push({ name: { $regex: nameRegex, $options: "i" } });
  if (clauses.length === 0) return null;
  return clauses.length === 1 ? clauses[0] : { $and: clauses };
}

/** Read a field path from an API Run (config/summary values already decoded). */
export function fieldValue(run: object, path: string): unknown {
  const r = run as Record<string, unknown>;
  if (path.startsWith("config.")) return getPath(r.config, path.slice(7));
  if (path.startsWith("summary.")) return getPath(r.summary, path.slice(8));
  return getPath(run, path);
}

/** Evaluate a filter against a run, with MongoDB semantics for the operators we emit. */
export function matchFilter(run: Record<string, unknown>, f: Filter | null): boolean {
  if (!f) return true;
  for (const [k, cond] of Object.entries(f)) {
    if (k === "$and") { if (!(cond as Filter[]).every((c) => matchFilter(run, c))) return false; continue; }
    if (k === "$or") { if (!(cond as Filter[]).some((c) => matchFilter(run, c))) return false; continue; }
    if (k === "$nor") { if ((cond as Filter[]).some((c) => matchFilter(run, c))) return false; continue; }
    if (!matchField(fieldValue(run, k), cond)) return false;
  }
  return true;
}

function isOpObject(c: unknown): c is Record<string, unknown> {
  return !!c && typeof c === "object" && !Array.isArray(c) && Object.keys(c).every((k) => k.startsWith("$"));
}

function matchField(v: unknown, cond: unknown): boolean {
  if (!isOpObject(cond)) return eq(v, cond);
  for (const [op, arg] of Object.entries(cond)) {
    if (op === "$options") continue;
    if (op === "$regex") { if (!regexMatch(v, String(arg), String(cond.$options ?? ""))) return false; continue; }
    if (op === "$not") { if (matchField(v, arg)) return false; continue; }
    if (!matchOp(v, op, arg)) return false;
  }
  return true;
}

function matchOp(v: unknown, op: string, arg: unknown): boolean {
  switch (op) {
    case "$eq": return eq(v, arg);
    case "$ne": return !eq(v, arg);
    case "$gt": return cmp(v, arg, (c) => c > 0);
    case "$gte": return cmp(v, arg, (c) => c >= 0);
    case "$lt": return cmp(v, arg, (c) => c < 0);
    case "$lte": return cmp(v, arg, (c) => c <= 0);
    case "$in": return Array.isArray(arg) && arg.some((a) => eq(v, a));
    case "$nin": return Array.isArray(arg) && !arg.some((a) => eq(v, a));
    case "$exists": return (v !== undefined && v !== null) === !!arg;
    default: return false;
  }
}

/** Equality; an array field (tags) matches when any element equals, as in MongoDB. */
function eq(v: unknown, arg: unknown): boolean {
  if (Array.isArray(v) && !Array.isArray(arg)) return v.some((x) => eq(x, arg));
  if (typeof v === "bigint" || typeof arg === "bigint") return String(v) === String(arg);
  return v === arg || (v === undefined && arg === null);
}

function cmp(v: unknown, arg: unknown, ok: (c: number) => boolean): boolean {
  if (typeof v === "number" && typeof arg === "number") return !Number.isNaN(v) && ok(v - arg);
  if (typeof v === "bigint" || typeof arg === "bigint") {
    try { const a = BigInt(v as never), b = BigInt(arg as never); return ok(a < b ? -1 : a > b ? 1 : 0); } catch { return false; }
  }
  if (typeof v === "string" && typeof arg === "string") return ok(v < arg ? -1 : v > arg ? 1 : 0);
  return false;
}

const regexCache = new Map<string, RegExp | null>();
export function safeRegex(src: string, flags = "i"): RegExp | null {
  const key = `${flags}/${src}`;
  if (!regexCache.has(key)) {
    let re: RegExp | null = null;
    try { re = new RegExp(src, flags.includes("i") ? "i" : ""); } catch { re = null; }
    regexCache.set(key, re);
  }
  return regexCache.get(key) ?? null;
}

function regexMatch(v: unknown, src: string, flags: string): boolean {
  const re = safeRegex(src, flags);
  if (!re) return false;
  if (Array.isArray(v)) return v.some((x) => regexMatch(x, src, flags));
  return v !== undefined && v !== null && re.test(String(v));
}

/** Compact text form for chips: `config.lr > 0.01`. */
export function describeRow(r: FilterRow): string {
  return r.op === "exists" ? `${r.field} exists` : `${r.field} ${r.op} ${r.value}`;
}
