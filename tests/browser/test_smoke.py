"""Browser smoke tests of GovOffice's pages, as a clerk would use them.

Runs against a live server (GOVOFFICE_BASE_URL) seeded with the demo data.
No JavaScript is needed by these flows: plain forms and links.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

CLERK_USERNAME = "g22.vanthu"
CLERK_PASSWORD = "GovOffice@2026"
CLERK_FULL_NAME = "Nguyễn Thị Văn Thư"
AGENCY_NAME = "Văn phòng Chính phủ"

# The contract names no id for the login error: accept the usual markers.
LOGIN_ERROR_SELECTORS = "#login-error, [role='alert'], .alert, .error, .alert-danger, .flash-error"

WAIT_SECONDS = 15


def path_of(driver) -> str:
    return urlsplit(driver.current_url).path


def html_lang(driver) -> str:
    return driver.find_element(By.TAG_NAME, "html").get_attribute("lang") or ""


def wait_for_path(driver, path: str) -> None:
    try:
        WebDriverWait(driver, WAIT_SECONDS).until(lambda d: path_of(d) == path)
    except TimeoutException:
        raise AssertionError(f"expected to land on {path}, still on {driver.current_url}") from None


def page_is_gone(old_html) -> bool:
    """Whether the old page's root element was replaced. While the next page loads, chromedriver
    sometimes answers with an inspector error ("Node with given id does not belong to the
    document") instead of a stale-element error; both mean the old page is gone."""
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
    """Click a link/submit button and wait until the next page replaced this one."""
    old_html = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, WAIT_SECONDS).until(lambda _: page_is_gone(old_html))
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def submit_login(driver, base_url: str, username: str, password: str) -> None:
    driver.get(f"{base_url}/login")
    form = driver.find_element(By.ID, "login-form")
    assert form.get_attribute("method").lower() == "post"
    csrf = form.find_elements(By.CSS_SELECTOR, "input[type='hidden'][name='_csrf']")
    assert csrf and csrf[0].get_attribute("value"), "login form has no _csrf token"
    driver.find_element(By.ID, "username").send_keys(username)
    password_input = driver.find_element(By.ID, "password")
    assert password_input.get_attribute("type") == "password"
    password_input.send_keys(password)
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "login-button"))


def login_as_clerk(driver, base_url: str) -> None:
    submit_login(driver, base_url, CLERK_USERNAME, CLERK_PASSWORD)
    wait_for_path(driver, "/")


def test_clerk_logs_in_and_out(driver, base_url):
    driver.get(f"{base_url}/login")
    assert html_lang(driver) == "vi"

    login_as_clerk(driver, base_url)
    assert html_lang(driver) == "vi"
    assert driver.find_element(By.ID, "page-title").text.strip() == "Trang chủ"
    assert CLERK_FULL_NAME in driver.find_element(By.ID, "current-user").text

    logout_form = driver.find_element(By.ID, "logout-form")
    assert logout_form.get_attribute("method").lower() == "post"
    assert logout_form.find_elements(By.CSS_SELECTOR, "input[type='hidden'][name='_csrf']")
    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "logout-button"))
    wait_for_path(driver, "/login")
    assert driver.find_element(By.ID, "login-form").is_displayed()

    # The session is gone: the home page sends us back to the login page.
    driver.get(f"{base_url}/")
    wait_for_path(driver, "/login")
    assert not driver.find_elements(By.ID, "current-user")


def test_wrong_password_is_refused(driver, base_url):
    submit_login(driver, base_url, CLERK_USERNAME, CLERK_PASSWORD + "-sai")

    assert path_of(driver) == "/login"
    assert driver.find_element(By.ID, "login-form").is_displayed()
    errors = [e for e in driver.find_elements(By.CSS_SELECTOR, LOGIN_ERROR_SELECTORS)
              if e.is_displayed() and e.text.strip()]
    assert errors, f"no visible error message (looked for {LOGIN_ERROR_SELECTORS})"
    assert not driver.find_elements(By.ID, "current-user")

    # No session was created: the home page still wants a login.
    driver.get(f"{base_url}/")
    wait_for_path(driver, "/login")


def test_agency_directory_search_ignores_diacritics(driver, base_url):
    driver.get(f"{base_url}/agencies")
    assert AGENCY_NAME in driver.find_element(By.TAG_NAME, "body").text

    form = driver.find_element(By.ID, "agency-search")
    assert (form.get_attribute("method") or "get").lower() == "get"
    query = driver.find_element(By.ID, "q")
    assert query.get_attribute("name") == "q"
    query.clear()
    query.send_keys("van phong")
    old_html = driver.find_element(By.TAG_NAME, "html")
    query.send_keys(Keys.ENTER)
    WebDriverWait(driver, WAIT_SECONDS).until(lambda _: page_is_gone(old_html))

    url = urlsplit(driver.current_url)
    assert url.path == "/agencies"
    assert parse_qs(url.query).get("q") == ["van phong"]
    assert AGENCY_NAME in driver.find_element(By.TAG_NAME, "body").text


def test_switch_to_english(driver, base_url):
    login_as_clerk(driver, base_url)
    assert html_lang(driver) == "vi"

    try:
        link = driver.find_element(By.ID, "lang-en")
    except NoSuchElementException:
        raise AssertionError("no #lang-en link on the home page") from None
    assert link.get_attribute("href")
    click_and_wait_for_new_page(driver, link)

    assert html_lang(driver) == "en"
    wait_for_path(driver, "/")  # ?next= brought us back to where we were
    assert driver.find_element(By.ID, "page-title").text.strip() == "Home"


def test_admin_pki_page_refuses_a_leaf_as_ca_without_javascript(driver, base_url):
    """The PKI page works as plain forms: a pasted non-CA certificate is refused with its code."""
    submit_login(driver, base_url, "admin", CLERK_PASSWORD)
    wait_for_path(driver, "/")
    driver.get(f"{base_url}/admin/pki")
    assert driver.find_element(By.ID, "page-title").text.strip().startswith("Hạ tầng khóa công khai")
    driver.find_element(By.ID, "trust-pem").send_keys("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    click_and_wait_for_new_page(driver, driver.find_element(By.CSS_SELECTOR, "#trust-form button[type='submit']"))
    error = driver.find_element(By.ID, "pki-error")
    assert error.is_displayed()
    assert "certificate_" in error.text
    # The refusal is a 400 by design, which Chrome logs as a failed resource; anything else on
    # the console is still an error. (Reading the log empties it for the teardown check.)
    unexpected = [e for e in driver.get_log("browser")
                  if e.get("level") == "SEVERE" and "/admin/pki/trust" not in e.get("message", "")]
    assert not unexpected, unexpected
