"""Classical imputation baselines with the model's interface: ``method(windows, mask) -> windows``.

Each returns a Dataset shaped like ``windows`` whose ``signal`` keeps every observed, unhidden
value and fills the hidden and missing ones. Fallbacks are documented per method and never crash:
a window-channel with no visible value at all is filled with the channel's default mean from
:data:`lsmkit.CHANNELS` (the only thing known about it).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .channels import get_channel
from .data import validate_windows

__all__ = ["window_mean", "nearest", "linear", "BASELINES"]


def _visible(windows: xr.Dataset, mask: xr.DataArray | None) -> np.ndarray:
    """(W, T, C) float array of what a method may see: observed and not hidden, NaN elsewhere."""
    validate_windows(windows)
    signal = windows["signal"].transpose("window", "time", "channel").values.astype(np.float32)
    if mask is None:
        return signal
    mask = mask.transpose("window", "time", "channel")
    if "channel" in mask.coords:  # align by name, as the model wrapper does, not by position
        unknown = set(mask["channel"].values) - set(windows["channel"].values)
        if unknown:
            raise ValueError(f"mask has channels {sorted(unknown)} that the windows do not")
        mask = mask.reindex(channel=windows["channel"].values, fill_value=False)
    hidden = mask.values
    if hidden.shape != signal.shape:
        raise ValueError(f"mask shape {hidden.shape} differs from the windows' {signal.shape}")
    return np.where(hidden, np.nan, signal)


def _defaults(windows: xr.Dataset) -> np.ndarray:
    return np.array([get_channel(c).mean for c in windows["channel"].values], dtype=np.float32)  # (C,)


def _output(windows: xr.Dataset, visible: np.ndarray, filled: np.ndarray) -> xr.Dataset:
    values = np.where(np.isnan(visible), filled, visible).astype(np.float32)
    out = windows.copy()
    out["signal"] = windows["signal"].transpose("window", "time", "channel").copy(data=values)
    out["signal"] = out["signal"].transpose(*windows["signal"].dims)
    return out


def window_mean(windows: xr.Dataset, mask: xr.DataArray | None = None) -> xr.Dataset:
    """Each channel's mean over the visible minutes of its window."""
    visible = _visible(windows, mask)
    with np.errstate(invalid="ignore"):
        count = (~np.isnan(visible)).sum(axis=1)  # (W, C)
        mean = np.nansum(visible, axis=1) / np.maximum(count, 1)
    mean = np.where(count > 0, mean, _defaults(windows))
    return _output(windows, visible, np.broadcast_to(mean[:, None, :], visible.shape))


def _interpolate(visible: np.ndarray, defaults: np.ndarray, kind: str) -> np.ndarray:
    W, T, C = visible.shape
    t = np.arange(T)
    filled = np.empty_like(visible)
    for w in range(W):
        for c in range(C):
            y = visible[w, :, c]
            seen = np.flatnonzero(~np.isnan(y))
            if not len(seen):
                filled[w, :, c] = defaults[c]
            elif kind == "linear":  # constant beyond the first and last visible minute
                filled[w, :, c] = np.interp(t, seen, y[seen])
            else:  # nearest visible minute; ties go to the earlier one
                right = np.clip(np.searchsorted(seen, t), 0, len(seen) - 1)
                left = np.clip(right - 1, 0, len(seen) - 1)
                pick = np.where(np.abs(seen[left] - t) <= np.abs(seen[right] - t), seen[left], seen[right])
                filled[w, :, c] = y[pick]
    return filled


def nearest(windows: xr.Dataset, mask: xr.DataArray | None = None) -> xr.Dataset:
    """The value of the nearest visible minute in the same channel (carried forward or back)."""
    visible = _visible(windows, mask)
    return _output(windows, visible, _interpolate(visible, _defaults(windows), "nearest"))


def linear(windows: xr.Dataset, mask: xr.DataArray | None = None) -> xr.Dataset:
    """Linear interpolation in time between visible minutes; constant beyond the first and last."""
    visible = _visible(windows, mask)
    return _output(windows, visible, _interpolate(visible, _defaults(windows), "linear"))


BASELINES = {"window mean": window_mean, "nearest": nearest, "linear interpolation": linear}
