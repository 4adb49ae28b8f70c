"""Plumbing shared by the widgets: redrawing a FigureWidget in place, and a static snapshot.

A widget's live view needs a running kernel. Where a page has none (the documentation site, built by
executing the notebooks), the widget's output also carries an HTML snapshot of its figures and
readout, when ``LSMKIT_STATIC_WIDGETS=1`` is set in the kernel's environment (``docs/conf.py`` sets
it). The snapshot is a ``<div>`` and a ``Plotly.newPlot`` call that expects plotly.js on the page.
Without the variable the output is the widget alone, as ipywidgets makes it.
"""

from __future__ import annotations

import html
import os

import ipywidgets as widgets
import plotly.graph_objects as go
import plotly.io as pio

STATIC_ENV = "LSMKIT_STATIC_WIDGETS"


def replace_figure(widget: go.FigureWidget, new: go.Figure) -> None:
    """Redraw ``widget`` in place with the traces and layout of ``new``, as one update."""
    # plotly.js keeps layout keys that a relayout does not mention: drop the axes of removed rows.
    old_layout, new_layout = widget.layout.to_plotly_json(), new.layout.to_plotly_json()
    stale = {key: None for key in old_layout if key not in new_layout}
    with widget.batch_update():
        if stale:
            widget.plotly_relayout(stale)
        widget.data = ()
        widget.add_traces(new.data)
        widget.layout = new.layout


def figure_html(figure) -> str:
    """A plotly figure as an HTML fragment for a page that loads plotly.js itself.

    The page's column sets the width (a fixed width would be cut off there). The documentation
    build draws every notebook figure with it, and the widgets' snapshots below.
    """
    figure = go.Figure(figure).update_layout(width=None)
    return pio.to_html(figure, include_plotlyjs=False, full_html=False, config={"responsive": True})


def snapshot_html(name: str, figures, readout: str = "") -> str:
    """A static HTML copy of a widget's ``figures`` (plotly figures) and ``readout`` (HTML)."""
    note = (f'<p class="lsmkit-snapshot"><em>A snapshot of {html.escape(name)}: '
            "run the notebook in JupyterLab to use its controls.</em></p>")
    return note + readout + "".join(figure_html(figure) for figure in figures)


class ExplorerBox(widgets.VBox):
    """A VBox whose output carries a static snapshot where ``LSMKIT_STATIC_WIDGETS=1`` (not public)."""

    _snapshot_figures: tuple[str, ...] = ("figure",)  # attributes holding the FigureWidgets

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if os.environ.get(STATIC_ENV) == "1":
            readout = getattr(self, "readout", None)
            readout = readout.value if isinstance(readout, widgets.HTML) else ""
            figures = [getattr(self, attr) for attr in self._snapshot_figures]
            bundle["text/html"] = snapshot_html(type(self).__name__, figures, readout)
        return bundle
