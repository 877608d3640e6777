"""The API docs in a real browser: Debian's headless Chromium (driven by selenium through Debian's chromedriver)
loads /api/v1/docs from the local runtime, renders every operation of the OpenAPI document, and one "Try it out"
call answers 200.

`make test` installs Chromium first when it can (the Makefile's `browser` step: as root, with apt-get). Where it
cannot, this test skips and says why; under CI (CI=true) a missing browser fails it instead.
"""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_runtime.openapi import DOCUMENT

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Under .local/ (gitignored), where `make clean` removes it.
SCREENSHOTS = ROOT / ".local" / "screenshots"
RENDER_TIMEOUT = 60.0  # a cold Chromium on a busy 2-core machine parses a 1.5 MB bundle
OPERATIONS = sum(
    method in ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    for item in json.loads(DOCUMENT.read_text())["paths"].values()
    for method in item
)


def _missing_browser() -> str | None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return None
    return f"{' and '.join(missing)} not installed: `make test` installs Debian's chromium and chromium-driver as root"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    reason = _missing_browser()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",  # as root, Chromium's sandbox refuses to start
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    # Both paths given: selenium uses them as they are and looks nothing up (no driver or browser download).
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


HEALTH = "#operations-Misc-health_health_get"  # GET /health: tag Misc, operationId health_health_get


@pytest.mark.parametrize(
    ("prefix", "screenshot"),
    [("", "docs"), ("/prod", "docs-prod")],
    ids=["local-url", "stage-first-as-on-execute-api"],
)
def test_swagger_ui_renders_every_operation_and_try_it_out_answers(runtime, browser, prefix: str, screenshot: str):
    """Under `make run`'s URL and under the execute-api endpoint's, stage first (/prod/api/v1/docs), which the
    local runtime serves too: every URL the page uses, and "Try it out", stay under the prefix of the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.wait import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, RENDER_TIMEOUT)
    api = f"{runtime.base_url}{prefix}/api/v1"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    driver.get(f"{api}/docs")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= OPERATIONS)

    assert len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) == OPERATIONS
    assert driver.find_element(By.CSS_SELECTOR, ".info .title").text.startswith("Clara API")
    # Everything the page loaded came from the local runtime, under the page's prefix: no CDN.
    loaded = driver.execute_script("return performance.getEntriesByType('resource').map(entry => entry.name)")
    assert sorted(loaded) == [f"{api}/docs/swagger-ui-bundle.js", f"{api}/docs/swagger-ui.css", f"{api}/openapi.json"]
    driver.save_screenshot(str(SCREENSHOTS / f"{screenshot}-page.png"))

    health = driver.find_element(By.CSS_SELECTOR, HEALTH)
    driver.execute_script("arguments[0].scrollIntoView()", health)
    health.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait.until(until.element_to_be_clickable((By.CSS_SELECTOR, f"{HEALTH} .try-out__btn"))).click()
    wait.until(until.element_to_be_clickable((By.CSS_SELECTOR, f"{HEALTH} .execute"))).click()
    live = f"{HEALTH} .live-responses-table tr.response"
    status = wait.until(until.visibility_of_element_located((By.CSS_SELECTOR, f"{live} .response-col_status")))
    body = driver.find_element(By.CSS_SELECTOR, f"{live} .response-col_description pre").text
    request_url = health.find_element(By.CSS_SELECTOR, ".request-url pre").text
    driver.execute_script("arguments[0].scrollIntoView()", health)
    driver.save_screenshot(str(SCREENSHOTS / f"{screenshot}-try-it-out.png"))

    assert status.text.strip() == "200"
    # The document's servers entry (rewritten for the request's prefix), resolved against the page.
    assert request_url == f"{api}/health"
    assert json.loads(body)["data"] == {"service": "clara-backend", "status": "healthy"}
