"""The documentation holds together: every public name documented, the README short and runnable,
every notebook and API module in the site. The site's build and its pages in a browser:
``tests/test_docs_site.py``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))

import api_names  # noqa: E402  (docs/api_names.py)


def test_every_public_name_has_a_numpydoc_docstring():
    # the same rules numpydoc applies while the site builds (warnings are errors there)
    assert api_names.violations() == []


def test_public_names_include_methods_and_widgets():
    names = {name for name, _ in api_names.public_objects()}
    assert "lsmkit.pretrained.PretrainedLSM.impute" in names
    assert "lsmkit.widgets.mask_explorer.MaskExplorer" in names
    assert "lsmkit.masks.random" in names
    assert not any(part.startswith("_") for name in names for part in name.split("."))


def test_every_api_module_has_a_reference_page_in_the_toctree():
    index = (DOCS / "api" / "index.md").read_text()
    for module in api_names.API_MODULES[1:]:
        page = DOCS / "api" / f"{module}.rst"
        assert f".. automodule:: {module}\n" in page.read_text(), module
        assert re.search(rf"^{re.escape(module)}$", index, re.M), f"{module} is not in docs/api/index.md"


def test_every_notebook_is_in_the_site():
    listing = (DOCS / "notebooks.md").read_text()
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert len(notebooks) == 8
    for name in notebooks:
        assert re.search(rf"^notebooks/{name}$", listing, re.M), f"{name} is not in the site's toctree"
    assert (DOCS / "notebooks").resolve() == ROOT / "notebooks"


def test_readme_is_short_and_its_links_exist():
    text = (ROOT / "README.md").read_text()
    assert len(text.encode()) <= 6 * 1024
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert len(links) >= 10
    for link in links:
        assert (ROOT / link).exists(), f"README links {link}, which does not exist"
    for page in ("docs/guide/index.md", "docs/findings.md", "docs/api/index.md"):
        assert f"]({page})" in text


def test_readme_five_lines_run_and_fill_only_the_device_channels():
    text = (ROOT / "README.md").read_text()
    (code,) = re.findall(r"## Five lines\n\n```python\n(.*?)```", text, re.S)
    namespace: dict = {}
    exec(code, namespace)
    watch, hidden, filled = namespace["watch"], namespace["hidden"], namespace["filled"]
    device = ["heart_rate", "rmssd", "sdnn", "steps", "skin_temperature"]
    assert int(hidden.sum()) > 0
    # every hidden value of the five channels is filled; the 21 channels a watch lacks stay absent
    inside = filled["signal"].sel(channel=device).where(hidden.sel(channel=device))
    assert int(inside.isnull().sum()) == int((~hidden.sel(channel=device)).sum())
    others = [c for c in filled["channel"].values if c not in device]
    assert bool(filled["signal"].sel(channel=others).isnull().all())
    assert np.isfinite(float(watch["signal"].sel(channel="heart_rate").mean()))


def test_readme_model_table_matches_the_committed_benchmark():
    import pandas as pd

    table = pd.read_csv(ROOT / "benchmarks" / "results" / "device_profiles.csv", comment="#")
    averaged = table.groupby(["profile", "task", "method"])["mse"].mean()  # over sizes, as the table says
    section = (ROOT / "README.md").read_text().split("## What the shipped model does")[1].split("\n## ")[0]
    lines = [line for line in section.splitlines() if line.startswith("| ") and " vs " in line]
    assert len(lines) == 8
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        profile = cells[0].split(" (")[0]
        for task, cell in zip(("random", "interpolation", "extrapolation", "sensors"), cells[1:]):
            if cell == "—":
                assert (profile, task, "lsmkit") not in averaged.index
                continue
            model, best = (float(x.strip(" *")) for x in cell.split(" vs "))
            others = averaged[profile, task].drop(["lsmkit", "lsm-2m before"])
            assert model == pytest.approx(averaged[profile, task, "lsmkit"], abs=6e-4), (profile, task)
            assert best == pytest.approx(others.min(), abs=6e-4), (profile, task)
            lower = averaged[profile, task, "lsmkit"] < others.min()  # at full precision: ties at 3 decimals
            assert cell.startswith("**") == lower, f"bold marks the lower: {profile} {task}"


@pytest.mark.parametrize("static", [False, True])
def test_widget_output_carries_a_figure_snapshot_only_when_asked(monkeypatch, static):
    import lsmkit
    from lsmkit.widgets import EmbeddingExplorer, MaskExplorer

    if static:
        monkeypatch.setenv("LSMKIT_STATIC_WIDGETS", "1")
    else:
        monkeypatch.delenv("LSMKIT_STATIC_WIDGETS", raising=False)
    windows = lsmkit.load_sample().isel(window=slice(0, 6))
    explorer = MaskExplorer(windows)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget, as always
    assert ("text/html" in bundle) == static
    if static:
        html = bundle["text/html"]
        assert html.count("Plotly.newPlot") == 1 and "A snapshot of MaskExplorer" in html
        assert explorer.readout.value in html  # the error readout, as the widget shows it
        two = EmbeddingExplorer(windows, np.random.default_rng(0).normal(size=(6, 4)))._repr_mimebundle_()
        assert two["text/html"].count("Plotly.newPlot") == 2  # the scatter and the window
