"""Kernels that execute the notebooks for the documentation site draw plotly figures as page HTML.

``docs/conf.py`` points ``IPYTHONDIR`` here. The figures become a ``<div>`` and a call of
``Plotly.newPlot``; the site loads one local copy of plotly.js for every page (no CDN: the site
builds and reads offline). Widgets add a snapshot of their figures (``LSMKIT_STATIC_WIDGETS``).
"""

import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer


class PageHtmlRenderer(MimetypeRenderer):
    """A figure as an HTML fragment that expects plotly.js on the page."""

    def to_mimebundle(self, fig_dict):
        layout = {key: value for key, value in fig_dict.get("layout", {}).items() if key != "width"}
        fig_dict = {**fig_dict, "layout": layout}  # the page's column sets the width
        html = pio.to_html(fig_dict, include_plotlyjs=False, full_html=False, config={"responsive": True})
        return {"text/html": html}


pio.renderers["lsmkit_docs"] = PageHtmlRenderer()
pio.renderers.default = "lsmkit_docs"
