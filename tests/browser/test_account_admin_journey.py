"""An agency admin's account pages (issue 14): the demo-password banner names only accounts the admin
may change, each a working link; another account of the admin's own agency opens with its forms; the
system admin's account opens read-only, without the password form, even though it is in the same agency.

Screenshots: test-artifacts/browser/accounts_*.png. Nothing here changes a password, so the demo
accounts the other tests sign in with stay as they are.
"""

from __future__ import annotations

from selenium.webdriver.common.by import By

from test_hub_admin import click_and_wait_for_new_page, login, screenshot


def test_agency_admin_changes_only_what_it_could_grant(driver, base_url):
    login(driver, base_url, "g22.quantri", "GovOffice@2026")
    # The banner of a demo server: only G22's accounts the agency admin could reset, never the system admin's.
    banner = driver.find_element(By.ID, "demo-password-banner")
    assert "mật khẩu mẫu" in banner.text
    names = [a.text for a in banner.find_elements(By.CSS_SELECTOR, "#demo-password-accounts a")]
    assert "g22.vanthu" in names and "g22.quantri" in names, names
    assert "admin" not in names and not any(n.startswith("h41.") for n in names), names
    screenshot(driver, "accounts_agency_admin_home")

    click_and_wait_for_new_page(driver, driver.find_element(By.ID, "demo-account-g22.vanthu"))
    assert driver.find_elements(By.ID, "password-form"), "the clerk's page has no password form"
    assert not driver.find_elements(By.ID, "read-only-note")
    screenshot(driver, "accounts_clerk_page")

    driver.get(f"{base_url}/admin/users?agency=000.00.00.G22")
    admin_link = [a for a in driver.find_elements(By.CSS_SELECTOR, "table a") if a.text == "admin"]
    assert admin_link, "the system admin is not listed for its own agency's admin"
    click_and_wait_for_new_page(driver, admin_link[0])
    note = driver.find_element(By.ID, "read-only-note")
    assert "không sửa" in note.text
    for form in ("user-form", "password-form", "unlock-form"):
        assert not driver.find_elements(By.ID, form), f"the system admin's page offers {form} to an agency admin"
    assert "Quản trị hệ thống" in driver.find_element(By.TAG_NAME, "main").text
    assert driver.find_element(By.ID, "page-title").text.startswith("Thông tin người dùng"), "a read-only page titled as an edit"
    screenshot(driver, "accounts_system_admin_read_only")
