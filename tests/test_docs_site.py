"""The documentation site builds offline with warnings as errors, and its notebook pages draw their
plotly figures in a real browser without reaching any network.

The build is what ``./run docs`` runs (the notebooks are executed, in their fast mode). Needs
Debian's chromium and the playwright package, as ``tests/test_browser.py`` does; runs with the other
browser tests, alone, after the rest of the suite (``./run test``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, sync_playwright  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT = 1800  # eight notebooks executed on a loaded 2-core machine, with room to spare


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "TQDM_DISABLE": "1"}
    # the same command as ./run docs: -W makes any warning (a broken reference, an undocumented
    # parameter, a notebook cell that raises) fail the build
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs", str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert result.returncode == 0, "the site did not build:\n" + (result.stdout + result.stderr)[-6000:]
    return out


def test_site_has_every_page(site):
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    for page in ("index.html", "findings.html", "notebooks.html", "guide/your_own_device.html",
                 "api/index.html", "api/lsmkit.masks.html", "notebooks/07_your_own_device.html"):
        assert page in pages
    assert (site / "_static" / "plotly.min.js").stat().st_size > 1_000_000
    reference = (site / "api" / "lsmkit.masks.html").read_text()
    assert 'id="lsmkit.masks.random"' in reference and "Parameters" in reference


def _open(sync_playwright, path: Path, prefix: str):
    """Open a built page from disk; every request that is not a local file is refused and recorded."""
    p = sync_playwright().start()
    browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    remote, errors = [], []

    def refuse(route):
        remote.append(route.request.url)
        route.abort()

    page.route(lambda url: not url.startswith("file://"), refuse)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    return p, browser, page, remote, errors


@pytest.mark.parametrize("notebook, snapshot", [("02_imputation", "MaskExplorer"),
                                                ("04_scaling_laws", "ScalingExplorer")])
def test_notebook_page_draws_plotly_figures_offline(sync_playwright, site, notebook, snapshot):
    p, browser, page, remote, errors = _open(sync_playwright, site / "notebooks" / f"{notebook}.html", notebook)
    try:
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        # _fullData holds what plotly.js drew (the page's arrays arrive base64-encoded); paths count the lines
        drawn = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(
            el => ({traces: (el._fullData || []).length,
                    points: (el._fullData || []).reduce((n, t) => n + (t._length || 0), 0),
                    paths: el.querySelectorAll('.scatterlayer .trace path, .barlayer .trace path').length}))""")
        assert len(drawn) >= 2, drawn
        assert all(figure["traces"] > 0 and figure["points"] > 0 and figure["paths"] > 0 for figure in drawn), drawn
        # every figure fits its column once the page has loaded (docs/_static/plotly-resize.js)
        page.wait_for_load_state("load")
        page.wait_for_function("""() => Array.from(document.querySelectorAll('.js-plotly-plot')).every(
            el => el._fullLayout.width <= el.parentElement.getBoundingClientRect().width + 1)""", timeout=30_000)
        # the explorer's snapshot is drawn too, after its note saying the controls need a kernel
        assert page.get_by_text(f"A snapshot of {snapshot}").count() == 1
        assert page.locator(".lsmkit-snapshot ~ div .js-plotly-plot").count() >= 1
        assert page.get_by_text("Error displaying widget").count() == 0
        assert page.locator(".output.traceback, .cell_output .traceback").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"site_{notebook}.png", full_page=False)
    finally:
        browser.close()
        p.stop()
    assert remote == [], f"the page reached for the network: {remote[:5]}"
    assert errors == [], f"JavaScript errors on the page: {errors[:5]}"
