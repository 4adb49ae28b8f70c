"""Errors of a fill against the truth, counted only where the task hid a truly observed value.

The paper scores MSE on z-scored values; z-scoring here uses each channel's default statistics
from :data:`lsmkit.CHANNELS` unless ``std`` is given, so numbers are comparable across methods
and models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .channels import get_channel

__all__ = ["scored_errors", "error_table"]


def _reference(windows: xr.Dataset, truth: str | None) -> xr.DataArray:
    """What a fill is compared with: ``truth`` (simulated gap truth) or the observed signal."""
    if truth is None:
        return windows["signal"]
    if truth not in windows:
        raise ValueError(f"windows have no {truth!r} variable; variables: {sorted(windows.data_vars)}")
    return windows[truth]


def scored_errors(filled: xr.Dataset, windows: xr.Dataset, mask: xr.DataArray, *, truth: str | None = None,
                  std: xr.DataArray | None = None) -> xr.Dataset:
    """Per-channel squared and absolute errors over the scored entries.

    Scored entries are hidden by ``mask`` and observed in ``windows["signal"]`` (or, with
    ``truth="truth"``, present in the simulator's gap truth, so real-looking gaps can be scored).
    Returns a Dataset over ``channel`` with ``mse`` (z-scored), ``mae`` (physical units) and ``n``.
    """
    reference = _reference(windows, truth)
    scored = mask & reference.notnull()
    if std is None:
        std = xr.DataArray([get_channel(c).std for c in windows["channel"].values], dims="channel",
                           coords={"channel": windows["channel"]})
    error = (filled["signal"] - reference).where(scored)
    dims = [d for d in error.dims if d != "channel"]
    return xr.Dataset({
        "mse": ((error / std) ** 2).mean(dims),
        "mae": np.abs(error).mean(dims),
        "n": scored.sum(dims),
    })


def error_table(fills: dict[str, xr.Dataset], windows: xr.Dataset, mask: xr.DataArray, **kwargs) -> pd.DataFrame:
    """One row per method and scored channel (``mse`` z-scored, ``mae`` physical, ``n`` values),
    plus an ``all`` row per method pooling every scored value."""
    rows = []
    for method, filled in fills.items():
        errors = scored_errors(filled, windows, mask, **kwargs)
        frame = errors.to_dataframe()[["mse", "mae", "n"]]
        frame = frame[frame["n"] > 0]
        weights = frame["n"] / frame["n"].sum()
        pooled = pd.DataFrame({"mse": [(frame["mse"] * weights).sum()], "mae": [np.nan], "n": [frame["n"].sum()]},
                              index=pd.Index(["all"], name="channel"))
        rows.append(pd.concat([frame, pooled]).assign(method=method))
    return pd.concat(rows).reset_index().set_index(["method", "channel"])
