// Per-panel settings of the workspace's chart grid, kept in the view state (URL and saved
// views). A panel id is the metric of an automatic panel (one per logged metric) or
// `custom:<n>` for a panel the user added or duplicated. Unset fields follow the workspace.

/** Panels over the runs of the table rather than over a metric's history. */
export type CrossKind = "scatter" | "parallel" | "importance";
export const CROSS_KINDS: CrossKind[] = ["scatter", "parallel", "importance"];
/** The workspace's own cross-run panels, one per kind, on the grid with the line charts. */
export const XRUN_IDS = CROSS_KINDS.map((k) => `xrun:${k}`);
export const CROSS_TITLES: Record<CrossKind, string> = {
  scatter: "Scatter plot", parallel: "Parallel coordinates", importance: "Parameter importance",
};
/** Their section of the grid. */
export const XRUN_SECTION = "across runs";

export interface PanelConfig {
  /** bar: last value per run; scalar: their mean; scatter/parallel/importance: over the table's runs */
  kind?: "line" | "bar" | "scalar" | CrossKind;
  title?: string;
  metrics?: string[];   // metric names, /regex/ patterns and expressions (`a / b`) drawn together
  x?: string;           // x axis of this panel
  smoothing?: number;
  logx?: boolean;
  logy?: boolean;
  ymin?: number;
  ymax?: number;
  outliers?: boolean;   // ignore outliers: y range from the 2nd to the 98th percentile
  group?: string;       // aggregation of this panel: a key to group runs by, "" = each run on its own
  band?: boolean;       // min/max band of this panel
  hidden?: boolean;     // an automatic panel the user deleted
  section?: string;     // where a custom panel sits
  pos?: number;         // order in its section (drag to reorder)
  w?: number;           // width in grid columns (drag the corner to resize)
  h?: number;           // card height in px
  // An added cross-run panel's own axes (the workspace's own ones keep them in the view state).
  sx?: string; sy?: string; color?: string; imp?: string;
  axes?: string[]; logAxes?: string[];
}

export type Panels = Record<string, PanelConfig>;

/** The cross-run kind of a panel (by its id for the workspace's own ones), else null. */
export function crossKind(id: string, cfg: PanelConfig | undefined): CrossKind | null {
  if (id.startsWith("xrun:")) { const k = id.slice(5) as CrossKind; return CROSS_KINDS.includes(k) ? k : null; }
  return cfg?.kind && (CROSS_KINDS as string[]).includes(cfg.kind) ? cfg.kind as CrossKind : null;
}

const MAX_MATCHES = 20;

/** Names as given; `/re/` entries expand to the keys they match (at most 20 each). */
export function resolveMetrics(list: string[], keys: string[]): string[] {
  const out: string[] = [];
  for (const item of list) {
    if (parseExpr(item)) { out.push(item.trim()); continue; }
    const m = /^\/(.+)\/$/.exec(item.trim());
    if (!m) { if (item.trim()) out.push(item.trim()); continue; }
    let re: RegExp;
    try { re = new RegExp(m[1]); } catch { continue; }
    out.push(...keys.filter((k) => re.test(k)).slice(0, MAX_MATCHES));
  }
  return [...new Set(out)];
}

/** A new id for a custom panel. */
export function newPanelId(panels: Panels): string {
  let n = 1;
  while (`custom:${n}` in panels) n++;
  return `custom:${n}`;
}

/** Keeps only known fields of the right types (the URL and stored views are user input). */
export function cleanPanels(raw: unknown): Panels {
  const out: Panels = {};
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return out;
  for (const [id, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!v || typeof v !== "object") continue;
    const o = v as Record<string, unknown>;
    const c: PanelConfig = {};
    if (o.kind === "line" || o.kind === "bar" || o.kind === "scalar" || (CROSS_KINDS as unknown[]).includes(o.kind)) c.kind = o.kind as PanelConfig["kind"];
    if (typeof o.title === "string") c.title = o.title;
    if (Array.isArray(o.metrics)) c.metrics = o.metrics.filter((m): m is string => typeof m === "string");
    if (typeof o.x === "string") c.x = o.x;
    for (const k of ["smoothing", "ymin", "ymax", "pos", "w", "h"] as const) if (typeof o[k] === "number" && Number.isFinite(o[k])) c[k] = o[k] as number;
    if (typeof o.group === "string") c.group = o.group;
    for (const k of ["logx", "logy", "outliers", "hidden", "band"] as const) if (typeof o[k] === "boolean") c[k] = o[k] as boolean;
    if (typeof o.section === "string") c.section = o.section;
    for (const k of ["sx", "sy", "color", "imp"] as const) if (typeof o[k] === "string") c[k] = o[k] as string;
    for (const k of ["axes", "logAxes"] as const) if (Array.isArray(o[k])) c[k] = (o[k] as unknown[]).filter((m): m is string => typeof m === "string");
    out[id] = c;
  }
  return out;
}

// ---- expressions -------------------------------------------------------------------------

/** An expression over metrics, e.g. `loss / acc` or `2 * val/loss - train/loss`: operators
 *  need spaces around them, since metric names hold `/`. */
export interface Expr { text: string; operands: string[]; eval(v: Record<string, number>): number }

const OPS: Record<string, [number, (a: number, b: number) => number]> = {
  "+": [1, (a, b) => a + b], "-": [1, (a, b) => a - b], "*": [2, (a, b) => a * b], "/": [2, (a, b) => a / b],
};

/** Parses `a op b op c …` (op one of + - * / with spaces around it); null when not an expression. */
export function parseExpr(text: string): Expr | null {
  const parts = text.trim().split(/\s+([+\-*/])\s+/);
  if (parts.length < 3 || parts.length % 2 === 0) return null;
  const terms = parts.filter((_, i) => i % 2 === 0), ops = parts.filter((_, i) => i % 2 === 1);
  if (terms.some((t) => !t || /\s/.test(t))) return null;
  const operands = [...new Set(terms.filter((t) => !Number.isFinite(Number(t))))];
  if (!operands.length) return null;
  return {
    text: text.trim(), operands,
    eval(v) {
      // Two stacks, classic precedence: * and / bind tighter than + and -.
      const val = (t: string) => (Number.isFinite(Number(t)) ? Number(t) : v[t] ?? NaN);
      const nums = [val(terms[0])], pend: string[] = [];
      const reduce = () => { const b = nums.pop()!, a = nums.pop()!; nums.push(OPS[pend.pop()!][1](a, b)); };
      ops.forEach((op, i) => {
        while (pend.length && OPS[pend[pend.length - 1]][0] >= OPS[op][0]) reduce();
        pend.push(op); nums.push(val(terms[i + 1]));
      });
      while (pend.length) reduce();
      return nums[0];
    },
  };
}
