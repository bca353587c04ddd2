"""The HTML report in a real browser: Debian's headless Chromium, driven over the DevTools protocol.

The page written by ``validate --format html`` is loaded from a ``file:`` URL with the network switched off; it
must load without a JavaScript exception, console error or policy violation, request nothing but itself and its
``data:`` images, sort its summary table when a heading is clicked, keep hostile text inert, and print to PDF.
``.ci/run`` installs Chromium when it is missing; outside CI the test is skipped without it.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hsi_conform.cli.main import main
from hsi_conform.testing.generate import zip_entries
from hsi_conform.testing.samples import write_sample_container
from hsi_conform.testing.zipcraft import build
from tests._html import hostile_members

websocket = pytest.importorskip("websocket", reason="websocket-client is in the [test] extra")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Seconds to wait for the browser to start, a page to load, an answer to come.
TIMEOUT = 60


class Page:
    """One browser tab over its DevTools websocket: commands answered in order, events kept."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=TIMEOUT, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                assert "error" not in message, (method, message["error"])
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    def wait_for(self, event: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        seen = 0
        while time.monotonic() < deadline:
            for message in self.events[seen:]:
                if message.get("method") == event:
                    return message
            seen = len(self.events)
            self.events.append(json.loads(self.ws.recv()))
        raise AssertionError(f"no {event} within {TIMEOUT} s")

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in answer, answer["exceptionDetails"]
        return answer["result"].get("value")

    def problems(self) -> list[str]:
        """Exceptions, console errors and error log entries (policy violations among them) seen so far."""
        found = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(f"console.{params['type']}: {params['args']}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log: {params['entry']['text']}")
        return found

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        self.ws.close()


class Browser:
    """A headless Chromium with remote debugging on a port it chose."""

    def __init__(self, port: int, path: str) -> None:
        self.port = port
        self.control = Page(f"ws://127.0.0.1:{port}{path}")  # the browser's own endpoint: it opens the tabs

    def open(self, url: str) -> Page:
        """Open ``url`` in a new tab, offline, with every event of interest enabled; wait until it has loaded."""
        target = self.control.call("Target.createTarget", url="about:blank")["targetId"]
        page = Page(f"ws://127.0.0.1:{self.port}/devtools/page/{target}")
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1,
                  uploadThroughput=-1)
        page.call("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired")
        page.evaluate("new Promise(done => setTimeout(done, 100))")  # late console messages arrive
        return page


def _start(profile: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    assert CHROMIUM is not None
    process = subprocess.Popen(
        [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    active = profile / "DevToolsActivePort"  # written by Chromium once it listens: the port, then the path
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        lines = active.read_text().splitlines() if active.is_file() else []
        if len(lines) >= 2:
            return process, int(lines[0]), lines[1]
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"chromium did not start (exit {process.poll()})")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    process, port, path = _start(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield Browser(port, path)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("html-browser")
    good = write_sample_container(root / "good.hsi")
    hostile = root / "hostile.hsi"
    hostile.write_bytes(build(zip_entries(list(hostile_members().items()), 4096)))
    notzip = root / "notzip.hsi"
    notzip.write_bytes(b"hello")
    out = root / "report.html"
    assert main(["validate", "--format", "html", "-o", str(out), str(good), str(hostile), str(notzip)]) == 1
    return out


@pytest.fixture(scope="module")
def page(browser: Browser, report_page: Path) -> Iterator[Page]:
    tab = browser.open(report_page.as_uri())
    yield tab
    tab.close()


def test_the_harness_sees_errors_and_requests(browser: Browser, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="script-src \'none\'">'
                      '<img src="http://192.0.2.1/x.png"><script>throw new Error("boom")</script>')
    tab = browser.open(broken.as_uri())
    try:
        assert tab.problems()  # the policy refused the script, and the offline image failed
        assert "http://192.0.2.1/x.png" in tab.requests()
    finally:
        tab.close()


def test_the_report_loads_offline_without_errors(page: Page) -> None:
    assert page.problems() == []
    assert all(url.startswith(("file:", "data:")) for url in page.requests()), page.requests()
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert page.evaluate("document.images.length") >= 4  # two thumbnails, two spectra


def test_hostile_text_stays_inert(page: Page) -> None:
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.evaluate("document.scripts.length") == 1


def test_a_click_on_a_heading_sorts_the_summary(page: Page) -> None:
    column = "[...document.querySelectorAll('#summary th')].findIndex(th => th.textContent.trim() === '{}')"
    read = ("(() => {{ const c = " + column + "; const th = document.querySelectorAll('#summary th')[c];"
            " th.querySelector('button').click();"
            " return {{sort: th.getAttribute('aria-sort'),"
            " values: [...document.querySelectorAll('#summary tbody tr')].map(r => r.cells[c].dataset.sort"
            " ?? r.cells[c].textContent.trim())}}; }})()")
    errors = page.evaluate(read.format("error"))
    assert errors["sort"] == "ascending"
    assert [int(v) for v in errors["values"]] == sorted(int(v) for v in errors["values"])
    again = page.evaluate(read.format("error"))
    assert again["sort"] == "descending" and again["values"] == sorted(again["values"], key=int, reverse=True)
    files = page.evaluate(read.format("file"))
    assert files["values"] == sorted(files["values"], key=str.lower)
    assert page.evaluate("document.querySelectorAll('#summary th[aria-sort]').length") == 1
    assert page.problems() == []


def test_the_report_prints_to_pdf(page: Page) -> None:
    pdf = base64.b64decode(page.call("Page.printToPDF", printBackground=True)["data"])
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    assert page.problems() == []
