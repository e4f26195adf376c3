"""The security suite's server and fixtures.

One `govoffice serve` per test session (SQLite in a temporary folder, `demo seed`, `pki demo`,
bcrypt cost 4, unsigned edXML accepted with a warning so the hub tests need no signatures), on a
free loopback port. The binary: GOVOFFICE_BIN (default .build/debug/govoffice).

Variants (scripts/test runs each once): GOVOFFICE_TEST_SIGNATURES=production (unsigned refused,
OCSP hard, the documents signed by their sender); GOVOFFICE_SECURITY_BASE_URL and
GOVOFFICE_SECURITY_APP_PORT (requests go through a reverse proxy in front of the server, which
then trusts that proxy's forwarding headers). GOVOFFICE_SECURITY_ARTIFACTS names the folder under
test-artifacts/ the server log is copied to (default security).

Fixtures made before the tests (World.targets), for agencies G22 and H41:
  users      sec.<g22|h41>.<role> for every role (password secsupport.PASSWORD), and a target
             account sec.<g22|h41>.target (clerk) that the admin routes act on
  systems    sec-<a> (the agency's API caller), sec-<a>-hook (owns the webhook fixture),
             rot-<a> / rev-<a> (rotated / revoked through the admin page), sec-h37 (a third agency)
  messages   message_to[a]: H37 -> a;  message_from[a]: a -> H37 (and its delivery to H37)
  calendar   calendar_entry[a] and calendar_entry_cancel[a]: entries made by a's clerk through the page
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import access_matrix as am
import secsupport as s
from hubtest import issue_system


@dataclass(frozen=True)
class Principal:
    name: str
    kind: str              # anon | user | system
    roles: frozenset = frozenset()
    agency: str | None = None
    username: str | None = None


AGENCIES = {"g22": s.G22, "h41": s.H41}


def _binary() -> str:
    binary = os.environ.get("GOVOFFICE_BIN", ".build/debug/govoffice")
    path = Path(binary)
    if not path.is_absolute():
        path = s.REPO_ROOT / path
    if not os.access(path, os.X_OK):
        pytest.exit(f"{path} is not an executable: build it (swift build --product govoffice) or set GOVOFFICE_BIN",
                    returncode=3)
    return str(path)


def _build_world(workdir: Path) -> s.World:
    env = s.server_env(workdir)
    if s.FRONT_PORT:
        # Behind the proxy of GOVOFFICE_SECURITY_BASE_URL, which connects from 127.0.0.1: only
        # that address is a trusted proxy, so a test client on another loopback address
        # (127.0.0.3) is an ordinary client whose forged X-Forwarded-For must not be believed.
        env.update(GOVOFFICE_TRUST_PROXY="on", GOVOFFICE_TRUSTED_PROXIES="127.0.0.1/32")
    server = s.Server(_binary(), env, workdir, port=s.APP_PORT)
    world = s.World(server)
    server.cli("demo", "seed")
    server.cli("pki", "demo")
    if s.PRODUCTION_SIGNATURES:
        s.set_signer(lambda sender, doc: _sign(server, workdir, sender, doc))
    # The accounts, through the documented command line (GOVOFFICE_NEW_PASSWORD).
    for short, code in AGENCIES.items():
        for role in am.ROLES + ["target"]:
            username = f"sec.{short}.{role}"
            server.cli("users", "create", "--username", username, "--name", f"Người dùng {role} {short}",
                       "--agency", code, "--roles", "clerk" if role == "target" else role,
                       extra_env={"GOVOFFICE_NEW_PASSWORD": s.PASSWORD})
            if role != "target":
                world.users[(role, code)] = username
    # The agency systems, through `systems issue --env` (the secret is printed once).
    for short, code in list(AGENCIES.items()) + [("h37", s.H37)]:
        names = [f"sec-{short}"] + ([f"sec-{short}-hook", f"rot-{short}", f"rev-{short}"] if short != "h37" else [])
        for name in names:
            creds = issue_system(server.binary, server.env, code, name, f"Security suite {name}")
            world.systems[name] = {"id": creds["GOVOFFICE_SYSTEM_ID"], "secret": creds["GOVOFFICE_SECRET_KEY"],
                                   "agency": code}
    world.routes_output = server.cli("routes").stdout
    server.start()

    admin = s.Client(world.port, "admin")
    resp = admin.login("admin", s.DEMO_PASSWORD)
    assert resp.status == 303, resp
    world.admin_token = admin.csrf("/")
    with world.db() as db:
        for username, uid in db.execute("SELECT username, id FROM users WHERE username LIKE 'sec.%'"):
            world.user_ids[username] = str(_as_uuid(uid))

    with world.db() as db:
        system_rows = {sid: str(_as_uuid(rid)) for sid, rid in db.execute("SELECT system_id, id FROM agency_systems")}

    api = s.Client(world.port, "api")
    t = world.targets
    t["lang"] = {code: "en" for code in AGENCIES.values()}
    t["agency_code"] = {code: code for code in AGENCIES.values()}
    t["agency_query"] = {code: f"?agency={code}" for code in AGENCIES.values()}
    t["user"] = {code: world.user_ids[f"sec.{short}.target"] for short, code in AGENCIES.items()}
    t["system_rotate"] = {code: system_rows[f"rot-{short}"] for short, code in AGENCIES.items()}
    t["system_revoke"] = {code: system_rows[f"rev-{short}"] for short, code in AGENCIES.items()}
    t["office_document_missing"] = {code: "00000000-0000-4000-8000-000000000000" for code in AGENCIES.values()}
    t["work_file_missing"] = {code: "00000000-0000-4000-8000-0000000000f1" for code in AGENCIES.values()}
    t["register_direction"] = {code: "incoming" for code in AGENCIES.values()}
    t["message_to"], t["message_from"], t["delivery_from"], t["webhook"] = {}, {}, {}, {}
    for short, code in AGENCIES.items():
        doc = s.build_document(s.H37, [code], f"to-{short}")
        resp = api.post(s.API + "/messages", body=doc, headers={**world.system_headers("sec-h37"),
                                                                "Content-Type": "application/xml"})
        assert resp.status == 201, resp
        t["message_to"][code] = resp.json()["message_id"]
        doc = s.build_document(code, [s.H37], f"from-{short}")
        resp = api.post(s.API + "/messages", body=doc, headers={**world.system_headers(f"sec-{short}"),
                                                                "Content-Type": "application/xml"})
        assert resp.status == 201, resp
        t["message_from"][code] = mid = resp.json()["message_id"]
        with world.db() as db:
            row = db.execute("SELECT id FROM exchange_deliveries WHERE lower(message_id) = ? OR message_id = ?",
                             (mid, mid)).fetchone()
            if row is None:  # UUIDs may be stored as 16-byte blobs
                import uuid as _uuid
                row = db.execute("SELECT id FROM exchange_deliveries WHERE message_id = ?",
                                 (_uuid.UUID(mid).bytes,)).fetchone()
        assert row, f"no delivery row for {mid}"
        raw = row[0]
        t["delivery_from"][code] = str(_as_uuid(raw))
        t["webhook"][code] = new_webhook(world, code)
    api.close()
    t["calendar_entry"], t["calendar_entry_cancel"] = {}, {}
    for short, code in AGENCIES.items():
        clerk = s.Client(world.port, f"calendar-{short}")
        resp = clerk.login(world.users[("clerk", code)], s.PASSWORD)
        assert resp.status == 303, resp
        token = clerk.csrf("/calendar")
        for name in ("calendar_entry", "calendar_entry_cancel"):
            resp = clerk.post("/calendar", form={"_csrf": token, "kind": "meeting", "title": f"{name} {short}",
                                                 "start": "2030-01-07T09:00", "end": "2030-01-07T10:00"})
            assert resp.status == 303, resp
            t[name][code] = resp.header("location").rsplit("/", 1)[1]
        clerk.close()
    world.admin = admin
    return world


def _sign(server: s.Server, workdir: Path, sender: str, doc: bytes) -> bytes:
    """DOC signed with SENDER's demo seal (`govoffice sign`, the documented command)."""
    keys = workdir / "pki" / "agencies"
    src, out = workdir / "unsigned.edxml", workdir / "signed.edxml"
    src.write_bytes(doc)
    server.cli("sign", "--key", str(keys / f"{sender}.key"), "--cert", str(keys / f"{sender}.pem"), str(src), str(out))
    return out.read_bytes()


def _as_uuid(raw):
    import uuid
    if isinstance(raw, bytes) and len(raw) == 16:
        return uuid.UUID(bytes=raw)
    return uuid.UUID(str(raw))


def new_webhook(world: s.World, agency: str) -> str:
    """A webhook of AGENCY's hook system; its id."""
    short = [k for k, v in AGENCIES.items() if v == agency][0]
    client = world.clients.setdefault("_hooks", s.Client(world.port, "hooks"))
    resp = client.post(s.API + "/webhooks", json_body={"url": "http://127.0.0.1:9/hook", "secret": "s" * 24},
                       headers=world.system_headers(f"sec-{short}-hook"))
    assert resp.status == 201, resp
    return resp.json()["id"]


@pytest.fixture(scope="session")
def world():
    workdir = Path(tempfile.mkdtemp(prefix="govoffice-security."))
    w = None
    try:
        w = _build_world(workdir)
        yield w
    finally:
        if w is not None:
            for c in w.clients.values():
                c.close()
            w.server.stop()
        keep = os.environ.get("GOVOFFICE_SECURITY_KEEP")
        if keep:
            print(f"security suite work folder kept: {workdir}")
        else:
            art = s.REPO_ROOT / "test-artifacts" / os.environ.get("GOVOFFICE_SECURITY_ARTIFACTS", "security")
            art.mkdir(parents=True, exist_ok=True)
            log = workdir / "server.log"
            if log.exists():
                shutil.copy(log, art / "server.log")
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def principals(world) -> list[Principal]:
    out = [Principal("anonymous", "anon")]
    for (role, agency), username in sorted(world.users.items()):
        out.append(Principal(username, "user", frozenset([role]), agency, username))
    for short, code in AGENCIES.items():
        out.append(Principal(f"system:sec-{short}", "system", agency=code))
    return out


@pytest.fixture()
def server_alive(world):
    yield
    assert world.server.alive(), "the server process died"
    c = s.Client(world.port, "alive")
    assert c.get("/healthz").status == 200
    c.close()
