"""MaskExplorer: hide parts of a window and watch the model and a baseline fill them in.

A thin front-end over :mod:`lsmkit.masks` and :func:`lsmkit.plots.imputation_figure`: the
controls pick a window and a mask, the model and the chosen baseline impute that one window
(cached, so going back is instant), and the FigureWidget and the error readout update in place.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import xarray as xr

from lsmkit import masks
from lsmkit.baselines import KNN, Linear, WindowMean
from lsmkit.channels import resolve_channel
from lsmkit.plots import imputation_figure

from ._window_explorer import WindowExplorer

__all__ = ["MaskExplorer", "TASK_SIZES"]

#: Mask sizes offered per task: (label, size), size as in :func:`lsmkit.evaluation.task_mask`.
TASK_SIZES: dict[str, list[tuple[str, float]]] = {
    "random": [("20% of patches", 0.2), ("50% of patches", 0.5), ("80% of patches", 0.8)],
    "interpolation": [(f"{m} minutes", m) for m in (10, 30, 60, 120)],
    "extrapolation": [(f"{m} minutes", m) for m in (10, 30, 60, 120)],
    "sensors": [("only the channels hidden below", 0), ("2 random channels", 2), ("6 random channels", 6),
                ("12 random channels", 12)],
}
_FIRST_SIZE = {"random": 0.8, "interpolation": 60, "extrapolation": 60, "sensors": 2}


def default_baselines() -> dict:
    """Linear interpolation, k-nearest neighbours across channels and the window mean."""
    return {b.name: b for b in (Linear(), KNN(), WindowMean())}


class MaskExplorer(WindowExplorer):
    """Choose a window and a mask; see the model's and a baseline's fills and their errors.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch as long as the model's windows, e.g. ``lsmkit.load_sample()``.
    model : optional
        Anything with ``impute(windows, mask)``; default ``lsmkit.load_pretrained()``.
    baselines : dict of str to baseline, optional
        Display name -> anything with ``impute(windows, mask)``; default linear interpolation,
        kNN and the window mean (see :mod:`lsmkit.baselines`). One is shown at a time.
    window : int, default 0
        Position in the batch of the window shown first.
    task : {"random", "interpolation", "extrapolation", "sensors"}, default "interpolation"
        Mask type shown first.
    size : float or int, optional
        Its size: a fraction of patches, minutes or channels (default 80%, 60 minutes or 2 channels).
    profile : str, default "full"
        Device profile (:data:`lsmkit.DEVICE_PROFILES`): the window as that device records it, the
        other channels absent (never filled, never scored).
    hide : sequence of str, default ()
        Channels hidden for the whole window on top of the task's mask.
    seed : int, default 0
        Masks are drawn with ``numpy.random.default_rng([seed, window])``: the same window and
        settings always give the same mask.

    Attributes
    ----------
    participant, window, profile, task, size, hide, baseline : ipywidgets controls
        ``hide`` is a multi-select: click (ctrl/shift-click for several) channels to hide them.
    figure : plotly.graph_objects.FigureWidget
        :func:`lsmkit.plots.imputation_figure` of the window, updated in place.
    readout : ipywidgets.HTML
        MSE of the model and the baseline on the hidden observed values (all channels).
    errors : dict
        The same numbers: method name -> MSE on z-scored values; ``n_scored`` counts the values.
    """

    controls = ("participant", "window", "profile", "task", "size", "hide", "baseline")

    def __init__(self, windows: xr.Dataset, model=None, baselines=None, *, window: int = 0,
                 task: str = "interpolation", size=None, hide=(), seed: int = 0, profile: str = "full"):
        super().__init__(windows, model, baselines, default_baselines, window, profile)
        if task not in TASK_SIZES:
            raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASK_SIZES)}")
        self.seed = seed
        self.task = widgets.Dropdown(options=list(TASK_SIZES), value=task, description="mask")
        self.size = widgets.Dropdown(options=TASK_SIZES[task], value=_FIRST_SIZE[task] if size is None else size,
                                     description="size")
        self.hide = widgets.SelectMultiple(options=list(self.windows["channel"].values), rows=7,
                                           value=[resolve_channel(c) for c in hide], description="hide")
        self.baseline = widgets.Dropdown(options=list(self.baselines), description="baseline")
        self.task.observe(self._on_task, names="value")
        for control in (self.size, self.hide, self.baseline):
            control.observe(self.refresh, names="value")
        left = widgets.VBox([self.participant, self.window, self.profile, self.task, self.size, self.baseline])
        self._start(widgets.HBox([left, self.hide]), "lsmkit-mask-explorer")

    def _on_task(self, change=None):
        with self.hold():
            self.size.options = TASK_SIZES[self.task.value]
            self.size.value = _FIRST_SIZE[self.task.value]
            self._stale = True

    def _settings(self) -> tuple:
        return (self.window.value, self.profile.value, self.task.value, self.size.value,
                tuple(sorted(self.hide.value)))

    def mask(self, one: xr.Dataset | None = None) -> xr.DataArray:
        """The mask on show, drawn from the window's seed.

        Parameters
        ----------
        one : xarray.Dataset, optional
            The one-window batch to mask; default :meth:`one`, the window on show.

        Returns
        -------
        xarray.DataArray
        """
        one = self.one() if one is None else one
        rng = np.random.default_rng([self.seed, self.window.value])
        task, size = self.task.value, self.size.value
        parts = [xr.zeros_like(one["signal"], dtype=bool)]
        if task == "random":
            parts.append(masks.random(one, ratio=size, rng=rng))
        elif task == "interpolation":
            parts.append(masks.interpolation(one, size, rng=rng))
        elif task == "extrapolation":
            parts.append(masks.extrapolation(one, size))
        elif size:  # sensors: size random channels, preferring observed ones
            parts.append(masks.sensors(one, n=size, rng=rng))
        if self.hide.value:
            parts.append(masks.sensors(one, channels=list(self.hide.value)))
        return masks.union(*parts)

    def _draw(self):
        one, settings, name = self.one(), self._settings(), self.baseline.value
        mask = self.cached(("mask", *settings), lambda: self.mask(one))
        fills = {self.model_name: self.cached(("model", *settings), lambda: self.model.impute(one, mask)),
                 name: self.cached(("baseline", name, *settings), lambda: self.baselines[name].impute(one, mask))}
        readout = self.score(fills, one, mask)
        return imputation_figure(one, mask, fills), readout
