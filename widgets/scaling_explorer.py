"""ScalingExplorer: fit a power law to a sweep's runs and watch it extrapolate.

A thin front-end over :func:`lsmkit.scaling_plots.scaling_points` (which points),
:mod:`lsmkit.scaling` (the fit) and :func:`lsmkit.scaling_plots.loss_vs_axis_figure` (the figure):
the controls pick the arguments, clicking a point moves its run in or out of the fit, and the
FigureWidget and the readout are updated in place.
"""

from __future__ import annotations

import time

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lsmkit.scaling import fit_power_law, fit_power_law_ols
from lsmkit.scaling_plots import loss_vs_axis_figure, scaling_points
from lsmkit.sweep import TASKS

from ._figure import ExplorerBox

__all__ = ["ScalingExplorer"]

#: Law forms by control label: L = a x^b + c, L = a x^b (both robust, run bootstrap), log-log OLS.
FORMS = {"with floor: a·x^b + c": "floor", "without floor: a·x^b": "no floor", "log-log OLS: a·x^b": "ols"}
EXTRAPOLATE = (10, 100)


class ScalingExplorer(ExplorerBox):
    """Task, axis and law-form controls over a live scaling figure; click points to toggle runs.

    Parameters
    ----------
    results : pandas.DataFrame
        A sweep table, one row per evaluation (:func:`lsmkit.sweep.read_results`, or
        :func:`lsmkit.scaling_plots.synthetic_sweep`).
    task : str, default "random"
        One of :data:`lsmkit.sweep.TASKS`.
    axis : str, default "compute"
        "compute", "data" or "parameters"; the points are chosen by :func:`lsmkit.scaling_plots.scaling_points`.
    form : str, default "floor"
        "floor", "no floor" or "ols" (values of :data:`FORMS`).
    n_boot : int, default 100
        Bootstrap replicates over runs: modest, so that an update takes about a second.
    rng : int, default 0
        Seed of every bootstrap, so that the same runs always give the same band.

    Attributes
    ----------
    task, axis, form : ipywidgets controls
    figure : plotly.graph_objects.FigureWidget
    readout : ipywidgets.HTML
        The fitted parameters with intervals, and the predictions at 10x and 100x the largest run.
    message : ipywidgets.HTML
        Says why the fit did not change (e.g. too few runs left); empty otherwise.
    points : pandas.DataFrame
        The current axis's points (:func:`~lsmkit.scaling_plots.scaling_points`).
    excluded : set of str
        Runs left out of the fit; cleared when the task or axis changes.
    fit : lsmkit.scaling.PowerLawFit
        The current fit; ``seconds`` is how long the last update took.
    """

    def __init__(self, results: pd.DataFrame, task: str = "random", axis: str = "compute", form: str = "floor",
                 n_boot: int = 100, rng: int = 0):
        self.results, self.n_boot, self.rng = results, n_boot, rng
        if axis not in ("compute", "data", "parameters"):
            raise ValueError(f"unknown axis {axis!r}; expected one of compute, data, parameters")
        if form not in FORMS.values():
            raise ValueError(f"unknown form {form!r}; expected one of {', '.join(FORMS.values())}")
        self.points = scaling_points(results, task, axis)  # checks the task too
        self.excluded: set[str] = set()
        self.task = widgets.Dropdown(options=TASKS, value=task, description="task")
        self.axis = widgets.ToggleButtons(options=["compute", "data", "parameters"], value=axis, description="axis")
        self.form = widgets.RadioButtons(options=list(FORMS.items()), value=form, description="law")
        self.readout, self.message = widgets.HTML(), widgets.HTML()
        self.figure = go.FigureWidget()
        if not self.refresh():
            raise ValueError(f"cannot fit the {axis} points of task {task!r}: {self.error}")

        self.task.observe(self._on_selection, names="value")
        self.axis.observe(self._on_selection, names="value")
        self.form.observe(self.refresh, names="value")
        hint = widgets.HTML("<i>click a point to move its run in or out of the fit</i>")
        controls = widgets.HBox([widgets.VBox([self.task, self.axis, hint, self.message]), self.form, self.readout])
        super().__init__([controls, self.figure])
        self.add_class("lsmkit-scaling-explorer")  # a stable hook for styling and browser tests

    def toggle(self, run: str) -> None:
        """Move ``run`` out of the fit, or back in; refused (with a message) if the fit would fail.

        Parameters
        ----------
        run : str
            A run's name (the ``run`` column of the sweep table; a click on a point passes it).

        Raises
        ------
        ValueError
            If ``run`` has no point on the current axis.
        """
        if run not in set(self.points["run"]):
            runs = ", ".join(self.points["run"].unique())
            raise ValueError(f"run {run!r} has no point on this axis; its runs: {runs}")
        self.excluded ^= {run}
        if not self.refresh():
            self.excluded ^= {run}  # keep the last figure and fit: it still shows what is in the fit

    def _on_selection(self, change=None):
        self.points = scaling_points(self.results, self.task.value, self.axis.value)
        self.excluded = set()  # each axis picks other runs
        self.refresh()

    def _on_click(self, trace, points, state):
        if points.point_inds:  # plotly calls every trace's handler, most with no point
            self.toggle(str(trace.customdata[points.point_inds[0]]))

    def _fit(self, fitted: pd.DataFrame):
        x, y, groups = fitted["x"], fitted["loss"], fitted["run"]
        if self.form.value == "ols":
            return fit_power_law_ols(x, y, groups=groups)
        return fit_power_law(x, y, floor=self.form.value == "floor", groups=groups, n_boot=self.n_boot, rng=self.rng)

    def refresh(self, change=None) -> bool:
        """Refit and redraw from the current controls.

        Parameters
        ----------
        change : dict, optional
            The traitlets change that triggered it (ignored); ``None`` when called directly.
        
        Returns
        -------
        bool
            False (and a message shown) if the fit failed; the last figure and fit stay.
        """
        start = time.perf_counter()
        out = self.points["run"].isin(self.excluded)
        fitted, held_out = self.points[~out], self.points[out]
        try:
            fit = self._fit(fitted)
        except ValueError as error:  # e.g. fewer points than parameters: keep the last fit, say why
            self.error = str(error)
            self.message.value = f"<span style='color:#b00'>{error}</span>"
            return False
        new = loss_vs_axis_figure(fitted, self.axis.value, fit, EXTRAPOLATE, held_out, task=self.task.value)
        with self.figure.batch_update():
            self.figure.data = ()
            self.figure.add_traces(new.data)
            self.figure.layout = new.layout
        for trace in self.figure.data[-2:]:  # "in the fit" and "held out": the clickable points
            trace.on_click(self._on_click)
        self.fit, self.message.value = fit, ""
        self.seconds = time.perf_counter() - start
        self.readout.value = self._readout(fit, len(fitted["run"].unique()), len(self.points["run"].unique()))
        return True

    def _readout(self, fit, n_in: int, n_all: int) -> str:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>{v:.4g}</td><td>[{lo:.4g}, {hi:.4g}]</td></tr>"
                       for k, v, lo, hi in fit.to_frame().itertuples(index=False))
        largest = self.points["x"].max()
        at = fit.predict(np.multiply(EXTRAPOLATE, largest))
        predictions = "".join(f"<tr><td>{m}x</td><td>{r.estimate:.4g}</td><td>[{r.lower:.4g}, {r.upper:.4g}]</td></tr>"
                              for m, r in zip(EXTRAPOLATE, at.itertuples()))
        how = "OLS t" if fit.method == "ols" else f"bootstrap over runs, {self.n_boot} replicates"
        return (f"<div style='font-size:12px'>exponent <b>b = {fit.params['b']:.3f}</b> "
                f"[{fit.intervals['b'][0]:.3f}, {fit.intervals['b'][1]:.3f}] · {n_in} of {n_all} runs in the fit"
                f"<table><tr><th></th><th>estimate</th><th>{fit.level:.0%} interval ({how})</th></tr>{rows}"
                f"<tr><th colspan=3 style='text-align:left'>predicted loss at the largest run's x times</th></tr>"
                f"{predictions}</table>"
                f"<span style='color:#888'>updated in {self.seconds:.2f} s</span></div>")
