"""Sign-in back-off, session fixation, and the security headers on every kind of response."""

from __future__ import annotations

import re

import pytest

import secsupport as s

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def make_user(world, username: str, agency: str = s.H41, role: str = "clerk") -> str:
    admin = world.admin
    resp = admin.post("/admin/users", form={"username": username, "full_name": "Người thử", "agency_code": agency,
                                            "roles": role, "password": s.PASSWORD, "_csrf": world.admin_token})
    assert resp.status == 303, resp
    return resp.header("location").rsplit("/", 1)[1]


def test_repeated_failures_pause_sign_in_even_with_the_right_password(world, server_alive):
    uid = make_user(world, "sec.backoff")
    c = s.Client(world.port, "backoff")
    # GOVOFFICE_LOGIN_MAX_FAILURES=5 (default): four failures re-show the form, the fifth starts the pause.
    for i in range(4):
        resp = c.login("sec.backoff", "wrong-password")
        assert resp.status == 200 and "login-form" in resp.text, (i, resp)
    resp = c.login("sec.backoff", "wrong-password")
    assert resp.status == 429 and "login-form" in resp.text, resp
    resp = c.login("sec.backoff", s.PASSWORD)
    assert resp.status == 429, resp
    assert c.get("/", headers={"Accept": "text/html"}).status == 303, "the paused login signed in anyway"
    # An unknown name is paused the same way (no user enumeration by the back-off).
    for i in range(4):
        assert c.login("sec.nobody", "wrong-password").status == 200
    assert c.login("sec.nobody", "wrong-password").status == 429
    # The JSON form of the refusal keeps the status.
    token = c.csrf("/login")
    resp = c.post("/login", form={"username": "sec.backoff", "password": s.PASSWORD, "_csrf": token},
                  headers={"Accept": "application/json"})
    assert resp.status == 429, resp
    # An administrator lifts the pause.
    resp = world.admin.post(f"/admin/users/{uid}/unlock", form={"_csrf": world.admin_token})
    assert resp.status == 303, resp
    resp = c.login("sec.backoff", s.PASSWORD)
    assert resp.status == 303 and resp.header("location") == "/", resp
    c.close()


def test_a_session_id_from_before_sign_in_is_not_the_one_after(world, server_alive):
    make_user(world, "sec.fixation")
    c = s.Client(world.port, "fixation")
    c.csrf("/login")
    # The sign-in page keeps no server-side session (its form is protected by a signed cookie instead), so
    # there is no pre-login id to fix; an id the browser already had is replaced below.
    assert c.session is None, "the anonymous login page wrote a session"
    assert c.cookies.get("govoffice_csrf"), "the login page set no CSRF cookie"
    c.cookies["govoffice_session"] = before = "pre-login-session-id-0123456789abcdef"
    assert c.login("sec.fixation", s.PASSWORD).status == 303
    after = c.session
    assert after and after != before, "sign-in kept the pre-login session id (session fixation)"
    # The old id is worthless: it is not signed in.
    old = s.Client(world.port, "fixation-old")
    old.cookies["govoffice_session"] = before
    assert s.is_login_redirect(old.get("/", headers={"Accept": "text/html"}))
    # An id the attacker planted is never adopted either.
    planted = s.Client(world.port, "planted")
    planted.cookies["govoffice_session"] = "attacker-chosen-session-id-0123456789abcdef"
    planted.csrf("/login")
    planted_before = planted.session
    assert planted.login("sec.fixation", s.PASSWORD).status == 303
    assert planted.session not in (None, "attacker-chosen-session-id-0123456789abcdef", planted_before)
    # After sign-out the session id is worthless, even if it was copied.
    copy = s.Client(world.port, "copy")
    copy.cookies["govoffice_session"] = after
    assert copy.get("/", headers={"Accept": "text/html"}).status == 200
    token = c.csrf("/")
    resp = c.post("/logout", form={"_csrf": token})
    assert s.is_login_redirect(resp), resp
    assert s.is_login_redirect(copy.get("/", headers={"Accept": "text/html"})), "a signed-out session still works"
    resp = copy.get("/api/v1/users", headers={"Accept": "application/json"})
    assert resp.status == 401 and s.error_code(resp) == "not_signed_in", resp
    for x in (c, old, planted, copy):
        x.close()


def test_the_session_cookie_is_httponly_and_samesite(world):
    c = s.Client(world.port, "cookie")
    resp = c.get("/login")
    assert not [v for v in resp.header_all("set-cookie") if v.startswith("govoffice_session=")], \
        "an anonymous GET /login must not start a session"
    csrf = [v for v in resp.header_all("set-cookie") if v.startswith("govoffice_csrf=")]
    assert csrf and "httponly" in csrf[0].lower() and "samesite=lax" in csrf[0].lower(), resp.headers
    resp = c.login(world.users[("clerk", s.G22)], s.PASSWORD)
    cookie = [v for v in resp.header_all("set-cookie") if v.startswith("govoffice_session=")]
    assert cookie, resp.headers
    attrs = cookie[0].lower()
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs, cookie
    if s.FRONT_TLS:
        # Behind the TLS proxy (X-Forwarded-Proto from a trusted peer): Secure.
        assert "secure" in [a.strip() for a in attrs.split(";")[1:]], cookie
    else:
        # Plain HTTP and GOVOFFICE_SECURE_COOKIES=auto: no Secure flag (it would drop the cookie).
        assert "secure" not in [a.strip() for a in attrs.split(";")[1:]], cookie
    c.close()


def _static_file() -> str:
    public = s.REPO_ROOT / "Public"
    for sub in ("css", "img", "js"):
        for f in sorted((public / sub).glob("*")) if (public / sub).is_dir() else []:
            if f.is_file():
                return f"/{sub}/{f.name}"
    raise AssertionError("no static file under Public/")


def test_security_headers_on_pages_api_errors_and_static_files(world):
    c = s.Client(world.port, "headers")
    admin = world.admin
    static = _static_file()
    cases = [
        ("page", c, "GET", "/login", {"Accept": "text/html"}, 200),
        ("signed-in page", admin, "GET", "/admin/users", {"Accept": "text/html"}, 200),
        ("redirect", c, "GET", "/", {"Accept": "text/html"}, 303),
        ("API", c, "GET", "/api/v1/agencies?per_page=1", {}, 200),
        ("API error 404", c, "GET", "/api/v1/agencies/000.00.00.X00", {}, 404),
        ("API error 401", c, "GET", f"{s.API}/inbox", {}, 401),
        ("API error 400", c, "GET", "/api/v1/agencies?page=abc", {}, 400),
        ("page error 404", c, "GET", "/no-such-page", {"Accept": "text/html"}, 404),
        ("page error 403", admin, "POST", "/logout", {"Accept": "text/html"}, 403),
        ("405/404 unknown method", c, "PUT", "/agencies", {"Accept": "application/json"}, None),
        ("static file", c, "GET", static, {}, 200),
        ("static 404", c, "GET", "/css/no-such.css", {}, 404),
        ("health", c, "GET", "/healthz", {}, 200),
        ("metrics", c, "GET", "/metrics", {}, 200),
        ("413", c, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"}, 413),
    ]
    problems = []
    for label, client, method, path, headers, want in cases:
        body = b"a=" + b"x" * (300 * 1024) if want == 413 else None
        resp = client.request(method, path, headers=headers, body=body)
        if want is not None and resp.status != want:
            problems.append(f"{label} {path}: status {resp.status}, expected {want}")
        if resp.status >= 500:
            problems.append(f"{label} {path}: 5xx")
        for name, value in HEADERS.items():
            if resp.header(name) != value:
                problems.append(f"{label} {path}: {name} = {resp.header(name)!r}")
        if not re.fullmatch(r"[\w-]{6,}", resp.header("X-Request-Id") or ""):
            problems.append(f"{label} {path}: X-Request-Id = {resp.header('X-Request-Id')!r}")
        if s.FRONT_TLS and not resp.header("Strict-Transport-Security"):
            problems.append(f"{label} {path}: no HSTS over HTTPS through the proxy")
        elif not s.FRONT_TLS and resp.header("Strict-Transport-Security"):
            problems.append(f"{label} {path}: HSTS over plain HTTP")
        cache = resp.header("Cache-Control")
        if not path.startswith(("/css/", "/img/")) and cache != "no-store":
            problems.append(f"{label} {path}: Cache-Control = {cache!r}")
        if resp.status >= 400 and s.error_code(resp) is None:
            problems.append(f"{label} {path}: {resp.status} without the project's error body ({resp.header('content-type')})")
    c.close()
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(bool(s.FRONT_PORT), reason="behind the proxy the scheme is the proxy's to say")
def test_a_forged_forwarded_proto_switches_on_neither_hsts_nor_secure_cookies(world):
    # The positive case (HSTS behind a trusted proxy) is AuthTests.hstsFollowsHTTPSAndNotTheCookiePolicy.
    c = s.Client(world.port, "hsts")
    resp = c.get("/login", headers={"X-Forwarded-Proto": "https"})
    # GOVOFFICE_TRUST_PROXY is off: a client cannot switch HTTPS behaviour on with a header.
    assert resp.header("Strict-Transport-Security") is None
    assert "secure" not in [a.strip().lower() for v in resp.header_all("set-cookie") for a in v.split(";")]
    c.close()


@pytest.mark.skipif(not s.FRONT_PORT, reason="needs the proxy of GOVOFFICE_SECURITY_BASE_URL")
def test_behind_the_proxy_the_audited_client_address_is_the_real_one(world):
    """A client (on 127.0.0.3, not a trusted proxy) forges a left-most X-Forwarded-For; nginx appends
    the address it really saw; the audit trail must name that one, never the forged one."""
    username = s.unique("sec.spoof.")
    c = s.Client(world.port, "spoof", source="127.0.0.3")
    token = c.csrf("/login")
    resp = c.post("/login", form={"username": username, "password": "wrong", "_csrf": token},
                  headers={"X-Forwarded-For": "203.0.113.66"})
    assert resp.status in (200, 400, 401, 429), resp
    c.close()
    with world.db() as db:
        ips = [row[0] for row in db.execute("SELECT ip FROM audit_log WHERE entity_id = ?", (username,))]
    assert ips, f"no audit record of the failed sign-in of {username}"
    assert all(ip == "127.0.0.3" for ip in ips), ips


def test_static_files_cannot_escape_the_public_folder(world):
    c = s.Client(world.port, "traversal")
    for path in ("/../Package.swift", "/css/../../Package.swift", "/css/..%2f..%2fPackage.swift",
                 "/%2e%2e/Package.swift", "/css/%2e%2e/%2e%2e/Package.swift", "/..%5cPackage.swift",
                 "/css/....//....//Package.swift", "/%2e%2e%2f%2e%2e%2fetc/passwd", "/css/%00.css"):
        resp = c.get(path)
        assert resp.status < 500, (path, resp)
        assert b"swift-tools-version" not in resp.body and b"root:" not in resp.body, f"{path} served a file outside Public/"
        if resp.status >= 400:
            assert s.error_code(resp), (path, resp)
    c.close()


def test_login_redirects_only_to_local_paths(world):
    make_user(world, "sec.redirect")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/%0d%0aSet-Cookie:x=y"):
        c = s.Client(world.port, "redirect")
        token = c.csrf("/login")
        resp = c.post("/login", form={"username": "sec.redirect", "password": s.PASSWORD, "_csrf": token, "next": target})
        assert resp.status == 303, resp
        location = resp.header("location")
        assert location.startswith("/") and not location.startswith("//") and "evil" not in location, (target, location)
        assert "\r" not in location and "\n" not in location
        c.close()


def test_huge_credentials_are_refused_not_crashed(world, server_alive):
    """bcrypt reads at most 72 bytes: a long password must be a clear 4xx (or a plain failure), never a 5xx."""
    c = s.Client(world.port, "huge")
    token = c.csrf("/login")
    for username, password in (("sec.huge", "P@ss1" + "x" * 100_000), ("u" * 100_000, "x"), ("sec.huge\x00admin", "x")):
        resp = c.post("/login", form={"username": username, "password": password, "_csrf": token})
        assert resp.status in (200, 400, 429), resp
    admin = world.admin
    for password in ("Aa1!" + "x" * 100, "Aa1!" + "x" * 100_000, "Aa1!xxxx\x00yyyy"):
        resp = admin.post("/admin/users", form={"username": s.unique("sec.pw."), "full_name": "Mật khẩu dài",
                                                "agency_code": s.H41, "roles": "clerk", "password": password,
                                                "_csrf": world.admin_token})
        assert resp.status in (303, 400), (len(password), resp)
    c.close()
