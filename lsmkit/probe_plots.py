"""Pure figure builders for downstream probes: few-shot curves and embeddings in two dimensions.

Every builder takes plain tables or arrays and returns a ``plotly.graph_objects.Figure``:

- :func:`few_shot_figure` draws the table of :func:`lsmkit.probe.summarise` (means over draws of
  :func:`lsmkit.probe.few_shot` with bootstrap intervals) as the paper's few-shot curves.
- :func:`embedding_figure` draws a ``(W, 2)`` projection (:func:`lsmkit.probe.project`) of window
  embeddings, coloured by a per-window label, with each point's window position as ``customdata``
  so that a click maps back to its window.

The widgets ``lsmkit.widgets.FewShotExplorer`` and ``lsmkit.widgets.EmbeddingExplorer`` only wire
controls to these functions. This module never imports ipywidgets, nor PyTorch.

Shapes: ``W`` windows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, qualitative

from .metrics import CLASSIFICATION_METRICS
from .plots import _AXIS_STYLE, _FONT

__all__ = ["METRIC_TITLES", "MAX_CATEGORIES", "shot_positions", "few_shot_figure", "embedding_figure"]

#: Axis title of each score in :data:`lsmkit.metrics.CLASSIFICATION_METRICS`.
METRIC_TITLES: dict[str, str] = {"accuracy": "accuracy", "macro_f1": "macro F1",
                                 "balanced_accuracy": "balanced accuracy"}
#: Numeric labels with more distinct values than this are drawn on a continuous colour scale.
MAX_CATEGORIES = 12
_COLOURS = qualitative.Plotly
_SUMMARY_COLUMNS = ("method", "shots", "metric", "mean", "low", "high")


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = hex_to_rgb(colour)
    return f"rgba({r}, {g}, {b}, {alpha})"


def _layout(title: str, x_title: str, y_title: str, height: int) -> dict:
    return dict(template="none", font=_FONT, height=height, margin=dict(l=70, r=20, t=50, b=50),
                title=dict(text=title, x=0.01, xanchor="left"), hovermode="closest",
                xaxis=dict(title=dict(text=x_title), **_AXIS_STYLE),
                yaxis=dict(title=dict(text=y_title), **_AXIS_STYLE),
                legend=dict(x=1.02, xanchor="left", y=1, yanchor="top"))


# ---- few-shot curves ---------------------------------------------------------------------------
def shot_positions(shots) -> dict[int, float]:
    """Where each number of shots sits on the log x axis of :func:`few_shot_figure`.

    Parameters
    ----------
    shots : iterable of int
        Numbers of labelled windows per class; ``-1`` stands for all of them.

    Returns
    -------
    dict of int to float
        ``k > 0`` sits at ``k``; "all" (``-1``) one decade to the right of the largest ``k``
        (at 1 when there is no other ``k``).

    Raises
    ------
    ValueError
        If a number of shots is neither positive nor ``-1``.
    """
    ks = sorted({int(k) for k in shots})
    if any(k < 1 and k != -1 for k in ks):
        raise ValueError(f"shots must be positive integers or -1 (all), got {ks}")
    finite = [k for k in ks if k > 0]
    positions = {k: float(k) for k in finite}
    if -1 in ks:
        positions[-1] = 10.0 * max(finite) if finite else 1.0
    return positions


def _check_metric(metric: str) -> None:
    if metric not in CLASSIFICATION_METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(CLASSIFICATION_METRICS)}")


def few_shot_figure(summary: pd.DataFrame, metric: str = "macro_f1", methods: Sequence[str] | None = None,
                    shots: Sequence[int] | None = None, title: str | None = None, *, mark: int | None = None,
                    height: int = 440) -> go.Figure:
    """Few-shot curves: a score against labelled windows per class, one line and band per method.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`lsmkit.probe.summarise`'s table: columns ``method, shots, metric, mean, low, high``
        (``shots == -1`` means every labelled training window).
    metric : str, default "macro_f1"
        One of :data:`lsmkit.metrics.CLASSIFICATION_METRICS`; also picks the y-axis title.
    methods : sequence of str, optional
        The methods to draw, in this order; default every method, in the table's order.
    shots : sequence of int, optional
        The ``k`` values to draw (``-1`` for "all"); default every one in the table.
    title : str, optional
        Default: "Few-shot <metric>".
    mark : int, optional
        A ``k`` to mark with a vertical dotted line (e.g. the one a widget reads out).
    height : int, default 440

    Returns
    -------
    plotly.graph_objects.Figure
        The x axis is logarithmic; "all" sits one decade right of the largest ``k``
        (:func:`shot_positions`) and is labelled "all" through ``tickvals``/``ticktext``. Per method,
        in order: its interval band (``fill="toself"``, named "<method> interval", upper edge then
        lower edge back, no legend entry) and its line with markers (named after the method); both
        share ``legendgroup`` = the method, so clicking the legend hides both.
    """
    _check_metric(metric)
    missing = [c for c in _SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks columns {missing}; expected lsmkit.probe.summarise's table "
                         f"({', '.join(_SUMMARY_COLUMNS)})")
    rows = summary[summary["metric"] == metric]
    if rows.empty:
        raise ValueError(f"summary has no rows for metric {metric!r}; "
                         f"its metrics: {sorted(summary['metric'].unique())}")
    available = list(dict.fromkeys(rows["method"]))
    if methods is None:
        methods = available
    unknown = [m for m in methods if m not in available]
    if unknown:
        raise ValueError(f"methods {unknown} are not in the summary; its methods: {available}")
    if shots is not None:
        absent = sorted({int(k) for k in shots} - set(rows["shots"].astype(int)))
        if absent:
            raise ValueError(f"shots {absent} are not in the summary; its shots: {sorted(rows['shots'].unique())}")
        rows = rows[rows["shots"].astype(int).isin([int(k) for k in shots])]
    x_of = shot_positions(rows["shots"])
    order = sorted(x_of, key=x_of.get)

    traces = []
    for i, method in enumerate(methods):
        one = rows[rows["method"] == method].assign(x=lambda t: t["shots"].astype(int).map(x_of)).sort_values("x")
        colour = _COLOURS[i % len(_COLOURS)]
        x, low, high = one["x"].to_numpy(), one["low"].to_numpy(), one["high"].to_numpy()
        traces.append(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([high, low[::-1]]),
                                 fill="toself", fillcolor=_rgba(colour, 0.18), mode="lines", line=dict(width=0),
                                 name=f"{method} interval", legendgroup=method, showlegend=False, hoverinfo="skip"))
        labels = ["all" if k == -1 else str(k) for k in one["shots"].astype(int)]
        traces.append(go.Scatter(
            x=x, y=one["mean"], mode="lines+markers", name=method, legendgroup=method,
            line=dict(color=colour, width=2), marker=dict(color=colour, size=7), text=labels,
            customdata=np.stack([low, high], axis=1),  # (k, 2): the interval, for the hover
            hovertemplate=f"{method}<br>k = %{{text}}: %{{y:.3f}} [%{{customdata[0]:.3f}}, %{{customdata[1]:.3f}}]"
                          "<extra></extra>"))

    y_title = METRIC_TITLES[metric]
    layout = _layout(title or f"Few-shot {y_title}", "labelled windows per class", y_title, height)
    layout["xaxis"].update(type="log", tickvals=[x_of[k] for k in order],
                           ticktext=["all" if k == -1 else str(k) for k in order])
    if mark is not None:
        if int(mark) not in x_of:
            raise ValueError(f"mark={mark!r} is not one of the drawn shots {order}")
        layout["shapes"] = [dict(type="line", xref="x", yref="paper", x0=x_of[int(mark)], x1=x_of[int(mark)],
                                 y0=0, y1=1, line=dict(color="#555", width=1.5, dash="dot"))]
    return go.Figure(data=traces, layout=layout)


# ---- embeddings --------------------------------------------------------------------------------
def _is_continuous(labels: np.ndarray) -> bool:
    """Numeric (not boolean) labels with more than :data:`MAX_CATEGORIES` distinct values."""
    if labels.dtype.kind not in "iuf":
        return False
    return len(np.unique(labels[~np.isnan(labels)] if labels.dtype.kind == "f" else labels)) > MAX_CATEGORIES


def _category_name(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "missing" if np.isnan(value) else f"{value:.4g}"
    return str(value)


def _categories(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each label's category name ``(W,)`` and the category names in sorted order (numbers by value)."""
    if labels.dtype.kind == "f":
        missing = np.isnan(labels)
        names = np.array([_category_name(v) for v in labels.tolist()], dtype=object)
        values = np.unique(labels[~missing]).tolist()
        return names, list(dict.fromkeys(_category_name(v) for v in values)) + (["missing"] if missing.any() else [])
    if labels.dtype.kind in "biu":
        return labels.astype(str), [str(v) for v in np.unique(labels).tolist()]
    names = labels.astype(str)
    return names, np.unique(names).tolist()


def embedding_figure(points, labels, *, hover: Sequence[str] | None = None, title: str | None = None,
                     selected: int | None = None, height: int = 480) -> go.Figure:
    """Windows as points in two dimensions, coloured by a per-window label.

    Parameters
    ----------
    points : array-like, shape (W, 2)
        A projection of window embeddings, e.g. :func:`lsmkit.probe.project`.
    labels : array-like, shape (W,)
        Strings, booleans or numbers. Categorical labels (anything non-numeric, or numbers with at
        most :data:`MAX_CATEGORIES` distinct values) get one trace per category, in sorted order,
        with a legend (NaN is the category "missing"); other numbers get one trace on a continuous
        colour scale with a colour bar.
    hover : sequence of str, optional
        One hover text per window; default "window <position>".
    title : str, optional
    selected : int, optional
        A window position to ring: a last trace named "selected" with one large open marker.
    height : int, default 480

    Returns
    -------
    plotly.graph_objects.Figure
        Every trace's ``customdata`` holds the window positions of its points.
    """
    points = np.asarray(points, dtype=float)
    labels = np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (W, 2), got {points.shape}")
    n = len(points)
    if labels.shape != (n,):
        raise ValueError(f"labels must be one per point, shape ({n},), got {labels.shape}")
    if hover is not None and len(hover) != n:
        raise ValueError(f"hover must hold one text per point ({n}), got {len(hover)}")
    if selected is not None and (isinstance(selected, bool) or not isinstance(selected, (int, np.integer))
                                 or not 0 <= selected < n):
        raise ValueError(f"selected must be a window position in [0, {n}) or None, got {selected!r}")
    position = np.arange(n)
    texts = np.asarray(hover if hover is not None else [f"window {i}" for i in position], dtype=object)
    common = dict(type="scatter", mode="markers", hovertemplate="%{hovertext}<extra></extra>")

    traces = []
    if _is_continuous(labels):
        traces.append(dict(common, x=points[:, 0], y=points[:, 1], customdata=position, hovertext=texts,
                           name="windows", showlegend=False,
                           marker=dict(color=labels, colorscale="Viridis", showscale=True, size=7, opacity=0.85,
                                       colorbar=dict(thickness=12))))
    else:
        names, categories = _categories(labels)
        for i, name in enumerate(categories):
            keep = names == name
            traces.append(dict(common, x=points[keep, 0], y=points[keep, 1], customdata=position[keep],
                               hovertext=texts[keep], name=name,
                               marker=dict(color=_COLOURS[i % len(_COLOURS)], size=7, opacity=0.85)))
    if selected is not None:
        traces.append(dict(common, x=points[[selected], 0], y=points[[selected], 1], customdata=[int(selected)],
                           hovertext=texts[[selected]], name="selected", showlegend=False,
                           marker=dict(symbol="circle-open", size=18, color="black", line=dict(width=2.5))))
    layout = _layout(title or f"{n} windows", "dimension 1", "dimension 2", height)
    return go.Figure(data=traces, layout=layout)
