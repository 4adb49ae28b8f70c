"""Sphinx configuration of the lsmkit documentation site: ``./run docs`` builds it.

The site builds offline with warnings as errors: the notebooks are executed by myst-nb (their fast
mode), plotly figures are drawn as page HTML against one local copy of plotly.js, widgets show a
static snapshot of their figures (they need a kernel to react), and numpydoc checks every public
name's docstring (``docs/api_names.py`` says which names and which rules).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import plotly

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import api_names  # noqa: E402  (docs/api_names.py)

# The kernels that execute the notebooks inherit these.
os.environ["IPYTHONDIR"] = str(HERE / "_ipython")  # its startup file picks the plotly renderer
os.environ["LSMKIT_STATIC_WIDGETS"] = "1"
os.environ["TQDM_DISABLE"] = "1"

project = "lsmkit"
author = "lsmkit contributors"
copyright = "lsmkit contributors, MIT licence"
release = version = "0.1.0"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
exclude_patterns = ["_build", "_ipython", "notebooks/_template.ipynb", "**.ipynb_checkpoints", "api_names.py"]
suppress_warnings = ["myst.header"]  # notebooks' own headings may start below h1 in a section

# myst-nb: execute every notebook on each build, in its own folder, failing on the first error.
nb_execution_mode = os.environ.get("LSMKIT_DOCS_EXECUTE", "force")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# A widget's live view needs a kernel (and its JavaScript from a CDN): show its HTML snapshot instead.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]
nb_ipywidgets_js = {}
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# API reference: autodoc + numpydoc; the validation checks make an undocumented parameter a build error.
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set(api_names.CHECKS)
numpydoc_validation_exclude = {r"\.__init__$", r"^lsmkit\.cli\."}

intersphinx_mapping = {}  # offline: no inventories fetched

html_theme = "pydata_sphinx_theme"
html_title = "lsmkit"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = ["_static"]
html_js_files = ["plotly.min.js", "plotly-resize.js"]  # plotly.js copied from the installed plotly below: no CDN
html_last_updated_fmt = None
html_copy_source = False


def _copy_plotly(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "plotly.min.js"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", target)


def setup(app):
    app.connect("build-finished", _copy_plotly)
