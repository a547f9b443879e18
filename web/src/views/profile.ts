// Profile: the user's API keys (named, optional expiry and scope, shown once, revocable, last
// used) and password; and the invite-accept page.
import { accounts, when, type ApiKey } from "../accountsapi";
import { h, clear } from "../lib/dom";
import { navigate, showError } from "../main";

function keyRow(k: ApiKey, reload: () => void) {
  const scope = [k.scope.read_only ? "read-only" : "", k.scope.ingest_only ? "ingest-only" : "", k.scope.entity ? `entity ${k.scope.entity}` : ""].filter(Boolean).join(", ") || "full";
  return h("tr", null, h("td", null, k.name ?? ""), h("td", null, h("code", null, `${k.prefix}…`)), h("td", null, scope),
    h("td", null, when(k.expires_at)), h("td", null, when(k.last_used_at)),
    h("td", null, k.revoked_at ? "revoked" : h("button", { onclick: () => accounts.revokeKey(k.id).then(reload) }, "Revoke")));
}

export function profileView(el: HTMLElement) {
  const rows = h("tbody", { id: "keys" });
  const name = h("input", { placeholder: "key name", id: "key-name" });
  const days = h("input", { type: "number", min: "1", placeholder: "expires in days (empty: never)", id: "key-days" });
  const readOnly = h("input", { type: "checkbox", id: "key-ro" });
  const shown = h("div", { id: "new-key" });
  const load = async () => clear(rows, ...(await accounts.keys()).map((k) => keyRow(k, () => void load())));
  const create = async (e: Event) => {
    e.preventDefault();
    const d = Number(days.value);
    const made = await accounts.createKey(name.value.trim(), d > 0 ? d * 86400 : null, { read_only: readOnly.checked, ingest_only: false, entity: null });
    clear(shown, "New key (copy it now, it is not shown again): ", h("code", null, made.key));
    await load();
  };
  const pw = h("input", { type: "password", placeholder: "new password", id: "new-password" });
  const cur = h("input", { type: "password", placeholder: "current password (if any)" });
  const pwMsg = h("span", { class: "muted" });
  el.append(h("h1", null, "Profile"), h("h2", null, "API keys"),
    h("table", { class: "keys" }, h("thead", null, h("tr", null, ...["name", "key", "scope", "expires", "last used", ""].map((t) => h("th", null, t)))), rows),
    h("form", { onsubmit: (e: Event) => create(e).catch((x) => showError(el, x)) }, name, " ", days, " ", h("label", null, readOnly, " read-only"), " ", h("button", { type: "submit" }, "Create key")), shown,
    h("h2", null, "Password"),
    h("form", { onsubmit: (e: Event) => { e.preventDefault(); accounts.setPassword(pw.value, cur.value || undefined).then(() => { pwMsg.textContent = "Password changed."; }, (x) => { pwMsg.textContent = String(x.message ?? x); }); } },
      cur, " ", pw, " ", h("button", { type: "submit" }, "Set password"), " ", pwMsg));
  load().catch((e) => showError(el, e));
  return () => {};
}

/** `/invite/<token>`: who invites to what, and a form to join (new or existing account). */
export function inviteView(el: HTMLElement, token: string) {
  const user = h("input", { placeholder: "user name", id: "invite-user" });
  const pass = h("input", { type: "password", placeholder: "password (8+ characters)", id: "invite-password" });
  const msg = h("div", { class: "muted", id: "invite-msg" });
  accounts.getInvite(token).then((inv) => {
    const open = !inv.accepted_by && !inv.revoked && inv.expires_at > Date.now() / 1000;
    el.append(h("h1", null, `Join ${inv.entity}`), h("p", null, `${inv.created_by} invites you as ${inv.role}.`));
    if (!open) { el.append(h("p", { class: "error" }, "This invite was used, revoked or has expired.")); return; }
    const join = async (e: Event) => {
      e.preventDefault();
      try { await accounts.accept(token, user.value.trim(), pass.value); navigate(`/${encodeURIComponent(inv.entity)}`); }
      catch (err) { msg.textContent = err instanceof Error ? err.message : String(err); }
    };
    el.append(h("form", { class: "card", onsubmit: join }, h("p", { class: "muted" }, "Choose a user name and password (or give an existing account's)."),
      user, " ", pass, " ", h("button", { type: "submit", id: "invite-join" }, "Join"), msg));
  }, (e) => showError(el, e));
  return () => {};
}
