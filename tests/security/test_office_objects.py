"""The document office against real documents of each agency, judged by the effect.

The matrix aims the office's document routes at an id that does not exist, so an allowed call there is a
harmless 404 and proves little about another agency's documents. Here each agency's clerk registers a real
paper document through the form; then the staff and admins of the OTHER agency try to read it, download
from it and take every step on it. Every answer must be a refusal (404, so the document's existence is not
revealed, or 403 for people with no office), and the document's row and history must be exactly as before.
The agency's own clerk reads it (200), so the target is real.
"""

from __future__ import annotations

import datetime
import uuid

import conftest
import secsupport as s
import test_access_matrix as tm

STEPS = ["accept", "reject", "assign", "specialist", "start", "finish", "revocation", "approve", "number",
         "send", "revoke", "update", "replace"]
INTRUDER_ROLES = ["clerk", "leader", "specialist", "agency_admin", "system_admin"]


def _register(world, agency: str) -> str:
    clerk = s.Client(world.port, f"office-clerk-{agency}")
    assert clerk.login(world.users[("clerk", agency)], s.PASSWORD).status == 303
    token = clerk.csrf("/office/incoming/new")
    fields = {"_csrf": token, "sender": "Ủy ban nhân dân huyện Nam Đàn", "number": "12/QĐ-UBND", "type": "QĐ",
              "subject": f"Văn bản thử bảo mật {agency} {uuid.uuid4().hex[:6]}",
              "promulgation_date": datetime.date.today().isoformat(), "urgency": "0"}
    body, ctype = tm.multipart(fields, [("scan", "scan.pdf", "application/pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n")])
    resp = clerk.post("/office/incoming", body=body, headers={"Content-Type": ctype, "Accept": "text/html"})
    assert resp.status == 303, resp
    doc = resp.header("location").rsplit("/", 1)[1]
    assert clerk.get(f"/office/documents/{doc}", headers={"Accept": "text/html"}).status == 200
    clerk.close()
    return doc


def _snapshot(world, doc: str) -> tuple:
    with world.db() as db:
        for key in (doc, uuid.UUID(doc).bytes, doc.upper()):
            row = db.execute("SELECT state, subject, reg_number FROM office_documents WHERE id = ?", (key,)).fetchone()
            if row:
                history = db.execute("SELECT COUNT(*) FROM office_history WHERE document_id = ?", (key,)).fetchone()[0]
                return row, history
    raise AssertionError(f"document {doc} not found in the database")


def test_another_agencys_staff_cannot_touch_a_real_document(world, server_alive):
    docs = {code: _register(world, code) for code in conftest.AGENCIES.values()}
    problems = []
    for owner, doc in docs.items():
        before = _snapshot(world, doc)
        for intruder_agency in [a for a in conftest.AGENCIES.values() if a != owner]:
            for role in INTRUDER_ROLES:
                c = s.Client(world.port, f"intruder-{role}")
                assert c.login(world.users[(role, intruder_agency)], s.PASSWORD).status == 303
                token = c.csrf("/")
                who = f"{role} of {intruder_agency} on {owner}'s document"
                for path in (f"/office/documents/{doc}", f"/office/documents/{doc}/files/0"):
                    resp = c.get(path, headers={"Accept": "text/html"})
                    if resp.status not in (403, 404):
                        problems.append(f"{who}: GET {path} -> {resp.status}")
                for step in STEPS:
                    # Every field a step asks for, so that each gets past its own checks to the document.
                    form = {"_csrf": token, "reason": "thử", "decision": "agree", "subject": "Đổi trích yếu",
                            "content": "Nội dung đính chính", "lead_unit": "TH", "deadline": "2030-01-01",
                            "specialist": world.users[("specialist", intruder_agency)]}
                    resp = c.post(f"/office/documents/{doc}/{step}", form=form, headers={"Accept": "text/html"})
                    if resp.status not in (403, 404) or s.error_code(resp) is None:
                        problems.append(f"{who}: POST {step} -> {resp.status} {s.error_code(resp)}")
                c.close()
        after = _snapshot(world, doc)
        if after != before:
            problems.append(f"{owner}'s document changed: {before} -> {after}")
    assert not problems, "\n".join(problems)
