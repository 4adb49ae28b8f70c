"""Input checks and per-minute helpers the featurisers share (see :mod:`lsmkit.features`)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..channels import get_channel

#: Seconds of a minute (of 60) that must hold a sample for a sampled stream to give a value.
MIN_SECONDS = 30
_NS_PER_MIN, _NS_PER_S = 60 * 10**9, 10**9


def _times(times, name: str = "times") -> np.ndarray:
    """``times`` as int64 ns since the epoch, UTC; strictly increasing, no NaT."""
    if isinstance(times, (pd.Series, pd.Index)) and isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.tz_convert("UTC").tz_localize(None)
    arr = np.asarray(times)
    if arr.dtype == object and arr.size and all(isinstance(t, pd.Timestamp) for t in arr.ravel()):
        arr = np.asarray(pd.DatetimeIndex(arr, tz=None if arr.ravel()[0].tz is None else "UTC").tz_localize(None))
    if not np.issubdtype(arr.dtype, np.datetime64):
        raise TypeError(f"{name} must be datetime64 (numpy or pandas, naive UTC or tz-aware), got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if np.isnat(arr).any():
        raise ValueError(f"{name} holds NaT at index {int(np.flatnonzero(np.isnat(arr))[0])}")
    ns = arr.astype("datetime64[ns]").astype(np.int64)
    bad = np.flatnonzero(np.diff(ns) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise ValueError(f"{name} must be strictly increasing; {name}[{i}] = {arr[i]} is not after "
                         f"{name}[{i - 1}] = {arr[i - 1]}")
    return ns


def _values(values, name: str, n: int, columns: int | None = None, minimum: float | None = None) -> np.ndarray:
    """``values`` as float, ``n`` long (``(n, columns)`` when given), finite, at least ``minimum``."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers, got {type(values).__name__}") from None
    shape = (n,) if columns is None else (n, columns)
    if arr.ndim != len(shape) or (columns is not None and arr.shape[1] != columns):
        raise ValueError(f"{name} must have shape {('n',) if columns is None else ('n', columns)}, got {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} samples but times has {n}; they must match one to one")
    bad = ~np.isfinite(arr) if arr.ndim == 1 else ~np.isfinite(arr).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{i}] = {arr[i]} is not finite; drop missing samples before featurising")
    if minimum is not None and (arr < minimum).any():
        i = int(np.flatnonzero(arr < minimum)[0])
        raise ValueError(f"{name}[{i}] = {arr[i]} is below {minimum}, which is physically impossible")
    return arr


def _check_option(value, name: str, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _minutes(ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The minutes (ns of their start) holding samples, and each sample's row in them."""
    minute = ns // _NS_PER_MIN
    starts, row = np.unique(minute, return_inverse=True)
    return starts * _NS_PER_MIN, row


def _seconds_covered(ns: np.ndarray, row: np.ndarray, n_rows: int) -> np.ndarray:
    """Distinct whole seconds holding a sample, per minute row."""
    second = ns // _NS_PER_S
    first = np.r_[True, second[1:] != second[:-1]][: second.size]  # times are sorted, so seconds are too
    return np.bincount(row[first], minlength=n_rows)


def _frame(starts: np.ndarray, columns: dict, on_out_of_range: str, what: str) -> pd.DataFrame:
    index = pd.DatetimeIndex(starts.astype("datetime64[ns]"), name="timestamp")
    frame = pd.DataFrame({c: np.asarray(v, dtype=float) for c, v in columns.items()}, index=index)
    if on_out_of_range == "keep":
        return frame
    counts = {}
    for c in frame.columns:
        lo, hi = get_channel(c).valid_range
        bad = (frame[c] < lo) | (frame[c] > hi)
        if bad.any():
            if on_out_of_range == "raise":
                first = frame.index[bad.to_numpy()][0]
                raise ValueError(f"{what}: {c} = {frame.at[first, c]:.6g} in the minute {first} is outside its "
                                 f"plausible range [{lo:g}, {hi:g}]")
            counts[c] = int(bad.sum())
            frame.loc[bad, c] = np.nan
    if counts:
        warnings.warn(f"{what}: set to NaN the minutes outside the plausible range: "
                      + ", ".join(f"{c} ({k})" for c, k in counts.items()), UserWarning, stacklevel=3)
    return frame


def _slope_per_minute(ns: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of ``values`` against time, in units per minute (NaN for < 2 samples)."""
    if values.size < 2:
        return np.nan
    t = (ns - ns[0]) / _NS_PER_MIN
    t = t - t.mean()
    return float((t * (values - values.mean())).sum() / (t * t).sum())


def _check_min_seconds(min_seconds) -> None:
    if isinstance(min_seconds, bool) or not isinstance(min_seconds, (int, np.integer)) or not 1 <= min_seconds <= 60:
        raise ValueError(f"min_seconds must be an integer from 1 to 60, got {min_seconds!r}")
