"""Two agency offices and a hub as three processes (the document office end to end).

Three `govoffice serve` processes on loopback ports, each on its own SQLite file, sharing one
GOVOFFICE_PKI_DIR (one demo root CA):

  hub       demo data and demo PKI by command (GOVOFFICE_DEMO=off, so every server is given the
            hub seal `pki demo` wrote, as production is), hub systems issued for
            000.00.00.G22 and 000.00.00.H41;
  office A  000.00.00.G22, `office connect` to the hub with G22's system (the secret on
            standard input, `--secret-stdin`) and G22's key on a SoftHSM2 token (the module
            listed in GOVOFFICE_PKCS11_MODULES);
  office B  000.00.00.H41, the same for H41 (secret in GOVOFFICE_SECRET_KEY, key file), plus a leader and a specialist made with
            `govoffice users create` (the demo data has none for H41).

The offices' workers (GOVOFFICE_HUB_WORKERS, on by default) long-poll the hub and send from their
outboxes; everything a test checks across the hub is polled for up to POLL_SECONDS.

Tests, through the office's browser forms (session cookie + the `_csrf` field):
  1. a công văn drafted, approved, numbered and sent in A arrives in B, is accepted, assigned,
     handed to a specialist, started and finished; A's matrix shows 01→03→04→05→06 for H41 (no
     02) in that order of arrival; B's incoming register lists it with an incoming number;
  2. B's clerk rejects a document with a reason: A's matrix shows 02, B's state is rejected;
  3. A's clerk revokes an accepted document: B sees the request and agrees, A's matrix shows 15;
  4. 20 paper registrations at once in B: all succeed, the incoming numbers of the year are
     exactly 1..N (no gap, no duplicate);
  5. bad input: a deadline before the arrival date (400), an .exe scan (415), a citizen opening
     a document (403), search strings with SQL / FTS syntax (200, never 500), and the register
     still without gaps after the refused upload.

Logs: test-artifacts/office/{hub,office-a,office-b,setup}.log. Binary: GOVOFFICE_BIN (or BIN),
default .build/debug/govoffice. Python 3 standard library + pytest.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import http.client
import io
import os
import random
import re
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
_LIB = str(REPO_ROOT / "tests" / "lib")  # tests/lib: the harnesses' shared code
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)
from hubtest import ServerProcess, issue_system  # noqa: E402

ARTIFACTS = REPO_ROOT / "test-artifacts" / "office"
G22, H41 = "000.00.00.G22", "000.00.00.H41"
PASSWORD = "GovOffice@2026"  # the demo accounts' password, also given to the accounts made here
POLL_SECONDS = float(os.environ.get("GOVOFFICE_OFFICE_POLL_SECONDS", "45"))
MATRIX_CODES = ["01", "02", "03", "04", "05", "06", "15", "16"]
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
VN = dt.timezone(dt.timedelta(hours=7))

WORLD = None  # the running processes, for conftest's log excerpts


# ---------------------------------------------------------------- HTTP with a session


class Resp:
    def __init__(self, method, path, status, headers, body):
        self.method, self.path, self.status, self.headers, self.body = method, path, status, headers, body
        self.text = body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name.lower())

    @property
    def error_code(self):
        m = re.search(r'id="error-code">([^<]+)<', self.text)
        return m.group(1) if m else None

    def excerpt(self, n=600):
        main = re.search(r"<main.*?</main>", self.text, re.S)
        text = re.sub(r"<[^>]+>", " ", main.group(0) if main else self.text)
        return re.sub(r"\s+", " ", text).strip()[:n]

    def __repr__(self):
        return (f"{self.method} {self.path} -> {self.status} (location {self.header('location')!r}, "
                f"error code {self.error_code!r}): {self.excerpt()!r}")


def multipart(fields, files):
    """A multipart/form-data body: FIELDS [(name, value)], FILES [(name, filename, type, bytes)]."""
    boundary = "----govoffice" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(str(value).encode("utf-8") + b"\r\n")
    for name, filename, ctype, data in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: {ctype}\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


class Browser:
    """A person's browser on one office: a cookie jar and the session's CSRF token.
    One connection per request, so copies of a Browser can be used from several threads."""

    def __init__(self, port, label=""):
        self.port = port
        self.label = label
        self.cookies = {}
        self.token = None

    def clone(self):
        other = Browser(self.port, self.label)
        other.cookies = dict(self.cookies)
        other.token = self.token
        return other

    def request(self, method, path, body=None, content_type=None):
        headers = {"Accept": "text/html"}
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            data = raw.read()
            pairs = raw.getheaders()
        finally:
            conn.close()
        for name, value in pairs:
            if name.lower() == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                if val == "" or "max-age=0" in value.lower():
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val
        return Resp(method, path, raw.status, {k.lower(): v for k, v in pairs}, data)

    def get(self, path):
        return self.request("GET", path)

    def csrf_from(self, path):
        resp = self.get(path)
        m = re.search(r'name="_csrf" value="([^"]+)"', resp.text)
        assert m, f"{self.label}: no _csrf field on {path}: {resp!r}"
        return m.group(1)

    def login(self, username, password=PASSWORD):
        token = self.csrf_from("/login")
        body = urllib.parse.urlencode({"username": username, "password": password, "_csrf": token, "next": "/office"})
        resp = self.request("POST", "/login", body.encode(), "application/x-www-form-urlencoded")
        assert resp.status in (302, 303) and not (resp.header("location") or "").startswith("/login"), \
            f"login {username} on {self.label}: {resp!r}"
        # The token of the signed-in session (a new session at sign-in).
        self.token = self.csrf_from("/")
        return self

    def post_form(self, path, fields):
        body = urllib.parse.urlencode(list(fields) + [("_csrf", self.token)], doseq=True).encode()
        return self.request("POST", path, body, "application/x-www-form-urlencoded")

    def post_multipart(self, path, fields, files=()):
        body, ctype = multipart(list(fields) + [("_csrf", self.token)], files)
        return self.request("POST", path, body, ctype)


# ---------------------------------------------------------------- the three processes


def _binary():
    raw = os.environ.get("GOVOFFICE_BIN") or os.environ.get("BIN") or ".build/debug/govoffice"
    path = Path(raw)
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not os.access(path, os.X_OK):
        pytest.exit(f"{path} is not an executable: build it (swift build) or set GOVOFFICE_BIN", returncode=3)
    return str(path)


def _pg_urls():
    """GOVOFFICE_OFFICE_PG_URLS="HUB,A,B": three empty PostgreSQL databases, one per process
    (./scripts/test makes them); unset: each process has its own SQLite file."""
    raw = os.environ.get("GOVOFFICE_OFFICE_PG_URLS", "").strip()
    if not raw:
        return None
    urls = [u.strip() for u in raw.split(",")]
    if len(urls) != 3 or not all(urls):
        pytest.exit("GOVOFFICE_OFFICE_PG_URLS needs three database URLs: hub,office-a,office-b", returncode=3)
    return dict(zip(("hub", "office-a", "office-b"), urls))


# PostgreSQL is production: the stored secrets are sealed with a configured key (on SQLite each
# server makes secrets.key beside its database file).
SECRETS_KEY = base64.b64encode(os.urandom(32)).decode()


def _db_env(tmp, label):
    urls = _pg_urls()
    if urls:
        return {"DATABASE_URL": urls[label], "GOVOFFICE_DB_LABEL": label, "GOVOFFICE_SECRETS_KEY": SECRETS_KEY}
    return {"GOVOFFICE_SQLITE_PATH": str(tmp / f"{label}.sqlite"), "GOVOFFICE_DB_LABEL": label}


def _base_env(tmp):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GOVOFFICE_") and k not in ("DATABASE_URL", "LOG_LEVEL")}
    # Not a demo: the hub's seal is configured, as production would (`pki demo` writes it).
    env.update(GOVOFFICE_PKI_DIR=str(tmp / "pki"), GOVOFFICE_BCRYPT_COST="4", GOVOFFICE_OCSP="off",
               GOVOFFICE_DEMO="off", GOVOFFICE_HOME=str(REPO_ROOT), LOG_LEVEL="info",
               GOVOFFICE_HUB_SEAL_KEY=str(tmp / "pki" / "hub" / "hub-seal.key"),
               GOVOFFICE_HUB_SEAL_CERT=str(tmp / "pki" / "hub" / "hub-seal.pem"))
    return env


class World:
    def __init__(self, binary, tmp):
        self.binary = binary
        self.tmp = tmp
        self.pki = tmp / "pki"
        self.setup_log = ARTIFACTS / "setup.log"
        self.servers = {}   # label -> ServerProcess
        self.sessions = {}  # (office, username) -> Browser
        self.lock = threading.Lock()

    def cli(self, env, *args, extra=None, stdin_text=None):
        full = dict(env, **(extra or {}))
        res = subprocess.run([self.binary, *args], env=full, input=stdin_text or "", capture_output=True, text=True,
                             cwd=REPO_ROOT, timeout=180)
        shown = list(args)
        with open(self.setup_log, "a", encoding="utf-8") as log:
            log.write(f"$ [{env.get('GOVOFFICE_DB_LABEL', '?')}] govoffice {' '.join(shown)} (exit {res.returncode})\n")
            if args[:2] != ("systems", "issue"):  # the secret is printed there
                log.write(res.stdout[-3000:] + res.stderr[-3000:] + "\n")
        if res.returncode != 0:
            raise RuntimeError(f"govoffice {' '.join(shown)} exited {res.returncode}:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
        return res

    def server(self, label, env):
        server = ServerProcess(self.binary, env, ARTIFACTS / f"{label}.log", cwd=REPO_ROOT, label=label, banner=False)
        self.servers[label] = server
        return server

    def user(self, office, username):
        """A signed-in browser of USERNAME on office "A" or "B" (kept for the module)."""
        with self.lock:
            key = (office, username)
            if key not in self.sessions:
                port = self.servers["office-a" if office == "A" else "office-b"].port
                self.sessions[key] = Browser(port, f"{username}@{office}").login(username)
            return self.sessions[key]

    def log_tails(self, n):
        out = []
        for label, server in self.servers.items():
            try:
                lines = Path(server.log_path).read_text(errors="replace").splitlines()
            except OSError:
                continue
            # The request lines drown what matters; keep warnings, errors and everything else.
            lines = [line for line in lines if not re.search(r"\[Vapor\] (GET|POST|HEAD) /", line)]
            out.append((label, "\n".join(lines[-n:])))
        return out

    def stop(self):
        # Offices first: their workers long-poll the hub.
        for server in reversed(list(self.servers.values())):
            server.stop()


def _token_for(world, code):
    """A SoftHSM2 token "office-g22" holding CODE's demo key and certificate; the environment the
    office needs to use it (SOFTHSM2_CONF, the PIN)."""
    tokens = world.tmp / "softhsm"
    key8 = world.tmp / f"{code}.p8"
    # SoftHSM2 imports PKCS#8; the demo key is PKCS#1.
    subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", str(world.pki / "agencies" / f"{code}.key"),
                    "-out", str(key8)], check=True, capture_output=True)
    lib = REPO_ROOT / "scripts" / "lib" / "softhsm.sh"
    for args in (["token", str(tokens), "office-g22", "87654321", "123456"],
                 ["key", str(tokens), "office-g22", "123456", str(key8), str(world.pki / "agencies" / f"{code}.pem"), "g22", "01"]):
        res = subprocess.run(["bash", str(lib), *args], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"softhsm.sh {' '.join(args[:1])} failed: {res.stdout}{res.stderr}")
    module = next((m for m in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
                   if os.path.exists(m)), None)
    if module is None:
        raise RuntimeError("SoftHSM2's module is not installed (./scripts/test installs softhsm2)")
    # Only listed modules are loaded (a module path stored in the database runs in the server).
    return {"SOFTHSM2_CONF": str(tokens / "softhsm2.conf"), "GOVOFFICE_PKCS11_PIN": "123456",
            "GOVOFFICE_TEST_PKCS11_MODULE": module, "GOVOFFICE_PKCS11_MODULES": module}


def _start_world(world):
    tmp = world.tmp
    # The hub: demo data and PKI by command, no demo mode (so no "local" office connections).
    hub_env = dict(_base_env(tmp), **_db_env(tmp, "hub"))
    world.cli(hub_env, "migrate", "--yes")
    world.cli(hub_env, "demo", "seed")
    world.cli(hub_env, "pki", "demo")
    systems = {}
    for code in (G22, H41):
        short = code.rsplit(".", 1)[1].lower()
        systems[code] = issue_system(world.binary, hub_env, code, f"office-{short}", f"Sổ văn bản {code}")
    hub = world.server("hub", hub_env)
    hub.start()
    world.hub_url = hub.base

    for label, code in (("office-a", G22), ("office-b", H41)):
        env = dict(_base_env(tmp), **_db_env(tmp, label))
        world.cli(env, "migrate", "--yes")
        world.cli(env, "demo", "seed")
        # Trusts the shared demo root and binds the agency certificates the hub's `pki demo` wrote
        # (without that binding every signed document would arrive as certificate_unbound).
        world.cli(env, "pki", "demo")
        creds = systems[code]
        if code == G22:
            # Office A signs with its key on a PKCS#11 token (SoftHSM2), as an agency with a
            # smart card or HSM would; office B with a key file.
            env.update(_token_for(world, code))
            signing = ["--pkcs11", env["GOVOFFICE_TEST_PKCS11_MODULE"], "--token", "office-g22", "--key-label", "g22"]
        else:
            signing = ["--key", str(world.pki / "agencies" / f"{code}.key"), "--cert", str(world.pki / "agencies" / f"{code}.pem")]
        # The secret never goes on the command line (ps shows it): A pipes it in, B has it in
        # its environment.
        connect = ["office", "connect", "--agency", code, "--hub", hub.base, "--system-id", creds["GOVOFFICE_SYSTEM_ID"], *signing]
        if code == G22:
            world.cli(env, *connect, "--secret-stdin", stdin_text=creds["GOVOFFICE_SECRET_KEY"] + "\n")
        else:
            world.cli(env, *connect, extra={"GOVOFFICE_SECRET_KEY": creds["GOVOFFICE_SECRET_KEY"]})
        if code == H41:
            for username, name, role in (("h41.lanhdao", "Lê Văn Nghệ", "leader"),
                                         ("h41.chuyenvien", "Trần Thị Chuyên", "specialist")):
                world.cli(env, "users", "create", "--username", username, "--name", name, "--agency", H41,
                          "--roles", role, extra={"GOVOFFICE_NEW_PASSWORD": PASSWORD})
        world.server(label, env).start()


@pytest.fixture(scope="module")
def world():
    global WORLD
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="govoffice-office-"))
    w = World(_binary(), tmp)
    WORLD = w
    try:
        _start_world(w)
        yield w
    finally:
        w.stop()
        if os.environ.get("GOVOFFICE_OFFICE_KEEP") == "1":
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- helpers


def unique_word():
    # Letters only: one token for the full-text search.
    return "mau" + "".join(random.choice(string.ascii_lowercase) for _ in range(10))


def poll(what, fn, timeout=POLL_SECONDS, interval=0.5):
    """FN() until it returns something truthy; AssertionError naming WHAT and the last value."""
    import time
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s (last seen: {last!r})")
        time.sleep(interval)


def expect_document_redirect(resp, what, doc_id=None):
    """A step's 303 to the document page; the document id."""
    loc = resp.header("location") or ""
    m = re.fullmatch(r"/office/documents/([0-9a-f-]{36})", loc)
    assert resp.status == 303 and m, f"{what}: expected 303 to /office/documents/<id>, got {resp!r}"
    if doc_id is not None:
        assert m.group(1) == doc_id, f"{what}: redirected to {loc}, expected document {doc_id}"
    return m.group(1)


def step(browser, doc_id, name, **fields):
    items = []
    for key, value in fields.items():
        if isinstance(value, (list, tuple)):
            items += [(key, v) for v in value]
        else:
            items.append((key, value))
    resp = browser.post_form(f"/office/documents/{doc_id}/{name}", items)
    expect_document_redirect(resp, f"{browser.label}: step {name} on {doc_id}", doc_id)
    return resp


def list_rows(browser, direction, q=None, state=None):
    """(id, raw state) of the rows of /office/<direction>?q=&state=."""
    params = {k: v for k, v in (("q", q), ("state", state)) if v}
    resp = browser.get(f"/office/{direction}" + (f"?{urllib.parse.urlencode(params)}" if params else ""))
    assert resp.status == 200, f"{browser.label}: list {direction} {params}: {resp!r}"
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", resp.text, re.S):
        m = re.search(r'href="/office/documents/([0-9a-f-]{36})"', row)
        s = re.search(r'class="state state-([a-z_]+)"', row)
        if m:
            rows.append((m.group(1), s.group(1) if s else None))
    return rows


def state_of(browser, direction, doc_id, q):
    return dict(list_rows(browser, direction, q=q)).get(doc_id)


def document_page(browser, doc_id):
    resp = browser.get(f"/office/documents/{doc_id}")
    assert resp.status == 200, f"{browser.label}: document {doc_id}: {resp!r}"
    return resp.text


def matrix(browser, out_id):
    """{agency: {code: time text or ""}} from the outgoing document's status matrix."""
    html = document_page(browser, out_id)
    table = re.search(r'<table[^>]*id="status-matrix".*?</table>', html, re.S)
    assert table, f"{browser.label}: document {out_id} has no status matrix"
    head = re.search(r"<thead>(.*?)</thead>", table.group(0), re.S).group(1)
    codes = re.findall(r'<th scope="col" title="[^"]*">([^<]+)</th>', head)
    assert codes == MATRIX_CODES, f"matrix columns {codes}"
    out = {}
    for agency, row in re.findall(r'<tr data-agency="([^"]+)">(.*?)</tr>', table.group(0), re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        assert len(cells) == len(codes), f"matrix row {agency}: {len(cells)} cells"
        values = {}
        for code, cell in zip(codes, cells):
            t = re.search(r"<small>([^<]*)</small>", cell)
            values[code] = (t.group(1).strip() if t else cell.strip()) if cell.strip() else ""
        out[agency] = values
    return out


def wait_status(browser, out_id, agency, code):
    return poll(f"status {code} from {agency} in the matrix of {out_id}",
                lambda: matrix(browser, out_id).get(agency, {}).get(code))


def matrix_time(text):
    return dt.datetime.strptime(text, "%d/%m/%Y %H:%M:%S")


def vn_today():
    return dt.datetime.now(VN).date()


def issue_outgoing(world, word, recipients=(H41,)):
    """A công văn from A to RECIPIENTS: drafted by the specialist, approved by the leader,
    numbered and sent by the clerk. Its id in A."""
    drafter = world.user("A", "g22.chuyenvien")
    resp = drafter.post_multipart("/office/outgoing", [
        ("type", "CV"),
        ("subject", f"Về việc thử nghiệm liên thông văn bản {word}"),
        ("content", f"Văn phòng Chính phủ đề nghị Ủy ban nhân dân tỉnh phối hợp thử nghiệm ({word})."),
        ("signer_name", "Lê Văn Lãnh Đạo"), ("signer_position", "Phó Chủ nhiệm"), ("competence", "KT."),
        *[("recipients[]", r) for r in recipients],
        ("places", "Như trên;\nLưu: VT, TH."), ("urgency", "0"),
    ], [("files[]", "cong-van.pdf", "application/pdf", PDF)])
    out_id = expect_document_redirect(resp, "draft by g22.chuyenvien")
    step(world.user("A", "g22.lanhdao"), out_id, "approve")
    clerk = world.user("A", "g22.vanthu")
    step(clerk, out_id, "number", agency_abbreviation="VPCP", unit_abbreviation="TH")
    step(clerk, out_id, "send")
    assert state_of(clerk, "outgoing", out_id, word) == "sent"
    return out_id


def wait_arrival(world, word):
    """The id in B of the document whose subject has WORD, once it arrived (state arrived)."""
    clerk = world.user("B", "h41.vanthu")

    def arrived():
        rows = list_rows(clerk, "incoming", q=word)
        return rows[0] if rows else None

    try:
        in_id, state = poll(f"document '{word}' arriving in office B", arrived)
    except AssertionError:
        out = [r for r in list_rows(world.user("A", "g22.vanthu"), "outgoing", q=word)]
        detail = ""
        if out:
            html = document_page(world.user("A", "g22.vanthu"), out[0][0])
            box = re.search(r'<table[^>]*id="doc-outbox".*?</table>', html, re.S)
            detail = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", box.group(0))) if box else "no outbox rows"
        raise AssertionError(f"document '{word}' did not arrive in office B within {POLL_SECONDS:.0f}s; "
                             f"A's outbox for it: {detail}")
    assert state == "arrived", f"the document arrived in B in state {state}, expected arrived"
    return in_id


def sent_and_arrived(world):
    """A new công văn from A that has arrived in B: (word, id in A, id in B, A's clerk, B's clerk)."""
    word = unique_word()
    out_id = issue_outgoing(world, word)
    in_id = wait_arrival(world, word)
    return word, out_id, in_id, world.user("A", "g22.vanthu"), world.user("B", "h41.vanthu")


def register_rows(browser, year=None):
    year = year or vn_today().year
    resp = browser.get(f"/office/registers/incoming?year={year}&format=csv")
    assert resp.status == 200, f"incoming register CSV: {resp!r}"
    assert "text/csv" in (resp.header("content-type") or ""), resp.header("content-type")
    return list(csv.DictReader(io.StringIO(resp.text.lstrip("\ufeff"))))


def register_numbers(rows):
    nums = []
    for row in rows:
        cell = row["Số đến"]
        if "(mật)" in cell:
            continue  # secret documents have a series of their own
        assert re.fullmatch(r"\d+", cell.strip()), f"incoming number {cell!r} in {row}"
        nums.append(int(cell))
    return nums


def assert_contiguous(nums, what):
    dupes = sorted({n for n in nums if nums.count(n) > 1})
    missing = sorted(set(range(1, max(nums, default=0) + 1)) - set(nums))
    assert not dupes and not missing and sorted(nums) == list(range(1, len(nums) + 1)), \
        f"{what}: incoming numbers not exactly 1..{len(nums)}: duplicates {dupes}, missing {missing}, all {sorted(nums)}"


def paper_fields(subject, number="12/QĐ-UBND", secret=False):
    fields = [("sender", "Ủy ban nhân dân huyện Nam Đàn"), ("number", number), ("type", "QĐ"),
              ("subject", subject), ("promulgation_date", vn_today().isoformat()), ("urgency", "0")]
    if secret:
        fields.append(("secret", "on"))
    return fields


# ---------------------------------------------------------------- tests


def test_document_flows_from_a_to_b_and_the_matrix_fills(world):
    word, out_id, in_id, a_clerk, b_clerk = sent_and_arrived(world)
    wait_status(a_clerk, out_id, H41, "01")

    step(b_clerk, in_id, "accept")
    assert state_of(b_clerk, "incoming", in_id, word) == "registered"
    wait_status(a_clerk, out_id, H41, "03")

    leader = world.user("B", "h41.lanhdao")
    deadline = (vn_today() + dt.timedelta(days=7)).isoformat()
    step(leader, in_id, "assign", lead_unit="TH", deadline=deadline, opinion="Phòng Tổng hợp chủ trì, báo cáo trước hạn.")
    assert state_of(b_clerk, "incoming", in_id, word) == "assigned"
    wait_status(a_clerk, out_id, H41, "04")

    step(leader, in_id, "specialist", specialist="h41.chuyenvien")
    specialist = world.user("B", "h41.chuyenvien")
    step(specialist, in_id, "start")
    wait_status(a_clerk, out_id, H41, "05")
    step(specialist, in_id, "finish")
    assert state_of(b_clerk, "incoming", in_id, word) == "done"
    wait_status(a_clerk, out_id, H41, "06")

    row = matrix(a_clerk, out_id)[H41]
    assert row["02"] == "", f"02 (refused) is filled for a document B accepted: {row}"
    assert row["15"] == "" and row["16"] == "", row
    print(f"A's matrix for {H41}: {row}")
    times = [matrix_time(row[c]) for c in ("01", "03", "04", "05", "06")]
    assert times == sorted(times), f"statuses arrived out of order: {row}"

    rows = [r for r in register_rows(b_clerk) if word in r["Tên loại và trích yếu nội dung"]]
    assert len(rows) == 1, f"B's incoming register has {len(rows)} rows for the document: {rows}"
    assert re.fullmatch(r"\d+", rows[0]["Số đến"]), rows[0]
    assert rows[0]["Ngày đến"] == vn_today().isoformat(), rows[0]


def test_rejection_reaches_the_sender(world):
    word, out_id, in_id, a_clerk, b_clerk = sent_and_arrived(world)
    wait_status(a_clerk, out_id, H41, "01")

    # A rejection needs its reason.
    resp = b_clerk.post_form(f"/office/documents/{in_id}/reject", [("reason", "  ")])
    assert resp.status == 400 and "reject_reason_required" in resp.text, resp
    step(b_clerk, in_id, "reject", reason="Văn bản gửi nhầm nơi nhận; đề nghị gửi Sở Nội vụ.")
    assert state_of(b_clerk, "incoming", in_id, word) == "rejected"
    wait_status(a_clerk, out_id, H41, "02")
    row = matrix(a_clerk, out_id)[H41]
    assert row["03"] == "", f"03 filled for a rejected document: {row}"
    # Rejected documents take no incoming number.
    assert not [r for r in register_rows(b_clerk) if word in r["Tên loại và trích yếu nội dung"]]


def test_revocation_is_agreed(world):
    word, out_id, in_id, a_clerk, b_clerk = sent_and_arrived(world)
    step(b_clerk, in_id, "accept")
    wait_status(a_clerk, out_id, H41, "03")

    step(a_clerk, out_id, "revoke", reason="Văn bản có sai sót về số liệu, thu hồi để ban hành lại.")
    assert 'id="doc-revocation"' in document_page(a_clerk, out_id)
    form = f'action="/office/documents/{in_id}/revocation"'
    poll(f"the revocation request reaching document {in_id} in B",
         lambda: (lambda html: 'id="doc-revocation"' in html and form in html)(document_page(b_clerk, in_id)))

    step(b_clerk, in_id, "revocation", decision="agree", reason="Đồng ý thu hồi.")
    html = document_page(b_clerk, in_id)
    assert form not in html, "the revocation form is still offered after agreeing"
    wait_status(a_clerk, out_id, H41, "15")
    assert matrix(a_clerk, out_id)[H41]["16"] == ""
    poll(f"A's document {out_id} becoming revoked", lambda: state_of(a_clerk, "outgoing", out_id, word) == "revoked")


def test_update_is_applied_and_answered_15(world):
    word, out_id, in_id, a_clerk, b_clerk = sent_and_arrived(world)
    step(b_clerk, in_id, "accept")
    wait_status(a_clerk, out_id, H41, "03")
    corrected = f"Về việc thử nghiệm liên thông văn bản {word} (đính chính)"
    step(a_clerk, out_id, "update", subject=corrected, content=f"Nội dung đã đính chính {word}.",
         reason="Đính chính trích yếu.")
    wait_status(a_clerk, out_id, H41, "15")
    poll(f"the correction reaching document {in_id} in B", lambda: "(đính chính)" in document_page(b_clerk, in_id))
    assert matrix(a_clerk, out_id)[H41]["16"] == ""


def test_replacement_marks_the_old_document_replaced(world):
    word, out_id, old_in, a_clerk, b_clerk = sent_and_arrived(world)
    resp = a_clerk.post_form(f"/office/documents/{out_id}/replace", [])
    new_id = expect_document_redirect(resp, "replacement draft")
    assert new_id != out_id
    step(world.user("A", "g22.lanhdao"), new_id, "approve")
    step(a_clerk, new_id, "number", agency_abbreviation="VPCP", unit_abbreviation="TH")
    step(a_clerk, new_id, "send")
    poll(f"the old document {old_in} in B being marked replaced",
         lambda: 'id="doc-revocation"' in document_page(b_clerk, old_in))
    rows = poll("two documents with the word in B", lambda: (lambda r: r if len(r) == 2 else None)(list_rows(b_clerk, "incoming", q=word)))
    assert {r[0] for r in rows} - {old_in}, "the replacement did not arrive as a new document"
    assert 'id="doc-revocation"' in document_page(a_clerk, out_id), "A's old document must show it was replaced"


def test_concurrent_paper_registrations_number_without_gaps(world):
    n = 20
    word = unique_word()
    sessions = [Browser(world.servers["office-b"].port, f"h41.vanthu#{k}@B").login("h41.vanthu") for k in range(4)]
    barrier = threading.Barrier(n)
    results = [None] * n

    def register(i):
        browser = sessions[i % len(sessions)].clone()
        fields = paper_fields(f"Giấy mời họp {word} số {i}", number=f"{i + 1}/QĐ-UBND")
        barrier.wait(timeout=30)
        try:
            results[i] = browser.post_multipart("/office/incoming", fields,
                                                [("scan", f"scan-{i}.pdf", "application/pdf", PDF)])
        except Exception as exc:  # noqa: BLE001 - reported below
            results[i] = exc

    threads = [threading.Thread(target=register, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    failures = [f"#{i}: {r!r}" for i, r in enumerate(results)
                if not isinstance(r, Resp) or r.status != 303
                or not re.fullmatch(r"/office/documents/[0-9a-f-]{36}", r.header("location") or "")]
    assert not failures, f"{len(failures)} of {n} concurrent registrations failed:\n" + "\n".join(failures)

    rows = register_rows(world.user("B", "h41.vanthu"))
    mine = [r for r in rows if word in r["Tên loại và trích yếu nội dung"]]
    assert len(mine) == n, f"{len(mine)} of the {n} registrations are in the register"
    assert len({r["Số đến"] for r in mine}) == n, f"duplicate numbers among the batch: {[r['Số đến'] for r in mine]}"
    print(f"batch numbers: {sorted(int(r['Số đến']) for r in mine)}; register 1..{len(register_numbers(rows))}")
    assert_contiguous(register_numbers(rows), "B's incoming register after 20 concurrent registrations")


def test_bad_input_is_refused_cleanly(world):
    word = unique_word()
    b_clerk = world.user("B", "h41.vanthu")
    resp = b_clerk.post_multipart("/office/incoming", paper_fields(f"Tờ trình {word}"),
                                  [("scan", "to-trinh.pdf", "application/pdf", PDF)])
    doc_id = expect_document_redirect(resp, "paper registration")
    assert state_of(b_clerk, "incoming", doc_id, word) == "registered"

    # A deadline before the arrival date (today).
    leader = world.user("B", "h41.lanhdao")
    yesterday = (vn_today() - dt.timedelta(days=1)).isoformat()
    resp = leader.post_form(f"/office/documents/{doc_id}/assign",
                            [("lead_unit", "TH"), ("deadline", yesterday), ("opinion", "Xử lý gấp.")])
    assert resp.status == 400 and "deadline_before_arrival" in resp.text, resp
    assert state_of(b_clerk, "incoming", doc_id, word) == "registered"

    # An executable as the scan.
    resp = b_clerk.post_multipart("/office/incoming", paper_fields(f"Tệp độc {word}"),
                                  [("scan", "scan.exe", "application/x-msdownload", b"MZ\x90\x00" + b"\x00" * 60)])
    assert resp.status == 415 and "office_attachment_type_not_allowed" in resp.text, resp
    # An executable name with a PDF type.
    resp = b_clerk.post_multipart("/office/incoming", paper_fields(f"Tệp độc {word}"),
                                  [("scan", "scan.exe", "application/pdf", b"MZ\x90\x00")])
    assert resp.status == 415 and "office_attachment_type_not_allowed" in resp.text, resp
    assert not list_rows(b_clerk, "incoming", q=f"Tệp độc {word}"), "a refused upload left a document behind"

    # A citizen has no office, and sees no document.
    citizen = Browser(world.servers["office-b"].port, "congdan@B").login("congdan")
    resp = citizen.get(f"/office/documents/{doc_id}")
    assert resp.status == 403, resp
    assert word not in resp.text

    # Search strings with SQL and full-text syntax: answered, never a server error.
    for q in ("' OR 1=1 --", '"quyet" NEAR(*', "*", "\"", "a:b OR (", "%_\\", "NOT", "quyết định\u0000"):
        for path in ("/office/search", "/office/incoming", "/office/outgoing"):
            resp = b_clerk.get(f"{path}?{urllib.parse.urlencode({'q': q})}")
            assert resp.status in (200, 400), f"{path} q={q!r}: {resp!r}"
            if q in ("' OR 1=1 --", '"quyet" NEAR(*'):
                assert resp.status == 200, f"{path} q={q!r}: {resp!r}"
    # The refused uploads used no number.
    assert_contiguous(register_numbers(register_rows(b_clerk)), "B's incoming register after refused uploads")


def test_executable_with_a_pdf_name_is_refused(world):
    word = unique_word()
    b_clerk = world.user("B", "h41.vanthu")
    resp = b_clerk.post_multipart("/office/incoming", paper_fields(f"Tệp giả {word}"),
                                  [("scan", "scan.pdf", "application/x-msdownload", b"MZ\x90\x00" + b"\x00" * 60)])
    assert resp.status == 415 and "office_attachment_type_not_allowed" in resp.text, resp
