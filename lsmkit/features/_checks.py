"""Input checks and per-minute helpers the featurisers share (see :mod:`lsmkit.features`)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..channels import get_channel

#: Seconds of a minute (of 60) that must hold a sample for a sampled stream to give a value.
MIN_SECONDS = 30
_NS_PER_MIN, _NS_PER_S = 60 * 10**9, 10**9
_BLOCK = 1 << 20  # samples checked at a time, so that the checks' temporaries stay small however long the stream


def _first(bad, n: int) -> int | None:
    """The first index below ``n`` where ``bad(a, b)`` (a boolean array for the indices ``a .. b - 1``) is true,
    a block at a time; None where it is nowhere."""
    for a in range(0, n, _BLOCK):
        hit = np.flatnonzero(bad(a, min(a + _BLOCK, n)))
        if hit.size:
            return a + int(hit[0])
    return None


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
    i = _first(lambda a, b: np.isnat(arr[a:b]), arr.size)
    if i is not None:
        raise ValueError(f"{name} holds NaT at index {i}")
    ns = arr.astype("datetime64[ns]", copy=False).view(np.int64)  # a view of datetime64[ns] input: no copy
    i = _first(lambda a, b: ns[a + 1:b + 1] <= ns[a:b], ns.size - 1)  # the first i with times[i + 1] <= times[i]
    if i is not None:
        raise ValueError(f"{name} must be strictly increasing; {name}[{i + 1}] = {arr[i + 1]} is not after "
                         f"{name}[{i}] = {arr[i]}")
    return ns


def _values(values, name: str, n: int, columns: int | None = None, minimum: float | None = None, *,
            any_float: bool = False) -> np.ndarray:
    """``values`` as float, ``n`` long (``(n, columns)`` when given), finite, at least ``minimum``; with
    ``any_float`` an array of any float dtype is kept as it is (a long float32 stream is not copied to float64)."""
    try:
        arr = np.asarray(values)
        if not (any_float and arr.dtype.kind == "f"):
            arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers, got {type(values).__name__}") from None
    shape = (n,) if columns is None else (n, columns)
    if arr.ndim != len(shape) or (columns is not None and arr.shape[1] != columns):
        raise ValueError(f"{name} must have shape {('n',) if columns is None else ('n', columns)}, got {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} samples but times has {n}; they must match one to one")
    i = _first(lambda a, b: ~np.isfinite(arr[a:b]).reshape(b - a, -1).all(axis=1), n)
    if i is not None:
        raise ValueError(f"{name}[{i}] = {arr[i]} is not finite; drop missing samples before featurising")
    i = None if minimum is None else _first(lambda a, b: arr[a:b] < minimum, n)
    if i is not None:
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
