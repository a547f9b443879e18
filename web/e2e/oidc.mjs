// OpenID Connect sign-in in the browser: a small provider (discovery, authorization code with
// PKCE S256, RS256 ID tokens and their JWKS) runs in this process; a second real server is
// started with it as issuer and a group mapping; the browser clicks "Sign in with SSO", the
// provider approves, and the user lands signed in (cookie session) as a member of the mapped
// team, seeing its project.

import crypto from "node:crypto";
import http from "node:http";
import { assert, newPage, shot, until } from "./lib.mjs";
import { client, RunWriter, serverBinary, startReal } from "./backend.mjs";

const b64url = (buf) => Buffer.from(buf).toString("base64url");

/** The provider: signs in `user` ({sub, preferred_username, groups}) for client `clientId`. */
export function startProvider(clientId, user) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "e2e", alg: "RS256", use: "sig" };
  const codes = new Map();
  const seen = { authorize: 0, token: 0 };
  let issuer = "";
  const json = (res, status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
  const idToken = (nonce) => {
    const now = Math.floor(Date.now() / 1000);
    const head = b64url(JSON.stringify({ alg: "RS256", kid: "e2e", typ: "JWT" }));
    const body = b64url(JSON.stringify({ iss: issuer, aud: clientId, sub: user.sub, iat: now, exp: now + 300, nonce,
      preferred_username: user.preferred_username, groups: user.groups }));
    return `${head}.${body}.${b64url(crypto.sign("sha256", Buffer.from(`${head}.${body}`), privateKey))}`;
  };
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, issuer);
    if (u.pathname === "/.well-known/openid-configuration") {
      return json(res, 200, { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
        response_types_supported: ["code"], subject_types_supported: ["public"], id_token_signing_alg_values_supported: ["RS256"], code_challenge_methods_supported: ["S256"] });
    }
    if (u.pathname === "/jwks") return json(res, 200, { keys: [jwk] });
    if (u.pathname === "/authorize") {
      seen.authorize++;
      const q = u.searchParams;
      if (q.get("client_id") !== clientId || q.get("response_type") !== "code" || q.get("code_challenge_method") !== "S256" || !q.get("code_challenge")) {
        return json(res, 400, { error: "invalid_request" });
      }
      const code = b64url(crypto.randomBytes(16));
      codes.set(code, { challenge: q.get("code_challenge"), nonce: q.get("nonce"), redirect: q.get("redirect_uri") });
      const to = new URL(q.get("redirect_uri"));
      to.searchParams.set("code", code); to.searchParams.set("state", q.get("state"));
      res.writeHead(302, { location: to.toString() }); return res.end();
    }
    if (u.pathname === "/token" && req.method === "POST") {
      let raw = "";
      req.on("data", (d) => (raw += d));
      req.on("end", () => {
        seen.token++;
        const f = new URLSearchParams(raw);
        const grant = codes.get(f.get("code"));
        codes.delete(f.get("code"));
        const verifier = f.get("code_verifier") ?? "";
        if (!grant || f.get("grant_type") !== "authorization_code" || f.get("redirect_uri") !== grant.redirect
          || b64url(crypto.createHash("sha256").update(verifier).digest()) !== grant.challenge) {
          return json(res, 400, { error: "invalid_grant" });
        }
        json(res, 200, { access_token: b64url(crypto.randomBytes(16)), token_type: "Bearer", expires_in: 300, id_token: idToken(grant.nonce) });
      });
      return;
    }
    json(res, 404, { error: "not_found" });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    issuer = `http://127.0.0.1:${server.address().port}`;
    resolve({ issuer, seen, close: () => new Promise((r) => server.close(r)) });
  }));
}

export async function oidcTests(suite, browser, backend) {
  if (backend.kind !== "server") {
    await suite.test("oidc (needs the real server)", async () => { throw new Error(`backend is ${backend.kind}`); });
    return;
  }
  await suite.test("oidc: sign in with SSO in the browser, group mapped to a team, the team's project shown", async () => {
    const provider = await startProvider("trackway-e2e", { sub: "u-123", preferred_username: "dana", groups: ["ml-team"] });
    const sso = await startReal(serverBinary(), ["--oidc-group-map", "ml-team=lab:member"],
      { TRACKWAY_OIDC_ISSUER: provider.issuer, TRACKWAY_OIDC_CLIENT_ID: "trackway-e2e", TRACKWAY_OIDC_GROUPS_CLAIM: "groups", TRACKWAY_OIDC_NAME: "E2E IdP" });
    try {
      const call = client(sso.url, sso.key);
      await call("POST", "/teams", { name: "lab" });
      const w = new RunWriter(call, { entity: "lab", project: "vision", run_id: "sso-1", name: "sso-run" });
      await w.start(); w.log(0, { loss: 0.5 }); w.finish(0); await w.flush();
      const page = await newPage(browser, sso.pageUrl, null);
      await page.goto("/signin");
      await page.waitForSelector("#sso-login >> text=Sign in with E2E IdP");
      await shot(page, "oidc-01-signin");
      await page.click("#sso-login");
      const who = await until(page, () => fetch("/api/v1/viewer").then((r) => (r.ok ? r.json() : null)), null, 15000, "signed in by SSO");
      assert(who.username === "dana", `signed in as the provider's user: ${JSON.stringify(who)}`);
      assert(provider.seen.authorize === 1 && provider.seen.token === 1, `one code flow: ${JSON.stringify(provider.seen)}`);
      const cookies = await page.context().cookies();
      const session = cookies.find((c) => c.name === "tw_session");
      assert(session && session.httpOnly && session.sameSite !== "None", `an HttpOnly SameSite session cookie: ${JSON.stringify(session)}`);
      await page.goto("/lab");
      await page.waitForSelector("table.projects >> text=vision");
      await shot(page, "oidc-02-signed-in-team-project");
      const team = await page.evaluate(() => fetch("/api/v1/teams/lab/members").then((r) => r.json()));
      assert(team.some((m) => m.username === "dana" && m.role === "member"), `group mapping made dana a member: ${JSON.stringify(team)}`);
      await page.context().close();
    } finally {
      await sso.stop();
      await provider.close();
    }
  });
}

// Alone: `node e2e/oidc.mjs` (a backend is only needed to say the real server is there).
if (process.argv[1] && import.meta.url.endsWith("/oidc.mjs") && process.argv[1].endsWith("oidc.mjs")) {
  const { launch, Suite } = await import("./lib.mjs");
  const suite = new Suite();
  const browser = await launch();
  try { await oidcTests(suite, browser, { kind: serverBinary() ? "server" : "none" }); } finally { await browser.close(); }
  process.exit(suite.summary() ? 0 : 1);
}
