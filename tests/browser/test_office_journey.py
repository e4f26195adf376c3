"""Browser journey of the document office (issue 7): a clerk registers a paper document, a leader
assigns it, another agency's clerk cannot open it.

Runs against a live server (GOVOFFICE_BASE_URL) seeded with the demo data (password
GovOffice@2026): g22.vanthu (clerk), g22.lanhdao (leader), both of 000.00.00.G22, and h41.vanthu
(clerk of 000.00.00.H41). The pages are plain links and forms: the only JavaScript this test runs
is its own, to fill Chromium's date inputs (typing into them depends on the locale's date format)
and, once, to switch off the browser's own form validation so that a deadline the date input's
min= would block reaches the server (as from a browser that does not check min=).

Screenshots: test-artifacts/browser/office_*.png. The driver fixture fails the test on any SEVERE
console entry; the two error pages this journey opens on purpose (404, 400) are the only entries
let through, each by its own URL and status.
"""

from __future__ import annotations

import datetime as dt
import http.client
import re
import time
from urllib.parse import urlsplit

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from test_hub_admin import (
    ARTIFACTS,
    WAIT_SECONDS,
    assert_no_console_errors,
    click_and_wait_for_new_page,
    login,
    page_is_gone,
    path_of,
    screenshot,
    wait_for_path,
)

CLERK = "g22.vanthu"
LEADER = "g22.lanhdao"
OTHER_CLERK = "h41.vanthu"
LEAD_UNIT = "TH"
COORDINATING_UNIT = "PL"

# A small but well-formed PDF: the server checks an attachment by its first bytes.
PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n"
    b"%%EOF\n"
)

REG_NUMBER = re.compile(r"^\d{2,} \(VBĐ/\d{4}\)$")


def shot(driver, name: str) -> None:
    """A screenshot and the page's HTML, under test-artifacts/browser/office_<name>; and the page
    needs no JavaScript: it has none."""
    assert not driver.find_elements(By.TAG_NAME, "script"), f"{name}: the page carries a script"
    screenshot(driver, f"office_{name}")
    (ARTIFACTS / f"office_{name}.html").write_text(driver.page_source, encoding="utf-8")


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text.strip()


def facts(driver, list_id: str) -> dict[str, str]:
    """A <dl>'s terms and descriptions, in order."""
    dl = driver.find_element(By.ID, list_id)
    terms = [e.text.strip() for e in dl.find_elements(By.TAG_NAME, "dt")]
    values = [e.text.strip() for e in dl.find_elements(By.TAG_NAME, "dd")]
    assert len(terms) == len(values), (terms, values)
    return dict(zip(terms, values))


def history(driver) -> list[str]:
    return [li.text.strip() for li in driver.find_elements(By.CSS_SELECTOR, "#doc-history li")]


def flash(driver) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, "p.flash[role='status']")
    return found[0].text.strip() if found else ""


def set_date(driver, element, iso: str) -> None:
    """Fill an <input type=date> with yyyy-MM-dd (the value the form posts)."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        element, iso)
    assert element.get_attribute("value") == iso, element.get_attribute("value")


def cookie_header(driver) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def http_get(base_url: str, path: str, cookie: str) -> tuple[int, str, bytes]:
    """A GET with the browser's session, for what Selenium cannot read (status, bytes)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html"})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def logout(driver) -> None:
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "logout-button"))
    wait_for_path(driver, "/login")


def expect_only_console_errors(driver, path: str, status: int) -> None:
    """Chromium logs an error page as a failed resource: let exactly that one through."""
    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    unexpected = [e for e in severe
                  if path not in e.get("message", "") or f"status of {status}" not in e.get("message", "")]
    assert not unexpected, unexpected


def fail_on_error_page(driver, what: str) -> None:
    """A step that must succeed landed on the error page: fail with its code and message (and
    take the failed resource off the console, so that the failure is reported once)."""
    if driver.find_elements(By.ID, "error-code"):
        driver.get_log("browser")
        raise AssertionError(f"{what}: {driver.current_url}\n{driver.find_element(By.TAG_NAME, 'main').text}")


def assert_error_page(driver, code: str, status: int) -> None:
    assert text_of(driver, "error-code") == code, driver.find_element(By.TAG_NAME, "main").text
    assert text_of(driver, "page-title").startswith(str(status)), text_of(driver, "page-title")


def test_clerk_registers_a_paper_document_and_the_leader_assigns_it(driver, base_url, tmp_path):
    word = f"dangkygiay{int(time.time() * 1000)}"
    subject = f"Về việc đăng ký giấy {word}"
    number = f"{int(time.time()) % 1000}/QĐ-BNV"
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(PDF)

    # ---- 1. The clerk registers the paper document, from the navigation down.
    login(driver, base_url, CLERK)
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "nav-office"))
    wait_for_path(driver, "/office")
    click_and_wait_for_new_page(
        driver, driver.find_element(By.CSS_SELECTOR, "nav.subnav a[href='/office/incoming']"))
    wait_for_path(driver, "/office/incoming")
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "new-paper"))
    wait_for_path(driver, "/office/incoming/new")

    form = driver.find_element(By.ID, "paper-form")
    # A plain HTML form: nothing but the browser is needed to send it.
    assert form.get_attribute("method").lower() == "post"
    assert form.get_attribute("enctype") == "multipart/form-data"
    assert form.find_elements(By.CSS_SELECTOR, "input[type='hidden'][name='_csrf']")
    driver.find_element(By.ID, "sender").send_keys("Bộ Nội vụ")
    driver.find_element(By.ID, "number").send_keys(number)
    types = Select(driver.find_element(By.ID, "type"))
    assert "QĐ" in [o.get_attribute("value") for o in types.options]
    types.select_by_value("QĐ")
    driver.find_element(By.ID, "subject").send_keys(subject)
    today = driver.find_element(By.ID, "promulgation_date").get_attribute("max")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", today or ""), today
    set_date(driver, driver.find_element(By.ID, "promulgation_date"), today)
    Select(driver.find_element(By.ID, "urgency")).select_by_value("1")
    driver.find_element(By.ID, "scan").send_keys(str(scan))
    shot(driver, "clerk_paper_form")
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "paper-submit"))
    fail_on_error_page(driver, "the clerk's paper form, filled as a user would, is refused")

    assert re.fullmatch(r"/office/documents/[^/]+", path_of(driver)), driver.current_url
    doc_path = path_of(driver)
    doc_url = base_url + doc_path
    assert flash(driver) == "Đã vào sổ văn bản đến.", flash(driver)
    assert text_of(driver, "page-title") == subject
    assert text_of(driver, "doc-state") == "Đã vào sổ"
    registered = facts(driver, "doc-facts")
    reg_number = registered.get("Số đăng ký", "")
    assert REG_NUMBER.match(reg_number), registered
    assert reg_number.endswith(f"(VBĐ/{today[:4]})"), (reg_number, today)
    assert any(number in v for v in registered.values()), registered
    # The scan is listed, and its link gives back the very bytes the clerk uploaded.
    scan_links = driver.find_elements(By.CSS_SELECTOR, "#doc-files a")
    assert len(scan_links) == 1, [a.text for a in scan_links]
    assert scan_links[0].text.strip() == "scan.pdf"
    scan_path = urlsplit(scan_links[0].get_attribute("href")).path
    assert scan_path.startswith(doc_path + "/files/"), scan_path
    status, content_type, body = http_get(base_url, scan_path, cookie_header(driver))
    assert status == 200, (status, body[:300])
    assert body.startswith(b"%PDF"), body[:40]
    assert body == PDF
    assert "pdf" in content_type, content_type
    # Only the leader acts on a registered document: the clerk gets no assign form.
    assert not driver.find_elements(By.ID, "assign-form")
    steps_registered = history(driver)
    assert steps_registered, "the history is empty after registering"
    shot(driver, "clerk_registered")
    assert_no_console_errors(driver)

    # In the register of incoming documents, under its number, linked to the document.
    click_and_wait_for_new_page(
        driver, driver.find_element(By.CSS_SELECTOR, "nav.subnav a[href='/office/registers/incoming']"))
    wait_for_path(driver, "/office/registers/incoming")
    rows = [r for r in driver.find_elements(By.CSS_SELECTOR, "#register-table tbody tr") if word in r.text]
    assert len(rows) == 1, "the document is not (once) in the register of incoming documents"
    link = rows[0].find_element(By.CSS_SELECTOR, "a")
    # The register is the book VBĐ of the year: its rows carry the bare number.
    assert link.text.strip() == reg_number.split(" ")[0], (link.text, reg_number)
    assert urlsplit(link.get_attribute("href")).path == doc_path
    assert "Bộ Nội vụ" in rows[0].text and number in rows[0].text, rows[0].text
    shot(driver, "clerk_register")
    assert_no_console_errors(driver)

    # ---- 3. The leader signs in: the home page shows what waits for him, this document too.
    logout(driver)
    login(driver, base_url, LEADER)
    home = driver.find_element(By.TAG_NAME, "main").text
    assert subject in home, "a registered document waiting for the leader is not on his home page"
    home_links = [a for a in driver.find_elements(By.CSS_SELECTOR, "a.doc-link")
                  if urlsplit(a.get_attribute("href")).path == doc_path]
    assert home_links, "no link to the document on the leader's home page"
    assert driver.find_element(By.ID, "home-office").is_displayed()
    shot(driver, "leader_home")
    assert_no_console_errors(driver)

    # ---- 2. He finds it by searching without diacritics, and opens it.
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "nav-office"))
    click_and_wait_for_new_page(
        driver, driver.find_element(By.CSS_SELECTOR, "nav.subnav a[href='/office/search']"))
    wait_for_path(driver, "/office/search")
    search = driver.find_element(By.ID, "office-search")
    assert (search.get_attribute("method") or "get").lower() == "get"
    query = search.find_element(By.ID, "q")
    query.send_keys(f"dang ky giay {word}")
    old_html = driver.find_element(By.TAG_NAME, "html")
    query.send_keys(Keys.ENTER)
    WebDriverWait(driver, WAIT_SECONDS).until(lambda _: page_is_gone(old_html))
    wait_for_path(driver, "/office/search")
    found = [a for a in driver.find_elements(By.CSS_SELECTOR, "a.doc-link") if word in a.text]
    assert len(found) == 1, [a.text for a in driver.find_elements(By.CSS_SELECTOR, "a.doc-link")]
    assert urlsplit(found[0].get_attribute("href")).path == doc_path
    shot(driver, "leader_search")
    assert_no_console_errors(driver)
    click_and_wait_for_new_page(driver, found[0])
    wait_for_path(driver, doc_path)
    assert text_of(driver, "doc-state") == "Đã vào sổ"

    assign = driver.find_element(By.ID, "assign-form")
    assert assign.get_attribute("method").lower() == "post"
    assert urlsplit(assign.get_attribute("action")).path == doc_path + "/assign"
    units = Select(driver.find_element(By.ID, "lead_unit"))
    unit_labels = {o.get_attribute("value"): o.text.strip() for o in units.options}
    assert unit_labels.get(LEAD_UNIT) == "TH — Vụ Tổng hợp", unit_labels
    assert driver.find_element(By.ID, "deadline").get_attribute("min") == today

    # The leader assigns the lead unit with a deadline a week ahead, and a co-ordinating unit;
    # every other field of the form stays as the page gave it.
    deadline = (dt.date.fromisoformat(today) + dt.timedelta(days=7)).isoformat()
    coordinating_deadline = (dt.date.fromisoformat(today) + dt.timedelta(days=5)).isoformat()
    units.select_by_value(LEAD_UNIT)
    set_date(driver, driver.find_element(By.ID, "deadline"), deadline)
    coordinating = Select(driver.find_element(By.ID, "coordinating_units"))
    assert coordinating.is_multiple
    coordinating.select_by_value(COORDINATING_UNIT)
    set_date(driver, driver.find_element(By.ID, "coordinating_deadline"), coordinating_deadline)
    opinion = f"Giao Vụ Tổng hợp chủ trì xử lý {word}."
    driver.find_element(By.ID, "opinion").send_keys(opinion)
    shot(driver, "leader_assign_form")
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "action-assign"))
    fail_on_error_page(driver, "the leader's assign form, filled as a user would, is refused")

    wait_for_path(driver, doc_path)
    assert flash(driver) == "Đã phân công xử lý.", flash(driver)
    assert text_of(driver, "doc-state") == "Đã phân công"
    # Each unit with its part and its deadline, e.g. "TH (chủ trì)": "2026-12-12".
    assignments = facts(driver, "doc-assignments")
    for unit, part, date in ((LEAD_UNIT, "chủ trì", deadline),
                             (COORDINATING_UNIT, "phối hợp", coordinating_deadline)):
        rows = [(k, v) for k, v in assignments.items() if k.startswith(unit + " ")]
        assert len(rows) == 1, (unit, assignments)
        label, value = rows[0]
        assert part in label, (unit, assignments)
        y, m, d = date.split("-")
        # Shown as the ISO date today; a dd/MM/yyyy date would be as good.
        assert value in (date, f"{d}/{m}/{y}"), (unit, date, assignments)
    steps_assigned = history(driver)
    assert len(steps_assigned) == len(steps_registered) + 1, steps_assigned
    assert "Phân công xử lý" in steps_assigned[-1] and LEADER in steps_assigned[-1], steps_assigned
    shot(driver, "leader_assigned")
    assert_no_console_errors(driver)

    # ---- 5. He may assign again until work starts: a deadline before the arrival date is
    # refused with its code, and the document stays as it was.
    assign = driver.find_element(By.ID, "assign-form")
    Select(driver.find_element(By.ID, "lead_unit")).select_by_value(LEAD_UNIT)
    set_date(driver, driver.find_element(By.ID, "deadline"), "2020-01-02")
    driver.find_element(By.ID, "opinion").send_keys("Hạn sai, phải bị từ chối.")
    # The date input's min= stops this in the browser; a browser that does not check it sends it.
    driver.execute_script("arguments[0].noValidate = true;", assign)
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "action-assign"))
    assert_error_page(driver, "deadline_before_arrival", 400)
    assert "2020-01-02" in text_of(driver, "error-message"), text_of(driver, "error-message")
    shot(driver, "leader_bad_deadline")
    expect_only_console_errors(driver, doc_path + "/assign", 400)

    driver.get(doc_url)
    wait_for_path(driver, doc_path)
    assert text_of(driver, "doc-state") == "Đã phân công"
    assert facts(driver, "doc-assignments") == assignments
    assert history(driver) == steps_assigned
    assert_no_console_errors(driver)

    # ---- 4. Another agency's clerk: the document does not exist for her, nor its scan.
    logout(driver)
    login(driver, base_url, OTHER_CLERK)
    driver.get(doc_url)
    assert_error_page(driver, "office_document_not_found", 404)
    source = driver.page_source
    assert word not in source and "Bộ Nội vụ" not in source
    shot(driver, "other_agency_not_found")
    expect_only_console_errors(driver, doc_path, 404)
    cookie = cookie_header(driver)
    for path in (doc_path, scan_path):
        status, _, body = http_get(base_url, path, cookie)
        assert status == 404, (path, status)
        assert word.encode() not in body and not body.startswith(b"%PDF")
    # Nor in her search or her agency's register.
    driver.get(f"{base_url}/office/search?q={word}")
    wait_for_path(driver, "/office/search")
    assert not driver.find_elements(By.CSS_SELECTOR, "a.doc-link"), "H41's search finds G22's document"
    assert subject not in driver.page_source
    driver.get(f"{base_url}/office/registers/incoming")
    assert word not in driver.page_source
    assert_no_console_errors(driver)
