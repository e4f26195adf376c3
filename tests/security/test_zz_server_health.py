"""Runs last (file order): after everything above, the server is still up and never logged an
unhandled error (a refusal that became a 500 internally, even if the client saw something else)."""

import secsupport as s


def test_server_survived_and_logged_no_unhandled_error(world):
    assert world.server.alive(), "the server process died during the suite"
    c = s.Client(world.port, "final")
    assert c.get("/readyz").status == 200
    c.close()
    log = world.server.log_text()
    bad = [line for line in log.splitlines()
           if "unhandled error" in line or "Fatal error" in line or "critical" in line.split(" ", 3)[1:2]]
    assert not bad, "server log:\n" + "\n".join(bad[:20])
