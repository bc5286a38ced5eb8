"""How long the live app takes for one month: step plus redraw, on the default world.

Two figures, printed (never asserted):

1. in Python, headless: ``model.step()`` and the re-render of every component of the
   page (the map, the panels, four plots: their Altair specs built and diffed by Solara),
   per month, over the first ``--months`` months;
2. in a browser (when Chromium is there): from a click on Step to the month counter
   showing the next month, through the real server and websocket, per month; the page's
   charts are then drawn by Vega in the browser, which ``--screenshot`` captures.

    .venv/bin/python benchmarks/app_step.py                  # default world (shanghai)
    .venv/bin/python benchmarks/app_step.py world=toy --months 12
    .venv/bin/python benchmarks/app_step.py --screenshot docs/app.png world=toy
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def headless(overrides: list[str], months: int) -> tuple[list[float], list[float]]:
    """Seconds per month of step + re-render of every component: wall clock and CPU.

    The CPU time of this process is what the month costs on an idle machine; the wall
    clock also counts the time other processes held the cores.
    """
    import solara
    from mesa.visualization.utils import force_update

    from clustersim.app import components
    from clustersim.app.controls import initial_values, model_params
    from clustersim.app.live import LiveModel

    model = LiveModel(**initial_values(model_params(overrides)))
    model.step()  # one month in, so every chart has data

    @solara.component
    def All():
        from mesa.visualization.utils import update_counter

        update_counter.get()
        for c in components.COMPONENTS:
            c(model)

    solara.render(All(), handle_error=False)
    components.selected_park.set(model.parks.ids[0])
    wall, cpu = [], []
    for _ in range(months):
        t0, c0 = time.perf_counter(), time.process_time()
        model.step()
        force_update()  # what SolaraViz does after a step
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def in_browser(overrides: list[str], months: int, screenshot: Path | None) -> list[float]:
    """Seconds per month from a click on Step to the next month on screen, in Chromium."""
    import subprocess

    from tests.test_app_browser import CHROMIUM, CHROMIUM_ARGS, _skip_reason, month_of, start_app

    reason = _skip_reason()
    if reason:
        print(f"browser: skipped ({reason})")
        return []
    from playwright.sync_api import sync_playwright

    proc, url = start_app(*overrides, cwd=Path.cwd())
    times = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1250})
            page.goto(url, wait_until="networkidle")
            page.wait_for_selector(".clustersim-map svg", timeout=180_000)
            step = page.get_by_role("button", name="Step")
            for _ in range(months):
                before = month_of(page)
                t0 = time.perf_counter()
                step.click()
                page.wait_for_function(
                    "n => (document.querySelector('.clustersim-month')?.innerText || '')"
                    ".includes('(' + n + ' of')",
                    arg=before + 1,
                    timeout=60_000,
                )
                times.append(time.perf_counter() - t0)
            if screenshot is not None:
                page.wait_for_timeout(2000)  # the last redraw's click handlers in place
                park = page.locator(".clustersim-map g.mark-symbol path").first
                box = park.bounding_box()
                if box:
                    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15)
                page.mouse.move(5, 5)  # no tooltip over the map
                page.wait_for_timeout(2500)
                page.screenshot(path=str(screenshot))
                print(f"screenshot: {screenshot}")
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return times


def _report(label: str, times: list[float]) -> None:
    if not times:
        return
    ms = [1000 * t for t in times]
    print(
        f"{label}: median {statistics.median(ms):.0f} ms, mean {statistics.fmean(ms):.0f} ms, "
        f"max {max(ms):.0f} ms over {len(ms)} months (target < 250 ms)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--screenshot", type=Path, default=None)
    p.add_argument("--no-browser", action="store_true")
    p.add_argument("overrides", nargs="*")
    args = p.parse_args()
    world = next((o for o in args.overrides if o.startswith("world=")), "world=shanghai (default)")
    print(f"month step with redraw, {world}; the machine is shared, figures are indicative")
    wall, cpu = headless(args.overrides, args.months)
    _report("headless step + re-render, wall clock", wall)
    _report("headless step + re-render, CPU time", cpu)
    if not args.no_browser:
        _report(
            "browser click-to-next-month", in_browser(args.overrides, args.months, args.screenshot)
        )


if __name__ == "__main__":
    main()
