"""Request-smuggling-style and malformed requests over raw sockets: each must be answered with 400
(or the connection closed after a 4xx), never a 5xx or a hang, and the server must serve the next
normal request.

Vapor 4 puts NIO's HTTP parser in front of the application and closes the connection on a parse
error without writing anything (NIOCloseOnErrorHandler; the channel pipeline cannot be changed
through Vapor's configuration). Where that happens the test accepts "closed without an answer"
and records it; GOVOFFICE_SECURITY_STRICT_400=1 turns those into failures. See the suite's report.

Through the shipped nginx configuration (GOVOFFICE_SECURITY_BASE_URL, scripts/test's nginx
stage, run with GOVOFFICE_SECURITY_STRICT_400=1) every case must get its 400 from nginx, except
the two nginx repairs instead of refusing, as RFC 9112 lets a recipient do: a bare LF as line end
(§2.2) and a header line without a colon, which nginx reads as a header with an empty value. What
nginx forwards for those is a well-formed request, so the server answers it normally; any answer
to a smuggled second request still fails.
"""

from __future__ import annotations

import os
import socket
import ssl
import time

import pytest

import secsupport as s

STRICT = os.environ.get("GOVOFFICE_SECURITY_STRICT_400") == "1"

BASE = b"Host: 127.0.0.1\r\nAccept: application/json\r\n"
CASES = {
    "CL and TE together": b"POST /api/v1/agencies HTTP/1.1\r\n" + BASE
    + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    "two different Content-Lengths": b"POST /login HTTP/1.1\r\n" + BASE
    + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
    "negative Content-Length": b"POST /login HTTP/1.1\r\n" + BASE + b"Content-Length: -1\r\n\r\n",
    "non-numeric Content-Length": b"POST /login HTTP/1.1\r\n" + BASE + b"Content-Length: abc\r\n\r\n",
    "Content-Length with a plus": b"POST /login HTTP/1.1\r\n" + BASE + b"Content-Length: +5\r\n\r\nabcde",
    "bad chunk size": b"POST /login HTTP/1.1\r\n" + BASE + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "chunk size overflow": b"POST /login HTTP/1.1\r\n" + BASE
    + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n",
    "TE not chunked last": b"POST /login HTTP/1.1\r\n" + BASE + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "obs-fold continuation": b"GET /healthz HTTP/1.1\r\n" + BASE + b"X-Folded: a\r\n b\r\n\r\n",
    "space before colon": b"GET /healthz HTTP/1.1\r\n" + BASE + b"X-Spaced : a\r\n\r\n",
    "NUL in a header": b"GET /healthz HTTP/1.1\r\n" + BASE + b"X-Nul: a\x00b\r\n\r\n",
    "CR alone in a header": b"GET /healthz HTTP/1.1\r\n" + BASE + b"X-Cr: a\rb\r\n\r\n",
    "header without colon": b"GET /healthz HTTP/1.1\r\n" + BASE + b"NoColonHere\r\n\r\n",
    "HTTP/1.0 with TE": b"POST /login HTTP/1.0\r\n" + BASE + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad request line": b"GET /healthz HTTP/9.9 extra\r\n" + BASE + b"\r\n",
    "bad method token": b"G(T /healthz HTTP/1.1\r\n" + BASE + b"\r\n",
    "space in the path": b"GET /heal thz HTTP/1.1\r\n" + BASE + b"\r\n",
    "LF-only line ends": b"GET /healthz HTTP/1.1\n" + b"Host: 127.0.0.1\n\n",
}
LARGE_HEADER = "oversized header (1 MiB)"
REPAIRED_BY_FRONT = {"LF-only line ends", "header without colon"}


def exchange(port: int, data: bytes, wait: float = 5.0) -> tuple[bytes, bool]:
    """Send DATA, read until the server closes or goes quiet; (bytes, closed)."""
    sock = s.open_socket(port, wait)
    try:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        got = b""
        closed = False
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except (ConnectionResetError, ssl.SSLError):
                closed = True
                break
            if not chunk:
                closed = True
                break
            got += chunk
            sock.settimeout(0.5)  # after the first bytes: whatever else comes quickly
        return got, closed
    finally:
        sock.close()


def statuses(raw: bytes) -> list[int]:
    out = []
    for line in raw.split(b"\r\n"):
        if line.startswith(b"HTTP/1.") and len(line) >= 12:
            try:
                out.append(int(line[9:12]))
            except ValueError:
                pass
    return out


def _judge(world, name: str, raw: bytes, closed: bool):
    codes = statuses(raw)
    assert all(c < 500 for c in codes), f"{name}: 5xx answer {raw[:300]!r}"
    assert codes or closed, f"{name}: no answer and the connection stayed open (a hang)"
    if codes and s.FRONT_PORT and name in REPAIRED_BY_FRONT:
        assert len(codes) == 1 and codes[0] < 500, f"{name}: {raw[:300]!r}"
        print(f"\nbad headers: {name}: {codes[0]} (nginx repaired the request)")
    elif codes:
        # The first answer is to the bad request: a 400 (or another 4xx, connection then closed).
        first = codes[0]
        assert 400 <= first < 500, f"{name}: answered {first} {raw[:300]!r}"
        if STRICT:
            assert first == 400, f"{name}: answered {first}, not 400 {raw[:300]!r}"
        assert len(codes) == 1, f"{name}: {len(codes)} responses to one request (smuggled request?) {raw[:500]!r}"
        print(f"\nbad headers: {name}: {first}")
    else:
        print(f"\nbad headers: {name}: closed without an answer")
        if STRICT:
            pytest.fail(f"{name}: the connection was closed without a 400")
    # The server still serves a normal request.
    assert world.server.alive(), f"{name}: the server died"
    c = s.Client(world.port, "after")
    resp = c.get("/healthz")
    c.close()
    assert resp.status == 200, f"{name}: the server does not answer after it ({resp.status})"


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_request_is_refused_and_the_server_stays_up(world, name):
    raw, closed = exchange(world.port, CASES[name])
    _judge(world, name, raw, closed)


def test_oversized_header_is_refused(world):
    data = b"GET /healthz HTTP/1.1\r\n" + BASE + b"X-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"
    raw, closed = exchange(world.port, data)
    _judge(world, LARGE_HEADER, raw, closed)


def test_many_headers_are_refused_or_served(world):
    data = b"GET /healthz HTTP/1.1\r\n" + BASE + b"".join(b"X-H%d: v\r\n" % i for i in range(5000)) + b"\r\n"
    raw, closed = exchange(world.port, data)
    codes = statuses(raw)
    assert all(c < 500 for c in codes) and (codes or closed), raw[:300]
    print(f"\nbad headers: 5000 headers: {codes[0] if codes else 'closed without an answer'}")
    assert world.server.alive()


def test_a_smuggled_request_never_reaches_the_application(world):
    """CL.TE / TE.CL: the request hidden in the body must not be answered as a second request."""
    hidden = b"GET /api/v1/agencies/000.00.00.G22 HTTP/1.1\r\nHost: x\r\n\r\n"
    for data in (
        b"POST /api/v1/agencies HTTP/1.1\r\n" + BASE + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        % (5 + len(hidden)) + hidden,
        b"POST /api/v1/agencies HTTP/1.1\r\n" + BASE + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
        + b"%x\r\n" % len(hidden) + hidden + b"\r\n0\r\n\r\n",
    ):
        raw, closed = exchange(world.port, data)
        assert b"000.00.00.G22" not in raw, f"the smuggled request was answered: {raw[:500]!r}"
        assert all(c < 500 for c in statuses(raw))
