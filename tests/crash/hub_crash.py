#!/usr/bin/env python3
"""The hub's crash test: SIGKILL `govoffice serve` while documents flow, then check nothing is lost.

A submitter thread posts unsigned edXML documents (G22 -> H41, H37) in a tight loop; a receiver
thread per recipient long-polls its inbox, fetches and acknowledges. A killer SIGKILLs the server
N times and restarts it on the same port. At the end: every document the hub acknowledged reached
every recipient (repeats dropped by message id), a retried submission got its original id back,
no message is half-written in the database, and the evidence chain verifies.

Python 3 standard library only. See tests/crash/README.md.
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

SENDER = "000.00.00.G22"
RECIPIENTS = ["000.00.00.H41", "000.00.00.H37"]
API = "/api/v1/exchange"

# The structure of Tests/Fixtures/edxml/edoc_new_0.edxml, without the signature
# (the server runs with GOVOFFICE_UNSIGNED=warn: this test is about durability).
TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">
  <edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From>
          <edXML:OrganId>000.00.00.G22</edXML:OrganId>
          <edXML:OrganizationInCharge>Văn phòng Chính phủ</edXML:OrganizationInCharge>
          <edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName>
          <edXML:OrganAdd>Số 1 Hoàng Hoa Thám, Quận Ba Đình, Hà Nội</edXML:OrganAdd>
          <edXML:Email>vpcp@gov.vn</edXML:Email>
          <edXML:Telephone>8043100</edXML:Telephone>
          <edXML:Fax>048989898789</edXML:Fax>
          <edXML:Website>vpcp.vn</edXML:Website>
        </edXML:From>
        <edXML:To>
          <edXML:OrganId>000.00.00.H41</edXML:OrganId>
          <edXML:OrganizationInCharge>UBND Tỉnh Nghệ An</edXML:OrganizationInCharge>
          <edXML:OrganName>UBND Tỉnh Nghệ An</edXML:OrganName>
          <edXML:OrganAdd>Số 03, đường Trường Thi, Thành phố Vinh, Tỉnh Nghệ An, Việt Nam</edXML:OrganAdd>
          <edXML:Email>nghean@gov.vn</edXML:Email>
          <edXML:Telephone>0383 840418</edXML:Telephone>
          <edXML:Fax>0383 843049</edXML:Fax>
          <edXML:Website>www.nghean.vn</edXML:Website>
        </edXML:To>
        <edXML:To>
          <edXML:OrganId>000.00.00.H37</edXML:OrganId>
          <edXML:OrganizationInCharge>UBND Tỉnh Ninh Bình</edXML:OrganizationInCharge>
          <edXML:OrganName>UBND Tỉnh Ninh Bình</edXML:OrganName>
          <edXML:OrganAdd>Tỉnh Ninh Bình</edXML:OrganAdd>
          <edXML:Email>ninhbinh@gov.vn</edXML:Email>
          <edXML:Telephone>0229 3871 000</edXML:Telephone>
          <edXML:Fax>0229 3871 001</edXML:Fax>
          <edXML:Website>www.ninhbinh.gov.vn</edXML:Website>
        </edXML:To>
        <edXML:DocumentId>{document_id}</edXML:DocumentId>
        <edXML:Code>
          <edXML:CodeNumber>{n}</edXML:CodeNumber>
          <edXML:CodeNotation>CRASH</edXML:CodeNotation>
        </edXML:Code>
        <edXML:PromulgationInfo>
          <edXML:Place>Hà Nội</edXML:Place>
          <edXML:PromulgationDate>2026/11/23</edXML:PromulgationDate>
        </edXML:PromulgationInfo>
        <edXML:DocumentType>
          <edXML:Type>1</edXML:Type>
          <edXML:TypeDetail>0</edXML:TypeDetail>
          <edXML:TypeName>Công văn</edXML:TypeName>
        </edXML:DocumentType>
        <edXML:Subject>Thử nghiệm độ bền của trục, văn bản số {n}</edXML:Subject>
        <edXML:Content>Văn bản thử nghiệm số {n}: trục bị dừng đột ngột trong khi nhận.</edXML:Content>
        <edXML:SignerInfo>
          <edXML:Competence>TL. BO TRUONG</edXML:Competence>
          <edXML:Position>Chanh van phong</edXML:Position>
          <edXML:FullName>Nguyen Van Thu</edXML:FullName>
        </edXML:SignerInfo>
        <edXML:DueDate>2026/12/31</edXML:DueDate>
        <edXML:OtherInfo>
          <edXML:Priority>0</edXML:Priority>
          <edXML:SphereOfPromulgation>Liên thông văn bản quốc gia</edXML:SphereOfPromulgation>
          <edXML:TyperNotation>TVC</edXML:TyperNotation>
          <edXML:PromulgationAmount>2</edXML:PromulgationAmount>
          <edXML:PageAmount>1</edXML:PageAmount>
          <edXML:Direction>false</edXML:Direction>
        </edXML:OtherInfo>
        <edXML:SteeringType>1</edXML:SteeringType>
      </edXML:MessageHeader>
      <edXML:TraceHeaderList>
        <edXML:Bussiness>
          <edXML:DocumentId>{document_id}</edXML:DocumentId>
          <edXML:BussinessDocType>0</edXML:BussinessDocType>
          <edXML:BussinessDocReason>Văn bản điện tử mới</edXML:BussinessDocReason>
          <edXML:Paper>0</edXML:Paper>
          <edXML:StaffInfo>
            <edXML:Department>Văn thư văn phòng</edXML:Department>
            <edXML:Staff>Nguyễn Thị Ngọc Trâm</edXML:Staff>
            <edXML:Email>vanthuvanphong@gov.vn</edXML:Email>
            <edXML:Mobile>84912000001</edXML:Mobile>
          </edXML:StaffInfo>
        </edXML:Bussiness>
        <edXML:TraceHeader>
          <edXML:OrganId>000.00.00.G22</edXML:OrganId>
          <edXML:Timestamp>2026/11/23 08:00:00</edXML:Timestamp>
        </edXML:TraceHeader>
      </edXML:TraceHeaderList>
    </edXML:edXMLHeader>
    <edXML:edXMLBody>
      <edXML:edXMLManifest version="1.0">
        <edXML:Reference>
          <edXML:ContentId>cid:1</edXML:ContentId>
          <edXML:ContentType>application/pdf</edXML:ContentType>
          <edXML:Description>crash-{n}.pdf</edXML:Description>
          <edXML:AttachmentName>crash-{n}.pdf</edXML:AttachmentName>
        </edXML:Reference>
      </edXML:edXMLManifest>
    </edXML:edXMLBody>
  </edXML:edXMLEnvelope>
  <AttachmentEncoded>
    <Attachment>
      <ContentId>cid:1</ContentId>
      <AttachmentName>crash-{n}.pdf</AttachmentName>
      <Description>crash-{n}.pdf</Description>
      <ContentType>application/pdf</ContentType>
      <edXML:ContentTransferEncoded xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">JVBERi0xLjQKJeLjz9MK</edXML:ContentTransferEncoded>
    </Attachment>
  </AttachmentEncoded>
</edXML>
"""


def document_id(n):
    return f"{SENDER},2026/11/23,{n}/CRASH"


def build_document(n):
    return TEMPLATE.format(n=n, document_id=document_id(n)).encode("utf-8")


def log(msg):
    print(f"[crash {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# Everything that means "the server is not there right now" (killed, restarting).
CONNECTION_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout, OSError)


class Hub:
    """The server process: start, SIGKILL, restart on the same port, stop."""

    def __init__(self, args, env, port):
        self.args = args
        self.env = env
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.proc = None
        self.log_path = os.path.join(args.workdir, "server.log")
        self.starts = 0

    def start(self):
        self.starts += 1
        with open(self.log_path, "ab") as out:
            out.write(f"\n===== start #{self.starts} =====\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [self.args.bin, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=self.env)
        self.wait_ready(60)

    def wait_ready(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited (code {self.proc.returncode}) before /readyz answered; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except CONNECTION_ERRORS:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"/readyz did not answer 200 within {seconds}s; see {self.log_path}")
            time.sleep(0.02)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


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


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.stop_submitting = threading.Event()
        self.submitter_done = threading.Event()
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
        self.payload_mismatch = []
        self.server_errors = []        # (call, status, body) of 5xx answers from a running server

    def fail(self, msg):
        with self.lock:
            self.failures.append(msg)
        log("FAIL: " + msg)


def submitter(hub, system, state):
    n = 0
    while not state.stop_submitting.is_set():
        n += 1
        data = build_document(n)
        with state.lock:
            state.by_sha[hashlib.sha256(data).hexdigest()] = n
            state.submitted = n
        attempts = 0
        give_up_at = None
        while True:
            attempts += 1
            try:
                status, body = request(hub.base, "POST", API + "/messages", system, data, "application/xml")
            except CONNECTION_ERRORS:
                status, body = None, b""
            if status in (200, 201):
                answer = json.loads(body)
                mid = answer["message_id"].lower()
                with state.lock:
                    state.acknowledged[n] = mid
                    if attempts > 1 and n in state.connection_failed:
                        if answer.get("duplicate"):
                            state.retry_duplicates[n] = mid
                        else:
                            state.retry_created.add(n)
                if attempts == 1 and answer.get("duplicate"):
                    state.fail(f"document {n}: first POST answered duplicate (id {mid})")
                break
            if status is None or status >= 500:
                # Killed or restarting: retry the SAME bytes until the hub answers. A 5xx from a
                # running server is retried too, but counted and reported.
                with state.lock:
                    if status is None:
                        state.connection_failed.add(n)
                    else:
                        state.server_errors.append(("POST messages", status, body[:200]))
                if give_up_at is None:
                    give_up_at = time.monotonic() + 90
                if time.monotonic() > give_up_at:
                    state.fail(f"document {n}: no answer from the hub for 90 s (last status {status})")
                    with state.lock:
                        state.abandoned.add(n)
                    break
                time.sleep(0.05)
                continue
            # Any other answer is a bug; a 409 document_conflict on a retry means idempotency broke.
            state.fail(f"document {n}: POST answered {status} after {attempts} attempt(s): {body[:300]!r}")
            with state.lock:
                state.abandoned.add(n)
            break
    state.submitter_done.set()


def server_error(state, call, status, body):
    """A 5xx from a running server: note it, then retry like a connection error."""
    with state.lock:
        state.server_errors.append((call, status, body[:200]))
    raise ConnectionError(f"{call}: {status}")


def receiver(hub, agency, system, state):
    empty_after_stop = 0
    last_error_at = None
    while True:
        draining = state.submitter_done.is_set()
        wait = 1 if draining else 5
        try:
            status, body = request(hub.base, "GET", f"{API}/inbox?wait={wait}", system, timeout=wait + 30)
            if status != 200:
                if status < 500:
                    state.fail(f"{agency}: inbox answered {status}: {body[:300]!r}")
                    return
                server_error(state, "GET inbox", status, body)
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
                status, payload = request(hub.base, "GET", f"{API}/messages/{mid}", system)
                if status >= 500:
                    server_error(state, "GET messages/ID", status, payload)
                if status != 200:
                    state.fail(f"{agency}: fetch {mid} answered {status}: {payload[:300]!r}")
                    return
                sha = hashlib.sha256(payload).hexdigest()
                with state.lock:
                    state.received[agency].append(mid)
                    n = state.by_sha.get(sha)
                    if n is None:
                        state.payload_mismatch.append((agency, mid))
                    else:
                        state.received_docs[agency].setdefault(n, set()).add(mid)
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
    return body


def run(cmd, env, what):
    res = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout[-4000:] + res.stderr[-4000:])
        raise RuntimeError(f"{what} failed (exit {res.returncode}): {' '.join(cmd)}")
    return res


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def db_query(args, env, sql):
    """Rows of one query, as lists of strings."""
    if args.database == "sqlite":
        con = sqlite3.connect(env["GOVOFFICE_SQLITE_PATH"])
        try:
            return [[("" if v is None else str(v)) for v in row] for row in con.execute(sql).fetchall()]
        finally:
            con.close()
    res = subprocess.run(["psql", "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", args.database_url, "-c", sql],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"psql failed: {res.stderr.strip()}")
    return [line.split("\t") for line in res.stdout.splitlines() if line != ""]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seconds-between", type=float, nargs=2, metavar=("MIN", "MAX"), default=(1.0, 3.0))
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url")
    parser.add_argument("--seed", type=int, help="random seed (default: time)")
    args = parser.parse_args()
    if args.database == "postgres" and not args.database_url:
        parser.error("--database postgres needs --database-url")
    args.bin = os.path.abspath(args.bin)
    args.workdir = os.path.abspath(args.workdir)
    os.makedirs(args.workdir, exist_ok=True)
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)

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
        log(f"database={args.database} kills={args.kills} between={args.seconds_between} seed={seed} workdir={args.workdir}")
        if args.database == "postgres":
            run([args.bin, "migrate", "--yes"], env, "migrate")
        run([args.bin, "demo", "seed"], env, "demo seed")
        sample = os.path.join(args.workdir, "sample.edxml")
        with open(sample, "wb") as f:
            f.write(build_document(0))
        run([args.bin, "edxml", "validate", sample], env, "edxml validate of the template")
        systems = {}
        for agency in [SENDER] + RECIPIENTS:
            out = run([args.bin, "systems", "issue", "--agency", agency, "--id", "crash-" + agency.split(".")[-1],
                       "--name", "Crash test " + agency, "--env"], env, f"systems issue {agency}").stdout
            creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
            if not creds.get("GOVOFFICE_SYSTEM_ID") or not creds.get("GOVOFFICE_SECRET_KEY"):
                raise RuntimeError(f"systems issue --env printed no credentials for {agency}: {out!r}")
            systems[agency] = creds

        hub = Hub(args, env, free_port())
        hub.start()
        log(f"server up on {hub.base}")
        state = State()
        threads = [threading.Thread(target=guarded(submitter, state, "submitter"), args=(hub, systems[SENDER], state),
                                    name="submitter", daemon=True)]
        threads += [threading.Thread(target=guarded(receiver, state, r), args=(hub, r, systems[r], state), name=r, daemon=True)
                    for r in RECIPIENTS]
        for t in threads:
            t.start()

        lo, hi = args.seconds_between
        for k in range(1, args.kills + 1):
            time.sleep(rng.uniform(lo, hi))
            with state.lock:
                sent = state.submitted
            hub.kill()
            log(f"kill {k}/{args.kills}: SIGKILL while submitting document {sent}")
            t0 = time.monotonic()
            hub.start()
            log(f"  restarted, ready after {time.monotonic() - t0:.1f}s")
        time.sleep(lo)  # some traffic after the last restart
        state.stop_submitting.set()
        threads[0].join(120)
        if threads[0].is_alive():
            state.fail("the submitter did not finish")
        for t in threads[1:]:
            t.join(120)
            if t.is_alive():
                state.fail(f"receiver {t.name} did not drain its inbox")
        hub.stop()

        # ---------------------------------------------------------------- checks
        ok = not state.failures
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
            print(f"payloads that match no submitted document (bytes changed): {len(state.payload_mismatch)}")

        # The database: each message whole (2 deliveries, 1 evidence entry), one row per document.
        half = db_query(args, env, """
            SELECT CAST(m.id AS TEXT),
                   (SELECT COUNT(*) FROM exchange_deliveries d WHERE d.message_id = m.id),
                   (SELECT COUNT(*) FROM exchange_evidence e WHERE LOWER(e.entity_id) = LOWER(CAST(m.id AS TEXT)))
            FROM exchange_messages m""")
        half_written = [row for row in half if row[1] != "2" or row[2] != "1"]
        for row in half_written[:10]:
            print(f"  half-written message {row[0]}: {row[1]} deliveries, {row[2]} evidence entries")
        rows = db_query(args, env, "SELECT document_id, LOWER(CAST(id AS TEXT)) FROM exchange_messages")
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
        print(f"messages in the database: {len(rows)}; retried documents committed before the kill and answered "
              f"with their original id: {len(state.retry_duplicates)}")
        unsettled = db_query(args, env, "SELECT COUNT(*) FROM exchange_deliveries WHERE state <> 'acknowledged'")[0][0]
        if unsettled != "0":
            ok = False
            print(f"deliveries not acknowledged after draining: {unsettled}")

        ev = subprocess.run([args.bin, "exchange", "evidence", "verify"], env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True)
        evidence = "ok" if ev.returncode == 0 else f"FAILED(exit {ev.returncode})"
        print("evidence verify: " + (ev.stdout.strip().splitlines() or [""])[-1])
        if ev.returncode != 0:
            sys.stderr.write(ev.stdout[-3000:] + ev.stderr[-3000:])

        for msg in state.failures:
            print("failure: " + msg)
        ok = ok and lost == 0 and duplicates == 0 and not half_written and ev.returncode == 0 and len(acked) > 0
        print(f"crash: kills={args.kills} acknowledged={len(acked)} lost={lost} duplicates_after_dedupe={duplicates} "
              f"half_written={len(half_written)} evidence={evidence}")
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
