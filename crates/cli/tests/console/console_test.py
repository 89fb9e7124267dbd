"""The web console in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium, against a real `memstream serve` with real data.

Run by crates/cli/tests/it/console.rs:
    console_test.py ADMIN_URL NATIVE_ADDR MEMSTREAM_BIN [SCREENSHOT_DIR]

Checks, each bounded by WAIT seconds: every page loads with no console errors; the message
browser shows a produced record's key and pretty-printed JSON value; a group's lag appears
and drops to zero after consuming; streams created from the CLI and from the page's form
appear without a reload; a narrow screen has no horizontal scrolling; the keyboard reaches
the navigation. With SCREENSHOT_DIR, saves a PNG of every page there (docs/console/).
"""

import json
import os
import subprocess
import sys
import threading

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 60

admin, native, memstream = sys.argv[1], sys.argv[2], sys.argv[3]
shots = sys.argv[4] if len(sys.argv) > 4 else None


def cli(*args, stdin=None):
    """Runs a memstream command against the server; fails the test on a non-zero exit."""
    done = subprocess.run(
        [memstream, *args, "--server", native],
        input=stdin, capture_output=True, text=True, timeout=WAIT, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"memstream {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


driver = browser()
# Tables are redrawn on every live update: an element found a moment ago may be gone.
wait = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))
checked = []


def until(what, condition):
    try:
        return wait.until(lambda d: condition())
    except TimeoutException:
        raise SystemExit(f"timed out after {WAIT} s waiting for: {what}\n{driver.page_source[:4000]}")


def no_console_errors(page):
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    if errors:
        raise SystemExit(f"{page}: console errors: {json.dumps(errors, indent=1)}")


def text(css):
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else None


def card(label):
    return text(f'[data-card="{label}"]')


def open_page(path, ready, what):
    driver.get(admin + path)
    until(f"{path}: {what}", ready)
    until(f"{path}: live updates", lambda: text("#live") == "live")
    no_console_errors(path)
    checked.append(path)


def shot(name):
    if shots:
        driver.save_screenshot(os.path.join(shots, f"{name}.png"))


try:
    # Real data: a stream with a JSON record under a key and a header, and some traffic.
    cli("stream", "create", "orders", "--partitions", "2")
    cli("produce", "orders", "--partition", "0", "--key", "order-1", "--header", "source=web",
        stdin='{"id": 1, "item": "coffee", "amount": 42}\n')
    cli("produce", "orders", "--partition", "0", stdin="".join(f'{{"id": {i}}}\n' for i in range(2, 6)))
    cli("stream", "create", "audit.log", "--partitions", "1")
    cli("stream", "create", "clicks", "--partitions", "4", "--storage", "memory")

    # Overview: cards from the live view, charts.
    open_page("/", lambda: card("Streams") == "3", "the stream count")
    until("the uptime card", lambda: card("Uptime"))
    if shots:
        # For the picture: traffic through `clicks` until the charts have half a minute of it,
        # paced only so that the curve has a shape (nothing waits on it).
        follower = subprocess.Popen([memstream, "consume", "clicks", "--follow", "--server", native],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def pump():
            for i in range(40):
                n = 20_000 + 15_000 * (i % 7)
                cli("produce", "clicks", stdin="".join(
                    f'{{"page": "/item/{j % 97}", "user": {j % 1013}}}\n' for j in range(n)))
                threading.Event().wait(0.7)

        pumping = threading.Thread(target=pump)
        try:
            pumping.start()
            until("half a minute of traffic on the chart", lambda: driver.execute_script(
                "const p = document.querySelector('.chart polyline');"
                "return p !== null && p.getAttribute('points').split(' ').length >= 30"))
            shot("overview")
            pumping.join(timeout=WAIT)
        finally:
            follower.kill()
            follower.wait(timeout=WAIT)

    # Streams: the list, then one created from the CLI and one from the form, no reload.
    open_page("/streams", lambda: driver.find_elements(By.CSS_SELECTOR, 'tr[data-row="orders"]'),
              "the orders row")
    marker = driver.execute_script("window.__same_page = true; return 1")
    cli("stream", "create", "payments", "--partitions", "3")
    until("payments to appear", lambda: driver.find_elements(By.CSS_SELECTOR, 'tr[data-row="payments"]'))
    driver.find_element(By.CSS_SELECTOR, 'input[name="name"]').send_keys("from-the-console")
    driver.find_element(By.CSS_SELECTOR, 'form[aria-label="Create a stream"] button[type="submit"]').click()
    until("the stream created in the form", lambda: driver.find_elements(
        By.CSS_SELECTOR, 'tr[data-row="from-the-console"]'))
    assert driver.execute_script("return window.__same_page === true"), "the page reloaded"
    no_console_errors("/streams (after creating)")
    shot("streams")

    # The message browser: the produced record's key, header and pretty JSON value.
    open_page("/streams/orders", lambda: driver.find_elements(By.CSS_SELECTOR, "article.record"),
              "records in the message browser")
    first = until("the record at offset 0", lambda: driver.find_elements(
        By.CSS_SELECTOR, 'article.record[data-offset="0"]'))[0]
    key = first.find_element(By.CSS_SELECTOR, "[data-key]").text
    value = first.find_element(By.CSS_SELECTOR, "[data-value] pre").text
    assert key == '"order-1"' or key == "order-1", f"key shown as {key!r}"
    assert json.loads(value) == {"id": 1, "item": "coffee", "amount": 42}, f"value shown as {value!r}"
    assert '"amount": 42' in value, f"the JSON is not pretty-printed: {value!r}"
    assert "source" in first.text and "web" in first.text, f"header not shown: {first.text!r}"
    # Page from an offset, then older.
    driver.find_element(By.CSS_SELECTOR, 'select[name="from"] option[value="offset"]').click()
    at = driver.find_element(By.CSS_SELECTOR, 'input[name="at"]')
    at.send_keys("3")
    driver.find_element(By.CSS_SELECTOR, 'form[aria-label="Browse records"] button[type="submit"]').click()
    until("a page from offset 3", lambda: [e.get_attribute("data-offset") for e in driver.find_elements(
        By.CSS_SELECTOR, "article.record")][:1] == ["3"])
    driver.find_element(By.XPATH, '//button[contains(., "Older")]').click()
    until("the older page", lambda: [e.get_attribute("data-offset") for e in driver.find_elements(
        By.CSS_SELECTOR, "article.record")][:1] == ["0"])
    no_console_errors("/streams/orders (browsing)")
    shot("stream")

    # A group's lag appears, then drops to zero after consuming.
    cli("consume", "orders", "--group", "billing", "--count", "5")
    cli("produce", "orders", "--partition", "0", stdin="".join(f'{{"id": {i}}}\n' for i in range(6, 9)))
    open_page("/groups", lambda: driver.find_elements(By.CSS_SELECTOR, 'tr[data-row="billing"]'),
              "the billing group")
    until("billing's lag of 3 in the list", lambda: driver.find_element(
        By.CSS_SELECTOR, 'tr[data-row="billing"] td:last-child').text == "3")
    shot("groups")
    open_page("/groups/billing", lambda: card("Total lag") == "3", "billing's lag of 3")
    shot("group")
    cli("consume", "orders", "--group", "billing", "--count", "3")
    until("billing's lag to drop to 0", lambda: card("Total lag") == "0")
    no_console_errors("/groups/billing (after consuming)")

    # Connections: a following consumer shows, with its client and principal.
    follower = subprocess.Popen([memstream, "consume", "orders", "--follow", "--server", native],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        open_page("/connections", lambda: driver.find_elements(By.CSS_SELECTOR, "tbody tr"),
                  "a connection")
        shot("connections")
    finally:
        follower.kill()
        follower.wait(timeout=WAIT)

    # Config: every key with its origin; reload answers.
    # (textContent: Selenium's .text of a table of every key takes seconds per call.)
    open_page("/config", lambda: driver.execute_script(
        "const t = document.querySelector('main table');"
        "return t !== null && t.textContent.includes('admin.events_interval_ms')"),
              "the configuration table")
    driver.find_element(By.XPATH, '//button[contains(., "Reload")]').click()
    until("the reload's answer", lambda: (text("p.notice") or "").startswith("Reloaded"))
    shot("config")

    # A narrow screen: no sideways scrolling of the page (tables scroll in their own box).
    driver.set_window_size(390, 844)
    open_page("/streams", lambda: driver.find_elements(By.CSS_SELECTOR, 'tr[data-row="orders"]'),
              "the orders row (narrow)")
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px on a narrow screen"
    shot("streams-narrow")
    driver.set_window_size(1280, 900)

    # The keyboard: Tab reaches the skip link, then the navigation.
    open_page("/", lambda: card("Streams"), "the overview")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.text == "Skip to content", "Tab does not reach the skip link"
    for _ in range(2):
        driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("data-nav") == "overview", \
        "Tab does not reach the navigation"
    no_console_errors("keyboard")
    print(f"console ok: {len(checked)} page loads, no console errors: {' '.join(checked)}")
finally:
    driver.quit()
