#!/usr/bin/env python3
"""The office benchmark's load, from a second process (bench/office.sh; Python 3 standard library).

    office_load.py pages    --port P [--requests 200] [--concurrency 4]
    office_load.py register --port P --db FILE [--seconds 20] [--concurrency 6]
    office_load.py arrival  --port P --env G22.ENV --docs DIR [--interval 0.2]
    office_load.py sign     --bin GOVOFFICE --key K --cert C --out DIR [--count 100]

Each command prints result rows `measure<TAB>value<TAB>unit<TAB>target<TAB>command` on stdout
(bench/lib/results.py), progress on stderr.

pages: signs in as h41.vanthu (one session per worker thread, keep-alive connections) and loads
  the incoming list (page 1, page 500, state filters) and the search page (common, rare, number and
  unaccented queries), REQUESTS each, CONCURRENCY in flight: p50/p95/p99 in ms per variant and
  over all list / all search requests. Every answer must be 200.
register: CONCURRENCY sessions of h41.vanthu post paper registrations (multipart, no scan) to
  /office/incoming for SECONDS: registrations/s; then checks in DB (read-only) that this year's
  incoming numbers (VBĐ, not secret) are 1..max with no duplicate and no gap.
arrival: submits the signed documents of DIR (G22 → H41) one every INTERVAL s as the G22 system
  (POST /api/v1/exchange/messages) while another thread long-polls G22's inbox for status
  messages (and acknowledges them); for each document the time from the hub's 201 until G22's
  inbox lists the 01 status with that DocumentId: p50/p99 in ms.
sign: writes COUNT edXML documents G22 → H41 (tests/lib/hubtest.py's template, unique ids) and
  signs each with `govoffice sign`.
"""

import argparse
import http.client
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "GovOffice@2026"
H41, G22 = "000.00.00.H41", "000.00.00.G22"


def pct(values, p):
    """Nearest-rank percentile of VALUES (p in 0..100)."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


PREFIX = ""


def row(measure, value, unit, target="-", command=""):
    measure = PREFIX + measure
    v = "n/a" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))
    print(f"{measure}\t{v}\t{unit}\t{target}\t{command}", flush=True)


def log(msg):
    print(f"office_load.py: {msg}", file=sys.stderr, flush=True)


class Session:
    """A signed-in browser on one keep-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = None
        self.cookies = {}
        self.token = None

    def request(self, method, path, body=None, ctype=None, headers=None):
        h = dict(headers or {})
        h.setdefault("Accept", "text/html")
        if ctype:
            h["Content-Type"] = ctype
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, path, body=body, headers=h)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                key, _, val = value.split(";", 1)[0].partition("=")
                if val == "" or "max-age=0" in value.lower():
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return resp.status, resp.getheaders(), data

    def csrf(self, path):
        status, _, data = self.request("GET", path)
        m = re.search(rb'name="_csrf" value="([^"]+)"', data)
        if not m:
            raise RuntimeError(f"no _csrf on {path} ({status})")
        return m.group(1).decode()

    def login(self, username="h41.vanthu"):
        token = self.csrf("/login")
        body = urllib.parse.urlencode({"username": username, "password": PASSWORD, "_csrf": token, "next": "/office"})
        status, headers, _ = self.request("POST", "/login", body.encode(), "application/x-www-form-urlencoded")
        location = dict((k.lower(), v) for k, v in headers).get("location", "")
        if status not in (302, 303) or location.startswith("/login"):
            raise RuntimeError(f"login {username}: {status} {location}")
        self.token = self.csrf("/")
        return self


def run_load(port, sessions, paths, requests_each, concurrency, max_seconds):
    """Runs every path of PATHS REQUESTS_EACH times (the variants one after another, CONCURRENCY
    threads each); {path: [ms...]}, {path: errors}."""
    times, errors = {}, {}
    for label, path in paths:
        todo = list(range(requests_each))
        lock = threading.Lock()
        got, bad = [], []
        deadline = time.monotonic() + max_seconds

        def worker(s):
            while True:
                with lock:
                    if not todo or time.monotonic() > deadline:
                        return
                    todo.pop()
                t0 = time.perf_counter()
                try:
                    status, _, _ = s.request("GET", path)
                except Exception as e:  # noqa: BLE001
                    status = repr(e)
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    (got.append(ms) if status == 200 else bad.append(status))

        # Warm-up: a few requests, not counted.
        for _ in range(3):
            sessions[0].request("GET", path)
        threads = [threading.Thread(target=worker, args=(sessions[i],)) for i in range(concurrency)]
        t0 = time.monotonic()
        [t.start() for t in threads]
        [t.join() for t in threads]
        took = time.monotonic() - t0
        times[label], errors[label] = got, bad
        log(f"{label} ({path}): {len(got)} ok, {len(bad)} failed {bad[:3]}, p50 {pct(got, 50) or 0:.1f} ms, "
            f"p95 {pct(got, 95) or 0:.1f} ms in {took:.1f} s")
    return times, errors


def cmd_pages(a):
    sessions = [Session(a.port).login() for _ in range(a.concurrency)]
    c = a.concurrency
    lists = [("incoming list, page 1", "/office/incoming"),
             ("incoming list, page 500", "/office/incoming?page=500"),
             ("incoming list, state=processing", "/office/incoming?state=processing"),
             ("incoming list, state=arrived, page 20", "/office/incoming?state=arrived&page=20")]
    q = urllib.parse.quote
    searches = [("search 'báo cáo' (common)", "báo cáo"),
                ("search 'bao cao' (common, unaccented)", "bao cao"),
                ("search 'thiên tai' (a topic, about 3 %)", "thiên tai"),
                ("search 'quyet dinh' (a type, unaccented)", "quyet dinh"),
                ("search 'khủng long' (rare, about 50 documents)", "khủng long"),
                ("search 'sau rieng' (rare, unaccented)", "sau rieng"),
                ("search '1234' (a number)", "1234")]
    cmd = f"bench/office_load.py pages: {c} signed-in sessions in flight, {a.requests} requests per variant"
    lt, le = run_load(a.port, sessions, lists, a.requests, c, a.max_seconds)
    st, se = run_load(a.port, sessions, [(label, f"/office/search?q={q(text)}") for label, text in searches],
                      a.requests, c, a.max_seconds)
    all_list = [x for v in lt.values() for x in v]
    all_search = [x for v in st.values() for x in v]
    row("incoming list p95 (all variants)", pct(all_list, 95), "ms", "≤ 100", cmd)
    row("incoming list p50 (all variants)", pct(all_list, 50), "ms", "-", cmd)
    row("incoming list p99 (all variants)", pct(all_list, 99), "ms", "-", cmd)
    for label, path in lists:
        for p in (50, 95, 99):
            row(f"{label} p{p}", pct(lt[label], p), "ms", "≤ 100" if p == 95 else "-",
                f"GET {path} ×{len(lt[label])}, {c} in flight")
    row("search p95 (all queries)", pct(all_search, 95), "ms", "≤ 100", cmd)
    row("search p50 (all queries)", pct(all_search, 50), "ms", "-", cmd)
    row("search p99 (all queries)", pct(all_search, 99), "ms", "-", cmd)
    for label, text in searches:
        for p in (50, 95, 99):
            row(f"{label} p{p}", pct(st[label], p), "ms", "≤ 100" if p == 95 else "-",
                f"GET /office/search?q={text} ×{len(st[label])}, {c} in flight")
    failed = sum(len(v) for v in le.values()) + sum(len(v) for v in se.values())
    row("list and search answers other than 200", failed, "count", "= 0", cmd)


def multipart(fields):
    boundary = "----govofficebench" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(str(value).encode("utf-8") + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def cmd_register(a):
    import sqlite3
    sessions = [Session(a.port).login() for _ in range(a.concurrency)]
    lock = threading.Lock()
    ok, bad, lat = [0], [], []
    deadline = time.monotonic() + a.seconds

    def worker(s, n):
        i = 0
        while time.monotonic() < deadline:
            i += 1
            body, ctype = multipart([("sender", "Sở Tài chính tỉnh Nghệ An"), ("number", f"{n * 10000 + i}/STC-NS"),
                                     ("type", "CV"), ("subject", f"Về việc đăng ký văn bản giấy thử tải {n}-{i}"),
                                     ("promulgation_date", time.strftime("%Y-%m-%d")), ("urgency", "0"),
                                     ("_csrf", s.token)])
            t0 = time.perf_counter()
            try:
                status, headers, _ = s.request("POST", "/office/incoming", body, ctype)
            except Exception as e:  # noqa: BLE001
                status = repr(e)
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if status == 303:
                    ok[0] += 1
                    lat.append(ms)
                else:
                    bad.append(status)

    threads = [threading.Thread(target=worker, args=(s, n)) for n, s in enumerate(sessions)]
    t0 = time.monotonic()
    [t.start() for t in threads]
    [t.join() for t in threads]
    took = time.monotonic() - t0
    cmd = f"bench/office_load.py register: {a.concurrency} sessions POST /office/incoming (multipart, no scan) for {a.seconds:.0f} s"
    log(f"registrations: {ok[0]} ok, {len(bad)} failed {bad[:3]} in {took:.1f} s")
    row("paper registrations/s", ok[0] / took, "reg/s", "-", cmd)
    row("paper registration latency p50", pct(lat, 50), "ms", "-", cmd)
    row("paper registration latency p99", pct(lat, 99), "ms", "-", cmd)
    row("paper registrations refused or failed", len(bad), "count", "= 0", cmd)
    year = int(time.strftime("%Y", time.gmtime(time.time() + 7 * 3600)))
    con = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True)
    n, distinct, lo, hi = con.execute(
        "SELECT COUNT(reg_number), COUNT(DISTINCT reg_number), MIN(reg_number), MAX(reg_number) FROM office_documents "
        "WHERE agency_code = ? AND direction = 'in' AND register_code = 'VBĐ' AND year = ? AND secret = 0 "
        "AND reg_number IS NOT NULL", (H41, year)).fetchone()
    (last,) = con.execute("SELECT last FROM office_counters WHERE agency_code = ? AND series = ?",
                          (H41, f"VBĐ/{year}")).fetchone() or (None,)
    con.close()
    good = n == distinct and lo == 1 and hi == n and last == hi
    log(f"incoming numbers {year}: {n} numbered, {distinct} distinct, {lo}..{hi}, counter {last}")
    row(f"this year's incoming numbers without duplicate or gap (1 = ok, 0 = not ok)", 1 if good else 0, "ok", "-",
        f"SQL on office_documents after the registrations: VBĐ/{year} has {n} numbers, {distinct} distinct, "
        f"{lo}..{hi}, counter {last}")


def cmd_sign(a):
    sys.path.insert(0, str(REPO / "tests" / "lib"))
    from hubtest import agency, edxml_document
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:6].upper()
    day = time.strftime("%Y/%m/%d")
    for i in range(0, a.count + 1):  # 0000 is the warm-up document (not timed)
        doc_id = f"{G22},{day},{i}/VPCP-B{tag}"
        raw = edxml_document(i, doc_id, [agency(H41)], f"VPCP-B{tag}", f"Về việc thử liên thông số {i} đợt {tag}",
                             f"Văn phòng Chính phủ gửi văn bản thử số {i} (đợt {tag}).", f"vb{i}.pdf")
        src = out / f"{i:04d}.xml"
        src.write_bytes(raw)
        subprocess.run([a.bin, "sign", "--key", a.key, "--cert", a.cert, str(src), str(out / f"{i:04d}.signed.xml")],
                       check=True, stdin=subprocess.DEVNULL, capture_output=True)
        (out / f"{i:04d}.id").write_text(doc_id)
        src.unlink()
    log(f"{a.count} signed documents in {out}")


def cmd_arrival(a):
    env = dict(line.strip().split("=", 1) for line in open(a.env) if "=" in line)
    auth = {"X-SystemId": env["GOVOFFICE_SYSTEM_ID"], "X-SecretKey": env["GOVOFFICE_SECRET_KEY"]}
    docs = sorted(Path(a.docs).glob("*.signed.xml"))
    accepted, status01 = {}, {}
    lock = threading.Lock()
    done = threading.Event()
    errors = []
    refused = []

    def poller():
        c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)
        while not done.is_set():
            try:
                c.request("GET", "/api/v1/exchange/inbox?type=status&wait=5&limit=100", headers=dict(auth, Accept="application/json"))
                r = c.getresponse()
                body = r.read()
                seen = time.perf_counter()
                if r.status != 200:
                    errors.append(f"inbox {r.status}")
                    time.sleep(0.5)
                    continue
                for item in json.loads(body)["items"]:
                    if item.get("status_code") == "01":
                        with lock:
                            status01.setdefault(item["document_id"], seen)
                    c.request("POST", f"/api/v1/exchange/messages/{item['message_id']}/ack",
                              body=json.dumps({"outcome": "done"}), headers=dict(auth, **{"Content-Type": "application/json"}))
                    c.getresponse().read()
                with lock:
                    if accepted and all(d in status01 for d in accepted) and len(accepted) + len(refused) == len(docs):
                        done.set()
            except (http.client.HTTPException, OSError) as e:
                errors.append(repr(e))
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)
                time.sleep(0.2)

    t = threading.Thread(target=poller, daemon=True)
    t.start()
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)
    # The warm-up document (0000): the hub makes its demo seal on its first submission and the
    # office's loops start; not timed.
    warm = docs.pop(0)
    warm_id = warm.with_name(warm.name.replace(".signed.xml", ".id")).read_text().strip()
    c.request("POST", "/api/v1/exchange/messages", body=warm.read_bytes(),
              headers=dict(auth, **{"Content-Type": "application/xml", "Accept": "application/json"}))
    r = c.getresponse()
    log(f"warm-up submission: {r.status} {r.read()[:200]!r}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if warm_id in status01:
                break
        time.sleep(0.1)
    log(f"warm-up document's 01 seen: {warm_id in status01}")
    for path in docs:
        doc_id = path.with_name(path.name.replace(".signed.xml", ".id")).read_text().strip()
        c.request("POST", "/api/v1/exchange/messages", body=path.read_bytes(),
                  headers=dict(auth, **{"Content-Type": "application/xml", "Accept": "application/json"}))
        r = c.getresponse()
        body = r.read()
        now = time.perf_counter()
        if r.status != 201:
            refused.append(r.status)
            errors.append(f"submit {r.status} {body[:200]!r}")
        else:
            with lock:
                accepted[doc_id] = now
        time.sleep(a.interval)
    done.wait(a.timeout)
    done.set()
    lat = [(status01[d] - accepted[d]) * 1000 for d in accepted if d in status01]
    log(f"arrival: {len(docs)} sent, {len(accepted)} accepted, {len(lat)} with 01 at the sender; errors {errors[:3]}")
    cmd = (f"bench/office_load.py arrival: {len(docs)} signed documents G22 → H41 (office on the local hub), one per "
           f"{a.interval:.2f} s; G22 long-polls its inbox")
    row("hub arrival → status 01 at the sender, p50", pct(lat, 50), "ms", "-", cmd)
    row("hub arrival → status 01 at the sender, p99", pct(lat, 99), "ms", "-", cmd)
    row("submissions not accepted (not 201)", len(refused), "count", "= 0", f"{cmd}; statuses {sorted(set(map(str, refused)))}")
    row("accepted documents without 01 at the sender", len(accepted) - len(lat), "count", "= 0", cmd)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("pages")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--requests", type=int, default=200)
    s.add_argument("--concurrency", type=int, default=4)
    s.add_argument("--max-seconds", type=float, default=120, help="cap per variant")
    s.add_argument("--prefix", default="", help="put before every measure, e.g. '[postgres] '")
    s = sub.add_parser("register")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--db", required=True)
    s.add_argument("--seconds", type=float, default=20)
    s.add_argument("--concurrency", type=int, default=6)
    s = sub.add_parser("sign")
    s.add_argument("--bin", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--cert", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--count", type=int, default=100)
    s = sub.add_parser("arrival")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--env", required=True)
    s.add_argument("--docs", required=True)
    s.add_argument("--interval", type=float, default=0.2)
    s.add_argument("--timeout", type=float, default=120)
    a = p.parse_args()
    global PREFIX
    PREFIX = getattr(a, "prefix", "") or ""
    {"pages": cmd_pages, "register": cmd_register, "sign": cmd_sign, "arrival": cmd_arrival}[a.cmd](a)


if __name__ == "__main__":
    main()
