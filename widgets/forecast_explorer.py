"""ForecastExplorer: slide the forecast horizon and compare the model's forecast with baselines'.

A thin front-end over :func:`lsmkit.masks.extrapolation` and
:func:`lsmkit.plots.imputation_figure`: the last ``horizon`` minutes of one window are hidden, the
model and every baseline forecast them, and the FigureWidget and error readout update in place.
"""

from __future__ import annotations

from functools import partial

import ipywidgets as widgets
import numpy as np
import xarray as xr

from lsmkit import masks
from lsmkit.baselines import AutoRegressive, Linear, Nearest, SeasonalNaive, WindowMean
from lsmkit.channels import resolve_channel
from lsmkit.plots import DEFAULT_CHANNELS, imputation_figure

from ._window_explorer import WindowExplorer

__all__ = ["ForecastExplorer"]

# Baselines that treat every channel on its own: they are run on the shown channels only, which
# keeps an update quick (an AR fit per channel costs a few milliseconds).
WITHIN_CHANNEL = (WindowMean, Nearest, Linear, SeasonalNaive, AutoRegressive)


class ForecastExplorer(WindowExplorer):
    """Slide the forecast horizon over one window; see the model's and the baselines' forecasts.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch as long as the model's windows, e.g. ``lsmkit.load_sample()``.
    model : optional
        Anything with ``impute(windows, mask)``; default ``lsmkit.load_pretrained()``.
    baselines : dict of str to baseline, optional
        Display name -> anything with ``impute(windows, mask)``, all shown together. Default:
        ``"last value"`` (:class:`~lsmkit.baselines.Nearest`), ``"AR(5)"``
        (:class:`~lsmkit.baselines.AutoRegressive`) and ``"seasonal naive"``
        (:class:`~lsmkit.baselines.SeasonalNaive` over ``history``).
    history : xarray.Dataset, optional
        Earlier data of the same participants for the seasonal-naive forecast (recordings or
        windows); default the batch itself, whose earlier windows hold the day before.
    window : int, default 0
        Position in the batch of the window shown first.
    profile : str, default "full"
        Device profile (:data:`lsmkit.DEVICE_PROFILES`): the window as that device records it.
    horizon : int, default 60
        Minutes forecast, 10 to 120 in steps of 10.
    channels : sequence of str, default ``("heart_rate", "steps", "skin_temperature")``
        Channels drawn and scored.

    Attributes
    ----------
    participant, window, horizon, channels : ipywidgets controls
    figure : plotly.graph_objects.FigureWidget
        :func:`lsmkit.plots.imputation_figure` of the window, updated in place.
    readout : ipywidgets.HTML
        MSE of every method over the forecast minutes of the shown channels.
    errors : dict
        The same numbers: method name -> MSE on z-scored values; ``n_scored`` counts the values.

    Notes
    -----
    Baselines that work channel by channel (``WITHIN_CHANNEL``) see only the shown channels, so
    an update costs one forecast per shown channel; the model and cross-channel baselines see the
    whole window. Their forecasts are the same either way.
    """

    controls = ("participant", "window", "profile", "horizon", "channels")

    def __init__(self, windows: xr.Dataset, model=None, baselines=None, *, history: xr.Dataset | None = None,
                 window: int = 0, horizon: int = 60, channels=DEFAULT_CHANNELS, profile: str = "full"):
        def default_baselines():
            return {"last value": Nearest(), "AR(5)": AutoRegressive(lags=5),
                    "seasonal naive": SeasonalNaive(history=self.windows if history is None else history)}

        super().__init__(windows, model, baselines, default_baselines, window, profile)
        self.horizon = widgets.IntSlider(value=horizon, min=10, max=120, step=10, description="horizon (min)",
                                         continuous_update=False, style={"description_width": "initial"})
        self.channels = widgets.SelectMultiple(options=list(self.windows["channel"].values), rows=7,
                                               value=[resolve_channel(c) for c in channels], description="channels")
        for control in (self.horizon, self.channels):
            control.observe(self.refresh, names="value")
        left = widgets.VBox([self.participant, self.window, self.profile, self.horizon])
        self._start(widgets.HBox([left, self.channels]), "lsmkit-forecast-explorer")

    def _draw(self):
        shown = list(self.channels.value)
        if not shown:
            raise ValueError("no channel selected: select at least one channel to forecast")
        one, horizon = self.one(), self.horizon.value
        window = (self.window.value, self.profile.value)  # what the cache keys need to tell fills apart
        mask = self.cached(("mask", window, horizon), partial(masks.extrapolation, one, horizon))
        fills = {self.model_name: self.cached(("model", window, horizon), partial(self.model.impute, one, mask))}
        few, few_mask = one.sel(channel=shown), mask.sel(channel=shown)
        for name, baseline in self.baselines.items():
            if isinstance(baseline, SeasonalNaive) and baseline.history is not None:
                baseline = self.cached(("history", name, self.participant.value), partial(self._own_history, baseline))
            if isinstance(baseline, WITHIN_CHANNEL):  # the shown channels are enough
                channels, call = tuple(shown), partial(baseline.impute, few, few_mask)
            else:
                channels, call = (), partial(baseline.impute, one, mask)
            fills[name] = self.cached(("baseline", name, window, horizon, *channels), call)
        readout = self.score(fills, one, mask, channels=shown)
        return imputation_figure(few, few_mask, fills, channels=shown), readout

    def _own_history(self, baseline: SeasonalNaive) -> SeasonalNaive:
        """``baseline`` with its history cut to the participant on show: the same forecasts, as it
        only ever looks up that participant, for a tenth of the work on an eight-person batch."""
        history = baseline.history
        lead = "participant" if "participant" in history.dims else "window"
        rows = np.flatnonzero(history["participant"].values == self.participant.value)
        return SeasonalNaive(history=history.isel({lead: rows}), period=baseline.period)
