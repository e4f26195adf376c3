"""XML and upload endpoints: the hub's submit (edXML), the agencies CSV import (multipart), the
PKI forms (PEM text) and every JSON/form endpoint: XXE, external DTDs, entity bombs, deep
nesting, bodies over the configured limits (413 with the error body, also when chunked) and
wrong content types (415). The server runs with GOVOFFICE_MAX_BODY=256kb,
GOVOFFICE_MAX_UPLOAD=512kb and GOVOFFICE_HUB_MAX_MESSAGE=512kb (secsupport.server_env).
"""

from __future__ import annotations

import http.client
import socket
import threading

import pytest

import access_matrix as am
import secsupport as s
import test_access_matrix as tm

MAX_BODY = 256 * 1024
MAX_UPLOAD = 512 * 1024
HUB_MAX = 512 * 1024


def submit(world, body: bytes, ctype="application/xml", system="sec-g22", extra=None) -> s.Response:
    c = s.Client(world.port, "xml")
    try:
        return c.post(s.API + "/messages", body=body,
                      headers={**world.system_headers(system), "Content-Type": ctype, **(extra or {})})
    finally:
        c.close()


def with_doctype(doc: bytes, doctype: str, subject_entity: str | None = None) -> bytes:
    text = doc.decode()
    text = text.replace('<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0" encoding="UTF-8"?>\n'
                        + doctype + "\n", 1)
    if subject_entity:
        text = text.replace("<edXML:Subject>", f"<edXML:Subject>&{subject_entity};", 1)
    return text.encode()


class Listener:
    """A TCP listener that records whether anybody connected (external DTD / entity fetches)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.hits += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def assert_refused_or_inert(world, resp, marker=b"root:"):
    """Refused with a 4xx and the error body, or accepted without the entity expanded."""
    assert resp.status < 500, resp
    assert marker not in resp.body, "the response contains expanded entity content"
    if resp.status >= 400:
        assert s.error_code(resp), resp
        return
    mid = resp.json()["message_id"]
    c = s.Client(world.port, "xml-fetch")
    got = c.get(f"{s.API}/messages/{mid}", headers=world.system_headers("sec-h37"))
    c.close()
    assert got.status == 200 and marker not in got.body, "the stored message contains expanded entity content"


def test_xxe_file_entity_is_not_expanded(world, server_alive):
    doc = s.build_document(s.G22, [s.H37], s.unique("xxe"))
    resp = submit(world, with_doctype(doc, '<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "xxe"))
    assert_refused_or_inert(world, resp)


def test_external_dtd_and_parameter_entities_are_never_fetched(world, server_alive):
    listener = Listener()
    try:
        url = f"http://127.0.0.1:{listener.port}/evil.dtd"
        for doctype, entity in ((f'<!DOCTYPE edXML SYSTEM "{url}">', None),
                                (f'<!DOCTYPE edXML [<!ENTITY % p SYSTEM "{url}"> %p;]>', None),
                                (f'<!DOCTYPE edXML [<!ENTITY ext SYSTEM "{url}">]>', "ext")):
            doc = s.build_document(s.G22, [s.H37], s.unique("dtd"))
            resp = submit(world, with_doctype(doc, doctype, entity))
            assert_refused_or_inert(world, resp)
    finally:
        listener.close()
    assert listener.hits == 0, f"the server fetched an external DTD/entity {listener.hits} time(s) (SSRF)"


def test_billion_laughs_is_refused(world, server_alive):
    ents = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    ents += [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    doc = s.build_document(s.G22, [s.H37], s.unique("bomb"))
    resp = submit(world, with_doctype(doc, "<!DOCTYPE edXML [" + "".join(ents) + "]>", "lol9"))
    assert 400 <= resp.status < 500 and s.error_code(resp), resp
    # Quadratic blow-up: one big entity referenced many times.
    big = "x" * 20000
    doc = s.build_document(s.G22, [s.H37], s.unique("quad")).decode()
    doc = doc.replace('<?xml version="1.0" encoding="UTF-8"?>\n',
                      f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE edXML [<!ENTITY a "{big}">]>\n', 1)
    doc = doc.replace("<edXML:Content>", "<edXML:Content>" + "&a;" * 10000, 1)
    resp = submit(world, doc.encode())
    assert 400 <= resp.status < 500 and s.error_code(resp), resp


@pytest.mark.parametrize("depth", [10_000, 60_000])
def test_deep_nesting_is_refused_without_a_crash(world, server_alive, depth):
    doc = s.build_document(s.G22, [s.H37], s.unique("deep")).decode()
    doc = doc.replace("<edXML:Content>", "<edXML:Content>" + "<a>" * depth + "</a>" * depth, 1)
    resp = submit(world, doc.encode())
    assert 400 <= resp.status < 500 and s.error_code(resp), resp


def test_not_xml_at_all_and_empty_bodies_are_400(world, server_alive):
    for body in (b"", b"\x00\x01\x02", b"<edXML", b"{\"json\": true}", b"<?xml version='1.0'?><other/>"):
        resp = submit(world, body)
        assert 400 <= resp.status < 500 and s.error_code(resp), (body, resp)


def test_hub_message_over_the_limit_is_413(world, server_alive):
    body = s.build_document(s.G22, [s.H37], s.unique("big")).replace(b"</edXML>", b"<!--" + b"x" * HUB_MAX + b"--></edXML>")
    resp = submit(world, body)
    assert resp.status == 413 and s.error_code(resp) == "message_too_large", resp


def test_hub_message_over_the_limit_is_413_when_chunked(world, server_alive):
    conn = http.client.HTTPConnection("127.0.0.1", world.port, timeout=30)
    chunks = (b"<edXML>" + b"x" * 65536 for _ in range(HUB_MAX // 65536 + 4))
    conn.request("POST", s.API + "/messages", body=chunks, encode_chunked=True,
                 headers={**world.system_headers("sec-g22"), "Content-Type": "application/xml",
                          "Transfer-Encoding": "chunked"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    r = s.Response(resp.status, resp.getheaders(), body)
    assert r.status == 413 and s.error_code(r) == "message_too_large", r


@pytest.mark.parametrize("ctype", ["text/plain", "application/json", "multipart/form-data; boundary=x",
                                   "application/x-www-form-urlencoded", "image/svg+xml"])
def test_hub_wrong_content_type_is_415(world, server_alive, ctype):
    resp = submit(world, s.build_document(s.G22, [s.H37], s.unique("ct")), ctype=ctype)
    assert resp.status == 415 and s.error_code(resp) == "unsupported_media_type", resp


def browser_post_routes():
    return [r for r in am.ROUTES if r.method == "POST" and not r.path.startswith("/api/")]


def _path(world, r):
    import re
    return re.sub(r":[a-z]+", world.targets[r.target][s.G22], r.path, count=1) if r.target else r.path


def test_every_form_endpoint_refuses_a_body_over_the_limit(world, server_alive):
    """413 with the error page or body, before authentication, CSRF or parsing."""
    problems = []
    admin = world.admin
    for r in browser_post_routes():
        path = _path(world, r)
        limit = MAX_UPLOAD if path == "/admin/agencies/import" else MAX_BODY
        if path == "/admin/agencies/import":
            body, ctype = tm.multipart({"_csrf": world.admin_token},
                                       [("file", "big.csv", "text/csv", b"code,name\n" + b"x" * (limit + 1024))])
        else:
            body, ctype = b"_csrf=" + world.admin_token.encode() + b"&pem=" + b"x" * (limit + 1024), \
                "application/x-www-form-urlencoded"
        for accept in ("text/html", "application/json"):
            resp = admin.post(path, body=body, headers={"Content-Type": ctype, "Accept": accept})
            if resp.status != 413 or s.error_code(resp) is None:
                problems.append(f"POST {path} ({accept}, {len(body)} bytes): {resp.status} {s.error_code(resp)}")
    for method, path in (("POST", f"{s.API}/messages/{world.targets['message_to'][s.G22]}/ack"),
                         ("POST", f"{s.API}/webhooks")):
        body = b'{"outcome":"done","reason":"' + b"x" * (MAX_BODY + 1024) + b'"}'
        c = s.Client(world.port, "big-json")
        resp = c.request(method, path, body=body, headers={**world.system_headers("sec-g22"),
                                                          "Content-Type": "application/json"})
        c.close()
        if resp.status != 413 or s.error_code(resp) is None:
            problems.append(f"{method} {path} (JSON {len(body)} bytes): {resp.status} {s.error_code(resp)}")
    assert not problems, "\n".join(problems)


def test_the_csv_import_refuses_wrong_types_and_bad_files(world, server_alive):
    admin = world.admin
    hdr = {"X-CSRF-Token": world.admin_token, "Accept": "application/json"}
    # Wrong content types.
    for ctype, body in (("text/plain", b"code,name\n"), ("application/xml", b"<x/>"),
                        ("application/octet-stream", b"\x00\x01")):
        resp = admin.post("/admin/agencies/import", body=body, headers={**hdr, "Content-Type": ctype})
        assert resp.status == 415 and s.error_code(resp), (ctype, resp)
    # Not UTF-8, binary garbage, a bad code: refused with the row report (422) or 400, never 5xx.
    for name, data in (("latin1.csv", "code,name\n000.00.00.Z97,Hà Nam\n".encode("latin-1")),
                       ("bin.csv", bytes(range(256)) * 10),
                       ("formula.csv", b"code,name\n=cmd|' /C calc'!A0,x\n")):
        body, ctype = tm.multipart({}, [("file", name, "text/csv", data)])
        resp = admin.post("/admin/agencies/import", body=body, headers={**hdr, "Content-Type": ctype})
        assert 400 <= resp.status < 500, (name, resp)
    # A CSV is not XML: markup in a name is stored as text, never parsed, and escaped on the pages.
    payload = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><script>alert(1)</script>&e;'
    csv = 'code,name\n000.00.00.Z96,"' + payload.replace('"', '""') + '"\n'
    body, ctype = tm.multipart({}, [("file", "markup.csv", "text/csv", csv.encode())])
    resp = admin.post("/admin/agencies/import", body=body, headers={**hdr, "Content-Type": ctype})
    assert resp.status < 500 and b"root:" not in resp.body, resp
    # The import takes the name as text; only then can its escaping on the pages be checked.
    assert resp.status == 200, resp
    page = admin.get("/agencies/000.00.00.Z96", headers={"Accept": "text/html"})
    assert page.status == 200 and "<script>alert(1)</script>" not in page.text, "a name is not escaped"
    assert "&lt;script&gt;" in page.text and "root:" not in page.text
    api = admin.get("/api/v1/agencies/000.00.00.Z96")
    assert api.json()["agency"]["name"] == payload
    # A multipart body without the file part, and a broken multipart body.
    body, ctype = tm.multipart({"other": "x"}, [])
    resp = admin.post("/admin/agencies/import", body=body, headers={**hdr, "Content-Type": ctype})
    assert 400 <= resp.status < 500 and s.error_code(resp), resp
    resp = admin.post("/admin/agencies/import", body=b"--nope\r\ngarbage",
                      headers={**hdr, "Content-Type": "multipart/form-data; boundary=nope"})
    assert 400 <= resp.status < 500 and s.error_code(resp), resp


def test_pki_forms_refuse_garbage_and_entity_tricks(world, server_alive):
    admin = world.admin
    for path, form in (("/admin/pki/trust", {"pem": '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'}),
                       ("/admin/pki/crl", {"pem": "-----BEGIN X509 CRL-----\n" + "A" * 5000 + "\n-----END X509 CRL-----"}),
                       ("/admin/pki/crl", {"pem": "\x00" * 100}),
                       ("/admin/pki/bind", {"pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                                            "agency_code": s.G22, "kind": "agency"}),
                       ("/admin/pki/trust", {})):
        resp = admin.post(path, form={**form, "_csrf": world.admin_token}, headers={"Accept": "text/html"})
        assert 400 <= resp.status < 500, (path, resp)
        assert b"root:" not in resp.body


@pytest.mark.parametrize("ctype,body", [
    ("text/plain", b"outcome=done"),
    ("application/xml", b"<outcome>done</outcome>"),
    ("application/json", b'{"outcome": '),
    ("application/json", b"[" * 5000 + b"]" * 5000),
])
def test_json_endpoints_refuse_wrong_types_and_broken_json(world, server_alive, ctype, body):
    c = s.Client(world.port, "json")
    resp = c.post(f"{s.API}/messages/{world.targets['message_to'][s.G22]}/ack", body=body,
                  headers={**world.system_headers("sec-g22"), "Content-Type": ctype})
    c.close()
    assert 400 <= resp.status < 500 and s.error_code(resp), resp


@pytest.mark.parametrize("variant", ["utf-16", "utf-16-bom-le", "utf-8-bom", "lowercase-doctype", "comment-first",
                                     "doctype-in-body"])
def test_doctype_tricks_do_not_slip_past_the_scanner(world, server_alive, variant):
    doctype = '<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa">' \
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    doc = s.build_document(s.G22, [s.H37], s.unique("v")).decode()
    if variant == "doctype-in-body":
        text = doc.replace("<edXML:Subject>", "<edXML:Subject><![CDATA[x]]>" + doctype, 1)
    else:
        decl = '<?xml version="1.0" encoding="UTF-8"?>\n'
        body = doc[len(decl):].replace("<edXML:Subject>", "<edXML:Subject>&xxe;&c;", 1)
        dt = doctype.replace("DOCTYPE", "doctype") if variant == "lowercase-doctype" else doctype
        head = decl + ("<!-- c -->\n" if variant == "comment-first" else "")
        text = head + dt + "\n" + body
    if variant.startswith("utf-16"):
        text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
        data = text.encode("utf-16" if variant == "utf-16" else "utf-16-le")
        if variant == "utf-16-bom-le":
            data = b"\xff\xfe" + data
    elif variant == "utf-8-bom":
        data = b"\xef\xbb\xbf" + text.encode()
    else:
        data = text.encode()
    resp = submit(world, data)
    # Refused outright (xml_doctype_forbidden, encoding_unsupported, xml_malformed), not merely ignored.
    assert resp.status == 400 and s.error_code(resp), (variant, resp)
    assert b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
        not in resp.body


def test_every_form_endpoint_refuses_foreign_content_types_with_415(world, server_alive):
    """Forms that read a body take URL-encoded (or multipart) bodies only: text/plain, XML,
    octet-stream, images → 415. (Actions without fields — logout, unlock, rotate, revoke,
    redeliver — read no body, so its type does not matter to them.)"""
    problems = []
    admin = s.Client(world.port, "types")
    assert admin.login("admin", s.DEMO_PASSWORD).status == 303
    admin.csrf("/")
    token = admin.csrf("/")
    for r in browser_post_routes():
        if not r.body:
            continue
        path = _path(world, r)
        for ctype in ("text/plain", "application/xml", "application/octet-stream", "image/png"):
            resp = admin.post(path, body=b"pem=x&state=active",
                              headers={"Content-Type": ctype, "X-CSRF-Token": token,
                                       "Accept": "application/json"})
            if resp.status != 415 or s.error_code(resp) != "unsupported_media_type":
                problems.append(f"POST {path} as {ctype}: {resp.status} {s.error_code(resp)}")
    admin.close()
    assert not problems, "\n".join(problems)
