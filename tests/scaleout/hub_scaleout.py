#!/usr/bin/env python3
"""Scale-out test of the hub: two `govoffice serve` nodes on one PostgreSQL, clients round-robin.

Node A and node B run `serve` on two ports with the same DATABASE_URL. Every client request goes
to the next node in turn (and to the other one when a node does not answer). The sender G22 posts
unsigned edXML documents to 2-4 of four recipients: H41 and H37 pull (inbox, fetch, ack, each call
through either node), H56 and H29 have a webhook pointing at a receiver in this process that
answers 500 to the first attempt(s) of some messages, so the hub retries. Mid-load a node gets
SIGKILL (more than once, alternating, in soak mode) and is restarted later; the other node must
finish the work: every pending push delivered, every pulled message available. After the last
kill a probe document goes to H14, whose push answer sends a 200 head and then stalls its body for
longer than a push lease: the hub must not push that delivery again.

Checks: every accepted document reached each of its recipients exactly once after de-duplication
by message id, and nothing else arrived; no two pushes of one delivery overlapped in time; no
delivery was pushed again after a 2xx unless a killed node held its lease (those "kill repeats" are
counted apart and must not exceed the leases the killed node held); each push delivery's attempt
count in PostgreSQL matches the pushes the receiver saw; every delivery ends acknowledged; no 5xx
from a running node; the evidence chain verifies.

Python 3 standard library only; `psql` reads the database. See tests/scaleout/README.md.
"""

import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import os
import random
import signal
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
from hubtest import (CONNECTION_ERRORS, ServerProcess, edxml_document, generic_agency, issue_system, psql,  # noqa: E402
                     production_settings, run)

API = "/api/v1/exchange"
SENDER = "000.00.00.G22"
PULL = ["000.00.00.H41", "000.00.00.H37"]
PUSH = ["000.00.00.H56", "000.00.00.H29"]
RECIPIENTS = PULL + PUSH
PROBE = "000.00.00.H14"     # push too, gets only the stall probe (see Receiver)
HOOKS = PUSH + [PROBE]
LEASE_MS = 60_000          # WebhookDispatcher.lease
PUSH_TIMEOUT_MS = 10_000   # WebhookDispatcher.push: HTTPClient timeout
BASE_DELAY_MS = 50         # GOVOFFICE_WEBHOOK_BASE_DELAY_MS given to the nodes

def document_id(n):
    return f"{SENDER},2026/11/23,{n}/SCALE"


def build_document(n, recipients):
    """Document n from G22 to RECIPIENTS (agency codes), unsigned; placeholder contact details."""
    return edxml_document(n, document_id(n), [generic_agency(c) for c in recipients], "SCALE",
                          f"Thử nghiệm hai nút trục, văn bản số {n}",
                          f"Văn bản thử nghiệm số {n}: hai nút dùng chung một cơ sở dữ liệu.", f"scale-{n}.pdf")


def log(msg):
    print(f"[scaleout {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def now_ms():
    return int(time.time() * 1000)


class Node(ServerProcess):
    """One `govoffice serve` process: start, SIGKILL, restart on the same port, stop (log: WORKDIR/node-NAME.log)."""

    def __init__(self, name, args, env):
        super().__init__(args.bin, env, os.path.join(args.workdir, f"node-{name}.log"), label=f"node {name}")
        self.name = name


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.failures = []
        self.server_errors = []          # (node, call, status, body) 5xx from a running node
        self.served = {}                 # node name -> answered requests
        self.served_after_kill = 0       # answered requests after the first kill
        self.killed_at = []              # (node name, wall ms, monotonic) of each SIGKILL
        self.accepted = {}               # n -> message id
        self.recipients_of = {}          # n -> [agency]
        self.by_sha = {}                 # sha256 of the bytes -> n
        self.connection_failed = set()   # n whose POST met a connection error
        self.retry_duplicates = 0        # retries answered 200 duplicate (committed before the kill)
        self.abandoned = set()
        self.pulled = {a: [] for a in PULL}        # message ids fetched, repeats kept
        self.payload_mismatch = []
        self.stop_pulling = threading.Event()

    def fail(self, msg):
        with self.lock:
            self.failures.append(msg)
        log("FAIL: " + msg)


class Cluster:
    """The clients' view: round-robin over the nodes, the other node when one does not answer."""

    def __init__(self, nodes, state):
        self.nodes = nodes
        self.state = state
        self.lock = threading.Lock()
        self.turn = 0
        self.down_until = {}

    def _order(self):
        with self.lock:
            self.turn += 1
            k = self.turn % len(self.nodes)
        order = self.nodes[k:] + self.nodes[:k]
        now = time.monotonic()
        # A node that just refused a connection is tried last for a second.
        return sorted(order, key=lambda n: self.down_until.get(n.name, 0.0) > now)

    def request(self, method, path, system, body=None, content_type=None, timeout=30, give_up=120):
        """One call: (status, body, node name, tries that may have reached a node without an answer).

        Retries on connection errors and 5xx, on the other node first. A refused connection never
        reached a node and is not counted; a reset, a timeout or a 5xx may have (a POST may have
        committed), so a repeat answered `duplicate` is expected after one of those only.
        """
        headers = {"X-SystemId": system["GOVOFFICE_SYSTEM_ID"], "X-SecretKey": system["GOVOFFICE_SECRET_KEY"]}
        if content_type:
            headers["Content-Type"] = content_type
        deadline = time.monotonic() + give_up
        connection_errors = 0
        while True:
            for node in self._order():
                req = urllib.request.Request(node.base + path, data=body, method=method, headers=headers)
                try:
                    try:
                        with urllib.request.urlopen(req, timeout=timeout) as resp:
                            status, data = resp.status, resp.read()
                    except urllib.error.HTTPError as err:
                        status, data = err.code, err.read()
                except CONNECTION_ERRORS as err:
                    refused = isinstance(getattr(err, "reason", err), ConnectionRefusedError)
                    if not refused:
                        connection_errors += 1
                    self.down_until[node.name] = time.monotonic() + 1.0
                    continue
                with self.state.lock:
                    self.state.served[node.name] = self.state.served.get(node.name, 0) + 1
                    if self.state.killed_at:
                        self.state.served_after_kill += 1
                if status >= 500:
                    with self.state.lock:
                        self.state.server_errors.append((node.name, f"{method} {path.split('?')[0]}", status, data[:300]))
                    connection_errors += 1
                    continue
                return status, data, node.name, connection_errors
            if time.monotonic() > deadline:
                raise ConnectionError(f"{method} {path}: no node answered for {give_up} s")
            time.sleep(0.05)


# ---------------------------------------------------------------- webhook receiver

class Receiver:
    """The push recipients' endpoint: /hook/<agency>. Records every push it receives."""

    def __init__(self, state, secrets, fail_rng_seed):
        self.state = state
        self.secrets = secrets            # agency -> webhook secret
        self.lock = threading.Lock()
        self.pushes = []                  # dicts: agency, mid, start, end, status, sig_ok, n
        self.open = {}                    # push index -> (agency, mid) while its handler runs
        self.open_ports = {}              # push index -> the pushing node's local TCP port
        self.attempts = {}                # (agency, mid) -> pushes seen so far
        self.seed = fail_rng_seed
        self.open_at_kill = []            # per kill: pushes the receiver was handling at the kill
        self.stall_armed = threading.Event()  # set after the last kill: stall one answer's body
        self.stall_agency = PROBE
        self.stall_seconds = (LEASE_MS + 8000) / 1000
        self.stalled = None

    def failures_wanted(self, agency, mid):
        """How many first attempts of this delivery answer 500: 0 (80 %), 1 (15 %) or 2 (5 %)."""
        h = int(hashlib.sha256(f"{self.seed}:{agency}:{mid}".encode()).hexdigest()[:8], 16) % 100
        return 2 if h < 5 else 1 if h < 20 else 0

    def handler(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                start = time.monotonic()
                agency = self.path.rsplit("/", 1)[-1]
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = self.rfile.read(length)
                except (ConnectionResetError, OSError):
                    body = b""
                truncated = len(body) != length
                mid = (self.headers.get("X-GovOffice-Message-Id") or "").lower()
                ts = self.headers.get("X-GovOffice-Timestamp") or ""
                sig = self.headers.get("X-GovOffice-Signature") or ""
                secret = receiver.secrets.get(agency, "")
                # Signature scheme v2 (ExchangeClient/WebhookSignature.swift): the id, kind and sequence
                # headers are signed with the timestamp and the body.
                signed = "\n".join(["v2", ts, self.headers.get("X-GovOffice-Message-Id") or "",
                                    self.headers.get("X-GovOffice-Kind") or "",
                                    self.headers.get("X-GovOffice-Sequence") or "", ""]).encode() + body
                expected = "v2=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
                sig_ok = hmac.compare_digest(expected, sig)
                n = receiver.state.by_sha.get(hashlib.sha256(body).hexdigest())
                if truncated:
                    # The node died while sending: a push that reached us, without an answer.
                    with receiver.lock:
                        receiver.pushes.append({"agency": agency, "mid": mid, "start": start, "end": time.monotonic(),
                                                "status": None, "sig_ok": True, "n": -1})
                    self.close_connection = True
                    return
                with receiver.lock:
                    key = (agency, mid)
                    attempt = receiver.attempts.get(key, 0) + 1
                    receiver.attempts[key] = attempt
                    index = len(receiver.pushes)
                    receiver.pushes.append({"agency": agency, "mid": mid, "start": start, "end": None, "status": None,
                                            "sig_ok": sig_ok, "n": n})
                    receiver.open[index] = key
                    receiver.open_ports[index] = self.client_address[1]
                # Some work, so that pushes take a while and a kill can land in one.
                time.sleep(random.uniform(0.01, 0.04))
                status = 500 if attempt <= receiver.failures_wanted(agency, mid) else 200
                if agency not in receiver.secrets or not mid:
                    status = 404
                payload = b'{"ok":true}' if status == 200 else b'{"error":"try again"}'
                stall = False
                if status == 200 and agency == receiver.stall_agency and receiver.stall_armed.is_set():
                    with receiver.lock:
                        if receiver.stalled is None:
                            receiver.stalled = {"agency": agency, "mid": mid, "index": index}
                            stall = True
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    with receiver.lock:
                        receiver.pushes[index]["status"] = status
                    if stall:
                        # The answer's head says 200, then the body stalls for longer than a push lease:
                        # the hub must not let this push outlive its lease (another node would push again).
                        self.wfile.write(payload[:3])
                        self.wfile.flush()
                        log(f"receiver: stalling the body of the answer to {agency} {mid} for {receiver.stall_seconds:.0f} s")
                        time.sleep(receiver.stall_seconds)
                        self.wfile.write(payload[3:])
                    else:
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # The node was killed mid-push, or gave up on a stalled answer: the push is recorded.
                    self.close_connection = True
                finally:
                    with receiver.lock:
                        receiver.pushes[index]["end"] = time.monotonic()
                        receiver.open.pop(index, None)
                        receiver.open_ports.pop(index, None)

        return Handler

    def pushing(self, pid):
        """Whether process `pid` has a push open here right now (Linux: its sockets in /proc)."""
        with self.lock:
            ports = set(self.open_ports.values())
        if not ports:
            return False
        try:
            inodes = set()
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
            with open("/proc/net/tcp") as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    if int(cols[1].split(":")[1], 16) in ports and cols[9] in inodes:
                        return True
        except OSError:
            return False
        return False

    def note_kill(self):
        with self.lock:
            self.open_at_kill.append(sorted(set(self.open.values())))


class QuietServer(http.server.ThreadingHTTPServer):
    """A killed node resets its kept-alive connections: nothing to report."""

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


# ---------------------------------------------------------------- client threads

def submitter(cluster, system, state, numbers, rng, pace, fixed=None):
    """Posts documents `numbers`, one every `pace` seconds; a failed POST is resent with the same bytes."""
    for n in numbers:
        t0 = time.monotonic()
        recipients = fixed or rng.sample(RECIPIENTS, rng.randint(2, len(RECIPIENTS)))
        data = build_document(n, recipients)
        with state.lock:
            state.by_sha[hashlib.sha256(data).hexdigest()] = n
            state.recipients_of[n] = recipients
        try:
            status, body, _, conn_errors = cluster.request("POST", API + "/messages", system, data, "application/xml")
        except ConnectionError as err:
            state.fail(f"document {n}: {err}")
            with state.lock:
                state.abandoned.add(n)
            continue
        if status in (200, 201):
            answer = json.loads(body)
            with state.lock:
                state.accepted[n] = answer["message_id"].lower()
                if conn_errors:
                    state.connection_failed.add(n)
                    if answer.get("duplicate"):
                        state.retry_duplicates += 1
            if answer.get("duplicate") and not conn_errors:
                state.fail(f"document {n}: first POST answered duplicate")
        else:
            state.fail(f"document {n}: POST answered {status}: {body[:300]!r}")
            with state.lock:
                state.abandoned.add(n)
        rest = pace - (time.monotonic() - t0)
        if rest > 0:
            time.sleep(rest)


def puller(cluster, agency, system, state):
    """Long-polls the inbox, fetches and acknowledges, each call through whichever node is next."""
    empty = 0
    while True:
        draining = state.stop_pulling.is_set()
        try:
            status, body, _, _ = cluster.request("GET", f"{API}/inbox?limit=50&wait=2", system, timeout=40)
            if status != 200:
                state.fail(f"{agency}: inbox answered {status}: {body[:300]!r}")
                return
            items = json.loads(body)["items"]
            if not items:
                empty = empty + 1 if draining else 0
                if empty >= 2:
                    return
                continue
            empty = 0
            for item in items:
                mid = item["message_id"].lower()
                status, payload, _, _ = cluster.request("GET", f"{API}/messages/{mid}", system)
                if status != 200:
                    state.fail(f"{agency}: fetch {mid} answered {status}: {payload[:300]!r}")
                    return
                with state.lock:
                    state.pulled[agency].append(mid)
                    if state.by_sha.get(hashlib.sha256(payload).hexdigest()) is None:
                        state.payload_mismatch.append((agency, mid))
                status, answer, _, _ = cluster.request("POST", f"{API}/messages/{mid}/ack", system,
                                                       json.dumps({"outcome": "done"}).encode(), "application/json")
                if status != 200:
                    state.fail(f"{agency}: ack {mid} answered {status}: {answer[:300]!r}")
                    return
        except ConnectionError as err:
            state.fail(f"{agency}: {err}")
            return


def guarded(fn, state, name):
    def body(*args):
        try:
            fn(*args)
        except Exception as err:  # noqa: BLE001 - any surprise fails the test, loudly
            state.fail(f"{name} thread crashed: {err!r}")
    return body


# ---------------------------------------------------------------- database

def db_rows(args, sql):
    return psql(args.database_url, sql)


def stranded_leases(args, kill_ms, query_ms, previous_kill_ms):
    """Push deliveries whose lease the killed node still holds.

    A lease is `next_attempt_ms = claim time + LEASE_MS`. Claims by the killed node happened before
    `kill_ms`, so their lease ends by kill_ms + LEASE_MS; the surviving node's claims after the kill end
    later, and its claims before the kill were finished (pushed or rescheduled) by `query_ms`, which is
    more than the push timeout after the kill. A rescheduled retry waits far less than a lease here
    (GOVOFFICE_WEBHOOK_BASE_DELAY_MS=50, at most a few attempts), hence the 5 s floor. Leases the
    previous kill left behind end by previous_kill_ms + LEASE_MS and are not counted again.
    """
    floor = max(query_ms + 5000, (previous_kill_ms + LEASE_MS + 200) if previous_kill_ms else 0)
    push = ", ".join(f"'{a}'" for a in HOOKS)
    rows = db_rows(args, f"""
        SELECT recipient_code, LOWER(CAST(message_id AS TEXT)) FROM exchange_deliveries
        WHERE state IN ('pending', 'delivered') AND recipient_code IN ({push})
        AND next_attempt_ms > {floor} AND next_attempt_ms <= {kill_ms + LEASE_MS + 200}""")
    return {(r[0], r[1]) for r in rows}


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--database-url", required=True, help="a fresh PostgreSQL database")
    parser.add_argument("--documents", type=int, default=150)
    parser.add_argument("--seconds", type=float, default=15, help="spread the documents over about this long")
    parser.add_argument("--kills", type=int, default=1, help="SIGKILLs, alternating A, B, A, ...; each node restarted later")
    parser.add_argument("--submitters", type=int, default=2)
    parser.add_argument("--progress-seconds", type=float, default=100,
                        help="after the load, fail if no waiting delivery settles for this long (a push a killed node "
                             "held waits for its 60 s lease, and blocks that recipient's later ones)")
    parser.add_argument("--aim-seconds", type=float, default=3,
                        help="before a kill, wait up to this long for the victim to be in the middle of a push "
                             "(0: kill at once); a push a killed node held is retried after its 60 s lease")
    parser.add_argument("--seed", type=int, help="random seed (default: time)")
    args = parser.parse_args()
    if args.documents < 3:
        parser.error("--documents must be at least 3 (a warm-up, the load, a stall probe)")
    args.bin = os.path.abspath(args.bin)
    args.workdir = os.path.abspath(args.workdir)
    if args.kills > 1 and args.seconds / args.kills < 15:
        parser.error("keep at least 15 s between kills (--seconds / --kills): each kill's leases are counted 12 s after it")
    os.makedirs(args.workdir, exist_ok=True)
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)

    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "GOVOFFICE_SQLITE_PATH", "GOVOFFICE_HUB_URL",
                        "GOVOFFICE_SYSTEM_ID", "GOVOFFICE_SECRET_KEY", "GOVOFFICE_HUB_WORKERS")}
    env.update(GOVOFFICE_PKI_DIR=os.path.join(args.workdir, "pki"), GOVOFFICE_BCRYPT_COST="4",
               GOVOFFICE_UNSIGNED="warn", DATABASE_URL=args.database_url,
               GOVOFFICE_WEBHOOK_BASE_DELAY_MS=str(BASE_DELAY_MS),
               # The receiver listens on loopback, which webhooks may not reach unless listed.
               GOVOFFICE_WEBHOOK_ALLOW="127.0.0.0/8")

    state = State()
    nodes = []
    server = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        log(f"documents={args.documents} seconds={args.seconds} kills={args.kills} seed={seed} workdir={args.workdir}")
        run([args.bin, "migrate", "--yes"], env, "migrate")
        run([args.bin, "demo", "seed"], env, "demo seed")
        env.update(production_settings(args.bin, env))  # both nodes: one seal, one secrets key
        sample = os.path.join(args.workdir, "sample.edxml")
        with open(sample, "wb") as f:
            f.write(build_document(0, RECIPIENTS))
        run([args.bin, "edxml", "validate", sample], env, "edxml validate of the template")
        systems = {agency: issue_system(args.bin, env, agency, "scale-" + agency.split(".")[-1],
                                        "Scale-out test " + agency)
                   for agency in [SENDER] + RECIPIENTS + [PROBE]}

        secrets = {a: hashlib.sha256(f"secret:{seed}:{a}".encode()).hexdigest()[:32] for a in HOOKS}
        receiver = Receiver(state, secrets, seed)
        server = QuietServer(("127.0.0.1", 0), receiver.handler())
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="receiver", daemon=True).start()
        hook_base = f"http://127.0.0.1:{server.server_address[1]}/hook"

        a, b = Node("A", args, env), Node("B", args, env)
        nodes = [a, b]
        a.start()
        cluster = Cluster([a], state)
        for agency in HOOKS:
            status, body, _, _ = cluster.request("POST", API + "/webhooks", systems[agency],
                                                 json.dumps({"url": f"{hook_base}/{agency}", "secret": secrets[agency]}).encode(),
                                                 "application/json")
            if status != 201:
                raise RuntimeError(f"webhook registration for {agency} answered {status}: {body[:300]!r}")
        # Document 0 goes through A alone: it makes the demo hub seal under the shared PKI folder
        # before B starts (two nodes making it at once would race on the files).
        submitter(cluster, systems[SENDER], state, [0], random.Random(seed), 0)
        if 0 not in state.accepted:
            raise RuntimeError("the warm-up document was not accepted")
        b.start()
        cluster.nodes = [a, b]
        log(f"node A {a.base}, node B {b.base}, webhook receiver {hook_base}")

        # Document 0 is the warm-up, the last one the stall probe (below).
        numbers = list(range(1, args.documents - 1))
        per = [numbers[i::args.submitters] for i in range(args.submitters)]
        pace = args.seconds * args.submitters / max(1, len(numbers))
        threads = [threading.Thread(target=guarded(submitter, state, f"submitter{i}"),
                                    args=(cluster, systems[SENDER], state, part, random.Random(seed + i + 1), pace),
                                    name=f"submitter{i}", daemon=True) for i, part in enumerate(per)]
        pullers = [threading.Thread(target=guarded(puller, state, agency), args=(cluster, agency, systems[agency], state),
                                    name=agency, daemon=True) for agency in PULL]
        t_load = time.monotonic()
        for t in threads + pullers:
            t.start()

        # Kills at evenly spread moments of the load; a killed node comes back half-way to the next.
        kills = []          # dicts: node, wall ms, open pushes at the receiver, stranded leases (filled later)
        lease_checks = []
        span = args.seconds
        for k in range(args.kills):
            victim = nodes[k % 2]
            at = span * (k + 0.3) / max(1, args.kills)
            time.sleep(max(0.0, t_load + at - time.monotonic()))
            if not all(n.alive() for n in nodes):
                raise RuntimeError("a node died on its own; see its log")
            # Aim at a push in flight: wait (a little) until the victim has one open at the receiver.
            aim_until = time.monotonic() + args.aim_seconds
            aimed = False
            while time.monotonic() < aim_until and not aimed:
                aimed = receiver.pushing(victim.proc.pid)
                if not aimed:
                    time.sleep(0.002)
            receiver.note_kill()
            victim.kill()
            kill_ms = now_ms()
            with state.lock:
                state.killed_at.append((victim.name, kill_ms, time.monotonic()))
                accepted = len(state.accepted)
            entry = {"node": victim.name, "ms": kill_ms, "open": receiver.open_at_kill[-1], "stranded": None}
            kills.append(entry)
            log(f"kill {k + 1}/{args.kills}: SIGKILL node {victim.name} with {accepted} documents accepted, "
                f"{len(entry['open'])} push(es) open at the receiver, {'one' if aimed else 'none'} of them known to be the victim's")

            previous_ms = kills[-2]["ms"] if len(kills) > 1 else None

            def check_leases(entry=entry, kill_ms=kill_ms, previous_ms=previous_ms):
                time.sleep((PUSH_TIMEOUT_MS + 2000) / 1000)
                try:
                    entry["stranded"] = stranded_leases(args, kill_ms, now_ms(), previous_ms)
                    log(f"  node {entry['node']} left {len(entry['stranded'])} push lease(s) behind")
                except RuntimeError as err:
                    state.fail(f"lease check after the kill of {entry['node']}: {err}")
            lc = threading.Thread(target=check_leases, daemon=True)
            lc.start()
            lease_checks.append(lc)
            restart_at = span * (k + 0.7) / max(1, args.kills)
            time.sleep(max(0.0, t_load + restart_at - time.monotonic()))
            victim.start()
            log(f"  node {victim.name} restarted")

        for t in threads:
            t.join()
        for lc in lease_checks:
            lc.join(30)
        # The stall probe: no kill from here on, so one push answer may stall for longer than a lease.
        # Its recipient (H14) gets nothing else, so no lease of a killed node holds it up.
        receiver.stall_armed.set()
        submitter(cluster, systems[SENDER], state, [args.documents - 1], rng, 0, fixed=[PROBE, PULL[0]])
        load_seconds = time.monotonic() - t_load
        log(f"load done in {load_seconds:.1f}s: {len(state.accepted)} accepted; draining")

        # Drain: every delivery acknowledged (pushes may wait for a killed node's lease to end).
        # No deadline on the whole drain (a backlog of pushes takes what it takes), but on progress:
        # the count of waiting deliveries must go down at least once every --progress-seconds.
        state.stop_pulling.set()
        unsettled = None
        best, last_progress = None, time.monotonic()
        while True:
            unsettled = int(db_rows(args, "SELECT COUNT(*) FROM exchange_deliveries WHERE state <> 'acknowledged'")[0][0])
            if unsettled == 0 and not any(t.is_alive() for t in pullers):
                break
            if best is None or unsettled < best:
                best, last_progress = unsettled, time.monotonic()
            if time.monotonic() - last_progress > args.progress_seconds:
                state.fail(f"draining stalled: {unsettled} deliveries still waiting, none settled for {args.progress_seconds:.0f} s")
                break
            time.sleep(0.5)
        for t in pullers:
            t.join(10)
            if t.is_alive():
                state.fail(f"puller {t.name} did not drain its inbox")
        for lc in lease_checks:
            lc.join(30)
        drained_after = time.monotonic() - t_load - load_seconds
        log(f"drained {drained_after:.1f}s after the load")
        time.sleep(1.0)  # a push that just ended is recorded
        for n in nodes:
            n.stop()
        server.shutdown()
        with open(os.path.join(args.workdir, "pushes.json"), "w") as f:
            json.dump({"kills": [{k: (sorted(v) if isinstance(v, set) else v) for k, v in e.items()} for e in kills],
                       "kill_monotonic": [m for _, _, m in state.killed_at], "pushes": receiver.pushes}, f)

        # ---------------------------------------------------------------- checks
        ok = not state.failures
        accepted = dict(state.accepted)
        mid_to_n = {mid: n for n, mid in accepted.items()}
        if len(mid_to_n) != len(accepted):
            ok = False
            print(f"FAIL: {len(accepted) - len(mid_to_n)} documents were answered with another document's id")
        expected = {a: {accepted[n] for n, rs in state.recipients_of.items() if n in accepted and a in rs}
                    for a in RECIPIENTS + [PROBE]}
        deliveries_expected = sum(len(v) for v in expected.values())
        print(f"documents: {args.documents} submitted, {len(accepted)} accepted, {len(state.abandoned)} abandoned; "
              f"retried after a connection error: {len(state.connection_failed)} "
              f"(committed before the kill, original id returned: {state.retry_duplicates})")
        print("requests answered per node: " + ", ".join(f"{k}={v}" for k, v in sorted(state.served.items()))
              + f"; after the first kill: {state.served_after_kill}")

        # Exactly once per recipient, after de-duplication by message id.
        receiver_pushes = receiver.pushes
        lost = 0
        strangers = 0
        for agency in RECIPIENTS + [PROBE]:
            if agency in PULL:
                got = state.pulled[agency]
            else:
                got = [p["mid"] for p in receiver_pushes if p["agency"] == agency and p["status"] == 200]
            distinct = set(got)
            missing = expected[agency] - distinct
            extra = distinct - expected[agency]
            lost += len(missing)
            strangers += len(extra)
            mode = "pull" if agency in PULL else "push"
            print(f"{agency} ({mode}): expected {len(expected[agency])}, received {len(got)}, distinct {len(distinct)}, "
                  f"repeats dropped {len(got) - len(distinct)}, missing {len(missing)}, unexpected {len(extra)}")
            for mid in sorted(missing)[:5]:
                print(f"  missing {mid} (document {mid_to_n.get(mid)})")
            for mid in sorted(extra)[:5]:
                print(f"  unexpected {mid} (document {mid_to_n.get(mid)})")
        if state.payload_mismatch:
            ok = False
            print(f"FAIL: {len(state.payload_mismatch)} fetched payloads match no submitted document")
        exactly_once = lost == 0 and strangers == 0

        # Pushes, delivery by delivery.
        stranded_all = {}
        for i, k in enumerate(kills):
            if k["stranded"] is None:
                ok = False
                print(f"FAIL: the lease check after kill {i + 1} did not finish")
            for d in k["stranded"] or ():
                stranded_all.setdefault(d, []).append(k["ms"])
        kill_monos = [m for _, _, m in state.killed_at]
        by_delivery = {}
        for p in receiver_pushes:
            by_delivery.setdefault((p["agency"], p["mid"]), []).append(p)
        overlaps = duplicates = kill_repeats = retries = bad_sig = 0
        for d, pushes in by_delivery.items():
            pushes.sort(key=lambda p: p["start"])
            for p in pushes:
                if not p["sig_ok"]:
                    bad_sig += 1
                if p["n"] is None:
                    state.payload_mismatch.append(d)
            for prev, cur in zip(pushes, pushes[1:]):
                if prev["end"] is None or cur["start"] < prev["end"]:
                    overlaps += 1
                    print(f"  overlapping pushes of {d}")
                elif prev["status"] != 200:
                    retries += 1
                else:
                    # Pushed again after a 2xx: only a kill between them, while the killed node held the lease.
                    legit = d in stranded_all and any(prev["start"] < km < cur["start"] for km in kill_monos)
                    if legit:
                        kill_repeats += 1
                    else:
                        duplicates += 1
                        print(f"  {d} pushed again after a 2xx (document {mid_to_n.get(d[1])})")
        stalled = receiver.stalled
        stall_ok = True
        if stalled is None:
            # Without a stalled answer the lease rule was not tested at all: that is a failure of
            # the run, not a pass (the probe document exists to provoke exactly this).
            stall_ok = False
            print("FAIL: no push answer was stalled (no 2xx push to the probe's recipient after the last kill), "
                  "so a push outliving its lease was never checked")
        else:
            first = receiver_pushes[stalled["index"]]
            again = [p for p in by_delivery.get((stalled["agency"], stalled["mid"]), []) if p["start"] > first["start"]]
            stall_ok = not again
            print(f"stalled answer: {stalled['agency']} {stalled['mid']}: pushed {len(again)} more time(s) after it "
                  f"(must be 0: the push may not outlive its lease)")
        in_flight = sum(len(k["stranded"] or ()) for k in kills)
        open_at_kill = sum(len(k["open"]) for k in kills)
        if kill_repeats > in_flight:
            ok = False
            print(f"FAIL: {kill_repeats} repeats after kills, more than the {in_flight} leases the killed nodes held")
        if bad_sig:
            ok = False
            print(f"FAIL: {bad_sig} pushes with a wrong X-GovOffice-Signature")

        # The database: one delivery per message and recipient, all acknowledged, attempts as seen.
        doubles = db_rows(args, """SELECT message_id, recipient_code, COUNT(*) FROM exchange_deliveries
                                GROUP BY message_id, recipient_code HAVING COUNT(*) > 1""")
        rows = db_rows(args, "SELECT LOWER(CAST(message_id AS TEXT)), recipient_code, state, attempts FROM exchange_deliveries")
        states = {}
        attempts_bad = 0
        db_deliveries = {}
        for mid, agency, st, att in rows:
            states[st] = states.get(st, 0) + 1
            db_deliveries[(agency, mid)] = (st, int(att))
        for agency in HOOKS:
            for mid in expected[agency]:
                st, att = db_deliveries.get((agency, mid), ("missing", 0))
                seen = len(by_delivery.get((agency, mid), []))
                # A push by a node killed before it recorded the outcome is seen but not counted.
                slack = len(stranded_all.get((agency, mid), []))
                if not (att <= seen <= att + slack):
                    attempts_bad += 1
                    if attempts_bad <= 10:
                        print(f"  {agency} {mid}: the hub counts {att} attempt(s), the receiver saw {seen} push(es)")
        missing_rows = sum(1 for a in RECIPIENTS + [PROBE] for mid in expected[a] if (a, mid) not in db_deliveries)
        print(f"delivery rows: {len(rows)} (expected {deliveries_expected}, missing {missing_rows}); by state: "
              + ", ".join(f"{k}={v}" for k, v in sorted(states.items())))
        if doubles or missing_rows or len(rows) != deliveries_expected or set(states) - {"acknowledged"}:
            ok = False
            print(f"FAIL: delivery rows do not match the accepted documents ({len(doubles)} doubled)")
        if attempts_bad:
            ok = False
            print(f"FAIL: {attempts_bad} push deliveries whose attempt count differs from the pushes received")
        print(f"pushes: {len(receiver_pushes)} to {len(by_delivery)} deliveries; retries after a 500: {retries}; "
              f"open at the receiver at the kills: {open_at_kill}; leases held by killed nodes: {in_flight}; "
              f"repeats after those kills: {kill_repeats}; overlapping: {overlaps}; duplicates: {duplicates}")
        for i, k in enumerate(kills):
            print(f"  kill {i + 1}: node {k['node']}, open pushes {k['open']}, stranded leases {sorted(k['stranded'] or ())}")

        if state.server_errors:
            ok = False
            calls = {}
            for node, call, status, body in state.server_errors:
                calls.setdefault(f"node {node} {call} {status}", body)
            print(f"FAIL: {len(state.server_errors)} 5xx answer(s) from a running node: "
                  + "; ".join(f"{k} {v.decode('utf-8', 'replace')!r}" for k, v in calls.items()))

        ev = subprocess.run([args.bin, "exchange", "evidence", "verify"], env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True)
        evidence = "ok" if ev.returncode == 0 else f"FAILED(exit {ev.returncode})"
        print("evidence verify: " + (ev.stdout.strip().splitlines() or [""])[-1])
        if ev.returncode != 0:
            sys.stderr.write(ev.stdout[-3000:] + ev.stderr[-3000:])

        failover = (args.kills == 0 or (state.served_after_kill > 0 and unsettled == 0))
        for msg in state.failures:
            print("failure: " + msg)
        ok = (ok and exactly_once and stall_ok and overlaps == 0 and duplicates == 0 and failover and ev.returncode == 0
              and len(accepted) == args.documents and not state.payload_mismatch)
        print(f"scaleout: nodes=2 documents={len(accepted)} deliveries={len(rows)} "
              f"exactly_once={'ok' if exactly_once else 'FAILED'} webhook_pushes={len(receiver_pushes)} "
              f"retries={retries} duplicate_pushes={duplicates} overlapping_pushes={overlaps} kills={len(kills)} "
              f"in_flight_at_kill={in_flight} kill_repeats={kill_repeats} attempts_mismatch={attempts_bad} "
              f"server_errors={len(state.server_errors)} stalled_answer={'FAILED (none)' if stalled is None else 'ok' if stall_ok else 'FAILED'} "
              f"evidence={evidence} failover={'ok' if failover else 'FAILED'}")
        if not ok:
            print(f"scale-out test FAILED (node logs: {a.log_path}, {b.log_path})")
            return 1
        return 0
    except (RuntimeError, OSError, KeyError, ValueError) as err:
        print(f"scale-out test FAILED: {err}")
        return 1
    finally:
        for n in nodes:
            n.stop()
        if server is not None:
            server.server_close()


if __name__ == "__main__":
    sys.exit(main())
