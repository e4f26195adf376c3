#!/usr/bin/env python3
"""The hub's crash test: SIGKILL `govoffice serve` while documents and statuses flow, check nothing is lost.

A submitter thread posts unsigned edXML documents (G22 -> H41, H37); a receiver thread per
recipient long-polls its inbox, fetches, acknowledges and answers each new document with the
processing statuses 01 then 03; a receiver on the sender's side collects the statuses. Every POST
that meets a dead server is resent, same bytes, until the hub answers. A killer SIGKILLs the server
N times at random moments and restarts it on the same port; after each restart, once /readyz
answers, submissions pause briefly while the database is checked for half-written messages and
the evidence chain is verified. At the end: every document and every status the hub acknowledged
reached its addressee (repeats dropped by message id), a retried submission got its original id
back, nothing is stored twice, every delivery is acknowledged, every recipient stands at 03, and
the evidence chain verifies.

Python 3 standard library only. See tests/crash/README.md.
"""

import argparse
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[1] / "lib")  # tests/lib: the harnesses' shared code
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)
from hubtest import (AGENCIES, CONNECTION_ERRORS, ServerProcess, agency, edxml_document, free_port, psql,  # noqa: E402
                     issue_system, production_settings, run)

SENDER = "000.00.00.G22"
RECIPIENTS = ["000.00.00.H41", "000.00.00.H37"]
API = "/api/v1/exchange"

# A processing status from a recipient about document n (the shape of
# Tests/Fixtures/edxml/status_inbox_01.edxml). Fixed timestamp: a resend after a kill is the same
# bytes, which the hub answers with the original id.
STATUS_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">
  <edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From>
          <edXML:OrganId>{agency}</edXML:OrganId>
          <edXML:OrganName>{name}</edXML:OrganName>
          <edXML:OrganizationInCharge>{name}</edXML:OrganizationInCharge>
          <edXML:OrganAdd>{address}</edXML:OrganAdd>
          <edXML:Email>{email}</edXML:Email>
          <edXML:Telephone>{phone}</edXML:Telephone>
          <edXML:Fax>{fax}</edXML:Fax>
          <edXML:Website>{website}</edXML:Website>
        </edXML:From>
        <edXML:ResponseFor>
          <edXML:OrganId>000.00.00.G22</edXML:OrganId>
          <edXML:Code>{n}/CRASH</edXML:Code>
          <edXML:PromulgationDate>2026/11/23</edXML:PromulgationDate>
          <edXML:DocumentId>{document_id}</edXML:DocumentId>
        </edXML:ResponseFor>
        <edXML:StaffInfo>
          <edXML:Department>Văn thư</edXML:Department>
          <edXML:Staff>Văn thư thử nghiệm</edXML:Staff>
          <edXML:Mobile>84912000002</edXML:Mobile>
          <edXML:Email>{email}</edXML:Email>
        </edXML:StaffInfo>
        <edXML:StatusCode>{code}</edXML:StatusCode>
        <edXML:Description>{description}</edXML:Description>
        <edXML:Timestamp>2026/11/23 09:00:00</edXML:Timestamp>
      </edXML:MessageHeader>
    </edXML:edXMLHeader>
  </edXML:edXMLEnvelope>
</edXML>
"""

# What each recipient says about every document it receives, in this order (StatusFlow: 01 → 03).
STATUS_CODES = ["01", "03"]
STATUS_TEXT = {"01": "Đã đến - Phần mềm QLVB đã nhận nhưng văn thư chưa xử lý",
               "03": "Tiếp nhận văn bản điện tử, vào sổ văn bản đến của đơn vị"}


def document_id(n):
    return f"{SENDER},2026/11/23,{n}/CRASH"


def build_document(n):
    """Document n (G22 -> H41, H37), unsigned: the server runs with GOVOFFICE_UNSIGNED=warn, this test
    is about durability. The same n gives the same bytes (a resend after a kill)."""
    return edxml_document(n, document_id(n), [agency(r) for r in RECIPIENTS], "CRASH",
                          f"Thử nghiệm độ bền của trục, văn bản số {n}",
                          f"Văn bản thử nghiệm số {n}: trục bị dừng đột ngột trong khi nhận.", f"crash-{n}.pdf")


def build_status(n, agency, code):
    return STATUS_TEMPLATE.format(n=n, document_id=document_id(n), agency=agency, code=code,
                                  description=STATUS_TEXT[code], **AGENCIES[agency]).encode("utf-8")


def log(msg):
    print(f"[crash {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Hub(ServerProcess):
    """The server process: start, SIGKILL, restart on the same port, stop (log: WORKDIR/server.log)."""

    def __init__(self, args, env, port):
        super().__init__(args.bin, env, os.path.join(args.workdir, "server.log"), port=port)


def request(base, method, path, system, body=None, content_type=None, timeout=30):
    """One HTTP call as an agency system; returns (status, body bytes). Raises on connection errors."""
    headers = {"X-SystemId": system["GOVOFFICE_SYSTEM_ID"], "X-SecretKey": system["GOVOFFICE_SECRET_KEY"]}
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        try:
            data = err.read()
        except CONNECTION_ERRORS:
            data = b""
        return err.code, data


class Traffic:
    """A gate in front of every message submission, so the checks after a restart can pause them.

    `exchange evidence verify` reads the chain page by page and then the head: an append between
    the two looks like a deleted entry. Only accepting a message appends to the chain, so while the
    gate is closed and no submission is in flight the chain holds still (fetches and acks go on).
    """

    def __init__(self):
        self.cond = threading.Condition()
        self.open = True
        self.inflight = 0

    def enter(self):
        with self.cond:
            self.cond.wait_for(lambda: self.open)
            self.inflight += 1

    def leave(self):
        with self.cond:
            self.inflight -= 1
            self.cond.notify_all()

    def pause(self, timeout):
        with self.cond:
            self.open = False
            return self.cond.wait_for(lambda: self.inflight == 0, timeout)

    def resume(self):
        with self.cond:
            self.open = True
            self.cond.notify_all()


class Posting:
    """The outcome of posting one message until the hub answered (or we gave up)."""

    def __init__(self):
        self.status = None       # final HTTP status, None if never answered
        self.body = b""
        self.answer = None       # parsed JSON of a 200/201
        self.attempts = 0
        self.connection_failed = False


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.traffic = Traffic()
        self.stop_submitting = threading.Event()
        self.submitter_done = threading.Event()
        self.documents_done = threading.Event()  # both recipients drained their inboxes (no more statuses)
        self.receivers_left = len(RECIPIENTS)
        self.failures = []             # fatal problems found while running
        self.acknowledged = {}         # n -> message id (lowercase) the hub answered 200/201 with
        self.by_sha = {}               # sha256 of the bytes -> n (every document ever posted)
        self.connection_failed = set() # n whose POST met a connection error at least once
        self.abandoned = set()         # n never acknowledged (retries gave up)
        self.retry_duplicates = {}     # n -> id: a retry answered 200 duplicate (committed before the kill)
        self.retry_created = set()     # n: a retry answered 201 (the first attempt did not commit)
        self.submitted = 0
        self.received = {r: [] for r in RECIPIENTS}  # ids fetched, repeats kept
        self.received_docs = {r: {} for r in RECIPIENTS}  # n -> set of ids fetched for it
        self.handled = {r: set() for r in RECIPIENTS}  # n whose statuses the recipient has sent
        self.payload_mismatch = []
        self.server_errors = []        # (call, status, body) of 5xx answers from a running server
        # Statuses, keyed (n, recipient, code).
        self.status_by_sha = {}
        self.status_acknowledged = {}  # key -> message id the hub answered 200/201 with
        self.status_connection_failed = set()
        self.status_abandoned = set()
        self.status_retry_duplicates = {}
        self.status_received = []     # ids the sender fetched from its inbox, repeats kept
        self.status_received_keys = {}  # key -> set of ids fetched for it
        self.status_order = []         # keys in the order the sender first saw them

    def fail(self, msg):
        with self.lock:
            self.failures.append(msg)
        log("FAIL: " + msg)


def post_message(hub, system, data, state, what):
    """POST edXML bytes; after a connection error or a 5xx resend the SAME bytes until the hub
    answers (a 5xx from a running server is counted: it is a failure, reported at the end)."""
    result = Posting()
    give_up_at = None
    while True:
        result.attempts += 1
        state.traffic.enter()
        try:
            try:
                status, body = request(hub.base, "POST", API + "/messages", system, data, "application/xml")
            except CONNECTION_ERRORS:
                status, body = None, b""
        finally:
            state.traffic.leave()
        if status in (200, 201):
            result.status, result.body, result.answer = status, body, json.loads(body)
            return result
        if status is None or status >= 500:
            if status is None:
                result.connection_failed = True
            else:
                with state.lock:
                    state.server_errors.append((f"POST messages ({what})", status, body[:200]))
            if give_up_at is None:
                give_up_at = time.monotonic() + 90
            if time.monotonic() > give_up_at:
                state.fail(f"{what}: no answer from the hub for 90 s (last status {status})")
                result.status = None
                return result
            time.sleep(0.05)
            continue
        result.status, result.body = status, body
        return result


def submitter(hub, system, state, max_backlog):
    n = 0
    while not state.stop_submitting.is_set():
        # Keep the recipients within reach (they fetch, acknowledge and send two statuses per
        # document): an endless backlog would only make the final drain long.
        while not state.stop_submitting.is_set():
            with state.lock:
                backlog = n - min(len(state.handled[r]) for r in RECIPIENTS)
            if backlog <= max_backlog:
                break
            time.sleep(0.02)
        if state.stop_submitting.is_set():
            break
        n += 1
        data = build_document(n)
        with state.lock:
            state.by_sha[hashlib.sha256(data).hexdigest()] = n
            state.submitted = n
        res = post_message(hub, system, data, state, f"document {n}")
        with state.lock:
            if res.connection_failed:
                state.connection_failed.add(n)
            if res.status is None:
                state.abandoned.add(n)
        if res.status in (200, 201):
            mid = res.answer["message_id"].lower()
            with state.lock:
                state.acknowledged[n] = mid
                if res.attempts > 1 and res.connection_failed:
                    if res.answer.get("duplicate"):
                        state.retry_duplicates[n] = mid
                    else:
                        state.retry_created.add(n)
            if res.attempts == 1 and res.answer.get("duplicate"):
                state.fail(f"document {n}: first POST answered duplicate (id {mid})")
        elif res.status is not None:
            # Any other answer is a bug; a 409 document_conflict on a retry means idempotency broke.
            state.fail(f"document {n}: POST answered {res.status} after {res.attempts} attempt(s): {res.body[:300]!r}")
            with state.lock:
                state.abandoned.add(n)
    state.submitter_done.set()


def send_statuses(hub, agency, system, state, n):
    """The recipient's processing statuses about document n: 01, then 03 (each once the hub took the one before)."""
    for code in STATUS_CODES:
        key = (n, agency, code)
        data = build_status(n, agency, code)
        with state.lock:
            state.status_by_sha[hashlib.sha256(data).hexdigest()] = key
        res = post_message(hub, system, data, state, f"{agency} status {code} for document {n}")
        with state.lock:
            if res.connection_failed:
                state.status_connection_failed.add(key)
            if res.status is None:
                state.status_abandoned.add(key)
        if res.status not in (200, 201):
            if res.status is not None:
                # A 409 status_not_allowed on a resend would mean the first attempt's effect was
                # kept without its message (or the reverse).
                state.fail(f"{agency}: status {code} for document {n} answered {res.status} "
                           f"after {res.attempts} attempt(s): {res.body[:300]!r}")
            return
        mid = res.answer["message_id"].lower()
        with state.lock:
            state.status_acknowledged[key] = mid
            if res.attempts > 1 and res.connection_failed and res.answer.get("duplicate"):
                state.status_retry_duplicates[key] = mid
        if res.attempts == 1 and res.answer.get("duplicate"):
            state.fail(f"{agency}: status {code} for document {n}: first POST answered duplicate (id {mid})")


def server_error(state, call, status, body):
    """A 5xx from a running server: note it, then retry like a connection error."""
    with state.lock:
        state.server_errors.append((call, status, body[:200]))
    raise ConnectionError(f"{call}: {status}")


def receiver(hub, agency, system, state, kind, done):
    """Long-poll the inbox, fetch, acknowledge. A document's recipient then sends its statuses, once
    per document it fetched (repeats are dropped by message id), even when the answer to its
    acknowledgement was lost in a kill; the original sender collects the statuses."""
    empty_after_stop = 0
    last_error_at = None
    to_answer = []  # documents fetched whose statuses are not sent yet, in order
    while True:
        draining = done.is_set()
        wait = 1 if draining else 5
        try:
            while to_answer:
                n = to_answer[0]
                send_statuses(hub, agency, system, state, n)
                with state.lock:
                    state.handled[agency].add(n)
                to_answer.pop(0)
            status, body = request(hub.base, "GET", f"{API}/inbox?wait={wait}", system, timeout=wait + 30)
            if status != 200:
                if status < 500:
                    state.fail(f"{agency}: inbox answered {status}: {body[:300]!r}")
                    return
                server_error(state, "GET inbox", status, body)
            last_error_at = None
            items = json.loads(body)["items"]
            if not items:
                if draining:
                    empty_after_stop += 1
                    if empty_after_stop >= 2:
                        return
                continue
            empty_after_stop = 0
            for item in items:
                mid = item["message_id"].lower()
                if item.get("kind") != kind:
                    state.fail(f"{agency}: inbox lists a {item.get('kind')} ({mid}); expected only {kind} messages")
                    return
                status, payload = request(hub.base, "GET", f"{API}/messages/{mid}", system)
                if status >= 500:
                    server_error(state, "GET messages/ID", status, payload)
                if status != 200:
                    state.fail(f"{agency}: fetch {mid} answered {status}: {payload[:300]!r}")
                    return
                sha = hashlib.sha256(payload).hexdigest()
                with state.lock:
                    if kind == "document":
                        state.received[agency].append(mid)
                        n = state.by_sha.get(sha)
                        if n is None:
                            state.payload_mismatch.append((agency, mid))
                        else:
                            state.received_docs[agency].setdefault(n, set()).add(mid)
                            if n not in state.handled[agency] and n not in to_answer:
                                to_answer.append(n)
                    else:
                        state.status_received.append(mid)
                        key = state.status_by_sha.get(sha)
                        if key is None:
                            state.payload_mismatch.append((agency, mid))
                        else:
                            ids = state.status_received_keys.setdefault(key, set())
                            if not ids:
                                state.status_order.append(key)
                            ids.add(mid)
                status, answer = request(hub.base, "POST", f"{API}/messages/{mid}/ack", system,
                                         json.dumps({"outcome": "done"}).encode(), "application/json")
                if status >= 500:
                    server_error(state, "POST messages/ID/ack", status, answer)
                if status != 200:
                    state.fail(f"{agency}: ack {mid} answered {status}: {answer[:300]!r}")
                    return
                last_error_at = None
        except CONNECTION_ERRORS:
            # The hub is down: try again shortly; give up if it stays down for long.
            now = time.monotonic()
            last_error_at = last_error_at or now
            if now - last_error_at > 90:
                state.fail(f"{agency}: the hub did not answer for 90 s")
                return
            time.sleep(0.05)


def guarded(fn, state, name):
    """A thread body that turns an unexpected exception into a recorded failure."""
    def body(*args):
        try:
            fn(*args)
        except Exception as err:  # noqa: BLE001 - any surprise fails the test, loudly
            state.fail(f"{name} thread crashed: {err!r}")
        finally:
            if name == "submitter":
                state.submitter_done.set()
            elif name in RECIPIENTS:
                with state.lock:
                    state.receivers_left -= 1
                    last = state.receivers_left == 0
                if last:
                    state.documents_done.set()
    return body


def db_query(args, env, sql):
    """Rows of one query, as lists of strings."""
    if args.database == "sqlite":
        con = sqlite3.connect(env["GOVOFFICE_SQLITE_PATH"], timeout=30)
        try:
            return [[("" if v is None else str(v)) for v in row] for row in con.execute(sql).fetchall()]
        finally:
            con.close()
    return psql(args.database_url, sql)


# Every stored message, whole or not: one statement, so one snapshot even while the server writes.
# Joins on grouped counts (no correlated subquery: the soak stores tens of thousands of rows).
WHOLENESS_SQL = """
    SELECT LOWER(CAST(m.id AS TEXT)), m.kind, m.recipients, m.size, LENGTH(m.payload),
           COALESCE(d.n, 0), COALESCE(e.n, 0)
    FROM exchange_messages m
    LEFT JOIN (SELECT message_id, COUNT(*) AS n FROM exchange_deliveries GROUP BY message_id) d
           ON d.message_id = m.id
    LEFT JOIN (SELECT LOWER(entity_id) AS eid, COUNT(*) AS n FROM exchange_evidence
               WHERE action = 'exchange.accept' GROUP BY LOWER(entity_id)) e
           ON e.eid = LOWER(CAST(m.id AS TEXT))"""


def half_written(args, env):
    """Messages not whole: a delivery per recipient (2 for a document, 1 for a status), exactly one
    evidence entry, and the payload of the recorded size. Returns (rows checked, problems)."""
    rows = db_query(args, env, WHOLENESS_SQL)
    problems = []
    stored = {row[0] for row in rows}
    for mid, kind, recipients, size, length, deliveries, evidence in rows:
        try:
            expected = len(json.loads(recipients))
        except ValueError:
            expected = -1
        if kind == "document" and expected != len(RECIPIENTS):
            problems.append(f"{mid} ({kind}): recipients {recipients}")
        elif kind == "status" and expected != 1:
            problems.append(f"{mid} ({kind}): recipients {recipients}")
        if deliveries != str(expected) or evidence != "1" or length != size:
            problems.append(f"{mid} ({kind}): {deliveries} deliveries for {expected} recipients, "
                            f"{evidence} evidence entries, payload {length or 'missing'} of {size} bytes")
    return len(rows), problems, stored


def verify_evidence(args, env):
    ev = subprocess.run([args.bin, "exchange", "evidence", "verify"], env=env, stdin=subprocess.DEVNULL,
                        capture_output=True, text=True)
    return ev


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seconds-between", type=float, nargs=2, metavar=("MIN", "MAX"), default=(1.0, 3.0))
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url")
    parser.add_argument("--seed", type=int, help="random seed (default: time)")
    parser.add_argument("--verify-every", type=int, default=1, metavar="K",
                        help="run `exchange evidence verify` after every K-th restart (default 1: every restart); "
                             "the wholeness query runs after every restart, and both run at the end")
    parser.add_argument("--max-backlog", type=int, default=25, metavar="N",
                        help="the submitter waits while it is N documents ahead of the slowest recipient (default 25)")
    args = parser.parse_args()
    if args.database == "postgres" and not args.database_url:
        parser.error("--database postgres needs --database-url")
    if args.verify_every < 1:
        parser.error("--verify-every must be at least 1")
    args.bin = os.path.abspath(args.bin)
    args.workdir = os.path.abspath(args.workdir)
    os.makedirs(args.workdir, exist_ok=True)
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    started = time.monotonic()

    # Like scripts/test: a developer's shell must not point the test at another database.
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "GOVOFFICE_SQLITE_PATH", "GOVOFFICE_HUB_URL",
                        "GOVOFFICE_SYSTEM_ID", "GOVOFFICE_SECRET_KEY")}
    env.update(GOVOFFICE_PKI_DIR=os.path.join(args.workdir, "pki"), GOVOFFICE_BCRYPT_COST="4",
               GOVOFFICE_UNSIGNED="warn")
    if args.database == "sqlite":
        env["GOVOFFICE_SQLITE_PATH"] = os.path.join(args.workdir, "db.sqlite")
    else:
        env["DATABASE_URL"] = args.database_url

    hub = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        log(f"database={args.database} kills={args.kills} between={args.seconds_between} seed={seed} "
            f"verify_every={args.verify_every} workdir={args.workdir}")
        if args.database == "postgres":
            run([args.bin, "migrate", "--yes"], env, "migrate")
        run([args.bin, "demo", "seed"], env, "demo seed")
        if args.database == "postgres":
            env.update(production_settings(args.bin, env))
        samples = {"sample.edxml": build_document(0)}
        for code in STATUS_CODES:
            samples[f"status-{code}.edxml"] = build_status(0, RECIPIENTS[0], code)
        for name, data in samples.items():
            path = os.path.join(args.workdir, name)
            with open(path, "wb") as f:
                f.write(data)
            run([args.bin, "edxml", "validate", path], env, f"edxml validate of {name}")
        systems = {agency: issue_system(args.bin, env, agency, "crash-" + agency.split(".")[-1],
                                        "Crash test " + agency)
                   for agency in [SENDER] + RECIPIENTS}

        hub = Hub(args, env, free_port())
        hub.start()
        log(f"server up on {hub.base}")
        state = State()
        threads = [threading.Thread(target=guarded(submitter, state, "submitter"),
                                    args=(hub, systems[SENDER], state, args.max_backlog), name="submitter", daemon=True)]
        threads += [threading.Thread(target=guarded(receiver, state, r),
                                     args=(hub, r, systems[r], state, "document", state.submitter_done),
                                     name=r, daemon=True) for r in RECIPIENTS]
        threads += [threading.Thread(target=guarded(receiver, state, "status receiver"),
                                     args=(hub, SENDER, systems[SENDER], state, "status", state.documents_done),
                                     name="status receiver", daemon=True)]
        for t in threads:
            t.start()

        # After each restart, once the hub is ready: no half-written message, and (every K-th
        # restart) the evidence chain verifies. Submissions pause meanwhile (see Traffic).
        check_failures = []
        restarts_checked = 0
        evidence_checks = 0
        check_seconds = 0.0
        evidence_failed = False

        def check_after_restart(k, verify):
            nonlocal restarts_checked, evidence_checks, check_seconds, evidence_failed
            t0 = time.monotonic()
            if not state.traffic.pause(60):
                state.traffic.resume()
                check_failures.append(f"restart {k}: submissions did not settle within 60 s; not checked")
                return "NOT CHECKED (submissions did not settle)"
            try:
                # What the hub acknowledged before this snapshot (submissions are paused) must be in it.
                with state.lock:
                    acknowledged = set(state.acknowledged.values()) | set(state.status_acknowledged.values())
                count, problems, stored = half_written(args, env)
                for p in problems[:10]:
                    check_failures.append(f"restart {k}: half-written message {p}")
                missing = acknowledged - stored
                for mid in sorted(missing)[:10]:
                    check_failures.append(f"restart {k}: acknowledged message {mid} is not in the database")
                note = f"{count} messages, {len(problems)} half-written, {len(missing)} acknowledged missing"
                if verify:
                    ev = verify_evidence(args, env)
                    evidence_checks += 1
                    if ev.returncode == 0:
                        note += ", evidence ok"
                    else:
                        evidence_failed = True
                        note += f", evidence FAILED (exit {ev.returncode})"
                        check_failures.append(f"restart {k}: evidence verify failed: "
                                              + (ev.stdout + ev.stderr).strip()[-500:])
            finally:
                state.traffic.resume()
            restarts_checked += 1
            check_seconds += time.monotonic() - t0
            return note

        lo, hi = args.seconds_between
        for k in range(1, args.kills + 1):
            time.sleep(rng.uniform(lo, hi))
            with state.lock:
                sent = state.submitted
                statuses = len(state.status_acknowledged)
            hub.kill()
            t0 = time.monotonic()
            hub.start()
            ready = time.monotonic() - t0
            verify = k % args.verify_every == 0 or k == args.kills
            note = check_after_restart(k, verify)
            log(f"kill {k}/{args.kills} while submitting document {sent} ({statuses} statuses taken): "
                f"ready after {ready:.2f}s; {note}")
        time.sleep(lo)  # some traffic after the last restart
        state.stop_submitting.set()
        threads[0].join(120)
        if threads[0].is_alive():
            state.fail("the submitter did not finish")
        for t in threads[1:]:
            t.join(180)
            if t.is_alive():
                state.fail(f"receiver {t.name} did not drain its inbox")
        hub.stop()

        # ---------------------------------------------------------------- checks
        ok = not state.failures and not check_failures
        acked = dict(state.acknowledged)
        acked_ids = set(acked.values())
        lost = 0
        duplicates = 0
        print(f"submitted documents: {state.submitted}, acknowledged by the hub: {len(acked)}, kills: {args.kills}")
        print(f"retried after a connection error: {len(state.connection_failed)} "
              f"(committed before the kill, same id returned: {len(state.retry_duplicates)}; "
              f"not committed, created on retry: {len(state.retry_created)}; abandoned: {len(state.abandoned)})")
        unacked_received_allowed = 0
        for r in RECIPIENTS:
            got = state.received[r]
            distinct = set(got)
            missing = acked_ids - distinct
            lost += len(missing)
            print(f"{r}: received {len(got)}, distinct {len(distinct)}, repeats dropped {len(got) - len(distinct)}, "
                  f"missing {len(missing)}")
            for mid in sorted(missing)[:10]:
                print(f"  missing: {mid}")
            # One document, one id: a retry must not have made a second message.
            for n, ids in state.received_docs[r].items():
                if len(ids) > 1:
                    duplicates += len(ids) - 1
                    print(f"  document {n} arrived under {len(ids)} ids: {sorted(ids)}")
                elif n in acked and acked[n] not in ids:
                    duplicates += 1
                    print(f"  document {n}: received id {sorted(ids)} but the hub acknowledged {acked[n]}")
            # Received but never acknowledged: allowed only for a submission whose answer never came.
            for mid in distinct - acked_ids:
                n = next((n for n, ids in state.received_docs[r].items() if mid in ids), None)
                if n is not None and n in state.abandoned and n in state.connection_failed:
                    unacked_received_allowed += 1
                else:
                    ok = False
                    print(f"  {r} received {mid} (document {n}) that the hub never acknowledged")

        # Statuses: every one the hub acknowledged reached the original sender, once per (document,
        # recipient, code) after dropping repeats by message id.
        s_acked = dict(state.status_acknowledged)
        s_acked_ids = set(s_acked.values())
        s_distinct = set(state.status_received)
        s_missing = s_acked_ids - s_distinct
        statuses_lost = len(s_missing)
        status_duplicates = 0
        print(f"statuses acknowledged by the hub: {len(s_acked)} "
              f"(retried after a connection error: {len(state.status_connection_failed)}, committed before the "
              f"kill and answered with their original id: {len(state.status_retry_duplicates)}, "
              f"abandoned: {len(state.status_abandoned)})")
        print(f"{SENDER} (statuses): received {len(state.status_received)}, distinct {len(s_distinct)}, "
              f"repeats dropped {len(state.status_received) - len(s_distinct)}, missing {statuses_lost}")
        for mid in sorted(s_missing)[:10]:
            key = next((k for k, v in s_acked.items() if v == mid), None)
            print(f"  missing status: {mid} {key}")
        for key, ids in state.status_received_keys.items():
            if len(ids) > 1:
                status_duplicates += len(ids) - 1
                print(f"  status {key} arrived under {len(ids)} ids: {sorted(ids)}")
            elif key in s_acked and s_acked[key] not in ids:
                status_duplicates += 1
                print(f"  status {key}: received id {sorted(ids)} but the hub acknowledged {s_acked[key]}")
        for mid in s_distinct - s_acked_ids:
            key = next((k for k, ids in state.status_received_keys.items() if mid in ids), None)
            if key is not None and key in state.status_abandoned and key in state.status_connection_failed:
                unacked_received_allowed += 1
            else:
                ok = False
                print(f"  {SENDER} received status {mid} {key} that the hub never acknowledged")
        # The inbox lists oldest first, and 03 is sent only after the hub took 01.
        seen = set()
        out_of_order = 0
        for n, agency, code in state.status_order:
            if code == "03" and (n, agency, "01") not in seen:
                out_of_order += 1
            seen.add((n, agency, code))
        if out_of_order:
            ok = False
            print(f"FAIL: {out_of_order} status 03 seen by the sender before the 01 it follows")

        if state.server_errors:
            # The hub's promise is a clear 4xx or success, never a 5xx from a running server.
            ok = False
            calls = {}
            for call, status, body in state.server_errors:
                calls.setdefault(f"{call} {status}", body)
            print(f"FAIL: {len(state.server_errors)} 5xx answer(s) from a running server (retried): "
                  + "; ".join(f"{k} {v.decode('utf-8', 'replace')!r}" for k, v in calls.items()))
        print(f"received but unacknowledged (retried submissions whose answer was lost): {unacked_received_allowed}")
        if state.payload_mismatch:
            ok = False
            print(f"payloads that match no submitted message (bytes changed): {len(state.payload_mismatch)}")

        # The database: each message whole, one row per document and per (document, recipient, code).
        count, problems, _ = half_written(args, env)
        half_count = len(problems)
        for p in problems[:10]:
            print(f"  half-written message {p}")
        rows = db_query(args, env, "SELECT document_id, LOWER(CAST(id AS TEXT)) FROM exchange_messages "
                                   "WHERE kind = 'document'")
        by_doc = {}
        for doc, mid in rows:
            by_doc.setdefault(doc, []).append(mid)
        for doc, ids in by_doc.items():
            if len(ids) > 1:
                duplicates += len(ids) - 1
                print(f"  document {doc} stored {len(ids)} times: {ids}")
        for n, mid in acked.items():
            stored = by_doc.get(document_id(n), [])
            if mid not in stored:
                ok = False
                print(f"  document {n}: acknowledged as {mid} but stored as {stored}")
        for n, mid in state.retry_duplicates.items():
            if by_doc.get(document_id(n)) != [mid]:
                ok = False
                print(f"  document {n}: the retry returned {mid}, the database holds {by_doc.get(document_id(n))}")
        srows = db_query(args, env, "SELECT document_id, sender_code, status_code, LOWER(CAST(id AS TEXT)) "
                                    "FROM exchange_messages WHERE kind = 'status'")
        by_status = {}
        for doc, sender, code, mid in srows:
            by_status.setdefault((doc, sender, code), []).append(mid)
        for key, ids in by_status.items():
            if len(ids) > 1:
                status_duplicates += len(ids) - 1
                print(f"  status {key} stored {len(ids)} times: {ids}")
        for (n, agency, code), mid in s_acked.items():
            stored = by_status.get((document_id(n), agency, code), [])
            if mid not in stored:
                ok = False
                print(f"  status {(n, agency, code)}: acknowledged as {mid} but stored as {stored}")
        print(f"messages in the database: {count} ({len(rows)} documents, {len(srows)} statuses); retried "
              f"documents committed before the kill and answered with their original id: {len(state.retry_duplicates)}")
        unsettled = db_query(args, env, "SELECT COUNT(*) FROM exchange_deliveries WHERE state <> 'acknowledged'")[0][0]
        if unsettled != "0":
            ok = False
            print(f"deliveries not acknowledged after draining: {unsettled}")
        # Every recipient of every stored document stands at 03 (its last status).
        behind = db_query(args, env, "SELECT COUNT(*) FROM exchange_parties "
                                     "WHERE progress IS NULL OR progress <> '03'")[0][0]
        if behind != "0":
            ok = False
            print(f"recipients whose progress is not 03 after draining: {behind}")

        ev = verify_evidence(args, env)
        evidence_checks += 1
        evidence = "ok" if ev.returncode == 0 else f"FAILED(exit {ev.returncode})"
        print("evidence verify: " + (ev.stdout.strip().splitlines() or [""])[-1])
        if ev.returncode != 0:
            sys.stderr.write(ev.stdout[-3000:] + ev.stderr[-3000:])
        if evidence_failed and ev.returncode == 0:
            evidence = "FAILED(after a restart)"
        print(f"checks after restarts: {restarts_checked} (evidence verified {evidence_checks} times incl. the final; "
              f"{check_seconds:.1f}s with submissions paused)")
        for msg in check_failures[:20]:
            print("failure: " + msg)
        for msg in state.failures:
            print("failure: " + msg)
        ok = (ok and lost == 0 and duplicates == 0 and statuses_lost == 0 and status_duplicates == 0
              and half_count == 0 and evidence == "ok" and len(acked) > 0 and len(s_acked) > 0
              and restarts_checked == args.kills)
        print(f"crash: kills={args.kills} acknowledged={len(acked)} lost={lost} "
              f"duplicates_after_dedupe={duplicates} half_written={half_count} evidence={evidence} "
              f"statuses_acknowledged={len(s_acked)} statuses_lost={statuses_lost} "
              f"status_duplicates_after_dedupe={status_duplicates} server_errors={len(state.server_errors)} "
              f"restarts_checked={restarts_checked} database={args.database} seconds={time.monotonic() - started:.0f}")
        if not ok:
            print(f"crash test FAILED (server log: {hub.log_path})")
            return 1
        return 0
    except (RuntimeError, OSError, KeyError, ValueError) as err:
        print(f"crash test FAILED: {err}")
        return 1
    finally:
        if hub is not None:
            hub.stop()


if __name__ == "__main__":
    sys.exit(main())
