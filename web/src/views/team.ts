// Teams: the list (with "new team"), and one team's settings: members (roles, removal) and
// invite links. Actions a role may not take are not offered; the server refuses them anyway.
import { accounts, when, type Member, type Role } from "../accountsapi";
import { api } from "../api";
import { h, clear } from "../lib/dom";
import { link, showError } from "../main";

const ROLES: Role[] = ["admin", "member", "viewer"];

export function teamsView(el: HTMLElement) {
  const list = h("ul", { class: "teams", id: "team-list" });
  const name = h("input", { placeholder: "new team name", id: "new-team" });
  const create = async (e: Event) => {
    e.preventDefault();
    try { await accounts.createTeam(name.value.trim()); name.value = ""; await load(); } catch (err) { showError(el, err); }
  };
  const load = async () => {
    const teams = await accounts.teams();
    clear(list, ...teams.map((t) => h("li", null, link(`/teams/${encodeURIComponent(t.name)}`, t.name),
      h("span", { class: "muted" }, ` · ${t.kind} · ${t.role ?? "server admin"} · ${t.members} member(s)`))));
  };
  el.append(h("h1", null, "Teams"), list, h("form", { onsubmit: create }, name, " ", h("button", { type: "submit" }, "Create team")));
  load().catch((e) => showError(el, e));
  return () => {};
}

function memberRow(team: string, m: Member, admin: boolean, reload: () => void, el: HTMLElement) {
  const role = h("select", { "data-user": m.username, class: "role", disabled: !admin },
    ...ROLES.map((r) => h("option", { value: r, selected: r === m.role }, r)));
  role.onchange = () => accounts.setRole(team, m.username, role.value as Role).then(reload, (e) => { showError(el, e); reload(); });
  const remove = admin ? h("button", { class: "remove", onclick: () => {
    if (confirm(`Remove ${m.username} from ${team}?`)) accounts.remove(team, m.username).then(reload, (e) => showError(el, e));
  } }, "Remove") : null;
  return h("tr", null, h("td", null, m.username, m.active ? "" : " (deactivated)"), h("td", null, role), h("td", null, remove));
}

export function teamView(el: HTMLElement, team: string) {
  const members = h("tbody", { id: "members" });
  const invites = h("div", { id: "invites" });
  let isAdmin = false;
  const load = async () => {
    const [viewer, list] = await Promise.all([api.viewer() as Promise<{ username: string; admin: boolean; memberships?: { entity: string; role: string }[] }>, accounts.members(team)]);
    isAdmin = viewer.admin || (viewer.memberships ?? []).some((m) => m.entity === team && m.role === "admin");
    clear(members, ...list.map((m) => memberRow(team, m, isAdmin, () => void load(), el)));
    clear(invites);
    if (isAdmin) await loadInvites();
  };
  const loadInvites = async () => {
    const role = h("select", { id: "invite-role" }, ...ROLES.map((r) => h("option", { value: r, selected: r === "member" }, r)));
    const out = h("div", { id: "invite-link" });
    const make = async () => {
      const inv = await accounts.invite(team, role.value as Role);
      const url = new URL(`/invite/${inv.token}`, location.origin).href;
      clear(out, "Send this link (shown once): ", h("code", { id: "invite-url" }, url));
      await refreshList();
    };
    const rows = h("ul");
    const refreshList = async () => {
      const list = await accounts.invites(team);
      clear(rows, ...list.map((i) => h("li", null, `${i.role} · by ${i.created_by} · expires ${when(i.expires_at)} · `,
        i.accepted_by ? `accepted by ${i.accepted_by}` : i.revoked ? "revoked"
          : h("button", { onclick: () => accounts.revokeInvite(team, i.id).then(refreshList) }, "Revoke"))));
    };
    invites.append(h("h2", null, "Invites"), role, " ", h("button", { id: "make-invite", onclick: () => make().catch((e) => showError(el, e)) }, "Create invite link"), out, rows);
    await refreshList();
  };
  el.append(h("h1", null, `Team ${team}`), link(`/${encodeURIComponent(team)}`, "Projects"),
    h("h2", null, "Members"), h("table", { class: "members" }, h("thead", null, h("tr", null, h("th", null, "user"), h("th", null, "role"), h("th"))), members), invites);
  load().catch((e) => showError(el, e));
  return () => {};
}
