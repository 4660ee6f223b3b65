"""The dashboard in a real headless Chromium (Debian's `chromium` and `chromium-driver`), driven
by Selenium: rows appear live as an SDK sends requests, filter, detail, copy a rule and load it.

Screenshots go to the test's tmp_path; with MOCKSERVER_SCREENSHOTS=docs they also replace
docs/dashboard*.png (the README shows docs/dashboard.png).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
import openai
import pytest

from mockserver.http.app import MockApp
from tests.conftest import ROOT, StartServer

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

    from mockserver.http.server_thread import ServerThread

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
KEY, RULE, STATUS, COST = 4, 5, 7, 9  # columns of the traffic table
WAIT = 20  # seconds at most for the page to show something (a bound, not a measurement)
GREETING = """\
version: 1
rules:
  - name: greeting
    match: {last_user: hello}
    reply: {content: "Hello there."}
  - name: never
    match: {last_user: nobody says this}
    reply: {content: "Unused."}
"""

if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "the dashboard's browser tests need Debian's chromium and chromium-driver "
        "(apt-get install -y chromium chromium-driver; .ci/run installs them)",
        allow_module_level=True,
    )


@pytest.fixture
def server(start_server: StartServer) -> ServerThread:
    return start_server(GREETING)


@contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    """A fresh headless Chromium with its own profile folder."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = cast(str, CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1600,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(server: ServerThread, tmp_path: Path) -> Iterator[WebDriver]:
    """Quits before the server stops (it depends on it)."""
    with chromium(tmp_path / "chromium-profile") as driver:
        yield driver


def wait_for(driver: WebDriver, condition: Any, message: str) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (StaleElementReferenceException,)  # a row redrawn while it was read
    wait = WebDriverWait(driver, WAIT, poll_frequency=0.1, ignored_exceptions=ignored)
    return wait.until(condition, message)


def rows(driver: WebDriver) -> list[list[str]]:
    """The table's cells, read in one step (the page redraws its rows as entries arrive)."""
    script = (
        "return [...document.querySelectorAll('#traffic tbody tr')]"
        ".map(tr => [...tr.cells].map(td => td.textContent))"
    )
    return cast("list[list[str]]", driver.execute_script(script))


def row_count(driver: WebDriver, count: int) -> Any:
    return lambda d: len(rows(d)) == count


def text_of(driver: WebDriver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, element_id).text)


def type_into(driver: WebDriver, element_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    field = driver.find_element(By.ID, element_id)
    field.send_keys(Keys.CONTROL, "a")  # as a user replaces what is there (fires `input`)
    field.send_keys(Keys.BACKSPACE)
    if text:
        field.send_keys(text)


def screenshot(driver: WebDriver, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    assert driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000  # a page was drawn, not a blank
    if os.environ.get("MOCKSERVER_SCREENSHOTS") == "docs":
        shutil.copyfile(path, ROOT / "docs" / f"{name}.png")
    return path


def open_page(driver: WebDriver, server: ServerThread) -> None:
    driver.get(server.url + "/_mock/ui")
    wait_for(driver, lambda d: text_of(d, "feed-state") == "live", "the feed never went live")


def test_rows_appear_live_filter_open_copy_a_rule_and_load_it_back(
    server: ServerThread, browser: WebDriver, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, server)
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test-key", max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello"}])
    wait_for(browser, row_count(browser, 1), "the first request never showed")
    question = "what is the capital of France?"
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
    )
    wait_for(browser, row_count(browser, 2), "the second request never showed")
    newest, oldest = rows(browser)
    assert newest[0] == "2" and newest[3] == "gpt-4o-mini" and newest[STATUS] == "200"
    assert newest[RULE] == "default (no match)"
    assert oldest[RULE] == "greeting" and "openai.chat" in oldest[2]

    type_into(browser, "filter-rule", "greeting")
    wait_for(browser, row_count(browser, 1), "the rule filter kept the wrong rows")
    assert rows(browser)[0][RULE] == "greeting"
    type_into(browser, "filter-rule", "")
    type_into(browser, "filter-model", "mini")
    wait_for(browser, row_count(browser, 1), "the model filter kept the wrong rows")
    type_into(browser, "filter-model", "")
    wait_for(browser, row_count(browser, 2), "clearing the filters didn't bring rows back")

    row = "#traffic tbody tr[data-seq='2']"
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, row).click() or True, "no row 2")
    wait_for(browser, lambda d: "greeting:" in text_of(d, "detail-misses"), "no near misses")
    assert "last_user: expected to contain 'hello'" in text_of(browser, "detail-misses")
    assert question in text_of(browser, "detail-body")
    assert "sk-test-key" not in browser.page_source  # keys are masked in the journal

    browser.find_element(By.ID, "copy-rule").click()
    yaml_box = browser.find_element(By.ID, "rule-yaml")
    wait_for(browser, lambda d: yaml_box.get_attribute("value"), "no rule was copied")
    copied = str(yaml_box.get_attribute("value"))
    assert "name: copied-2" in copied and question in copied
    screenshot(browser, tmp_path, "dashboard")
    browser.find_element(By.ID, "load-rule").click()
    wait_for(browser, lambda d: "loaded" in text_of(d, "rule-message"), "the rule didn't load")

    again = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
    )
    assert again.choices[0].message.content == "Replace this reply: rule copied from request #2."
    wait_for(browser, row_count(browser, 3), "the third request never showed")
    assert rows(browser)[0][RULE] == "copied-2"


def test_pause_holds_rows_and_clear_resets_the_journal(
    server: ServerThread, browser: WebDriver
) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, server)
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello"}])
    wait_for(browser, row_count(browser, 1), "the request never showed")
    browser.find_element(By.ID, "pause").click()
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello"}])
    wait_for(browser, lambda d: "1 new" in text_of(d, "pause"), "the paused row wasn't counted")
    assert len(rows(browser)) == 1
    browser.find_element(By.ID, "pause").click()
    wait_for(browser, row_count(browser, 2), "resuming didn't show the held row")
    browser.find_element(By.ID, "clear").click()
    wait_for(browser, row_count(browser, 0), "clear didn't empty the table")
    assert len(cast(MockApp, server.app).mock.journal) == 0


def test_ten_thousand_rows_are_paged_and_the_scenarios_view_counts_hits(
    start_server: StartServer, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    server = start_server(GREETING, journal_size=10_000)
    journal = cast(MockApp, server.app).mock.journal
    for number in range(10_000):  # straight into the journal: 10,000 HTTP requests take long
        entry = journal.open("POST", "/v1/chat/completions", {})
        entry.model, entry.status = f"model-{number % 7}", 200
        entry.rule = "greeting" if number % 2 else None
    with chromium(tmp_path / "chromium-profile") as browser:
        open_page(browser, server)
        wait_for(
            browser,
            lambda d: text_of(d, "counts") == "10000 of 10000 requests",
            "the 10,000 rows never all arrived",
        )
        assert len(rows(browser)) == 100  # one page of them in the document
        assert text_of(browser, "page") == "page 1 of 100"
        browser.find_element(By.ID, "older").click()
        wait_for(browser, lambda d: rows(d)[0][0] == "9900", "the next page didn't show")
        type_into(browser, "filter-model", "model-3")
        wait_for(browser, lambda d: "1429 of 10000" in text_of(d, "counts"), "filter failed")

        browser.find_element(By.ID, "tab-scenarios").click()
        wait_for(browser, lambda d: "never used" in text_of(d, "scenario-summary"), "no summary")
        assert "2 rules, 1 never used" in text_of(browser, "scenario-summary")
        rules = browser.find_elements(By.CSS_SELECTOR, "#rules tbody tr")
        assert [r.text.split()[0] for r in rules] == ["greeting", "never"]
        assert rules[0].text.endswith("5000")

        # A scenario with a typo, loaded from the page: refused, its issue shown at its place.
        browser.find_element(By.CSS_SELECTOR, "#load-scenario summary").click()
        typo = (
            "version: 1\nrules:\n  - name: typo\n    match: {modle: gpt-4o}\n"
            "    reply: {content: hi}\n"
        )
        browser.find_element(By.ID, "scenario-yaml").send_keys(typo)
        browser.find_element(By.ID, "load-scenario-button").click()
        wait_for(browser, lambda d: d.find_element(By.ID, "refused").is_displayed(), "not shown")
        issue = text_of(browser, "refused-issues")
        assert issue.startswith("<POST /_mock/scenarios>:4:13 rules[0].match.modle: unknown key")
        assert "did you mean 'model'?" in issue
        assert "2 rules" in text_of(browser, "scenario-summary")  # nothing of it was loaded
        screenshot(browser, tmp_path, "dashboard-scenarios")


def test_gateway_keys_balances_and_spend_and_a_task_progressing(
    start_server: StartServer, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    from tests.gateway.gateway_scenario import KEYS, SCENARIO

    # a channel for the video model too: tasks are billed like any request (503 without one)
    priced = "gpt-4.1: {model_price: 0.02}"
    server = start_server(SCENARIO.replace(priced, priced + "\n    sora-2: {model_price: 0.1}"))
    with chromium(tmp_path / "chromium-profile") as browser:
        open_page(browser, server)
        for key, model in (("main", "gpt-4o-mini"), ("vip", "gpt-4o"), ("main", "gpt-4o-mini")):
            client = openai.OpenAI(base_url=server.url + "/v1", api_key=KEYS[key], max_retries=0)
            client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "hello"}]
            )
        wait_for(browser, row_count(browser, 3), "the gateway's requests never showed")
        assert [row[KEY] for row in rows(browser)] == ["main", "vip", "main"]
        assert all(row[COST].startswith("$") for row in rows(browser))
        type_into(browser, "filter-key", "vip")
        wait_for(browser, row_count(browser, 1), "the key filter kept the wrong rows")

        browser.find_element(By.ID, "tab-gateway").click()
        wait_for(browser, lambda d: "billed requests" in text_of(d, "gateway-summary"), "no keys")
        assert text_of(browser, "gateway-summary") == "8 keys, 3 billed requests"
        names = [
            r.text.split()[1] for r in browser.find_elements(By.CSS_SELECTOR, "#keys tbody tr")
        ]
        assert names[:2] == ["main", "small"]
        assert KEYS["main"] not in browser.page_source  # masked: main**********0000
        lines = browser.find_elements(By.CSS_SELECTOR, "#spend-chart polyline")
        assert len(lines) == 2  # main and vip spent
        screenshot(browser, tmp_path, "dashboard-gateway")

        http = httpx.Client(
            base_url=server.url, headers={"authorization": "Bearer " + KEYS["main"]}
        )
        with http:
            video = http.post("/v1/videos", json={"model": "sora-2", "prompt": "a cat"}).json()
            browser.find_element(By.ID, "tab-tasks").click()
            wait_for(browser, lambda d: "QUEUED" in text_of(d, "tasks"), "the task never showed")
            http.get(f"/v1/videos/{video['id']}")  # each poll moves it one stage on
            http.get(f"/v1/videos/{video['id']}")
        browser.find_element(By.ID, "refresh-tasks").click()
        wait_for(browser, lambda d: "SUCCESS" in text_of(d, "tasks"), "the task never finished")
        assert "3 / 3" in text_of(browser, "tasks")
        # Its files: the MP4 in a player, the thumbnail drawn (the server answered it).
        player = browser.find_element(By.CSS_SELECTOR, "#tasks video")
        assert (player.get_attribute("src") or "").endswith(f"/v1/videos/{video['id']}/content")
        thumbnail = browser.find_element(By.CSS_SELECTOR, "#tasks .previews img")
        drawn = "return arguments[0].complete && arguments[0].naturalWidth"
        wait_for(browser, lambda d: d.execute_script(drawn, thumbnail), "no thumbnail drawn")
        screenshot(browser, tmp_path, "dashboard-tasks")


def test_with_an_admin_token_the_page_asks_for_it_or_takes_it_from_the_link(
    start_server: StartServer, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    server = start_server(GREETING, admin_token="let-me-in")
    with chromium(tmp_path / "chromium-profile") as browser:
        browser.get(server.url + "/_mock/ui")
        login = browser.find_element(By.ID, "login")
        wait_for(browser, lambda d: login.is_displayed(), "the page never asked for the token")
        assert "HTTP 401" in text_of(browser, "feed-state")
        type_into(browser, "token", "let-me-in")
        browser.find_element(By.CSS_SELECTOR, "#login button").click()
        wait_for(browser, lambda d: text_of(d, "feed-state") == "live", "the token didn't work")

    with chromium(tmp_path / "chromium-profile-2") as browser:
        browser.get(server.url + "/_mock/ui#token=let-me-in")
        wait_for(browser, lambda d: text_of(d, "feed-state") == "live", "the link's token failed")
        assert "let-me-in" not in browser.current_url  # taken out of the address bar


def test_a_paced_stream_shows_its_timeline(start_server: StartServer, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from tests.admin.test_dashboard import PACED

    server = start_server(PACED)
    with chromium(tmp_path / "chromium-profile") as browser:
        open_page(browser, server)
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
        with pytest.raises(openai.APIError):  # the first answer is cut after 3 events
            for _ in client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
            ):
                pass
        wait_for(browser, row_count(browser, 1), "the stream never showed")
        row = "#traffic tbody tr[data-seq='1']"
        wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, row).click() or True, "no row")
        wait_for(browser, lambda d: "TTFT" in text_of(d, "detail-stream"), "no timeline")
        stream = text_of(browser, "detail-stream")
        assert "3 events sent" in stream and "disconnect_after=3" in stream
        assert "due: first event at 20 ms (TTFT)" in stream
        assert "sent: first event at " in stream  # measured, beside the plan
        ticks = browser.find_elements(By.CSS_SELECTOR, "#detail-stream svg line.sent")
        assert len(ticks) == 3
        measured = browser.find_elements(By.CSS_SELECTOR, "#detail-stream svg line.measured")
        assert len(measured) == 3
        response = text_of(browser, "detail-response")  # the three events the client got
        assert response.count("data: ") == 3 and "chat.completion.chunk" in response
        screenshot(browser, tmp_path, "dashboard-stream")
