"""CSRF on every form: the pages are fetched as the system administrator, every
<form method=post> is collected, and each one (plus every browser POST route of the access table,
so forms that only appear in some states, e.g. redeliver, are covered too) is refused without the
token, with a wrong token and with another session's token: 403 csrf_invalid, nothing changed
(the audit trail, which records every change, does not grow).
"""

from __future__ import annotations

import re

import access_matrix as am
import secsupport as s

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
INPUT = re.compile(r"<(?:input|select|textarea)\b([^>]*)>", re.I)


def forms_on(html: str) -> list[tuple[str, dict]]:
    out = []
    for attrs, inner in FORM.findall(html):
        a = dict(ATTR.findall(attrs))
        if a.get("method", "get").lower() != "post":
            continue
        fields = {}
        for inp in INPUT.findall(inner):
            ia = dict(ATTR.findall(inp))
            if "name" in ia and ia["name"] != "_csrf":
                fields[ia["name"]] = ia.get("value", "x")
        out.append((a.get("action", ""), fields, a.get("enctype", "")))
    return out


def page_paths(world) -> list[str]:
    paths = []
    for r in am.ROUTES:
        if r.method != "GET" or r.path.startswith("/api/") or r.access == am.SYSTEM:
            continue
        if r.path in ("/logout", "/favicon.ico", "/healthz", "/readyz", "/metrics", "/openapi.yaml", "/agencies.csv") \
                or r.path.startswith("/lang/"):
            continue
        path = r.path
        if r.target:
            value = world.targets[r.target][s.G22]
            path = path + value if r.target == "agency_query" else re.sub(r":[a-z]+", value, path, count=1)
        paths.append(path)
    return paths


def route_of(path: str) -> am.Route | None:
    for r in am.ROUTES:
        if r.method == "POST" and re.fullmatch(re.sub(r":[a-z]+", r"[^/]+", r.path), path):
            return r
    return None


def audit_count(world) -> int:
    with world.db() as db:
        return db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]


def test_every_form_refuses_a_missing_or_wrong_token(world, server_alive):
    admin = s.Client(world.port, "csrf-admin")
    assert admin.login("admin", s.DEMO_PASSWORD).status == 303
    other = s.Client(world.port, "csrf-other")
    assert other.login("sec.g22.system_admin", s.PASSWORD).status == 303
    foreign_token = other.csrf("/")
    admin.csrf("/")

    found: dict[str, tuple] = {}
    anon = s.Client(world.port, "csrf-anon")
    for path in page_paths(world):
        for client in (admin, anon):
            resp = client.get(path, headers={"Accept": "text/html"})
            assert resp.status < 500, resp
            for action, fields, enctype in forms_on(resp.text):
                found.setdefault(action, (fields, enctype, path))
    assert "/login" in found and "/logout" in found and "/admin/users" in found, sorted(found)
    unknown = [a for a in found if route_of(a) is None]
    assert not unknown, f"forms post to routes the access table does not know: {unknown}"

    # Every browser POST route, whether or not a form for it was on a page just now.
    targets = dict(found)
    for r in am.ROUTES:
        if r.method == "POST" and not r.path.startswith("/api/"):
            path = r.path
            if r.target:
                path = re.sub(r":[a-z]+", world.targets[r.target][s.G22], path, count=1)
            if route_of(path) and not any(route_of(a) == r for a in targets):
                targets[path] = ({}, "multipart/form-data" if "import" in path else "", "(access table)")

    problems = []
    before = audit_count(world)
    for action, (fields, enctype, page) in sorted(targets.items()):
        for label, token in (("no token", None), ("wrong token", "A" * 43), ("another session's token", foreign_token),
                             ("empty token", "")):
            data = dict(fields)
            if token is not None:
                data["_csrf"] = token
            if enctype == "multipart/form-data":
                import test_access_matrix as tm
                body, ctype = tm.multipart(data, [("file", "a.csv", "text/csv", b"code,name\n000.00.00.Z98,X\n")])
                resp = admin.post(action, body=body, headers={"Content-Type": ctype, "Accept": "text/html"})
            else:
                resp = admin.post(action, form=data, headers={"Accept": "text/html"})
            if resp.status != 403 or s.error_code(resp) != "csrf_invalid":
                problems.append(f"{action} ({label}, form from {page}): {resp.status} {s.error_code(resp)}")
        # The header form of the token is checked too.
        resp = admin.post(action, form=fields, headers={"X-CSRF-Token": "B" * 43, "Accept": "application/json"})
        if resp.status != 403 or s.error_code(resp) != "csrf_invalid":
            problems.append(f"{action} (wrong X-CSRF-Token): {resp.status} {s.error_code(resp)}")
    after = audit_count(world)
    print(f"\nCSRF: {len(found)} forms found on {len(page_paths(world))} pages, {len(targets)} POST targets checked")
    assert not problems, "\n".join(problems)
    assert after == before, f"refused forms changed something: the audit trail grew by {after - before}"
    # And the admin is still signed in: the refusals did not end the session.
    assert admin.get("/", headers={"Accept": "text/html"}).status == 200
    for c in (admin, other, anon):
        c.close()


def test_the_api_needs_no_csrf_token_but_a_session_cookie_is_no_api_credential(world):
    """The JSON API authenticates with the system's key, never with a browser cookie, so CSRF
    through a signed-in browser cannot reach it."""
    admin = s.Client(world.port, "csrf-api")
    assert admin.login("admin", s.DEMO_PASSWORD).status == 303
    for method, path in (("POST", f"{s.API}/webhooks"), ("GET", f"{s.API}/inbox"), ("GET", "/api/v1/system/whoami")):
        resp = admin.request(method, path, json_body={"url": "http://127.0.0.1:9/x", "secret": "z" * 20}
                             if method == "POST" else None)
        assert resp.status == 401 and s.error_code(resp) == "system_credentials_missing", resp
    admin.close()
