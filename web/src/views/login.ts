// Password and SSO sign-in (cookie sessions), added under the API-key form of the sign-in page.
import { accounts } from "../accountsapi";
import { h } from "../lib/dom";

/** Renders the password form (and the SSO button when the server has OIDC) into `el`;
 *  `done` runs after a successful password sign-in. */
export function loginForms(el: HTMLElement, done: () => void) {
  const user = h("input", { placeholder: "user name", id: "login-user", autocomplete: "username" });
  const pass = h("input", { type: "password", placeholder: "password", id: "login-password", autocomplete: "current-password" });
  const msg = h("div", { class: "muted", id: "login-msg" });
  const submit = async (e: Event) => {
    e.preventDefault();
    msg.textContent = "Signing in…";
    try { await accounts.login(user.value.trim(), pass.value); done(); }
    catch (err) { msg.textContent = err instanceof Error ? err.message : String(err); }
  };
  const sso = h("div", { class: "sso" });
  el.append(h("form", { class: "card signin", onsubmit: submit, id: "password-login" },
    h("h2", null, "Or sign in with a password"), user, " ", pass, " ", h("button", { type: "submit" }, "Sign in"), msg), sso);
  accounts.config().then((c) => {
    if (c.oidc) sso.append(h("a", { class: "button", id: "sso-login", href: "/api/v1/auth/oidc/login" }, `Sign in with ${c.oidc}`));
  }).catch(() => { /* an old server: the key form still works */ });
}
