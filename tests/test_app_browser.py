"""clustersim-app in a real browser: Playwright drives the system's Chromium.

Skipped, with the reason, when there is no Chromium (``apt-get install -y chromium``) or the
page's assets are not in the Solara server's cache (``bash scripts/solara_assets.sh``);
``.ci/run`` installs both.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CLUSTERSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MONTH = re.compile(r"\((\d+) of (\d+)\)")


def _assets_missing() -> str | None:
    from solara.server import settings

    cache = settings.assets.proxy_cache_dir
    for needed in ("@widgetti/solara-vuetify-app@10.1.1", "vega@5", "requirejs@2.3.6"):
        if not (cache / needed / "package.json").is_file():
            return f"no {needed} in Solara's asset cache {cache}: run scripts/solara_assets.sh"
    return None


def _skip_reason() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return _assets_missing()


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


def start_app(*overrides: str, cwd: Path) -> tuple[subprocess.Popen, str]:
    """Start clustersim-app on a free port; return the process and its address."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "clustersim.cli.app", "--port", "0", *overrides],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"serving (http://\S+)", line)
    if not match:
        proc.kill()
        raise AssertionError(f"clustersim-app did not print its address: {line!r}")
    url = match.group(1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise AssertionError(f"clustersim-app did not answer at {url}")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_app("world=toy", cwd=tmp_path_factory.mktemp("app"))
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def month_of(page) -> int:
    text = page.locator(".clustersim-month").inner_text()
    match = MONTH.search(text)
    assert match, text
    return int(match.group(1))


def wait_month(page, predicate, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            month = month_of(page)
            if predicate(month):
                return month
        except AssertionError:
            pass
        page.wait_for_timeout(100)
    raise AssertionError(f"month counter stuck at {page.locator('.clustersim-month').inner_text()}")


def spending_bars(page) -> int:
    """Bars drawn in the spending-by-instrument chart (0 when nothing was granted)."""
    page.wait_for_timeout(600)  # the chart redraws 100 ms after its data arrives
    return page.locator(".clustersim-spending g.mark-rect path").count()


def test_play_reset_and_park_click_in_chromium(app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(app_url, wait_until="networkidle")
            page.wait_for_selector(".clustersim-month", timeout=90_000)
            page.wait_for_selector(".clustersim-map svg", timeout=60_000)
            assert month_of(page) == 0

            # play advances the month counter; pause stops it
            page.get_by_role("button", name="▶").click()
            wait_month(page, lambda m: m >= 3)
            try:  # pause; on a fast machine the toy run may already have ended
                page.get_by_role("button", name="❚❚").click(timeout=3000)
            except PlaywrightTimeout:
                assert month_of(page) == 96

            # the default policy (all three plans) grants from 2020-02: bars by instrument
            assert spending_bars(page) > 0

            # regime change + reset: no policy, nothing granted, the spending plot is empty
            page.get_by_role("button", name="Policy").click()
            page.get_by_role("option", name="none", exact=True).click()
            page.get_by_role("button", name="Reset").click()
            wait_month(page, lambda m: m == 0)
            for _ in range(3):
                before = month_of(page)
                page.get_by_role("button", name="Step").click()
                wait_month(page, lambda m, b=before: m > b)
            assert spending_bars(page) == 0
            assert "policy=none" in page.locator(".clustersim-map").inner_text()

            # a click on a park opens its panel
            assert "No park selected" in page.locator(".clustersim-park-panel").inner_text()
            park = page.locator(".clustersim-map g.mark-symbol path").first
            box = park.bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15)
            page.wait_for_function(
                "() => !document.querySelector('.clustersim-park-panel')"
                ".innerText.includes('No park selected')",
                timeout=20_000,
            )
            panel = page.locator(".clustersim-park-panel").inner_text()
            assert "firms," in panel and "occupancy" in panel
            page.screenshot(path=str(tmp_path / "app.png"))
        finally:
            browser.close()
    assert errors == [], errors
