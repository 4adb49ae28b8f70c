"""Plumbing shared by MaskExplorer and ForecastExplorer.

A window explorer shows one window of a batch at a time. It checks the model and baselines once,
works on a one-window sub-batch per interaction (so an update costs one forward pass, not one per
window), caches masks and fills by (window, mask settings, method), redraws the FigureWidget in
place, and lets tests and benchmarks change several controls at once with
:meth:`WindowExplorer.set`, which redraws once and returns how long the update took. Windows are
chosen by position in the batch; their labels show the ``window`` coordinate and start time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

import lsmkit
from lsmkit.channels import DEVICE_PROFILES, get_channel, profile_channels
from lsmkit.data import validate_windows

from ._figure import ExplorerBox, replace_figure

CACHE_SIZE = 256  # fills kept; one is a 300 x 26 window, about 30 kB


def _check_method(what: str, method) -> None:
    if not callable(getattr(method, "impute", None)):
        raise TypeError(f"{what} must have an impute(windows, mask) method, got {type(method).__name__}")


class WindowExplorer(ExplorerBox):
    """Base class: participant and window dropdowns, a readout and a live figure (not public)."""

    controls: tuple[str, ...] = ("participant", "window")  # what set() may change

    def __init__(self, windows: xr.Dataset, model, baselines, default_baselines, window: int = 0,
                 profile: str = "full"):
        validate_windows(windows)
        self.windows = windows[["signal"]]  # labels and truth are not drawn: keep per-update copies small
        self.model = lsmkit.load_pretrained() if model is None else model
        _check_method("model", self.model)
        minutes = getattr(self.model, "minutes", None)
        if minutes is not None and windows.sizes["time"] != minutes:
            raise ValueError(f"windows are {windows.sizes['time']} minutes long; the model takes {minutes}-minute "
                             f"windows (cut them with lsmkit.to_windows(..., minutes={minutes}))")
        self.baselines = default_baselines() if baselines is None else dict(baselines)
        if not self.baselines:
            raise ValueError("baselines is empty: pass a dict of name -> baseline with impute(windows, mask), "
                             "or None for the defaults")
        for name, baseline in self.baselines.items():
            _check_method(f"baseline {name!r}", baseline)
        self.model_name = getattr(self.model, "card", {}).get("name", "model")
        if self.model_name in self.baselines:
            self.model_name += " (model)"
        n = windows.sizes["window"]
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or not 0 <= window < n:
            raise ValueError(f"window {window!r} is out of range: the batch has {n} windows (positions 0 to {n - 1})")
        self._starts = pd.DatetimeIndex(windows["start"].values)
        self._labels = windows["window"].values  # what the figure's title calls a window
        self._participants = windows["participant"].values
        self.participant = widgets.Dropdown(options=list(dict.fromkeys(self._participants)),
                                            value=self._participants[window], description="participant")
        self.window = widgets.Dropdown(options=self._window_options(), value=int(window), description="window")
        profile_channels(profile)  # an unknown name raises, listing the profiles
        # what a device of this kind would have recorded: the other channels are absent
        self.profile = widgets.Dropdown(options=list(DEVICE_PROFILES), value=profile, description="device")
        self.readout = widgets.HTML()
        self.errors: dict[str, float] = {}  # method -> MSE (z-scored) of the last update
        self.n_scored = 0  # values those errors count
        self._cache: OrderedDict = OrderedDict()
        self._held, self._stale = 0, False
        self.participant.observe(self._on_participant, names="value")
        self.window.observe(self.refresh, names="value")
        self.profile.observe(self.refresh, names="value")

    def _start(self, controls: widgets.Widget, css_class: str) -> None:
        """Draw the first figure and lay out ``controls`` above it (subclasses call this last)."""
        figure, self.readout.value = self._draw()
        self.figure = go.FigureWidget(figure)
        super().__init__([controls, self.readout, self.figure])
        self.add_class(css_class)  # a stable hook for styling and browser tests

    def _window_options(self) -> list[tuple[str, int]]:
        positions = np.flatnonzero(self._participants == self.participant.value)
        return [(f"{self._labels[i]}: {self._starts[i]:%a %d %b %H:%M}", int(i)) for i in positions]

    def _on_participant(self, change=None):
        with self.hold():
            self.window.options = self._window_options()  # moves to the participant's first window
            self._stale = True

    def one(self) -> xr.Dataset:
        """The window on show, as a one-window batch, as the chosen device profile records it."""
        one = self.windows.isel(window=[self.window.value])
        keep = xr.DataArray(np.isin(one["channel"].values, profile_channels(self.profile.value)), dims="channel",
                            coords={"channel": one["channel"]})
        return one.assign(signal=one["signal"].where(keep))

    def cached(self, key: tuple, compute):
        """``compute()``, remembered under ``key`` (which must identify the window and mask settings)."""
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        value = self._cache[key] = compute()
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return value

    def score(self, fills: dict[str, xr.Dataset], one: xr.Dataset, mask: xr.DataArray, channels=None) -> str:
        """Set :attr:`errors` (MSE on z-scored values, counted as :mod:`lsmkit.metrics` does: hidden and
        truly observed entries, over ``channels`` or all) and return the readout's HTML."""
        channels = list(one["channel"].values if channels is None else channels)

        def values(da: xr.DataArray) -> np.ndarray:  # (1, T, C) -> (T, channels), by channel name
            return da.values[0][:, da.get_index("channel").get_indexer(channels)]

        truth = values(one["signal"])
        scored = values(mask) & ~np.isnan(truth)
        std = np.array([get_channel(c).std for c in channels], dtype=np.float32)
        self.n_scored = int(scored.sum())
        if not self.n_scored:
            self.errors = {name: float("nan") for name in fills}
            return "<i>Nothing to score: no observed value is hidden.</i>"
        self.errors = {name: float(np.mean((((values(ds["signal"]) - truth) / std)[scored]) ** 2))
                       for name, ds in fills.items()}
        best = min(self.errors, key=self.errors.get)
        parts = [f"<b>{name} {mse:.3f}</b>" if name == best else f"{name} {mse:.3f}" for name, mse in self.errors.items()]
        return f"MSE (z-scored) on {self.n_scored:,} hidden observed values: " + " · ".join(parts)

    def _draw(self) -> tuple[go.Figure, str]:
        """The figure and readout HTML for the current controls."""
        raise NotImplementedError

    @contextmanager
    def hold(self):
        """Change several controls inside this block and redraw once, at its end."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._stale:
                self._stale = False
                self.refresh()

    def refresh(self, change=None):
        """Redraw the figure in place from the current control values.

        Parameters
        ----------
        change : dict, optional
            The traitlets change that triggered it (ignored); ``None`` when called directly.
        """
        if self._held:
            self._stale = True
            return
        try:
            figure, readout = self._draw()
        except ValueError as error:  # e.g. no channel selected: keep the last figure, say why
            self.readout.value = f"<span style='color:#b00'>{error}</span>"
            return
        self._show(figure)
        self.readout.value = readout

    def _show(self, new: go.Figure) -> None:
        """Put ``new`` on the FigureWidget. With the same rows and methods as before (the usual
        case) only the data, title and shaded spans change, which is several times cheaper."""
        old = self.figure
        same = len(old.data) == len(new.data) and all(
            (a.name, a.yaxis, a.hovertemplate) == (b.name, b.yaxis, b.hovertemplate) for a, b in zip(old.data, new.data))
        if not same:
            replace_figure(old, new)
            return
        with old.batch_update():
            for a, b in zip(old.data, new.data):
                a.y = b.y
            old.layout.title.text = new.layout.title.text
            old.layout.shapes = new.layout.shapes

    def set(self, **values) -> float:
        """Set controls by name, in the order given (e.g. ``set(task="sensors", size=6)``), redraw
        once, and return the seconds from the first change to the updated figure data.

        ``window`` is a position in the batch; without ``participant`` it moves to that window's
        participant first.
        """
        unknown = [name for name in values if name not in self.controls]
        if unknown:
            raise ValueError(f"unknown controls {unknown}; expected some of {list(self.controls)}")
        start = time.perf_counter()
        if "window" in values and "participant" not in values and 0 <= values["window"] < len(self._participants):
            values = {"participant": self._participants[values["window"]], **values}
        with self.hold():
            for name, value in values.items():
                getattr(self, name).value = value
        return time.perf_counter() - start
