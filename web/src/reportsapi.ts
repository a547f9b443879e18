// Client of the report routes (docs/reports.md): documents of markdown blocks and live panels.
import { call } from "./api";
import type { Filter } from "./lib/filters";

export type Visibility = "private" | "team" | "public";
export interface RunSet { name?: string; entity: string; project: string; filters?: Filter | null }
export type PanelKind = "line" | "scatter" | "runs";
export type Block =
  | { type: "markdown"; text: string }
  | { type: "panel"; kind: PanelKind; title?: string; runset: RunSet; keys: string[] };
export interface ReportDoc { settings: { smoothing: number; x: string }; blocks: Block[] }
export interface ReportInfo {
  id: number; entity: string; title: string; visibility: Visibility; version: number;
  created_by: string; updated_by: string; created_at: number; updated_at: number;
}
export interface Report extends ReportInfo { doc: ReportDoc }
export interface ReportVersion { version: number; title: string; author: string; created_at: number; doc?: ReportDoc }
export interface Comment { id: number; author: string; text: string; created_at: number }

const enc = encodeURIComponent;
const base = (e: string, id?: number) => `/reports/${enc(e)}${id === undefined ? "" : `/${id}`}`;

export const reports = {
  list: async (e: string) => (await call<{ reports: ReportInfo[] }>("GET", base(e))).reports,
  create: (e: string, title: string, doc: ReportDoc) => call<Report>("POST", base(e), { title, doc }),
  get: (e: string, id: number) => call<Report>("GET", base(e, id)),
  save: (e: string, id: number, title: string, doc: ReportDoc, baseVersion: number) =>
    call<Report>("PUT", base(e, id), { title, doc, base_version: baseVersion }),
  remove: (e: string, id: number) => call<{ deleted: boolean }>("DELETE", base(e, id)),
  setVisibility: (e: string, id: number, visibility: Visibility) => call<Report>("PUT", `${base(e, id)}/visibility`, { visibility }),
  versions: async (e: string, id: number) => (await call<{ versions: ReportVersion[] }>("GET", `${base(e, id)}/versions`)).versions,
  restore: (e: string, id: number, v: number) => call<Report>("POST", `${base(e, id)}/versions/${v}/restore`),
  comments: async (e: string, id: number) => (await call<{ comments: Comment[] }>("GET", `${base(e, id)}/comments`)).comments,
  comment: (e: string, id: number, text: string) => call<Comment>("POST", `${base(e, id)}/comments`, { text }),
};

/** A new report's document: a heading to edit. */
export function starterDoc(): ReportDoc {
  return { settings: { smoothing: 0, x: "_step" }, blocks: [{ type: "markdown", text: "# Summary\n\nWhat we found." }] };
}

/** The page path of a report. */
export function reportPath(entity: string, id: number): string {
  return `/reports/${enc(entity)}/${id}`;
}
