"""Browser tests of the hub's admin pages (Trục liên thông), as a system administrator.

Runs against a live server (GOVOFFICE_BASE_URL) seeded with the demo data, which may hold no
hub message yet: then the overview and an empty list must still render. No JavaScript is
needed: plain links and GET forms. The driver fixture (conftest.py) fails the test on any
SEVERE console entry and saves the last page; each page is also saved under its own name.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from selenium.common.exceptions import (
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "GovOffice@2026"

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"

WAIT_SECONDS = 15


def path_of(driver) -> str:
    return urlsplit(driver.current_url).path


def wait_for_path(driver, path: str) -> None:
    try:
        WebDriverWait(driver, WAIT_SECONDS).until(lambda d: path_of(d) == path)
    except TimeoutException:
        raise AssertionError(f"expected to land on {path}, still on {driver.current_url}") from None


def page_is_gone(old_html) -> bool:
    """Whether the old page's root element was replaced (see test_smoke.py)."""
    try:
        old_html.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise


def click_and_wait_for_new_page(driver, element) -> None:
    old_html = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, WAIT_SECONDS).until(lambda _: page_is_gone(old_html))
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def login(driver, base_url: str, username: str, password: str = ADMIN_PASSWORD) -> None:
    driver.get(f"{base_url}/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "login-button"))
    wait_for_path(driver, "/")


def login_as_admin(driver, base_url: str) -> None:
    login(driver, base_url, ADMIN_USERNAME)


def assert_on_trace_page(driver) -> None:
    """The message trace page: its title, the message id and the receipt."""
    assert path_of(driver).startswith("/admin/hub/messages/")
    assert driver.find_element(By.ID, "page-title").text.strip() == "Hành trình gói tin"
    assert driver.find_element(By.ID, "trace-id").text.strip()
    assert driver.find_element(By.ID, "trace-receipt").is_displayed()


def screenshot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def assert_no_console_errors(driver) -> None:
    # Reading the log empties it; the fixture checks what comes after.
    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, severe


def test_admin_opens_hub_overview_messages_and_trace(driver, base_url):
    login_as_admin(driver, base_url)

    driver.get(f"{base_url}/admin/hub")
    wait_for_path(driver, "/admin/hub")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    assert driver.find_element(By.ID, "page-title").text.strip() == "Trục liên thông văn bản"
    for table in ("hub-traffic-table", "hub-state-table"):
        assert driver.find_element(By.ID, table).is_displayed()
    assert driver.find_element(By.ID, "state-dead").is_displayed()
    screenshot(driver, "hub_overview")
    assert_no_console_errors(driver)

    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "hub-nav-messages"))
    wait_for_path(driver, "/admin/hub/messages")
    assert driver.find_element(By.ID, "page-title").text.strip() == "Gói tin gần đây"
    form = driver.find_element(By.ID, "hub-message-filter")
    assert (form.get_attribute("method") or "get").lower() == "get"
    links = driver.find_elements(By.CSS_SELECTOR, "#hub-message-table a.trace-link")
    if not links:
        assert driver.find_element(By.ID, "hub-no-messages").is_displayed()
    screenshot(driver, "hub_messages")
    assert_no_console_errors(driver)

    if links:
        click_and_wait_for_new_page(driver, links[0])
        assert_on_trace_page(driver)
        screenshot(driver, "hub_message_trace")
        assert_no_console_errors(driver)

    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "hub-nav-dead"))
    wait_for_path(driver, "/admin/hub/dead-letters")
    assert driver.find_element(By.ID, "page-title").text.strip() == "Chuyển phát hỏng"
    screenshot(driver, "hub_dead_letters")
    assert_no_console_errors(driver)
