"""The hub's answer to an unsigned document follows the configured policy: accepted with a warning
in the suite's default run (GOVOFFICE_UNSIGNED=warn), refused in the production-settings run
(GOVOFFICE_TEST_SIGNATURES=production), so that run cannot silently fall back to accepting."""

import secsupport as s


def test_an_unsigned_document_gets_the_configured_answer(world, server_alive):
    c = s.Client(world.port, "unsigned")
    resp = c.post(s.API + "/messages", body=s.build_document(s.G22, [s.H37], s.unique("u"), sign=False),
                  headers={**world.system_headers("sec-g22"), "Content-Type": "application/xml"})
    c.close()
    if s.PRODUCTION_SIGNATURES:
        assert 400 <= resp.status < 500 and (s.error_code(resp) or "").startswith("signature"), resp
    else:
        assert resp.status == 201, resp


def test_a_signed_document_is_accepted(world, server_alive):
    if not s.PRODUCTION_SIGNATURES:
        return  # documents are unsigned in the default run; the matrix covers acceptance there
    c = s.Client(world.port, "signed")
    resp = c.post(s.API + "/messages", body=s.build_document(s.G22, [s.H37], s.unique("p")),
                  headers={**world.system_headers("sec-g22"), "Content-Type": "application/xml"})
    c.close()
    assert resp.status == 201, resp
