// Routes and view state live in the URL so every view can be shared and restored.
// Paths: /signin, /, /{entity}, /{entity}/{project}, /{entity}/{project}/runs/{id},
// /{entity}/{project}/compare?runs=a,b. View state is in the query string; defaults are
// omitted so URLs stay short.

import { parseSmoothing, SMOOTHING_DEFAULT } from "./smoothing";
import { OPS, type FilterRow, type Op } from "./filters";
import { cleanPanels, type Panels } from "./panels";

export type Route =
  | { view: "signin" }
  | { view: "entities" }
  | { view: "projects"; entity: string }
  | { view: "workspace"; entity: string; project: string }
  | { view: "run"; entity: string; project: string; run: string }
  | { view: "compare"; entity: string; project: string }
  | { view: "sweeps"; entity: string; project: string }
  | { view: "sweep"; entity: string; project: string; sweep: string }
  | { view: "artifacts"; entity: string; project: string }
  | { view: "artifact"; entity: string; project: string; name: string; selector: string }
  | { view: "notfound"; path: string };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "signin") return { view: "signin" };
  if (parts.length === 0) return { view: "entities" };
  if (parts.length === 1) return { view: "projects", entity: parts[0] };
  const [entity, project] = parts;
  if (parts[2] === "runs" && parts[3]) return { view: "run", entity, project, run: parts.slice(3).join("/") };
  if (parts[2] === "compare") return { view: "compare", entity, project };
  if (parts[2] === "sweeps") return parts[3] ? { view: "sweep", entity, project, sweep: parts[3] } : { view: "sweeps", entity, project }
  if (parts[2] === "artifacts" && parts[3]) return { view: "artifact", entity, project, name: parts[3], selector: parts[4] || "latest" };
  if (parts[2] === "artifacts") return { view: "artifacts", entity, project };
  if (parts.length > 2) return { view: "notfound", path: pathname };
  return { view: "workspace", entity, project };
}

export function routePath(r: Route): string {
  const e = (s: string) => encodeURIComponent(s);
  switch (r.view) {
    case "signin": return "/signin";
    case "entities": return "/";
    case "projects": return `/${e(r.entity)}`;
    case "workspace": return `/${e(r.entity)}/${e(r.project)}`;
    case "run": return `/${e(r.entity)}/${e(r.project)}/runs/${e(r.run)}`;
    case "compare": return `/${e(r.entity)}/${e(r.project)}/compare`;
    case "sweeps": return `/${e(r.entity)}/${e(r.project)}/sweeps`;
    case "sweep": return `/${e(r.entity)}/${e(r.project)}/sweeps/${e(r.sweep)}`;
    case "artifacts": return `/${e(r.entity)}/${e(r.project)}/artifacts`;
    case "artifact": return `/${e(r.entity)}/${e(r.project)}/artifacts/${e(r.name)}/${e(r.selector)}`;
    case "notfound": return r.path;
  }
}

export interface ViewState {
  selected: string[];   // run ids shown in charts (empty = the first N visible runs)
  pinned: string[];     // pinned to the top of the table
  filters: FilterRow[];
  q: string;            // regex on run names
  smoothing: number;
  x: string;            // _step | _runtime | _timestamp | any metric
  zoom: [number, number] | null;
  log: boolean;
  band: boolean;
  sort: string;         // column key, "-" prefix for descending
  group: string;        // config key to group by, "" = none
  cols: string[];       // extra columns
  search: string;       // chart search
  tab: string;          // workspace: charts | scatter | parallel ; run page: overview | ...
  sx: string; sy: string; color: string; // scatter axes and colour metric
  axes: string[];       // parallel-coordinates axes
  logAxes: string[];    // scatter/parallel-coordinates keys drawn on a log scale
  panels: Panels;       // per-panel settings and custom panels (lib/panels.ts)
  colors: Record<string, string>; // run colours the user picked (run id → #rrggbb)
  imp: string;          // parameter importance: the metric explained
}

export const DEFAULT_STATE: ViewState = {
  selected: [], pinned: [], filters: [], q: "", smoothing: SMOOTHING_DEFAULT, x: "_step", zoom: null,
  log: false, band: true, sort: "-created_at", group: "", cols: [], search: "", tab: "", sx: "", sy: "",
  color: "", axes: [], logAxes: [], panels: {}, colors: {}, imp: "",
};

const list = (s: string | null) => (s ? s.split(",").filter(Boolean).map(decodeURIComponent) : []);
const joinList = (a: string[]) => a.map((v) => encodeURIComponent(v)).join(",");

export function encodeState(s: ViewState): string {
  const p = new URLSearchParams();
  const d = DEFAULT_STATE;
  if (s.selected.length) p.set("runs", joinList(s.selected));
  if (s.pinned.length) p.set("pin", joinList(s.pinned));
  if (s.filters.length) p.set("f", JSON.stringify(s.filters.map((r) => [r.field, r.op, r.value])));
  if (s.q) p.set("q", s.q);
  if (s.smoothing !== d.smoothing) p.set("s", String(s.smoothing));
  if (s.x !== d.x) p.set("x", s.x);
  if (s.zoom) p.set("zoom", `${s.zoom[0]},${s.zoom[1]}`);
  if (s.log) p.set("log", "1");
  if (!s.band) p.set("band", "0");
  if (s.sort !== d.sort) p.set("sort", s.sort);
  if (s.group) p.set("group", s.group);
  if (s.cols.length) p.set("cols", joinList(s.cols));
  if (s.search) p.set("search", s.search);
  if (s.tab) p.set("tab", s.tab);
  if (s.sx) p.set("sx", s.sx);
  if (s.sy) p.set("sy", s.sy);
  if (s.color) p.set("color", s.color);
  if (s.axes.length) p.set("axes", joinList(s.axes));
  if (s.logAxes.length) p.set("lx", joinList(s.logAxes));
  if (Object.keys(s.panels).length) p.set("panels", JSON.stringify(s.panels));
  if (Object.keys(s.colors).length) p.set("colors", JSON.stringify(s.colors));
  if (s.imp) p.set("imp", s.imp);
  const q = p.toString();
  return q ? `?${q}` : "";
}

export function decodeState(search: string): ViewState {
  const p = new URLSearchParams(search);
  const s: ViewState = { ...DEFAULT_STATE, selected: list(p.get("runs")), pinned: list(p.get("pin")) };
  s.filters = decodeFilters(p.get("f"));
  s.q = p.get("q") ?? "";
  if (p.has("s")) s.smoothing = parseSmoothing(p.get("s"));
  s.x = p.get("x") || DEFAULT_STATE.x;
  s.zoom = decodeZoom(p.get("zoom"));
  s.log = p.get("log") === "1";
  s.band = p.get("band") !== "0";
  s.sort = p.get("sort") || DEFAULT_STATE.sort;
  s.group = p.get("group") ?? "";
  s.cols = list(p.get("cols"));
  s.search = p.get("search") ?? "";
  s.tab = p.get("tab") ?? "";
  s.sx = p.get("sx") ?? ""; s.sy = p.get("sy") ?? ""; s.color = p.get("color") ?? "";
  s.axes = list(p.get("axes"));
  s.logAxes = list(p.get("lx"));
  s.panels = cleanPanels(parseJson(p.get("panels")));
  s.colors = cleanColors(parseJson(p.get("colors")));
  s.imp = p.get("imp") ?? "";
  return s;
}

function parseJson(raw: string | null): unknown {
  if (!raw) return null;
  try { return JSON.parse(raw); } catch { return null; }
}

function cleanColors(raw: unknown): Record<string, string> {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return {};
  return Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter(([, v]) => typeof v === "string" && /^#[0-9a-f]{6}$/i.test(v))) as Record<string, string>;
}

function decodeFilters(raw: string | null): FilterRow[] {
  if (!raw) return [];
  try {
    const arr = JSON.parse(raw);
    if (!Array.isArray(arr)) return [];
    return arr
      .filter((r) => Array.isArray(r) && r.length === 3 && OPS.includes(r[1]))
      .map(([field, op, value]) => ({ field: String(field), op: op as Op, value: String(value) }));
  } catch {
    return [];
  }
}

function decodeZoom(raw: string | null): [number, number] | null {
  if (!raw) return null;
  const [a, b] = raw.split(",").map(Number);
  return Number.isFinite(a) && Number.isFinite(b) && a < b ? [a, b] : null;
}
