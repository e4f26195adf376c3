"""Helpers of the black-box security suite: the server process, a keep-alive HTTP client with
cookies and the CSRF token, the project's error-body checks, edXML documents for the hub.

Python 3 standard library only.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
_LIB = str(REPO_ROOT / "tests" / "lib")  # tests/lib: the harnesses' shared code
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)
from hubtest import ServerProcess, agency, edxml_document  # noqa: E402

PASSWORD = "SecSuite@2026x"
DEMO_PASSWORD = "GovOffice@2026"
G22, H41, H37 = "000.00.00.G22", "000.00.00.H41", "000.00.00.H37"
API = "/api/v1/exchange"

# The suite can run against a reverse proxy in front of the server (scripts/test's nginx stage):
# GOVOFFICE_SECURITY_BASE_URL=https://127.0.0.1:PORT is where every test request goes, and
# GOVOFFICE_SECURITY_APP_PORT the port `govoffice serve` is started on behind it (the proxy's
# upstream). Unset: the tests talk to the server directly over plain HTTP.
_FRONT = urllib.parse.urlsplit(os.environ.get("GOVOFFICE_SECURITY_BASE_URL", ""))
FRONT_PORT: int | None = _FRONT.port if _FRONT.hostname else None
FRONT_TLS = _FRONT.scheme == "https"
APP_PORT: int | None = int(os.environ["GOVOFFICE_SECURITY_APP_PORT"]) if os.environ.get("GOVOFFICE_SECURITY_APP_PORT") else None


# GOVOFFICE_TEST_SIGNATURES=production: the server refuses unsigned messages and checks
# revocation hard (GOVOFFICE_UNSIGNED=refuse, GOVOFFICE_OCSP=hard), as in production, and the
# suite's documents are signed with their sender's demo key (set_signer, by conftest).
PRODUCTION_SIGNATURES = os.environ.get("GOVOFFICE_TEST_SIGNATURES") == "production"
_signer = None


def set_signer(signer) -> None:
    """SIGNER(sender_code, document_bytes) -> signed bytes, used by build_document from now on."""
    global _signer
    _signer = signer


def _tls_context() -> ssl.SSLContext:
    # The proxy's certificate is a throwaway self-signed one made for the run.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def open_socket(port: int, timeout: float, source: str | None = None) -> socket.socket:
    """A raw connection to PORT on loopback, TLS when PORT is the HTTPS front (from SOURCE, a
    loopback address, when given)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                    source_address=(source, 0) if source else None)
    if FRONT_TLS and port == FRONT_PORT:
        sock = _tls_context().wrap_socket(sock)
    return sock


# ---------------------------------------------------------------- the server


class Server(ServerProcess):
    """`govoffice serve` on a free loopback port; the log goes to WORKDIR/server.log."""

    def __init__(self, binary: str, env: dict, workdir: Path, port: int | None = None):
        super().__init__(binary, env, workdir / "server.log", port=port, cwd=REPO_ROOT, banner=False)
        self.workdir = workdir

    def cli(self, *args, check=True, extra_env=None) -> subprocess.CompletedProcess:
        env = dict(self.env, **(extra_env or {}))
        res = subprocess.run([self.binary, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, cwd=REPO_ROOT, timeout=120)
        if check and res.returncode != 0:
            raise RuntimeError(f"govoffice {' '.join(args)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}")
        return res

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


# ---------------------------------------------------------------- HTTP


@dataclass
class Response:
    status: int
    headers: list
    body: bytes
    method: str = ""
    path: str = ""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name: str) -> list:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.method} {self.path} -> {self.status} {self.body[:300]!r}>"


def error_code(resp: Response) -> str | None:
    """The project's error code from a JSON error body or an HTML error page; None if neither."""
    ctype = (resp.header("content-type") or "").lower()
    if "json" in ctype:
        try:
            err = resp.json().get("error", {})
        except (ValueError, AttributeError):
            return None
        if isinstance(err, dict) and isinstance(err.get("code"), str) and isinstance(err.get("message"), str) \
                and err.get("message_vi") and err.get("message_en"):
            return err["code"]
        return None
    if "html" in ctype:
        m = re.search(r'id="error-code">([^<]+)<', resp.text)
        return m.group(1) if m else None
    return None


def is_login_redirect(resp: Response) -> bool:
    return resp.status in (302, 303) and (resp.header("location") or "").startswith("/login")


class Client:
    """One keep-alive connection with a cookie jar (the session and language cookies)."""

    def __init__(self, port: int, name: str = "", accept: str | None = None, source: str | None = None):
        self.port = port
        self.source = source
        self.name = name
        self.accept = accept
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.extra_headers: dict[str, str] = {}
        self.requests = 0

    def _connect(self):
        if self.conn is None:
            source = (self.source, 0) if self.source else None
            if FRONT_TLS and self.port == FRONT_PORT:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, source_address=source,
                                                        context=_tls_context())
            else:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=source)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                form: dict | list | None = None, json_body=None, cookies: bool = True) -> Response:
        hdrs = dict(self.extra_headers)
        if self.accept:
            hdrs["Accept"] = self.accept
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        if cookies and self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None or method in ("POST", "PUT", "PATCH"):
            hdrs.setdefault("Content-Length", str(len(body or b"")))
        for attempt in (0, 1):
            conn = self._connect()
            try:
                conn.request(method, path, body=body, headers=hdrs)
                raw = conn.getresponse()
                data = raw.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                self.close()
                if attempt == 1:
                    raise
        self.requests += 1
        resp = Response(raw.status, raw.getheaders(), data, method, path)
        if cookies:
            for value in resp.header_all("set-cookie"):
                self._store_cookie(value)
        if (resp.header("connection") or "").lower() == "close":
            self.close()
        return resp

    def _store_cookie(self, header: str):
        parts = [p.strip() for p in header.split(";")]
        name, _, value = parts[0].partition("=")
        attrs = {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts[1:]}
        expired = attrs.get("max-age") == "0" or "1970" in attrs.get("expires", "")
        if expired or value == "":
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def get(self, path, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path, **kw) -> Response:
        return self.request("POST", path, **kw)

    @property
    def session(self) -> str | None:
        return self.cookies.get("govoffice_session")

    def csrf(self, path: str = "/") -> str:
        """The session's CSRF token, read from a page's hidden field."""
        resp = self.get(path, headers={"Accept": "text/html"})
        m = re.search(r'name="_csrf" value="([^"]+)"', resp.text)
        if not m:
            raise AssertionError(f"{self.name}: no CSRF field on {path} ({resp.status})")
        return m.group(1)

    def login(self, username: str, password: str) -> Response:
        token = self.csrf("/login")
        resp = self.post("/login", form={"username": username, "password": password, "_csrf": token, "next": "/"})
        return resp


# ---------------------------------------------------------------- edXML


def build_document(sender: str, recipients: list[str], tag: str, sign: bool = True) -> bytes:
    """An edXML document from SENDER to RECIPIENTS (the crash test's document: every recipient with
    H41's contact details, code TAG/CRASH); unsigned, or signed by SENDER in production mode
    unless SIGN is false."""
    doc = edxml_document(tag, f"{sender},2026/11/23,{tag}/CRASH", [agency(r, details_of=H41) for r in recipients],
                          "CRASH", f"Thử nghiệm độ bền của trục, văn bản số {tag}",
                          f"Văn bản thử nghiệm số {tag}: trục bị dừng đột ngột trong khi nhận.", f"crash-{tag}.pdf",
                          sender=sender)
    return _signer(sender, doc) if _signer and sign else doc


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@dataclass
class World:
    """Everything the tests need to know about the running server and its fixtures."""

    server: Server
    users: dict = field(default_factory=dict)        # (role, agency) -> username
    user_ids: dict = field(default_factory=dict)     # username -> uuid
    systems: dict = field(default_factory=dict)      # name -> {"id", "secret", "agency"}
    targets: dict = field(default_factory=dict)      # key -> {agency: value}
    clients: dict = field(default_factory=dict)      # principal name -> Client

    @property
    def port(self) -> int:
        """Where the tests send requests: the proxy in front when there is one, else the server."""
        return FRONT_PORT or self.server.port

    def client(self, name: str = "", accept: str | None = None) -> Client:
        return Client(self.port, name, accept=accept)

    def system_headers(self, name: str) -> dict:
        s = self.systems[name]
        return {"X-SystemId": s["id"], "X-SecretKey": s["secret"]}

    def env(self) -> dict:
        return self.server.env

    def db(self):
        import sqlite3
        return sqlite3.connect(f"file:{self.server.env['GOVOFFICE_SQLITE_PATH']}?mode=ro", uri=True, timeout=10)


def server_env(workdir: Path, **overrides) -> dict:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith("GOVOFFICE_") and k not in ("DATABASE_URL", "LOG_LEVEL")}
    keep.update(
        GOVOFFICE_SQLITE_PATH=str(workdir / "db.sqlite"),
        GOVOFFICE_PKI_DIR=str(workdir / "pki"),
        GOVOFFICE_BCRYPT_COST="4",
        GOVOFFICE_UNSIGNED="refuse" if PRODUCTION_SIGNATURES else "warn",
        GOVOFFICE_MAX_BODY="256kb",
        GOVOFFICE_MAX_UPLOAD="512kb",
        GOVOFFICE_HUB_MAX_MESSAGE="512kb",
        GOVOFFICE_OCSP="hard" if PRODUCTION_SIGNATURES else "off",
        GOVOFFICE_WEBHOOK_BASE_DELAY_MS="600000",
        # The webhook fixtures point at loopback, which webhooks may not reach unless listed.
        GOVOFFICE_WEBHOOK_ALLOW="127.0.0.0/8",
        GOVOFFICE_HOME=str(REPO_ROOT),
        # Every client of the suite is 127.0.0.1 and the matrix alone fails dozens of sign-ins on purpose:
        # the per-address back-off (tested in HardeningTests) would pause the whole suite.
        GOVOFFICE_LOGIN_MAX_FAILURES_PER_ADDRESS="100000",
        LOG_LEVEL="notice",
    )
    keep.update(overrides)
    return keep
