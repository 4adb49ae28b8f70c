"""Kernels that execute the notebooks for the documentation site draw plotly figures as page HTML.

``docs/conf.py`` points ``IPYTHONDIR`` here. The figures become a ``<div>`` and a call of
``Plotly.newPlot`` (:func:`lsmkit.widgets._figure.figure_html`, which the widgets' snapshots use
too); the site loads one local copy of plotly.js for every page (no CDN: the site builds and reads
offline). Widgets add a snapshot of their figures (``LSMKIT_STATIC_WIDGETS``).
"""

import plotly.io as pio
from plotly.io.base_renderers import MimetypeRenderer

from lsmkit.widgets._figure import figure_html


class PageHtmlRenderer(MimetypeRenderer):
    """A figure as an HTML fragment that expects plotly.js on the page."""

    def to_mimebundle(self, fig_dict):
        return {"text/html": figure_html(fig_dict)}


pio.renderers["lsmkit_docs"] = PageHtmlRenderer()
pio.renderers.default = "lsmkit_docs"
