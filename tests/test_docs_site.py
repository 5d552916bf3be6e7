"""The documentation site: ``mkdocs build --strict`` builds it (running the tutorials), it
references no asset outside itself, and it renders from the built folder in Chromium.

One build for the module, into a temporary folder; or, with ``INNATURA_DOCS_SITE=FOLDER``, the
site that ``mkdocs build --strict`` has just built into ``FOLDER`` (``.ci/run`` builds it as its
documentation step, and the suite checks that build instead of repeating it). The browser test serves that folder with
``python -m http.server`` on a free port of 127.0.0.1, takes a screenshot of a tutorial page
(``tests/artifacts/docs-tutorial.png``) and of the API reference
(``tests/artifacts/docs-api.png``), and fails on a page error, an HTTP status >= 400 or any
request that leaves the local server. ``INNATURA_REQUIRE_BROWSER=1`` (CI) turns a missing
Chromium into a failure instead of a skip.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from docs_support import ROOT

pytest.importorskip("mkdocs")
pytest.importorskip("material")
pytest.importorskip("mkdocstrings_handlers.python")
pytest.importorskip("jupytext")
pytest.importorskip("nbclient")

# one build of the site, served once: under ``pytest -n`` the module stays in one worker
pytestmark = [pytest.mark.docs, pytest.mark.slow, pytest.mark.timeout(600), pytest.mark.xdist_group("docs-site")]

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("INNATURA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: an asset (script, style sheet, image, font, frame) loaded from outside the site
EXTERNAL_ASSET = re.compile(
    r"<(?:script|link|img|iframe|source|embed)\b[^>]*\b(?:src|href)\s*=\s*[\"'](?:https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"url\(\s*[\"']?(?:https?:)?//", re.IGNORECASE)
PAGES = ["index.html", "getting-started/index.html", "cli/index.html", "planners/index.html",
         "scenario-format/index.html", "model/index.html", "architecture/index.html", "fig3/index.html",
         "reproductions/index.html", "api/innatura/index.html", "api/model/index.html", "api/planning/index.html",
         "api/adversarial/index.html", "api/scenarios/index.html", "api/planner/index.html",
         "changelog/index.html", "citing/index.html", "license/index.html", "examples/index.html"]
TUTORIAL = "tutorials/03-misreporting/"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    built = os.environ.get("INNATURA_DOCS_SITE")
    if built:
        folder = Path(built)
        assert (folder / "index.html").is_file() and (folder / "sitemap.xml").is_file(), (
            f"INNATURA_DOCS_SITE={built}: no site built there (index.html, sitemap.xml); run mkdocs build --strict")
        return folder
    out = tmp_path_factory.mktemp("site")
    env = {k: v for k, v in os.environ.items() if k != "INNATURA_DOCS_EXECUTE"}
    env["NO_MKDOCS_2_WARNING"] = "1"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, env=env, text=True, capture_output=True, timeout=580, check=False)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"site built in {time.perf_counter() - start:.1f} s, {size / 2**20:.1f} MiB")
    return out


def test_the_pages_are_built(site: Path) -> None:
    missing = [page for page in PAGES if not (site / page).exists()]
    assert not missing
    tutorials = sorted(p.parent.name for p in (site / "tutorials").glob("*/index.html"))
    assert tutorials == [p.stem for p in sorted((ROOT / "docs" / "tutorials").glob("[0-9][0-9]-*.py"))]


def test_tutorials_are_rendered_with_their_outputs(site: Path) -> None:
    for page in (site / "tutorials").glob("[0-9][0-9]-*/index.html"):
        text = page.read_text(encoding="utf-8")
        figures = re.findall(r'<img[^>]+src="(cell-[^"]+\.png)"', text)
        assert figures, f"{page.parent.name}: no figure"
        assert all((page.parent / figure).exists() for figure in figures)
        assert "nb-output" in text
        assert (site / "tutorials" / f"{page.parent.name}.py").exists(), "the notebook's source is downloadable"


def test_the_command_line_reference_is_generated(site: Path) -> None:
    from innatura.cli import COMMANDS

    text = (site / "cli" / "index.html").read_text(encoding="utf-8")
    assert "cli-reference" not in text
    for name, entry in COMMANDS.items():
        for sub in entry if isinstance(entry, dict) else [None]:
            usage = f"usage: innatura {name}" + (f" {sub}" if sub else "")
            assert usage in text, usage


def test_the_api_reference_documents_the_front_door(site: Path) -> None:
    text = (site / "api" / "model" / "index.html").read_text(encoding="utf-8")
    assert 'id="innatura.abm.model.PlanningEconomy"' in text
    assert 'id="innatura.abm.settings.RunSettings"' in text
    planning = (site / "api" / "planning" / "index.html").read_text(encoding="utf-8")
    assert 'id="innatura.abm.planning.base.PlanningInputs"' in planning
    assert ":class:`" not in text + planning, "Sphinx roles are rendered as links"


def test_the_scenario_format_is_included_from_its_one_source(site: Path) -> None:
    text = (site / "scenario-format" / "index.html").read_text(encoding="utf-8")
    assert "The scenario file format" in text and "curve cell" in text.lower()


def test_no_asset_is_loaded_from_outside_the_site(site: Path) -> None:
    offenders = []
    for page in site.rglob("*.html"):
        offenders += [f"{page.relative_to(site)}: {m.group(0)}" for m in EXTERNAL_ASSET.finditer(page.read_text())]
    for sheet in site.rglob("*.css"):
        offenders += [f"{sheet.relative_to(site)}: {m.group(0)}" for m in CSS_URL.finditer(sheet.read_text())]
    assert not offenders


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(site: Path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(site)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert proc.poll() is None, "http.server exited"
            assert time.monotonic() < deadline, f"no HTTP 200 from {url}"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.browser
def test_the_site_renders_offline_in_chromium(served: str) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("INNATURA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} missing")
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    problems: list[str] = []
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        page.goto(served + TUTORIAL, wait_until="networkidle")
        page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        assert page.locator("h1").first.inner_text().startswith("A misreporting study")
        assert page.locator("img.nb-figure").count() >= 1
        assert page.locator(".nb-html table").count() >= 3
        # the first figure, with the table and the text above it; scrolled down only (scrolling up
        # shows the back-to-top button), then a pause while the header's title fades
        page.evaluate("""() => { const fig = document.querySelector('img.nb-figure');
                                 window.scrollTo(0, fig.getBoundingClientRect().top + window.scrollY - 420); }""")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "docs-tutorial.png"))
        page.goto(served + "api/model/", wait_until="networkidle")
        page.screenshot(path=str(ARTIFACTS / "docs-api.png"))
        browser.close()
    assert not problems
    outside = [url for url in requests if not url.startswith(served)]
    assert requests and not outside, f"requests that left the local server: {outside}"
