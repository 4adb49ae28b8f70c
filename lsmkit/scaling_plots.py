"""Pure figure builders for scaling laws: validation loss against compute, data and parameters.

Every builder takes a sweep results table (:func:`lsmkit.sweep.read_results`: one row per
evaluation) or points picked from one (:func:`scaling_points`) and returns a
``plotly.graph_objects.Figure``; fits are :class:`lsmkit.scaling.PowerLawFit` objects made by the
caller, so a figure never fits anything itself. The widget ``lsmkit.widgets.ScalingExplorer`` only
wires controls to these functions. Axes are log-log throughout.

Which points a single-axis law is fitted to (:func:`scaling_points`), written down:

- ``compute``: the *compute-efficient frontier*, the evaluations (checkpoints along every run) whose
  loss is lower than that of every evaluation with less compute. Evaluations in mid-training come
  from a run whose schedule had not finished, which is the usual (and slightly pessimistic) reading.
- ``data`` (hours) or ``windows``: the largest model's runs, one point per data size (its
  ``pick``-ed evaluation, see :func:`lsmkit.sweep.per_run`; among several runs of one size, the
  lowest loss), so that model size is held fixed and as little as possible limits the loss.
- ``parameters``: likewise the runs on the largest data size, one point per model size.

:func:`synthetic_sweep` makes a table in the same columns from a known law, for tests and teaching
before (or besides) a real sweep.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from .plots import _AXIS_STYLE, _FONT
from .scaling import PowerLawFit
from .sweep import COLUMNS, TASKS, eval_steps, per_run

__all__ = ["AXES", "SYNTHETIC_LAW", "synthetic_sweep", "compute_frontier", "scaling_points",
           "loss_vs_compute_figure", "loss_vs_axis_figure"]

#: Axis name -> (column of the results table, axis title).
AXES: dict[str, tuple[str, str]] = {
    "compute": ("flops", "training compute (FLOPs)"),
    "data": ("hours", "training data (hours)"),
    "windows": ("windows", "training data (windows)"),
    "parameters": ("parameters", "parameters"),
}
#: The law behind :func:`synthetic_sweep` (task "random"): L = E + A/N^alpha + B/D^beta + K/S^gamma.
SYNTHETIC_LAW = dict(E=0.25, A=20.0, alpha=0.3, B=3.0, beta=0.35, K=30.0, gamma=0.5)
_SYNTHETIC_PRESETS = {"tiny": 160_000, "mini": 740_000, "2M": 2_200_000, "7M": 7_300_000}
_TASK_SCALE = {"random": 1.0, "interpolation": 0.8, "extrapolation": 1.3, "sensors": 1.15}
_FIT, _BAND, _HELD_OUT = "#222222", "rgba(34, 34, 34, 0.13)", "#EF553B"


def synthetic_sweep(rng=None, *, noise: float = 0.01, windows=(64, 256, 1024, 2048), steps: int = 2000,
                    evals: int = 5, batch_size: int = 32, minutes: int = 300) -> pd.DataFrame:
    """A made-up sweep table (columns :data:`lsmkit.sweep.COLUMNS`) from a known law, for tests and teaching.

    Four presets (0.16M, 0.74M, 2.2M and 7.3M parameters) x ``windows`` x one ``steps``, each run
    evaluated ``evals`` times. Loss on task "random" is :data:`SYNTHETIC_LAW`,
    ``E + A/N^alpha + B/D^beta + K/S^gamma`` with ``N`` parameters, ``D`` hours and ``S`` samples
    seen; the other tasks scale it by a constant. Each run, and each evaluation, is multiplied by
    independent log-normal noise of standard deviation ``noise`` (so points of one run are
    correlated, as in real sweeps). ``flops = 6 N x tokens seen``, 6 channel groups x minutes/10
    tokens a window: Kaplan's rule, not :func:`lsmkit.scaling.training_flops`.

    Parameters
    ----------
    rng : int or numpy.random.Generator, optional
        Seed of the noise.
    noise : float, default 0.01
        Standard deviation of the log-normal noise, per run and per evaluation.
    windows : sequence of int, default (64, 256, 1024, 2048)
        Training-set sizes, in windows.
    steps : int, default 2000
        Training steps of every run.
    evals : int, default 5
        Evaluations per run, evenly spaced along its steps.
    batch_size : int, default 32
        Windows per step (sets the samples seen).
    minutes : int, default 300
        Window length (sets hours of data and tokens).

    Returns
    -------
    pandas.DataFrame
        One row per evaluation, with the columns of :data:`lsmkit.sweep.COLUMNS`.
    """
    rng = np.random.default_rng(rng)
    law, tokens, rows = SYNTHETIC_LAW, 6 * minutes // 10, []
    for preset, n in _SYNTHETIC_PRESETS.items():
        for w in windows:
            hours, run_noise = w * minutes / 60, rng.normal(0, noise)
            for step in eval_steps(steps, evals):
                samples = step * batch_size
                clean = (law["E"] + law["A"] * n ** -law["alpha"] + law["B"] * hours ** -law["beta"]
                         + law["K"] * samples ** -law["gamma"])
                losses = {f"loss_{t}": s * clean * np.exp(run_noise + rng.normal(0, noise))
                          for t, s in _TASK_SCALE.items()}
                rows.append(dict(run=f"{preset}_w{w}_s{steps}", preset=preset, parameters=n, windows=w, hours=hours,
                                 steps=steps, step=step, samples=samples, flops=6.0 * n * tokens * samples, seed=0,
                                 batch_size=batch_size, lr=1e-3, train_loss=0.95 * losses["loss_random"], **losses))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _loss_column(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    return f"loss_{task}"


def _axis(axis: str) -> tuple[str, str]:
    if axis not in AXES:
        raise ValueError(f"unknown axis {axis!r}; expected one of {', '.join(AXES)}")
    return AXES[axis]


def _check_results(results, *columns: str) -> None:
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a sweep results table (a pandas DataFrame, see lsmkit.sweep.read_results), "
                        f"got {type(results).__name__}")
    missing = [c for c in columns if c not in results.columns]
    if missing:
        raise ValueError(f"results lack columns {missing}; a sweep results table (lsmkit.sweep.COLUMNS) has them")


def compute_frontier(results: pd.DataFrame, task: str = "random") -> pd.DataFrame:
    """The compute-efficient frontier: evaluations with a lower loss than every one with less compute.

    Parameters
    ----------
    results : pandas.DataFrame
        A sweep's results table (columns ``flops`` and ``loss_<task>``).
    task : str, default "random"
        Which task's loss.

    Returns
    -------
    pandas.DataFrame
        Those rows of ``results``, by increasing ``flops`` (and so decreasing loss). No evaluation
        lies below the frontier's lower envelope.
    """
    column = _loss_column(task)
    _check_results(results, "flops", column)
    ordered = results.sort_values(["flops", column], kind="stable")  # ties: the lowest loss first
    best_before = ordered[column].cummin().shift(fill_value=np.inf)
    return ordered[ordered[column] < best_before].reset_index(drop=True)


def scaling_points(results: pd.DataFrame, task: str = "random", axis: str = "compute",
                   pick: str = "final") -> pd.DataFrame:
    """The points a single-axis law along ``axis`` is fitted to (see the module docstring for the choice).

    Parameters
    ----------
    results : pandas.DataFrame
        A sweep's results table.
    task : str, default "random"
        Which task's loss.
    axis : str, default "compute"
        One of :data:`AXES`: "compute" takes the compute-efficient frontier; the data and
        parameter axes take one evaluation per run, the other axis held at its largest value.
    pick : {"final", "best"}, default "final"
        The evaluation kept from each run for the data and parameter axes.

    Returns
    -------
    pandas.DataFrame
        The chosen rows of ``results`` with two more columns, ``x`` (the axis's column) and
        ``loss`` (``loss_<task>``), sorted by ``x``.
    """
    column, (x, _) = _loss_column(task), _axis(axis)
    _check_results(results, "flops" if axis == "compute" else x, column,
                   *(() if axis == "compute" else ("run", "step", "windows", "parameters")))
    if axis == "compute":
        chosen = compute_frontier(results, task)
    else:
        runs = per_run(results, pick, task)
        fixed = "windows" if axis == "parameters" else "parameters"  # hold the other one at its largest
        runs = runs[runs[fixed] == runs[fixed].max()]
        chosen = runs.loc[runs.groupby(x)[column].idxmin()]  # one point per size: its best run
    return chosen.assign(x=chosen[x].astype(float), loss=chosen[column]).sort_values("x").reset_index(drop=True)


def _layout(title: str, x_title: str, height: int) -> dict:
    return dict(template="none", font=_FONT, height=height, margin=dict(l=70, r=20, t=50, b=50),
                title=dict(text=title, x=0.01, xanchor="left"), hovermode="closest",
                xaxis=dict(type="log", title=dict(text=x_title), **_AXIS_STYLE),
                yaxis=dict(type="log", title=dict(text="validation loss"), **_AXIS_STYLE),
                legend=dict(x=1, xanchor="right", y=1, yanchor="top", bgcolor="rgba(255,255,255,0.8)"))


def _law(fit: PowerLawFit) -> str:
    """The fitted law as legend text, e.g. ``L = 4.4 x^-0.092 + 0.27``."""
    p = fit.params
    return f"L = {p['a']:.3g} x^{p['b']:.3g}" + (f" + {p['c']:.3g}" if fit.floor else "") + (
        " (log-log OLS)" if fit.method == "ols" else "")


def _fit_traces(fit: PowerLawFit, x: np.ndarray, x_extra: np.ndarray | None = None) -> list[go.Scatter]:
    """The fitted law over ``x`` (solid), over ``x_extra`` (dashed), and the band under both."""
    line = fit.predict(x)
    extra = fit.predict(x_extra) if x_extra is not None else line.iloc[:0]
    both = pd.concat([line, extra])
    traces = []
    if both["lower"].notna().all():  # no band without bootstrap (n_boot=0)
        x_all, upper, lower = (both[k].to_numpy() for k in ("x", "upper", "lower"))
        traces.append(go.Scatter(x=np.concatenate([x_all, x_all[::-1]]),  # upper edge, then lower edge back
                                 y=np.concatenate([upper, lower[::-1]]), fill="toself",
                                 fillcolor=_BAND, mode="lines", line=dict(width=0), hoverinfo="skip",
                                 name=f"{fit.level:.0%} interval"))
    traces.append(go.Scatter(x=line["x"], y=line["estimate"], mode="lines", name=_law(fit),
                             line=dict(color=_FIT, width=2)))
    if x_extra is not None:
        traces.append(go.Scatter(x=extra["x"], y=extra["estimate"], mode="lines", name="extrapolation",
                                 line=dict(color=_FIT, width=2, dash="dash")))
    return traces


def loss_vs_compute_figure(results: pd.DataFrame, task: str = "random", fit: PowerLawFit | None = None,
                           *, height: int = 460) -> go.Figure:
    """Loss against training compute, one curve per run coloured by model size, and the frontier.

    Each run's curve is its evaluations along training (one legend entry per model size). The
    compute-efficient frontier (:func:`compute_frontier`) is drawn in black over them, and
    ``fit`` (e.g. ``fit_power_law`` of the frontier) with its band over the whole compute range.

    Traces: one per run (``legendgroup`` its preset, ``customdata`` its run name), then the frontier
    (named "compute-efficient frontier"), then the band, the fitted line.

    Parameters
    ----------
    results : pandas.DataFrame
        A sweep's results table.
    task : str, default "random"
        Which task's loss.
    fit : PowerLawFit, optional
        A law to draw with its band, e.g. :func:`lsmkit.scaling.fit_power_law` of the frontier.
    height : int, default 460
        Figure height in pixels.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    column = _loss_column(task)
    sizes = sorted(results["parameters"].unique())
    colours = dict(zip(sizes, sample_colorscale("Viridis", list(np.linspace(0.0, 0.85, len(sizes))))))
    traces, shown = [], set()
    for run, one in results.sort_values(["parameters", "windows", "steps", "step"]).groupby("run", sort=False):
        preset, n = one["preset"].iloc[0], one["parameters"].iloc[0]
        traces.append(go.Scatter(
            x=one["flops"], y=one[column], mode="lines+markers", name=f"{preset} ({n / 1e6:.2g}M parameters)",
            legendgroup=preset, showlegend=preset not in shown, line=dict(color=colours[n], width=1.3),
            marker=dict(size=5), customdata=np.full(len(one), run),
            hovertemplate="%{customdata}<br>%{x:.3g} FLOPs  loss %{y:.4g}<extra></extra>"))
        shown.add(preset)
    frontier = compute_frontier(results, task)
    traces.append(go.Scatter(x=frontier["flops"], y=frontier[column], mode="lines+markers",
                             name="compute-efficient frontier", line=dict(color="black", width=2.5),
                             marker=dict(size=7, color="black"), customdata=frontier["run"],
                             hovertemplate="frontier: %{customdata}<br>%{x:.3g} FLOPs  loss %{y:.4g}<extra></extra>"))
    if fit is not None:
        traces += _fit_traces(fit, np.geomspace(results["flops"].min(), results["flops"].max(), 100))
    layout = _layout(f"Validation loss ({task}) against compute", AXES["compute"][1], height)
    return go.Figure(data=traces, layout=layout)


def loss_vs_axis_figure(points: pd.DataFrame, axis: str, fit: PowerLawFit | None = None, extrapolate=(10, 100),
                        held_out: pd.DataFrame | None = None, *, task: str | None = None,
                        height: int = 460) -> go.Figure:
    """Loss against one axis: the points, the fitted law, its band and its extrapolation.

    Parameters
    ----------
    points : pandas.DataFrame
        The fitted points: columns ``x`` and ``loss``, and ``run`` for hover and clicks (as made by
        :func:`scaling_points`).
    axis : str
        One of :data:`AXES` ("compute", "data", "windows", "parameters"): picks the axis title.
    fit : PowerLawFit, optional
        Drawn solid over the range of ``points``, dashed from their largest ``x`` to
        ``max(extrapolate)`` times the largest ``x`` of ``points`` and ``held_out`` together (the
        largest run shown), with its band under both, and its predictions with intervals (error
        bars) at each multiple in ``extrapolate``.
    extrapolate : sequence of float
        Multiples of the largest ``x``; empty for no extrapolation.
    held_out : pandas.DataFrame, optional
        Points left out of the fit (same columns), drawn as open red markers.
    task : str, optional
        Named in the title.
    height : int, default 460
        Figure height in pixels.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces in order: band, fitted line, extrapolation, predictions (only with ``fit``; the band
        only with intervals), then the points ("in the fit") and, when given, "held out".
    """
    _, x_title = _axis(axis)
    for name, frame in {"points": points, "held_out": held_out}.items():
        if frame is not None and not {"x", "loss"} <= set(frame.columns):
            raise ValueError(f"{name} must have columns 'x' and 'loss' (see scaling_points), got {list(frame.columns)}")
    if len(points) == 0:
        raise ValueError("points is empty: nothing to draw")
    x_low, x_high = points["x"].min(), points["x"].max()
    x_max = max(x_high, held_out["x"].max()) if held_out is not None and len(held_out) else x_high
    traces = []
    if fit is not None:
        multiples = sorted(extrapolate)
        x_extra = np.geomspace(x_high, multiples[-1] * x_max, 60) if multiples else None
        traces += _fit_traces(fit, np.geomspace(x_low, x_high, 60), x_extra)
        if multiples:
            at = fit.predict(np.multiply(multiples, x_max))
            labels = [f"{m:g}x" for m in multiples]
            traces.append(go.Scatter(
                x=at["x"], y=at["estimate"], mode="markers+text", name="prediction at " + ", ".join(labels),
                text=labels, textposition="top right", marker=dict(color=_FIT, symbol="diamond", size=9),
                error_y=dict(type="data", symmetric=False, array=at["upper"] - at["estimate"],
                             arrayminus=at["estimate"] - at["lower"], color=_FIT)))
    held_marker = dict(color=_HELD_OUT, size=11, symbol="circle-open", line_width=2)
    for name, frame, marker in (("in the fit", points, dict(color="#636EFA", size=10)),
                                ("held out", held_out, held_marker)):
        if frame is None:
            continue
        runs = frame["run"] if "run" in frame else pd.Series([""] * len(frame))
        traces.append(go.Scatter(x=frame["x"], y=frame["loss"], mode="markers", name=name, marker=marker,
                                 customdata=np.asarray(runs),
                                 hovertemplate=f"%{{customdata}}<br>x %{{x:.3g}}  loss %{{y:.4g}}"
                                               f"<extra>{name}</extra>"))
    what = f"Validation loss ({task})" if task else "Validation loss"
    return go.Figure(data=traces, layout=_layout(f"{what} against {x_title.split(' (')[0]}", x_title, height))
