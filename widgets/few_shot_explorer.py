"""FewShotExplorer: few-shot curves of downstream probes, and every method's score at one k.

A thin front-end over :func:`lsmkit.probe.summarise` (means over draws with bootstrap intervals)
and :func:`lsmkit.probe_plots.few_shot_figure`: the controls pick the metric, the methods and the
``k`` read out; the FigureWidget and the readout are updated in place.
"""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from lsmkit.metrics import CLASSIFICATION_METRICS
from lsmkit.probe_plots import METRIC_TITLES, few_shot_figure

from ._figure import ExplorerBox, replace_figure

__all__ = ["FewShotExplorer"]


class FewShotExplorer(ExplorerBox):
    """Metric, method and ``k`` controls over live few-shot curves and a ranked readout.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`lsmkit.probe.few_shot`'s per-draw table: columns ``method, shots, draw`` and one
        or more of :data:`lsmkit.metrics.CLASSIFICATION_METRICS` (``shots == -1`` means "all").
    metric : str, default "macro_f1"
        The score shown first.
    n_boot : int, default 1000
        Bootstrap replicates over draws for the intervals.
    rng : int, default 0
        Seed of the bootstrap. The intervals of a metric are those of
        ``summarise(table[["method", "shots", "draw", metric]], n_boot=n_boot, rng=rng)``,
        computed once per metric and cached, so toggling methods or moving ``k`` is instant.

    Attributes
    ----------
    metric, methods, k : ipywidgets controls (``Dropdown``, ``SelectMultiple``, ``SelectionSlider``)
    figure : plotly.graph_objects.FigureWidget
        The curves (:func:`~lsmkit.probe_plots.few_shot_figure`) with a dotted line at ``k``.
    readout : ipywidgets.HTML
        Each selected method's mean and interval at ``k``, best first.
    at_k : pandas.DataFrame
        The rows behind the readout: ``method, mean, low, high, draws``, best first.
    message : ipywidgets.HTML
        Says why the figure did not change (e.g. no method selected); empty otherwise.
    """

    def __init__(self, table: pd.DataFrame, *, metric: str = "macro_f1", n_boot: int = 1000, rng=0):
        metrics = [m for m in CLASSIFICATION_METRICS if m in table.columns]
        missing = [c for c in ("method", "shots", "draw") if c not in table.columns]
        if missing or not metrics:
            raise ValueError(f"expected lsmkit.probe.few_shot's table: columns method, shots, draw and scores "
                             f"({', '.join(CLASSIFICATION_METRICS)}); got {list(table.columns)}")
        if metric not in metrics:
            raise ValueError(f"unknown metric {metric!r}; this table has {', '.join(metrics)}")
        if "task" in table.columns and table["task"].nunique() > 1:
            raise ValueError(f"the table holds several tasks ({', '.join(map(str, table['task'].unique()))}); "
                             "pick one, e.g. table[table['task'] == 'activity']")
        self.table, self.n_boot, self.rng = table, n_boot, rng
        self._summaries: dict[str, pd.DataFrame] = {}
        shots = sorted(table["shots"].astype(int).unique(), key=lambda k: (k == -1, k))  # "all" last

        self.metric = widgets.Dropdown(options=[(METRIC_TITLES[m], m) for m in metrics], value=metric,
                                       description="metric")
        names = list(dict.fromkeys(table["method"]))
        self.methods = widgets.SelectMultiple(options=names, value=names, rows=min(len(names), 6),
                                              description="methods")
        self.k = widgets.SelectionSlider(options=[("all" if k == -1 else str(k), int(k)) for k in shots],
                                         value=int(shots[0]), description="k per class", continuous_update=False)
        self.readout, self.message = widgets.HTML(), widgets.HTML()
        self.figure = go.FigureWidget()
        self.refresh()

        for control in (self.metric, self.methods, self.k):
            control.observe(self.refresh, names="value")
        controls = widgets.HBox([widgets.VBox([self.metric, self.k, self.message]), self.methods, self.readout])
        super().__init__([controls, self.figure])
        self.add_class("lsmkit-few-shot-explorer")  # a stable hook for styling and browser tests

    def summary(self, metric: str | None = None) -> pd.DataFrame:
        """:func:`lsmkit.probe.summarise` of one metric, cached.

        Parameters
        ----------
        metric : str, optional
            A metric column of the table; default the current choice.

        Returns
        -------
        pandas.DataFrame
        """
        metric = metric or self.metric.value
        if metric not in self._summaries:
            from lsmkit.probe import summarise  # lsmkit.probe imports PyTorch: only when needed

            self._summaries[metric] = summarise(self.table[["method", "shots", "draw", metric]],
                                                n_boot=self.n_boot, rng=self.rng)
        return self._summaries[metric]

    def refresh(self, change=None) -> None:
        """Redraw the figure and the readout from the current controls.

        Parameters
        ----------
        change : dict, optional
            The traitlets change that triggered it (ignored); ``None`` when called directly.
        """
        if not self.methods.value:  # keep the last figure, say why
            self.message.value = "<span style='color:#b00'>select at least one method</span>"
            return
        summary, methods = self.summary(), list(self.methods.value)
        new = few_shot_figure(summary, self.metric.value, methods=methods, mark=self.k.value)
        replace_figure(self.figure, new)
        rows = summary[(summary["shots"].astype(int) == self.k.value) & summary["method"].isin(methods)]
        self.at_k = rows[["method", "mean", "low", "high", "draws"]].sort_values("mean", ascending=False,
                                                                                  kind="stable").reset_index(drop=True)
        self.message.value = ""
        self.readout.value = self._readout()

    def _readout(self) -> str:
        k = "all labelled windows" if self.k.value == -1 else f"k = {self.k.value} per class"
        rows = "".join(f"<tr><td>{r.method}</td><td><b>{r.mean:.3f}</b></td><td>[{r.low:.3f}, {r.high:.3f}]</td>"
                       f"<td>{r.draws}</td></tr>" for r in self.at_k.itertuples())
        return (f"<div style='font-size:12px'>{METRIC_TITLES[self.metric.value]} at {k}, best first"
                f"<table><tr><th>method</th><th>mean</th><th>95% interval</th><th>draws</th></tr>{rows}</table></div>")
