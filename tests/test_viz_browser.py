"""The browser view, served by ``solara run`` and driven in Debian Chromium with Playwright.

One server and one browser for the whole module. Each test checks that the page raised no
JavaScript error and that no HTTP response was >= 400 (a missing offline asset shows as a 404).
Set ``INNATURA_REQUIRE_BROWSER=1`` (CI does) to turn a missing Chromium or asset cache into
a failure instead of a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("solara")
playwright_api = pytest.importorskip("playwright.sync_api")

from innatura.cli.viz import asset_dir, server_command, server_env  # noqa: E402

# one server and one page that the tests drive in turn: under ``pytest -n`` the module stays in one worker
pytestmark = [pytest.mark.browser, pytest.mark.timeout(180), pytest.mark.xdist_group("viz-browser")]

CHROMIUM = os.environ.get("INNATURA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
SCENARIO = "selviaria"  # small: a day takes milliseconds, so the browser dominates the time
OTHER = "butter-village"  # what the Reset test switches to
FIGURES = 8  # region map, shipments, humanity, production, inventory, misreports, fulfilment, detection
DAY = re.compile(r"Day (\d+)")


def _unavailable(reason: str) -> None:
    if os.environ.get("INNATURA_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    """Poll ``url`` until it answers 200; fail early if the server process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"solara exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(f"no HTTP 200 from {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The page served on a free port of 127.0.0.1 with the offline asset cache."""
    from innatura.viz.assets import AssetFetchError, fill_cache, missing_packages

    cache = asset_dir()
    if missing_packages(cache):
        if shutil.which("npm") is None:
            _unavailable(f"asset cache {cache} incomplete and npm missing: run `python -m innatura.viz.assets`")
        try:
            fill_cache(cache)
        except AssetFetchError as exc:
            _unavailable(f"could not fill the asset cache {cache}: {exc}")
    port = _free_port()
    log = tmp_path_factory.mktemp("viz-server") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            server_command("127.0.0.1", port),
            env=server_env(cache, SCENARIO),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_http(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser_page(server, tmp_path_factory):
    """One Chromium page on the served view, with its page errors and failed responses."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} missing: apt-get install -y chromium")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1500, "height": 1000},
        )
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        page.goto(server)
        _wait_for_figures(page)
        yield page, problems
        context.close()


def _summary(page) -> str:
    return page.locator(".innatura-summary").first.inner_text(timeout=30_000)


def _day(page) -> int:
    match = DAY.search(_summary(page))
    assert match, f"no day counter in the summary: {_summary(page)!r}"
    return int(match.group(1))


def _wait_for_day(page, day: int, timeout: float = 30_000) -> None:
    page.wait_for_function(
        """d => { const s = document.querySelector('.innatura-summary');
                  const m = s && s.innerText.match(/Day (\\d+)/); return m && +m[1] >= d; }""",
        arg=day,
        timeout=timeout,
    )


def _wait_for_figures(page, timeout: float = 60_000) -> None:
    page.wait_for_function(
        """n => { const imgs = [...document.querySelectorAll('img.widget-image')];
                  return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
        arg=FIGURES,
        timeout=timeout,
    )


def _figure_sources(page) -> list[str]:
    return page.eval_on_selector_all("img.widget-image", "imgs => imgs.map(i => i.src)")


def _settled_sources(page, quiet: float = 1_500, timeout: float = 60_000) -> list[str]:
    """The figures' sources once none has changed for ``quiet`` ms (a step's redraws can land
    one by one after the summary already shows the new day)."""
    deadline = time.monotonic() + timeout / 1000
    sources = _figure_sources(page)
    while time.monotonic() < deadline:
        page.wait_for_timeout(quiet)
        now = _figure_sources(page)
        if now == sources:
            return now
        sources = now
    raise AssertionError(f"the figures kept changing for {timeout / 1000:.0f} s")


def _press(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def _step(page) -> int:
    """Press Step until the day counter moves; returns the new day.

    A click can land while the controls re-render (after Play, Pause or Reset) and be lost;
    the day counter, not the click, says whether the model stepped.
    """
    target = _day(page) + 1
    for _ in range(4):
        _press(page, "Step")
        try:
            _wait_for_day(page, target, timeout=15_000)
            return _day(page)
        except playwright_api.TimeoutError:
            continue
    _wait_for_day(page, target)  # a last, longer wait: its timeout error names the state
    return _day(page)


def _pause(page) -> None:
    """Press pause and wait until it took effect: ▶ back, Step enabled, the day counter still."""
    # force: while playing, the controls re-render after every day and never look "stable"
    page.get_by_role("button", name="❚❚", exact=True).click(force=True)
    page.get_by_role("button", name="▶", exact=True).wait_for(timeout=30_000)
    playwright_api.expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled(timeout=30_000)
    day = _day(page)
    for _ in range(20):  # a day already under way when pause was pressed still finishes
        page.wait_for_timeout(1_000)
        now = _day(page)
        if now == day:
            return
        day = now


def test_page_renders_without_errors(browser_page):
    page, problems = browser_page
    assert _day(page) == 0
    assert _summary(page).split(" · ")[1] == SCENARIO  # the scenario named on the command line
    assert len(_figure_sources(page)) >= FIGURES
    assert page.get_by_text("Model Parameters").count() >= 1
    assert not problems, problems


def test_step_advances_day_and_redraws(browser_page):
    page, problems = browser_page
    day = _day(page)
    before = _figure_sources(page)
    assert _step(page) == day + 1
    page.wait_for_function(
        "old => { const now = [...document.querySelectorAll('img.widget-image')].map(i => i.src);"
        " return now.length >= old.length && now.filter((s, k) => s !== old[k]).length >= old.length; }",
        arg=before,
        timeout=30_000,
    )
    _wait_for_figures(page)
    assert _day(page) == day + 1
    assert not problems, problems


def test_play_runs_several_days(browser_page):
    page, problems = browser_page
    day = _day(page)
    _press(page, "▶")
    try:
        _wait_for_day(page, day + 3, timeout=60_000)
    finally:
        _pause(page)
    assert _day(page) >= day + 3
    assert not problems, problems


def test_full_page_screenshot(browser_page):
    page, problems = browser_page
    for _ in range(3):  # a few more days, so the lines have a shape
        _step(page)
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "innatura.viz.png"
    page.set_viewport_size({"width": 1500, "height": 1900})
    _wait_for_figures(page)
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 50_000
    assert not problems, problems


def _set_seed(page, text: str) -> None:
    field = page.get_by_label("Seed (whole number)")
    field.fill(text)
    field.press("Enter")


def test_bad_seed_is_reported_in_page(browser_page):
    page, problems = browser_page
    _set_seed(page, "not-a-number")
    _press(page, "Reset")
    page.get_by_text("is not a whole number").first.wait_for(timeout=30_000)
    assert _day(page) == 0
    assert _step(page) == 1  # the server still works
    assert not problems, problems


def test_reset_with_new_parameters_changes_model(browser_page):
    page, problems = browser_page
    assert _summary(page).split(" · ")[1] == SCENARIO
    page.get_by_label("Scenario").click(force=True)
    page.get_by_role("option", name=OTHER, exact=True).wait_for(timeout=30_000)  # the menu is open
    options = [o.strip() for o in page.get_by_role("option").all_inner_texts()]
    assert {SCENARIO, OTHER} <= set(options), options
    page.get_by_role("option", name=OTHER, exact=True).click()
    _set_seed(page, "7")
    _press(page, "Reset")
    page.wait_for_function(
        "name => document.querySelector('.innatura-summary').innerText.includes(name + ' ·')",
        arg=OTHER,
        timeout=60_000,
    )
    assert _day(page) == 0
    assert page.get_by_text("is not a whole number").count() == 0  # the old error went with the old model
    assert _step(page) == 1
    _wait_for_figures(page)
    assert not problems, problems


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the select labelled ``label``."""
    page.get_by_label(label, exact=True).click(force=True)
    page.get_by_role("option", name=option, exact=True).wait_for(timeout=30_000)
    page.get_by_role("option", name=option, exact=True).click()


def _fill(page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=False)
    field.fill(text)
    field.press("Enter")


def test_strategy_and_defence_selectors_reach_the_model_and_its_panels(browser_page):
    page, problems = browser_page
    choices = None
    page.get_by_label("Misreporting units", exact=True).click(force=True)
    page.get_by_role("option", name="adaptive_inputs", exact=True).wait_for(timeout=30_000)
    choices = [o.strip() for o in page.get_by_role("option").all_inner_texts()]
    assert {"honest", "ratchet", "overstate_capacity", "adaptive_inputs"} <= set(choices), choices
    page.get_by_role("option", name="ratchet", exact=True).click()
    _fill(page, "Misreporting units: parameters", "1.3, ramp_days=2")
    _choose(page, "Misreporting citizens", "inflate")
    _fill(page, "Misreporting citizens: parameters", "2.0")
    _choose(page, "Defence", "audit+robust")
    _fill(page, "Defence: parameters", "probability=1.0")
    slider = page.get_by_role("slider", name="Misreporting share")
    slider.focus()
    for _ in range(6):  # 6 steps of 0.05
        slider.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('[aria-label=\"Misreporting share\"]')"
                           ".getAttribute('aria-valuenow') === '0.3'", timeout=30_000)
    _press(page, "Reset")
    page.wait_for_function(
        "() => document.querySelector('.innatura-summary').innerText.startsWith('Day 0')", timeout=60_000)
    assert _step(page) == 1 and _step(page) == 2
    summary = _summary(page)
    assert "liars 30%: inflate / ratchet" in summary and "defence audit+robust" in summary, summary
    assert "flagged reports 0 " not in summary + " "  # an audit of everyone flags the liars
    # the table of units: the liars' reports against the truth, flagged
    page.get_by_text("Units on day 2: reported vs true input use").wait_for(timeout=30_000)
    for header in ("target", "output", "reported use", "true use", "reported / true", "flagged"):
        assert page.get_by_role("columnheader", name=header, exact=True).count() >= 1, header
    assert page.get_by_role("cell", name="ratchet(factor=1.3, ramp_days=2)").count() >= 1
    _wait_for_figures(page)
    assert len(_figure_sources(page)) >= FIGURES  # the detection panel among them
    assert page.get_by_text("not a model parameter").count() == 0
    assert not problems, problems


def test_a_parameter_the_chosen_strategy_lacks_is_named_in_the_page(browser_page):
    page, problems = browser_page
    _choose(page, "Misreporting citizens", "noise")
    _fill(page, "Misreporting citizens: parameters", "factor=3")
    _press(page, "Reset")
    page.get_by_text("Noise has no parameter 'factor'").first.wait_for(timeout=30_000)
    assert page.get_by_text("citizen_strategy: 'noise(factor=3)'").count() >= 1
    assert _step(page) == 1  # the page still works, on the default strategy
    assert not problems, problems


def _changed(page, before: list[str], timeout: float = 30_000) -> list[int]:
    """Wait until some figure is redrawn; returns the indices of those that changed."""
    page.wait_for_function(
        "old => { const now = [...document.querySelectorAll('img.widget-image')].map(i => i.src);"
        " return now.length === old.length && now.some((s, k) => s !== old[k]); }",
        arg=before,
        timeout=timeout,
    )
    page.wait_for_timeout(1_000)  # let any other redraw land before counting
    now = _figure_sources(page)
    return [k for k, (a, b) in enumerate(zip(before, now, strict=True)) if a != b]


def test_regional_plan_shows_shipments_per_good_and_diagnostics(browser_page):
    page, problems = browser_page
    _choose(page, "Plan on", "regional")
    _press(page, "Reset")
    page.wait_for_function(
        "() => document.querySelector('.innatura-summary').innerText.startsWith('Day 0')", timeout=60_000)
    assert page.get_by_text("no diagnostics: they come with the regional plan").count() >= 1
    assert _step(page) == 1 and _step(page) == 2
    # the night's binding constraints and shadow prices, and what holds each region back
    page.get_by_text("What holds each region back, night 2").wait_for(timeout=30_000)
    for header in ("constraint", "region", "item", "shadow_price", "holds back"):
        assert page.get_by_role("columnheader", name=header, exact=True).count() >= 1, header
    _wait_for_figures(page)
    # the goods selector: all goods, then the goods shipped; picking one redraws the map alone
    page.get_by_label("Shipments of", exact=True).click(force=True)
    page.get_by_role("option", name="all goods", exact=True).wait_for(timeout=30_000)
    goods = [o.strip() for o in page.get_by_role("option").all_inner_texts()]
    good = goods[goods.index("all goods") + 1]
    before = _settled_sources(page)
    page.get_by_role("option", name=good, exact=True).click()
    assert len(_changed(page, before)) == 1
    assert page.get_by_label("Shipments of", exact=True).input_value() == good or \
        page.get_by_text(good, exact=True).count() >= 1
    assert not problems, problems
