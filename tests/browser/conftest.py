"""Fixtures for the browser smoke tests.

Selenium drives Debian's chromium through Debian's chromedriver, both named
explicitly, so Selenium Manager never looks for (or downloads) a browser or a
driver. The server must already be running: GOVOFFICE_BASE_URL points at it
(scripts/test starts one on SQLite).

After every test the fixture saves a screenshot (and the page's HTML) to
test-artifacts/browser/, and fails the test if the browser console holds a
SEVERE entry: with a strict CSP that catches blocked inline scripts/styles,
failed resources and JavaScript errors.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

# Selenium Manager must stay offline even if something below changes.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"


def _first_executable(env_name: str, candidates: list[str]) -> str:
    explicit = os.environ.get(env_name)
    if explicit:
        return explicit
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(Path(candidates[0]).name)
    if found:
        return found
    pytest.exit(
        f"{candidates[0]} not found: install Debian's chromium and chromium-driver "
        f"(or set {env_name})",
        returncode=3,
    )


def chromium_binary() -> str:
    return _first_executable("CHROMIUM_BIN", ["/usr/bin/chromium"])


def chromedriver_binary() -> str:
    return _first_executable("CHROMEDRIVER_BIN", ["/usr/bin/chromedriver"])


@pytest.fixture(scope="session")
def base_url() -> str:
    url = os.environ.get("GOVOFFICE_BASE_URL", "").strip().rstrip("/")
    if not url:
        pytest.fail(
            "GOVOFFICE_BASE_URL is not set: start `govoffice serve` and point it there "
            "(scripts/test does both)",
            pytrace=False,
        )
    return url


def _options() -> Options:
    options = Options()
    options.binary_location = chromium_binary()
    options.add_argument("--headless=new")
    options.add_argument("--no-sandbox")  # root in CI containers
    options.add_argument("--disable-dev-shm-usage")  # small /dev/shm in containers
    options.add_argument("--window-size=1280,900")
    options.add_argument("--disable-gpu")
    options.add_argument("--no-first-run")
    options.add_argument("--disable-extensions")
    options.add_argument("--lang=vi-VN")
    options.add_argument("--disable-features=PasswordLeakDetection,Translate")
    options.add_experimental_option(
        "prefs",
        {
            # A Vietnamese user's browser; the server defaults to vi anyway.
            "intl.accept_languages": "vi-VN,vi",
            "credentials_enable_service": False,
            "profile.password_manager_enabled": False,
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


@pytest.fixture
def driver(request):
    service = Service(executable_path=chromedriver_binary())
    drv = webdriver.Chrome(service=service, options=_options())
    drv.set_page_load_timeout(30)
    entries: list[dict] = []
    try:
        yield drv
    finally:
        try:
            _save_artifacts(drv, request.node.name)
            try:
                entries = drv.get_log("browser")
            except Exception as exc:
                pytest.fail(f"could not read the browser console: {exc}", pytrace=False)
        finally:
            drv.quit()
    severe = [e for e in entries if e.get("level") == "SEVERE"]
    if severe:
        lines = "\n".join(f"  {e.get('source', '?')}: {e.get('message', '')}" for e in severe)
        pytest.fail(f"browser console has SEVERE entries:\n{lines}", pytrace=False)


def _save_artifacts(drv, test_name: str) -> None:
    """Screenshot + HTML of the last page; never hides the test's own result."""
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = ARTIFACTS / _safe_name(test_name)
        drv.save_screenshot(str(stem.with_suffix(".png")))
        stem.with_suffix(".html").write_text(drv.page_source, encoding="utf-8")
    except Exception as exc:
        print(f"could not save artifacts for {test_name}: {exc}")
