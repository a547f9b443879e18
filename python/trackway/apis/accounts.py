"""Account administration on `Api`: users, teams, members, invites, API keys, project
visibility and the audit log (docs/teams.md). Each method is one REST call."""


def _q(part):
    import urllib.parse

    return urllib.parse.quote(str(part), safe="")


class AccountsMixin:
    """Mixed into `Api`; uses its `_http` and `_split`."""

    # --- users (server admins) ----------------------------------------------------------
    def users(self):
        return self._http.get("/api/v1/admin/users")

    def create_user(self, username, password=None, admin=False, service=False):
        """A user (with `password` for sign-in), or a service account (`service=True`: keys
        only; create one with `create_api_key(user=...)`)."""
        body = {"username": username, "admin": admin, "service": service}
        if password is not None:
            body["password"] = password
        return self._http.request("POST", "/api/v1/admin/users", body=body)

    def deactivate_user(self, username):
        """Their keys and sessions stop working at once."""
        return self._http.patch(f"/api/v1/admin/users/{_q(username)}", {"active": False})

    def activate_user(self, username):
        return self._http.patch(f"/api/v1/admin/users/{_q(username)}", {"active": True})

    # --- teams ----------------------------------------------------------------------------
    def teams(self):
        return self._http.get("/api/v1/teams")

    def create_team(self, name):
        return self._http.request("POST", "/api/v1/teams", body={"name": name})

    def team_members(self, team):
        return self._http.get(f"/api/v1/teams/{_q(team)}/members")

    def set_member(self, team, username, role="member"):
        """Adds a member or changes a role: "admin", "member" or "viewer"."""
        path = f"/api/v1/teams/{_q(team)}/members/{_q(username)}"
        return self._http.request("PUT", path, body={"role": role})

    def remove_member(self, team, username):
        self._http.request("DELETE", f"/api/v1/teams/{_q(team)}/members/{_q(username)}")

    def invite(self, team, role="member", expires_in=None):
        """An invite link: {"token", "url", "info"}; the link is shown only now."""
        body = {"role": role, "expires_in": expires_in}
        return self._http.request("POST", f"/api/v1/teams/{_q(team)}/invites", body=body)

    # --- keys -----------------------------------------------------------------------------
    def api_keys(self):
        return self._http.get("/api/v1/keys")

    def create_api_key(
        self, name=None, expires_in=None, read_only=False, ingest_only=False, entity=None, user=None
    ):
        """A new key {"key", "info"} (the secret is shown only now). `user=` makes one for
        another user, e.g. a service account (server admins)."""
        scope = {"read_only": read_only, "ingest_only": ingest_only, "entity": entity}
        body = {"name": name, "expires_in": expires_in, "scope": scope}
        path = f"/api/v1/admin/users/{_q(user)}/keys" if user else "/api/v1/keys"
        return self._http.request("POST", path, body=body)

    def revoke_api_key(self, key_id):
        return self._http.request("DELETE", f"/api/v1/keys/{int(key_id)}")

    # --- projects -------------------------------------------------------------------------
    def set_project_visibility(self, path, visibility):
        """ "private" (team only), "team" (every signed-in user) or "public" (anyone with the link)."""
        entity, project = self._split(path, 2)
        url = f"/api/v1/projects/{_q(entity)}/{_q(project)}/visibility"
        return self._http.request("PUT", url, body={"visibility": visibility})

    def move_project(self, path, entity):
        """Moves a project and its runs to another entity (admin of both)."""
        src, project = self._split(path, 2)
        url = f"/api/v1/projects/{_q(src)}/{_q(project)}/move"
        return self._http.request("POST", url, body={"entity": entity})

    def audit_log(self, limit=100):
        return self._http.get("/api/v1/admin/audit", {"limit": limit})
