"""EmbeddingExplorer: window embeddings in two dimensions; click a point to see its window.

A thin front-end over :func:`lsmkit.probe.project` (the projection),
:func:`lsmkit.probe_plots.embedding_figure` (the scatter) and :func:`lsmkit.plots.window_figure`
(the clicked window's channels): the controls pick the arguments and both FigureWidgets are
updated in place.
"""

from __future__ import annotations

import importlib.util

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

import lsmkit
from lsmkit.data import validate_windows
from lsmkit.plots import DEFAULT_CHANNELS, window_figure
from lsmkit.probe_plots import embedding_figure

from ._figure import ExplorerBox, replace_figure

__all__ = ["EmbeddingExplorer"]

PROJECTIONS = {"PCA": "pca", "UMAP": "umap"}
_UMAP_MISSING = "UMAP needs the optional umap-learn package (pip install umap-learn)"


def _embedding_matrix(embeddings, n_windows: int) -> np.ndarray:
    """``(W, D)`` float array from a DataArray (dims ``("window", ...)``) or an array."""
    if isinstance(embeddings, xr.DataArray):
        if "window" not in embeddings.dims or embeddings.ndim != 2:
            raise ValueError(f"embeddings must have dims ('window', feature), got {embeddings.dims}")
        embeddings = embeddings.transpose("window", ...).values
    matrix = np.asarray(embeddings, dtype=float)
    if matrix.ndim != 2 or len(matrix) != n_windows:
        raise ValueError(f"embeddings must have shape (W, D) with W = {n_windows} windows, got {matrix.shape}")
    return matrix


class EmbeddingExplorer(ExplorerBox):
    """Window embeddings projected to two dimensions, coloured by a per-window variable.

    Clicking a point (or calling :meth:`select`) rings it and draws its window's channels below.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch (:mod:`lsmkit.data`); its per-window variables (dims ``("window",)``) and
        ``participant`` are the colour choices. Categorical ones (CF ``flag_meanings``) are shown
        by name (:func:`lsmkit.decode_labels`).
    embeddings : xarray.DataArray or numpy.ndarray, optional
        ``(W, D)`` embeddings of ``windows``; default ``model.embed(windows)``.
    model : lsmkit.pretrained.PretrainedLSM, optional
        Used only when ``embeddings`` is None; default :func:`lsmkit.load_pretrained`.
    color : str, default "label"
        The variable to colour by; "label" falls back to "participant" when the windows have no
        ``label``.
    projection : str, default "pca"
        "pca" or "umap" (:func:`lsmkit.probe.project`; UMAP needs the optional umap-learn package).
    channels : sequence of str, default ``("heart_rate", "steps", "skin_temperature")``
        The channels drawn for the selected window.
    rng : int, default 0
        Seed of the UMAP projection.

    Attributes
    ----------
    color, projection : ipywidgets controls (``Dropdown`` "colour by", ``ToggleButtons``)
    figure : plotly.graph_objects.FigureWidget
        The scatter (:func:`~lsmkit.probe_plots.embedding_figure`); its points' ``customdata`` are
        window positions, and its last trace, "selected", rings the selected window.
    window_figure : plotly.graph_objects.FigureWidget
        The selected window's channels (:func:`~lsmkit.plots.window_figure`).
    selected : int
        Position of the selected window in ``windows``.
    points : numpy.ndarray
        The current ``(W, 2)`` projection.
    embeddings : numpy.ndarray
        The ``(W, D)`` embeddings.
    message : ipywidgets.HTML
        Says why a control did not take effect (e.g. UMAP is not installed); empty otherwise.
    """

    _snapshot_figures = ("figure", "window_figure")

    def __init__(self, windows: xr.Dataset, embeddings=None, *, model=None, color: str = "label",
                 projection: str = "pca", channels=DEFAULT_CHANNELS, rng=0):
        validate_windows(windows)
        if projection not in PROJECTIONS.values():
            raise ValueError(f"unknown projection {projection!r}; expected one of {', '.join(PROJECTIONS.values())}")
        self.windows, self.channels, self.rng = windows, tuple(channels), rng
        if embeddings is None:
            embeddings = (model or lsmkit.load_pretrained()).embed(windows)
        self.embeddings = _embedding_matrix(embeddings, windows.sizes["window"])
        options = self._colour_options()
        if color not in options:
            if color != "label":
                raise ValueError(f"cannot colour by {color!r}; per-window variables: {', '.join(options)}")
            color = "participant"
        self._projections: dict[str, np.ndarray] = {}
        self.points = self._project(projection)
        self.selected = 0

        self.color = widgets.Dropdown(options=options, value=color, description="colour by")
        has_umap = importlib.util.find_spec("umap") is not None
        self.projection = widgets.ToggleButtons(
            options=list(PROJECTIONS.items()), value=projection, description="projection",
            tooltips=["principal components of the standardised embeddings",
                      "UMAP (random seed rng)" if has_umap else _UMAP_MISSING])
        self.message = widgets.HTML()
        self.figure = go.FigureWidget(self._scatter())
        self._connect_clicks()
        self.window_figure = go.FigureWidget(self._window())

        self.color.observe(self.refresh, names="value")
        self.projection.observe(self._on_projection, names="value")
        hint = widgets.HTML("<i>click a point to see its window</i>")
        controls = widgets.HBox([self.color, self.projection, widgets.VBox([hint, self.message])])
        super().__init__([controls, self.figure, self.window_figure])
        self.add_class("lsmkit-embedding-explorer")  # a stable hook for styling and browser tests

    # ---- data -----------------------------------------------------------------------------------
    def _colour_options(self) -> list[str]:
        per_window = [str(name) for name, var in self.windows.data_vars.items() if var.dims == ("window",)]
        return per_window + ["participant"]

    def labels(self, name: str | None = None) -> np.ndarray:
        """The ``(W,)`` values of a colour choice, categories by name.

        Parameters
        ----------
        name : str, optional
            A per-window variable of the windows; default the current colour choice.

        Returns
        -------
        numpy.ndarray
        """
        var = self.windows[name or self.color.value]
        if "flag_meanings" in var.attrs:
            var = lsmkit.decode_labels(var)
        return np.asarray(var.values)

    def _project(self, method: str) -> np.ndarray:
        if method not in self._projections:  # a projection does not depend on the colours: compute once
            from lsmkit.probe import project  # lsmkit.probe imports PyTorch: only when a widget is made

            self._projections[method] = project(self.embeddings, method, rng=self.rng)
        return self._projections[method]

    def _hover(self, labels: np.ndarray, positions=None) -> list[str]:
        """Hover text of the windows at ``positions`` (default all): who, when, and the colour value."""
        positions = np.arange(len(labels)) if positions is None else np.asarray(positions)
        people = self.windows["participant"].values[positions]
        starts = pd.DatetimeIndex(self.windows["start"].values[positions])
        values = [f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v) for v in labels[positions].tolist()]
        return [f"window {i} · {p} · {s:%a %d %b %H:%M}<br>{self.color.value}: {v}"
                for i, p, s, v in zip(positions, people, starts, values)]

    # ---- figures --------------------------------------------------------------------------------
    def _scatter(self) -> go.Figure:
        labels = self.labels()
        kind = {v: k for k, v in PROJECTIONS.items()}[self.projection.value]
        title = f"{kind} of {len(labels)} window embeddings, coloured by {self.color.value}"
        return embedding_figure(self.points, labels, hover=self._hover(labels), title=title, selected=self.selected)

    def _window(self) -> go.Figure:
        return window_figure(self.windows, self.selected, channels=self.channels)

    def _connect_clicks(self):
        for trace in self.figure.data:
            trace.on_click(self._on_click)

    def _on_click(self, trace, points, state):
        if points.point_inds:  # plotly calls every trace's handler, most with no point
            self.select(int(trace.customdata[points.point_inds[0]]))

    def select(self, window: int) -> None:
        """Select a window: move the ring there and draw its channels.

        Parameters
        ----------
        window : int
            Position of the window in the batch (a click on a point passes it).

        Raises
        ------
        ValueError
            If ``window`` is out of range.
        """
        n = self.windows.sizes["window"]
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or not 0 <= window < n:
            raise ValueError(f"window {window!r} is out of range: the batch has {n} windows (positions 0 to {n - 1})")
        self.selected = int(window)
        ring = self.figure.data[-1]  # the "selected" trace
        with self.figure.batch_update():
            ring.x, ring.y = self.points[[self.selected], 0], self.points[[self.selected], 1]
            ring.customdata, ring.hovertext = [self.selected], self._hover(self.labels(), [self.selected])
        replace_figure(self.window_figure, self._window())

    def _on_projection(self, change):
        try:
            self.points = self._project(change["new"])
        except ImportError:  # UMAP without umap-learn: back to the projection shown, and say why
            self.projection.value = change["old"]  # (its observer redraws and clears the message)
            self.message.value = f"<span style='color:#b00'>{_UMAP_MISSING}</span>"
            return
        self.refresh()

    def refresh(self, change=None):
        """Redraw the scatter from the current controls (the selected window stays).

        Parameters
        ----------
        change : dict, optional
            The traitlets change that triggered it (ignored); ``None`` when called directly.
        """
        self.message.value = ""
        replace_figure(self.figure, self._scatter())
        self._connect_clicks()
