// The accounts pages' routes, matched before the run pages' router: /teams, /teams/<team>,
// /profile, /invite/<token>, and the reports: /reports/<entity>, /reports/<entity>/<id> (open
// without signing in: a public report is read through its link).
import { teamsView, teamView } from "./team";
import { profileView, inviteView } from "./profile";
import { reportsListView, reportView } from "./report";

export interface AccountRoute { open: boolean; title: string; render: (el: HTMLElement) => () => void }

export function accountRoute(path: string): AccountRoute | null {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "teams" && parts.length === 1) return { open: false, title: "Teams", render: teamsView };
  if (parts[0] === "teams" && parts.length === 2) return { open: false, title: `Team ${parts[1]}`, render: (el) => teamView(el, parts[1]) };
  if (parts[0] === "profile" && parts.length === 1) return { open: false, title: "Profile", render: profileView };
  if (parts[0] === "reports" && parts.length === 2) return { open: true, title: `Reports of ${parts[1]}`, render: (el) => reportsListView(el, parts[1]) };
  if (parts[0] === "reports" && parts.length === 3 && /^\d+$/.test(parts[2])) return { open: true, title: "Report", render: (el) => reportView(el, parts[1], Number(parts[2])) };
  if (parts[0] === "invite" && parts.length === 2) return { open: true, title: "Invite", render: (el) => inviteView(el, parts[1]) };
  return null;
}
