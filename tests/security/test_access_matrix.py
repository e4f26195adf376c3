"""The authorization matrix: every route of `govoffice routes` × every principal (anonymous, each
role in two agencies, each agency's API system) × (own agency, other agency) against the declared
table in access_matrix.py. Allowed → not 401/403 (and never 5xx); refused → 401/403 (303 to
/login for a page without a session; 404 where the table says the object is hidden) with the
project's error body or page.
"""

from __future__ import annotations

import re
import uuid

import pytest

import access_matrix as am
import conftest
import secsupport as s

ROUTE_LINE = re.compile(r"^\|\s*([A-Z]+)\s*\|\s*(\S+)\s*\|")


def listed_routes(world) -> list[tuple]:
    out = []
    for line in world.routes_output.splitlines():
        m = ROUTE_LINE.match(line.strip())
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def test_routes_command_lists_the_routes(world):
    routes = listed_routes(world)
    assert len(routes) >= 40, f"`govoffice routes` printed too few routes:\n{world.routes_output}"
    assert ("GET", "/healthz") in routes and ("POST", "/api/v1/exchange/messages") in routes


def test_every_route_is_classified(world):
    routes = listed_routes(world)
    missing = [f"{m} {p}" for m, p in routes if am.key(m, p) not in am.TABLE]
    assert not missing, ("routes not classified in tests/security/access_matrix.py (add who may use them): "
                         + ", ".join(missing))
    stale = [f"{r.method} {r.path}" for r in am.ROUTES if (r.method, r.path) not in set(routes)]
    assert not stale, "access_matrix.py lists routes the server no longer has: " + ", ".join(stale)


# ---------------------------------------------------------------- request bodies

def _short(agency):
    return [k for k, v in conftest.AGENCIES.items() if v == agency][0]


BODIES = {
    "login_wrong": lambda w, t: {"form": {"username": "nobody.sec", "password": "wrong-password"}},
    "csv_invalid": lambda w, t: {"multipart": [("file", "bad.csv", "text/csv", b"code,level\n000.00.00.Z99,x\n")]},
    "state_active": lambda w, t: {"form": {"state": "active"}},
    "department": lambda w, t: {"form": {"code": s.unique("P"), "name": "Phòng thử bảo mật", "kind": "phong"}},
    "new_user": lambda w, t: {"form": {"username": s.unique("sec.new."), "full_name": "Người dùng mới",
                                       "agency_code": t, "roles": "clerk", "password": s.PASSWORD}},
    "user_update": lambda w, t: {"form": {"full_name": f"Người dùng target {_short(t)}", "roles": "clerk",
                                          "state": "active"}},
    "password": lambda w, t: {"form": {"password": s.PASSWORD}},
    "new_system": lambda w, t: {"form": {"agency_code": t, "system_id": s.unique("new-"), "name": "Hệ thống mới"}},
    "pem_garbage": lambda w, t: {"form": {"pem": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----"}},
    "fingerprint_unknown": lambda w, t: {"form": {"fingerprint": "00" * 32}},
    "revoke_bad_reason": lambda w, t: {"form": {"issuer": "CN=Nobody", "serial": "01", "reason": "no-such-reason"}},
    "bind_garbage": lambda w, t: {"form": {"pem": "garbage", "agency_code": t or s.G22, "kind": "agency"}},
    "edxml_from_target": lambda w, t: {"raw": s.build_document(t, [s.H37], s.unique("m")),
                                       "content_type": "application/xml"},
    "ack_done": lambda w, t: {"json": {"outcome": "done"}},
    "webhook": lambda w, t: {"json": {"url": "http://127.0.0.1:9/matrix", "secret": "m" * 20}},
    # Only the CSRF field: the office answers 400 (no type, no subject) once past the role check.
    "multipart_empty": lambda w, t: {"multipart": []},
    "calendar_entry_invalid": lambda w, t: {"form": {"kind": "work", "title": "Kiểm tra bảo mật",
                                                     "start": "2030-01-07T10:00", "end": "2030-01-07T09:00"}},
    "calendar_room_invalid": lambda w, t: {"form": {"name": ""}},
    "calendar_feed_person": lambda w, t: {"form": {"scope": "person"}},
    # A code without a dot: the office's staff get 400 work_file_code_invalid, nothing is opened.
    "work_file_invalid": lambda w, t: {"form": {"code": "KIEMTRA", "title": "Kiểm tra bảo mật", "retention": "permanent"}},
    "work_file_document": lambda w, t: {"form": {"document": "00000000-0000-4000-8000-000000000000"}},
}


def multipart(fields: dict, files: list) -> tuple[bytes, str]:
    boundary = "----secsuite" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode()
    for name, filename, ctype, data in files:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                f"Content-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


class Caller:
    """A principal's one keep-alive connection, signed in, with its CSRF token."""

    def __init__(self, world, p: conftest.Principal):
        self.world, self.p = world, p
        self.client = s.Client(world.port, p.name)
        self.headers = {}
        if p.kind == "user":
            resp = self.client.login(p.username, s.PASSWORD)
            assert resp.status == 303 and resp.header("location") == "/", f"{p.username} cannot sign in: {resp}"
            self.token = self.client.csrf("/")
        else:
            # A session without a user (the login page's), so that forms get past CSRF and meet the
            # authorization check itself.
            self.token = self.client.csrf("/login")
            if p.kind == "system":
                self.headers = world.system_headers(f"sec-{_short(p.agency)}")

    def call(self, route: am.Route, target: str | None) -> s.Response:
        path = route.path
        if route.prepare == "webhook":
            conftest_target = conftest.new_webhook(self.world, target)
            value = conftest_target
        else:
            value = self.world.targets[route.target][target] if route.target else None
        if route.target == "agency_query":
            path += value
        elif value is not None:
            path = re.sub(r":[a-z]+", value, path, count=1)
        api = path.startswith("/api/") or path in ("/healthz", "/readyz")
        headers = dict(self.headers)
        headers["Accept"] = "application/json" if api else "text/html"
        spec = BODIES[route.body](self.world, target) if route.body else {}
        browser_form = route.method == "POST" and not path.startswith("/api/")
        body = None
        if "form" in spec or (browser_form and not spec):
            form = dict(spec.get("form", {}))
            form["_csrf"] = self.token
            return self.client.request(route.method, path, form=form, headers=headers)
        if "multipart" in spec:
            body, ctype = multipart({"_csrf": self.token}, spec["multipart"])
            headers["Content-Type"] = ctype
        elif "json" in spec:
            return self.client.request(route.method, path, json_body=spec["json"], headers=headers)
        elif "raw" in spec:
            body = spec["raw"]
            headers["Content-Type"] = spec["content_type"]
        return self.client.request(route.method, path, body=body, headers=headers)


def check(route: am.Route, p, target, resp: s.Response) -> str | None:
    """None when the answer fits the table; otherwise what is wrong."""
    exp = am.expected(route, p, target)
    where = f"{route.method} {route.path} as {p.name} on {target or '-'}: expected {exp}, got {resp.status}"
    if resp.status >= 500:
        return f"{where} (5xx) {resp.body[:200]!r}"
    if exp == "allow":
        refused = {401, 403} | (set(route.deny_other) if route.scoped else set())
        if resp.status in refused or s.is_login_redirect(resp) and route.path != "/logout":
            return f"{where} (refused) {resp.body[:200]!r}"
        return None
    if exp == "deny_auth":
        if resp.status == 303 and route.method == "GET" and s.is_login_redirect(resp):
            return None
        ok = resp.status == 401
    elif exp == "deny_role":
        ok = resp.status == 403
    else:
        ok = resp.status in route.deny_other
    if not ok:
        return f"{where} {resp.body[:200]!r}"
    if s.error_code(resp) is None:
        return f"{where}: the refusal lacks the project's error body/page ({resp.header('content-type')}) {resp.body[:200]!r}"
    return None


def test_authorization_matrix(world, principals, server_alive):
    routes = [r for r in am.ROUTES if (r.method, r.path) in set(listed_routes(world))]
    routes.sort(key=lambda r: r.last)
    problems, cells = [], 0
    for p in principals:
        caller = Caller(world, p)
        for route in routes:
            targets = list(conftest.AGENCIES.values()) if (route.scoped or route.target) else [None]
            for target in targets:
                resp = caller.call(route, target)
                cells += 1
                problem = check(route, p, target, resp)
                if problem:
                    problems.append(problem)
        caller.client.close()
    print(f"\nauthorization matrix: {len(routes)} routes x {len(principals)} principals, {cells} requests, "
          f"{len(problems)} problems")
    assert not problems, "\n".join(problems[:80]) + (f"\n... {len(problems) - 80} more" if len(problems) > 80 else "")


def test_no_cross_agency_changes_in_the_audit_trail(world, principals):
    """After the matrix: no user or system of one agency changed an object of the other.

    The audit log files an action under the actor's own agency unless the action names another one,
    so the agency column alone would hide a cross-agency change: the check goes by the objects the
    matrix aimed at (each agency's target user and systems) and by the agency column."""
    # The audit log names users by username and systems by system id.
    owner = {}
    for short, code in conftest.AGENCIES.items():
        for name in (f"sec.{short}.target", f"rot-{short}", f"rev-{short}"):
            owner[name.lower()] = code
    with world.db() as db:
        rows = db.execute("SELECT actor, agency_code, action, entity_id FROM audit_log WHERE actor LIKE 'user:sec.%' "
                          "OR actor LIKE 'system:sec-%'").fetchall()
    wrong = []
    touched = 0
    for actor, agency, action, entity in rows:
        short = re.match(r"(?:user:sec\.|system:sec-)(g22|h41|h37)", actor)
        # System administrators act on every agency by design.
        if not short or actor.endswith(".system_admin"):
            continue
        home = {"g22": s.G22, "h41": s.H41, "h37": s.H37}[short.group(1)]
        target = owner.get(str(entity or "").lower())
        if target is not None:
            touched += 1
        for other in (agency, target):
            if other is not None and other != home:
                wrong.append(f"{actor} {action} {entity or ''} of {other}")
    # The matrix's allowed calls (an agency admin rotating its own system, resetting its own user…)
    # must have left records about the target objects, or this check proves nothing.
    assert touched, "no audit record names a target object: did the allowed calls run?"
    assert not wrong, "cross-agency changes: " + ", ".join(wrong)


def test_cross_agency_hub_objects_stay_untouched(world):
    """A system of H41 cannot fetch, acknowledge, read the history of, or delete G22's objects,
    whatever the form of the id (upper case, braces, another agency's delivery)."""
    c = s.Client(world.port, "cross")
    h41 = world.system_headers("sec-h41")
    mid = world.targets["message_to"][s.G22]
    for path in (f"{s.API}/messages/{mid}", f"{s.API}/messages/{mid.upper()}",
                 f"{s.API}/messages/{world.targets['message_from'][s.G22]}/history",
                 f"{s.API}/messages/{world.targets['message_from'][s.G22]}/receipt"):
        resp = c.get(path, headers=h41)
        assert resp.status == 404 and s.error_code(resp) == "message_not_found", resp
    resp = c.post(f"{s.API}/messages/{mid}/ack", json_body={"outcome": "failed", "reason": "not mine"}, headers=h41)
    assert resp.status == 404, resp
    with world.db() as db:
        states = db.execute("SELECT recipient_code, state FROM exchange_deliveries WHERE lower(message_id) = ?",
                            (mid.lower(),)).fetchall()
    assert states and all(code == s.G22 and state != "failed" for code, state in states), states
    hook = conftest.new_webhook(world, s.G22)
    resp = c.request("DELETE", f"{s.API}/webhooks/{hook}", headers=h41)
    assert resp.status == 404, resp
    resp = c.get(f"{s.API}/webhooks", headers=world.system_headers("sec-g22-hook"))
    assert hook in resp.text, "G22's webhook was deleted by H41"
    # The inbox is the caller's own: H41's never lists a message addressed to G22 only.
    resp = c.get(f"{s.API}/inbox?limit=500", headers=h41)
    assert resp.status == 200 and mid not in resp.text.lower(), resp
    c.close()


def test_rotated_and_revoked_system_secrets_are_worthless(world):
    """Rotating (rot-*) and revoking (rev-*) through the admin page: the secrets the fixtures were
    issued no longer open the API (401), in either header form; the rotated secret does."""
    admin = world.admin
    new_secrets = {}
    for name in ("rot-g22", "rot-h41", "rev-g22", "rev-h41"):
        action = "rotate" if name.startswith("rot") else "revoke"
        code = world.systems[name]["agency"]
        row = world.targets["system_rotate" if action == "rotate" else "system_revoke"][code]
        resp = admin.post(f"/admin/systems/{row}/{action}", form={"_csrf": world.admin_token})
        assert resp.status in (200, 303), resp
        m = re.search(r'id="issued-secret-value">([^<]+)<', resp.text)
        if action == "rotate":
            assert m, resp
            new_secrets[name] = m.group(1)
    c = s.Client(world.port, "secrets")
    for name in ("rot-g22", "rot-h41", "rev-g22", "rev-h41"):
        sysinfo = world.systems[name]
        for headers in ({"X-SystemId": sysinfo["id"], "X-SecretKey": sysinfo["secret"]},
                        {"Authorization": f"Bearer {sysinfo['secret']}"}):
            resp = c.get("/api/v1/system/whoami", headers=headers)
            assert resp.status == 401 and s.error_code(resp), (name, resp)
    for name, secret in new_secrets.items():
        resp = c.get("/api/v1/system/whoami", headers={"X-SystemId": name, "X-SecretKey": secret})
        assert resp.status == 200 and resp.json()["system_id"] == name, resp
    # One system's secret with another system's id is refused too.
    resp = c.get("/api/v1/system/whoami", headers={"X-SystemId": world.systems["sec-g22"]["id"],
                                                   "X-SecretKey": world.systems["sec-h41"]["secret"]})
    assert resp.status == 401, resp
    resp = c.get("/api/v1/system/whoami", headers=world.system_headers("sec-h41"))
    assert resp.status == 200 and resp.json()["agency_code"] == s.H41, resp
    c.close()
