"""Browser journeys: a clerk's day on the hub's pages, and no broken link anywhere a user can go.

Runs against a live server (GOVOFFICE_BASE_URL). scripts/test seeds it with the demo data and sends
one signed document G22 -> H41 through `govoffice client send` before the tests, so the message
list is not empty; GOVOFFICE_EXPECT_HUB_MESSAGE=1 says so (then the trace step is required).

Every page is saved as a screenshot under test-artifacts/browser/ (journey_*.png). The driver
fixture fails the test on any SEVERE console entry; the link walk fails on any link, stylesheet,
script or image of ours that answers with an error.
"""

from __future__ import annotations

import http.client
import os
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from selenium.webdriver.common.by import By

from test_hub_admin import (
    assert_no_console_errors,
    assert_on_trace_page,
    click_and_wait_for_new_page,
    login,
    screenshot,
    wait_for_path,
)

# Links that change the session rather than show a page; they are checked by other tests.
NOT_WALKED = ("/logout", "/lang/")
# A bound on the walk: the demo data has a few hundred agency pages; the walk samples each kind.
MAX_PAGES = 60


def shot(driver, name: str) -> None:
    screenshot(driver, f"journey_{name}")


def test_clerk_follows_a_document_through_the_hub(driver, base_url):
    login(driver, base_url, "g22.vanthu")
    shot(driver, "clerk_home")

    # The hub is one click from the home page, in the navigation.
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "nav-hub"))
    wait_for_path(driver, "/admin/hub")
    assert driver.find_element(By.ID, "page-title").text.strip() == "Trục liên thông văn bản"
    # A clerk may look, not act: no redeliver button anywhere on the overview.
    assert not driver.find_elements(By.CSS_SELECTOR, "form[action*='redeliver']")
    shot(driver, "clerk_hub_overview")
    assert_no_console_errors(driver)

    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "hub-nav-messages"))
    wait_for_path(driver, "/admin/hub/messages")
    # The journey follows the document that went to H41 (scripts/test also sends one to G17 only).
    links = [row.find_element(By.CSS_SELECTOR, "a.trace-link")
             for row in driver.find_elements(By.CSS_SELECTOR, "#hub-message-table tbody tr")
             if "000.00.00.H41" in row.text and row.find_elements(By.CSS_SELECTOR, "a.trace-link")]
    shot(driver, "clerk_hub_messages")
    if os.environ.get("GOVOFFICE_EXPECT_HUB_MESSAGE") == "1":
        assert links, "the document scripts/test sent is not in the clerk's message list"
    if links:
        click_and_wait_for_new_page(driver, links[0])
        assert_on_trace_page(driver)
        # The document went to H41: its delivery line is on the trace.
        assert "000.00.00.H41" in driver.find_element(By.TAG_NAME, "main").text
        shot(driver, "clerk_hub_trace")
        assert_no_console_errors(driver)

    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "hub-nav-dead"))
    wait_for_path(driver, "/admin/hub/dead-letters")
    shot(driver, "clerk_hub_dead_letters")
    assert_no_console_errors(driver)


def test_another_agencys_clerk_does_not_see_the_trace(driver, base_url):
    """H41's clerk sees the document H41 received, but never one that does not involve H41."""
    unrelated = os.environ.get("GOVOFFICE_UNRELATED_MESSAGE_ID", "")
    login(driver, base_url, "h41.vanthu")
    driver.get(f"{base_url}/admin/hub/messages")
    wait_for_path(driver, "/admin/hub/messages")
    rows = driver.find_elements(By.CSS_SELECTOR, "#hub-message-table tbody tr")
    if os.environ.get("GOVOFFICE_EXPECT_HUB_MESSAGE") == "1":
        assert rows, "H41's clerk does not see the document H41 received"
    for row in rows:
        assert "000.00.00.H41" in row.text, row.text
    shot(driver, "h41_clerk_hub_messages")
    assert_no_console_errors(driver)
    if unrelated:
        assert unrelated not in driver.page_source
        # Nor by its address, with the clerk's session: the trace answers as if it did not exist.
        # (Over HTTP rather than in the browser: Chromium logs a 404 page as a console error.)
        status, _, body = _get(base_url, f"/admin/hub/messages/{unrelated}", _session_cookie(driver))
        assert status == 404, status
        assert "Công văn không gửi UBND tỉnh Nghệ An" not in body


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pages: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.pages.append(a["href"])
        elif tag == "link" and a.get("href"):
            self.assets.append(a["href"])
        elif tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"])
        elif tag == "form" and (a.get("method") or "get").lower() == "get" and a.get("action"):
            self.pages.append(a["action"])


def _get(base_url: str, path: str, cookie: str) -> tuple[int, str, str]:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html"})
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        return response.status, response.getheader("Content-Type") or "", body
    finally:
        conn.close()


def _walk(base_url: str, cookie: str) -> tuple[int, list[str]]:
    """Every same-origin link and asset reachable from the home page, breadth first."""
    origin = urlsplit(base_url)
    seen_pages: set[str] = set()
    checked_assets: set[str] = set()
    queue = ["/"]
    broken: list[str] = []
    samples: dict[str, int] = {}
    while queue and len(seen_pages) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen_pages:
            continue
        seen_pages.add(path)
        status, content_type, body = _get(base_url, path, cookie)
        if status >= 400:
            broken.append(f"{path} -> {status}")
            continue
        if "text/html" not in content_type:
            continue
        parser = _Links()
        parser.feed(body)
        for href in parser.assets:
            target = urlsplit(urljoin(base_url + path, href))
            if target.netloc and target.netloc != origin.netloc:
                broken.append(f"{path}: an asset from another origin {href}")
                continue
            asset = target.path + (f"?{target.query}" if target.query else "")
            if asset not in checked_assets:
                checked_assets.add(asset)
                status, _, _ = _get(base_url, asset, cookie)
                if status >= 400:
                    broken.append(f"{path}: asset {asset} -> {status}")
        for href in parser.pages:
            if href.startswith(("mailto:", "tel:", "#")):
                continue
            target = urlsplit(urljoin(base_url + path, href))
            if target.netloc and target.netloc != origin.netloc:
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link.startswith(NOT_WALKED) or link in seen_pages:
                continue
            # Sample each kind of page (e.g. /agencies/X) a few times rather than all of them.
            kind = "/".join(target.path.split("/")[:3])
            samples[kind] = samples.get(kind, 0) + 1
            if samples[kind] <= 5:
                queue.append(link)
    return len(seen_pages), broken


def _session_cookie(driver) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def test_no_broken_links_for_anyone(driver, base_url):
    """Anonymous, a clerk and the system administrator: every link they can follow answers."""
    walked, broken = _walk(base_url, "")
    assert not broken, broken
    total = walked
    for username in ("g22.vanthu", "admin"):
        driver.delete_all_cookies()
        login(driver, base_url, username)
        walked, broken = _walk(base_url, _session_cookie(driver))
        assert not broken, (username, broken)
        assert walked > 5, f"{username}: only {walked} pages reachable"
        total += walked
    print(f"link walk: {total} pages")
