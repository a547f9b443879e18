// Saved workspace views on the server (/projects/{entity}/{project}/views): a named copy of the
// workspace's URL query, per user, optionally shared, one of them the project's default. The
// view "_workspace" is each user's autosaved last state (not listed as a named view).

import { call } from "../api";

export interface SavedView {
  id: number; entity: string; project: string; owner: string; name: string; state: string;
  shared: boolean; default: boolean; created_at: number; updated_at: number;
}

export const AUTOSAVE = "_workspace";

const base = (e: string, p: string) => `/projects/${encodeURIComponent(e)}/${encodeURIComponent(p)}/views`;

export const views = {
  list: async (e: string, p: string) => (await call<{ views: SavedView[] }>("GET", base(e, p))).views,
  save: (e: string, p: string, v: { name: string; state: string; shared?: boolean; default?: boolean }) =>
    call<SavedView>("POST", base(e, p), v),
  get: (e: string, p: string, id: number) => call<SavedView>("GET", `${base(e, p)}/${id}`),
  remove: (e: string, p: string, id: number) => call<unknown>("DELETE", `${base(e, p)}/${id}`),
};

/** The state a workspace opens with when its URL has none: the user's autosave, else the
 *  project default, else nothing. */
export function startState(list: SavedView[], me: string): SavedView | null {
  return list.find((v) => v.owner === me && v.name === AUTOSAVE) ?? list.find((v) => v.default) ?? null;
}
