"""Redrawing a FigureWidget in place, shared by the widgets."""

from __future__ import annotations

import plotly.graph_objects as go


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
