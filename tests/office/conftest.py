"""Hooks of the three-process office test (tests/office/office_flow.py).

After a failed test the tails of the three server logs (hub, office A, office B) are added to the
report, so a failure shows what the servers said. The logs stay in test-artifacts/office/.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when not in ("setup", "call") or not report.failed:
        return
    world = getattr(item.module, "WORLD", None)
    if world is None:
        return
    for label, text in world.log_tails(60):
        report.sections.append((f"server log: {label} (last lines)", text))
