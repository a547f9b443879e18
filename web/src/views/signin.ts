import { auth } from "../api";
import { h } from "../lib/dom";
import { navigate } from "../main";
import { loginForms } from "./login";

/** Paste-an-API-key sign-in. The key lives in localStorage and is sent as a Bearer token. */
export function signinView(el: HTMLElement, check: () => Promise<boolean>) {
  const input = h("input", { type: "password", placeholder: "API key", id: "api-key", autocomplete: "off", size: 48 });
  const msg = h("div", { class: "muted" });
  const params = new URLSearchParams(location.search);
  const next = params.get("next") || "/";
  const reason = params.get("reason");
  const submit = async (e: Event) => {
    e.preventDefault();
    auth.set(input.value.trim());
    msg.textContent = "Checking…";
    if (await check().catch(() => false)) navigate(next.startsWith("/") && !next.startsWith("//") ? next : "/");
    else { auth.clear(); msg.textContent = "That key was not accepted by the server."; }
  };
  el.append(h("form", { class: "card signin", onsubmit: submit },
    h("h1", null, "Sign in to Trackway"),
    reason ? h("div", { class: "error", id: "signin-reason", role: "alert" }, reason) : null,
    h("p", { class: "muted" }, "Paste an API key. `trackway server` stores the admin key in ",
      h("code", null, "<config dir>/credentials.json"), "; `trackway login` shows it too."),
    input, " ", h("button", { type: "submit" }, "Sign in"), msg));
  loginForms(el, async () => {
    if (await check().catch(() => false)) navigate(next.startsWith("/") && !next.startsWith("//") ? next : "/");
  });
  input.focus();
  return () => {};
}
