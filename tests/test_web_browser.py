"""`qmgrade serve` in a real browser: Debian's chromium, headless, driven by Selenium through
chromium-driver (both installed by `.ci/run`), against the real server (waitress) on loopback.

The company fills a questionnaire, saves, reloads, sees its level, changes a rating in what-if
and sees the level change, opens the roadmap and downloads the report; the bureau uploads a
batch and sees the statistics.  Screenshots are kept under the test's tmp directory.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

import engine

selenium = pytest.importorskip("selenium", reason="selenium is a test dependency (pip install -e '.[test]')")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
                                       "chromium-driver fonts-noto-cjk, as .ci/run does)")


@pytest.fixture(scope="module")
def model():
    return engine.load_model()


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    """The real WSGI server on a free loopback port, in a thread of this process."""
    from waitress.server import create_server
    from engine.web import create_app
    folder = tmp_path_factory.mktemp("serve")
    app = create_app(model, str(folder / "web.sqlite"))
    httpd = create_server(app, host="127.0.0.1", port=0, threads=4)
    port = httpd.effective_port
    thread = threading.Thread(target=httpd.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", "--lang=zh-CN", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.downloads = downloads
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def _wait(driver, condition, timeout=20):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def _shot(driver, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def _console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _unlabelled_controls(driver):
    """Form controls whose accessible name (Chrome's accessibility tree) is empty."""
    driver.execute_cdp_cmd("Accessibility.enable", {})
    nodes = driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
    roles = {"radio", "textbox", "combobox", "checkbox", "button", "ListBox"}
    bad = []
    for node in nodes:
        role = (node.get("role") or {}).get("value")
        if role in roles and not node.get("ignored"):
            name = (node.get("name") or {}).get("value", "")
            if not str(name).strip():
                bad.append(role)
    return bad


def test_company_journey_in_chromium(browser, server, model, tmp_path):
    shots = Path(os.environ.get("QMGRADE_SCREENSHOTS", tmp_path))
    browser.get(server + "/?lang=zh")
    # keyboard: the first Tab reaches the skip link, the form fields are labelled
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("class") == "skip"
    browser.find_element(By.ID, "company-id").send_keys("web-001")
    browser.find_element(By.ID, "company-name").send_keys("网页测试机械有限公司")
    browser.find_element(By.ID, "create").click()
    _wait(browser, lambda d: "/stave/" in d.current_url)
    assert _unlabelled_controls(browser) == []
    _shot(browser, shots, "1-questionnaire")

    # the first stave by keyboard and mouse: levels <= 2 full, the rest none
    first = [c for c in model.criteria.values() if c.dimension == model.dimension_ids[0]]
    for criterion in first:
        choice = "full" if criterion.level <= 2 else "none"
        radio = browser.find_element(By.ID, f"r-{criterion.id}-{choice}")
        radio.send_keys(Keys.SPACE) if criterion.level <= 2 else browser.find_element(
            By.CSS_SELECTOR, f'label[for="r-{criterion.id}-{choice}"]').click()
    # autosave (the page's script) keeps the draft: reload and the answers are still there
    _wait(browser, lambda d: d.find_element(By.ID, "autosave-status").get_attribute("data-state") == "saved")
    time.sleep(0.5)     # the last change's debounced save
    _wait(browser, lambda d: d.find_element(By.ID, "autosave-status").get_attribute("data-state") == "saved")
    browser.refresh()
    for criterion in first:
        choice = "full" if criterion.level <= 2 else "none"
        assert browser.find_element(By.ID, f"r-{criterion.id}-{choice}").is_selected(), criterion.id
    browser.find_element(By.ID, "save-next").click()

    # the other staves: answers set in the page, sent by the form's own button
    for dim in model.dimension_ids[1:]:
        _wait(browser, lambda d: d.current_url.endswith(f"/stave/{dim}"))
        ids = {c.id: ("full" if c.level <= 2 else "none") for c in model.criteria.values() if c.dimension == dim}
        browser.execute_script("for (const [id, r] of Object.entries(arguments[0])) "
                               "{ document.getElementById('r-' + id + '-' + r).checked = true; }", ids)
        button = browser.find_elements(By.ID, "save-next") or browser.find_elements(By.ID, "save-result")
        button[0].click()
    _wait(browser, lambda d: d.find_elements(By.ID, "company-level"))
    level = browser.find_element(By.ID, "company-level")
    assert level.get_attribute("data-rank") == "2" and "检验级" in level.text
    assert browser.find_elements(By.CSS_SELECTOR, "#roadmap .milestones li")       # the roadmap is there
    assert _unlabelled_controls(browser) == []
    _shot(browser, shots, "2-result")

    # what-if in place: a level-2 key criterion falls to none, the level drops, nothing is saved
    key = next(c for c in model.criteria.values() if c.level == 2 and c.key)
    Select(browser.find_element(By.ID, "whatif-criterion")).select_by_value(key.id)
    Select(browser.find_element(By.ID, "whatif-rating")).select_by_value("none")
    browser.find_element(By.ID, "whatif-go").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "whatif-level"))
    assert browser.find_element(By.ID, "whatif-level").get_attribute("data-rank") == "1"
    assert browser.find_element(By.ID, "company-level").get_attribute("data-rank") == "2"
    _shot(browser, shots, "3-whatif")

    # the report: embedded, and downloaded
    browser.find_element(By.ID, "dl-html").click()
    _wait(browser, lambda d: [p for p in d.downloads.glob("*.html")], timeout=30)
    report = next(browser.downloads.glob("*.html")).read_text(encoding="utf-8")
    assert 'id="company-level" data-rank="2"' in report
    assert _console_errors(browser) == []


def test_bureau_journey_in_chromium(browser, server, model, tmp_path):
    shots = Path(os.environ.get("QMGRADE_SCREENSHOTS", tmp_path))
    batch = tmp_path / "season.jsonl"
    lines = []
    for rank, company in ((1, "b-1"), (2, "b-2"), (3, "b-3")):
        ratings = {cid: ("full" if c.level <= rank else "none") for cid, c in model.criteria.items()}
        lines.append(json.dumps({"company": {"id": company, "region": "浙江", "industry": "C34"},
                                 "assessed_on": "2026-11-01", "ratings": ratings}, ensure_ascii=False))
    lines.append('{"company": {"id": "b-bad"}, "ratings": {"nope": "full"}}')
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    browser.get(server + "/bureau/batch?lang=en")
    assert _unlabelled_controls(browser) == []
    browser.find_element(By.ID, "batch-file").send_keys(str(batch))
    browser.find_element(By.ID, "batch-go").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#batch-status[data-status="done"]'), timeout=60)
    assert browser.find_element(By.ID, "batch-records").text == "4"
    assert browser.find_element(By.ID, "batch-failed").text == "1"
    assert "season.jsonl:4" in browser.find_element(By.ID, "batch-errors").text
    _shot(browser, shots, "4-batch")
    browser.find_element(By.ID, "batch-stats").click()
    frame = _wait(browser, lambda d: d.find_elements(By.ID, "stats-view"))[0]
    browser.switch_to.frame(frame)
    _wait(browser, lambda d: "b-" in d.page_source or "3" in d.find_element(By.TAG_NAME, "body").text)
    text = browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    assert "3" in text
    _shot(browser, shots, "5-stats")
    assert _console_errors(browser) == []
