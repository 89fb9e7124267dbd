"""The web console against a server with security on, in headless Chromium: the console
asks for credentials (its own dialog, not the browser's), refuses wrong ones, and with right
ones shows the pages, live updates and writes through the API.

Run by crates/cli/tests/it/console.rs:
    console_login_test.py ADMIN_URL USER PASSWORD [SCREENSHOT_DIR]
"""

import json
import os
import sys

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 60
admin, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
shots = sys.argv[4] if len(sys.argv) > 4 else None

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
            "--window-size=1280,900", "--force-device-scale-factor=1"):
    options.add_argument(arg)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))


def until(what, condition):
    try:
        return wait.until(lambda d: condition())
    except TimeoutException:
        raise SystemExit(f"timed out after {WAIT} s waiting for: {what}\n{driver.page_source[:4000]}")


def errors_other_than_401():
    logs = driver.get_log("browser")
    return [e for e in logs if e["level"] in ("SEVERE", "ERROR") and " 401 " not in e["message"]
            and "401 (Unauthorized)" not in e["message"]]


def login_open():
    return driver.execute_script("return document.getElementById('login').open")


try:
    driver.get(admin + "/streams")
    until("the console's login dialog", login_open)
    if shots:
        driver.save_screenshot(os.path.join(shots, "login.png"))
    form = driver.find_element(By.ID, "login-form")
    form.find_element(By.NAME, "user").send_keys(user)
    form.find_element(By.NAME, "password").send_keys("not the password")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until("wrong credentials to be refused", lambda: "refused" in driver.find_element(
        By.ID, "login-error").text)
    assert login_open(), "the dialog closed on wrong credentials"
    pw = form.find_element(By.NAME, "password")
    pw.clear()
    pw.send_keys(password)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until("the dialog to close", lambda: not login_open())
    until("the streams page", lambda: driver.find_elements(By.CSS_SELECTOR, "p.empty"))
    until("live updates", lambda: driver.find_element(By.ID, "live").text == "live")
    # Writes go through with the login: a stream created in the form appears.
    driver.find_element(By.CSS_SELECTOR, 'input[name="name"]').send_keys("secured")
    driver.find_element(By.CSS_SELECTOR, 'form[aria-label="Create a stream"] button[type="submit"]').click()
    until("the created stream", lambda: driver.find_elements(By.CSS_SELECTOR, 'tr[data-row="secured"]'))
    # A reload keeps the login (the tab's session storage): no dialog.
    driver.get(admin + "/config")
    until("the configuration", lambda: driver.execute_script(
        "const t = document.querySelector('main table'); return t !== null"))
    assert not login_open(), "asked to log in again after a reload"
    errors = errors_other_than_401()
    if errors:
        raise SystemExit(f"console errors: {json.dumps(errors, indent=1)}")
    print("console login ok: refused a wrong password, logged in, created a stream, kept the login")
finally:
    driver.quit()
