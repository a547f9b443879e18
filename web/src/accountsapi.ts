// Client of the accounts routes (docs/teams.md): sign-in, teams, members, invites, keys.
import { call } from "./api";

export type Role = "admin" | "member" | "viewer";
export interface Team { name: string; kind: string; role: Role | null; members: number }
export interface Member { username: string; role: Role; active: boolean }
export interface KeyScope { read_only: boolean; ingest_only: boolean; entity: string | null }
export interface ApiKey {
  id: number; username: string; prefix: string; name: string | null; created_at: number;
  expires_at: number | null; last_used_at: number | null; revoked_at: number | null; scope: KeyScope;
}
export interface Invite {
  id: number; entity: string; role: Role; created_by: string; created_at: number; expires_at: number;
  accepted_by: string | null; revoked: boolean;
}
export interface AuthConfig { password: boolean; signup: boolean; oidc: string | null }

const enc = encodeURIComponent;

export const accounts = {
  config: () => call<AuthConfig>("GET", "/auth/config"),
  login: (username: string, password: string) => call<{ username: string }>("POST", "/auth/login", { username, password }),
  logout: () => call<null>("POST", "/auth/logout"),
  teams: () => call<Team[]>("GET", "/teams"),
  createTeam: (name: string) => call<Team>("POST", "/teams", { name }),
  members: (team: string) => call<Member[]>("GET", `/teams/${enc(team)}/members`),
  setRole: (team: string, user: string, role: Role) => call<Member[]>("PUT", `/teams/${enc(team)}/members/${enc(user)}`, { role }),
  remove: (team: string, user: string) => call<null>("DELETE", `/teams/${enc(team)}/members/${enc(user)}`),
  invites: (team: string) => call<Invite[]>("GET", `/teams/${enc(team)}/invites`),
  invite: (team: string, role: Role) => call<{ token: string; url: string; info: Invite }>("POST", `/teams/${enc(team)}/invites`, { role }),
  revokeInvite: (team: string, id: number) => call<null>("DELETE", `/teams/${enc(team)}/invites/${id}`),
  getInvite: (token: string) => call<Invite>("GET", `/invites/${enc(token)}`),
  accept: (token: string, username?: string, password?: string) =>
    call<{ username: string }>("POST", `/invites/${enc(token)}/accept`, username ? { username, password } : {}),
  keys: () => call<ApiKey[]>("GET", "/keys"),
  createKey: (name: string, expiresIn: number | null, scope: KeyScope) =>
    call<{ key: string; info: ApiKey }>("POST", "/keys", { name, expires_in: expiresIn, scope }),
  revokeKey: (id: number) => call<ApiKey>("DELETE", `/keys/${id}`),
  setPassword: (password: string, current?: string) => call<null>("PUT", "/viewer/password", { password, current }),
  visibility: (e: string, p: string) => call<{ visibility: string }>("GET", `/projects/${enc(e)}/${enc(p)}/visibility`),
  setVisibility: (e: string, p: string, visibility: string) =>
    call<{ visibility: string }>("PUT", `/projects/${enc(e)}/${enc(p)}/visibility`, { visibility }),
};

/** A time in seconds as a short local date-time, or "never". */
export function when(t: number | null): string {
  return t == null ? "never" : new Date(t * 1000).toLocaleString();
}
