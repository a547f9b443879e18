// Teams in the browser against the real server: an admin creates an invite link on the team
// page; a new user opens it signed out, joins with a password and sees the team's project; a
// viewer (joined by another invite) signs in with a password and can neither change roles nor
// edit a run (the server answers 403 to the page's own request).

import { assert, newPage, shot } from "./lib.mjs";
import { RunWriter } from "./backend.mjs";

export async function teamsTests(suite, browser, backend, call) {
  if (backend.kind !== "server") {
    await suite.test("teams (needs the real server)", async () => { throw new Error(`backend is ${backend.kind}`); });
    return;
  }
  await call("POST", "/teams", { name: "lab" });
  const w = new RunWriter(call, { entity: "lab", project: "vision", run_id: "lab-1", name: "lab-run" });
  await w.start();
  w.log(0, { loss: 0.5 });
  w.finish(0);
  await w.flush();

  await suite.test("teams: invite → accept → the new member sees the team's project", async () => {
    const admin = await newPage(browser, backend.pageUrl, backend.key);
    await admin.goto("/teams/lab");
    await admin.waitForSelector("#make-invite");
    await admin.selectOption("#invite-role", "member");
    await admin.click("#make-invite");
    const url = await (await admin.waitForSelector("#invite-url")).textContent();
    await shot(admin, "teams-01-invite");
    await admin.context().close();

    const guest = await newPage(browser, backend.pageUrl, null);
    await guest.goto(new URL(url).pathname);
    await guest.waitForSelector("text=Join lab");
    await guest.fill("#invite-user", "newbie");
    await guest.fill("#invite-password", "newbie-password");
    await guest.click("#invite-join");
    await guest.waitForSelector("table.projects >> text=vision");
    await shot(guest, "teams-02-member-sees-project");
    const who = await guest.evaluate(() => fetch("/api/v1/viewer").then((r) => r.json()));
    assert(who.username === "newbie", `signed in as newbie by cookie, got ${JSON.stringify(who)}`);
    await guest.context().close();
  });

  await suite.test("teams: a viewer signs in with a password and cannot edit", async () => {
    const inv = await call("POST", "/teams/lab/invites", { role: "viewer" });
    const res = await fetch(`${backend.url}/api/v1/invites/${inv.token}/accept`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: "vera", password: "vera-password" }) });
    assert(res.ok, `accept: ${res.status}`);
    const page = await newPage(browser, backend.pageUrl, null);
    await page.goto("/signin?next=/teams/lab");
    await page.fill("#login-user", "vera");
    await page.fill("#login-password", "vera-password");
    await page.click("#password-login button[type=submit]");
    await page.waitForSelector("#members select.role");
    const editable = await page.$$eval("#members select.role", (els) => els.filter((e) => !e.disabled).length);
    assert(editable === 0, `a viewer gets no role controls (${editable} enabled)`);
    assert((await page.$("#make-invite")) === null, "a viewer cannot make invites");
    await shot(page, "teams-03-viewer");
    const status = await page.evaluate(async () => {
      const csrf = /(?:^|;\s*)tw_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? "";
      const r = await fetch("/api/v1/runs/lab/vision/lab-1", { method: "PATCH", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify({ notes: "x" }) });
      return r.status;
    });
    assert(status === 403, `a viewer's edit is refused with 403, got ${status}`);
    const read = await page.evaluate(() => fetch("/api/v1/runs/lab/vision/lab-1").then((r) => r.status));
    assert(read === 200, `a viewer reads the run, got ${read}`);
    await page.context().close();
  });
}
