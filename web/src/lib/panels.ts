// Per-panel settings of the workspace's chart grid, kept in the view state (URL and saved
// views). A panel id is the metric of an automatic panel (one per logged metric) or
// `custom:<n>` for a panel the user added or duplicated. Unset fields follow the workspace.

export interface PanelConfig {
  title?: string;
  metrics?: string[];   // metric names and /regex/ patterns drawn together
  x?: string;           // x axis of this panel
  smoothing?: number;
  logx?: boolean;
  logy?: boolean;
  ymin?: number;
  ymax?: number;
  outliers?: boolean;   // ignore outliers: y range from the 2nd to the 98th percentile
  hidden?: boolean;     // an automatic panel the user deleted
  section?: string;     // where a custom panel sits
}

export type Panels = Record<string, PanelConfig>;

const MAX_MATCHES = 20;

/** Names as given; `/re/` entries expand to the keys they match (at most 20 each). */
export function resolveMetrics(list: string[], keys: string[]): string[] {
  const out: string[] = [];
  for (const item of list) {
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
    if (typeof o.title === "string") c.title = o.title;
    if (Array.isArray(o.metrics)) c.metrics = o.metrics.filter((m): m is string => typeof m === "string");
    if (typeof o.x === "string") c.x = o.x;
    for (const k of ["smoothing", "ymin", "ymax"] as const) if (typeof o[k] === "number" && Number.isFinite(o[k])) c[k] = o[k] as number;
    for (const k of ["logx", "logy", "outliers", "hidden"] as const) if (typeof o[k] === "boolean") c[k] = o[k] as boolean;
    if (typeof o.section === "string") c.section = o.section;
    out[id] = c;
  }
  return out;
}
