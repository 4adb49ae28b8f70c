"""Raw wearable streams in, per-minute LSM channels out: the one definition of every channel.

Each featuriser takes one raw stream (sample times and values) and returns a DataFrame indexed
by the minute's start (naive UTC ``datetime64[ns]``, index name ``"timestamp"``) with canonical
channel names as columns. Device readers (:mod:`lsmkit.io`) hand these frames to
:func:`lsmkit.read_table`; the simulator shares the beat-interval statistics
(:func:`rr_statistics`, used by :mod:`lsmkit.physiology`), so simulated and real channels mean
the same.

Conventions shared by every featuriser
--------------------------------------
* **Window**: the UTC minute. A sample (or a beat interval, by its end time) belongs to the
  minute that contains its time; timezone-aware times are converted to UTC first, naive times
  are taken as UTC.
* **Rows**: one per minute that holds at least one sample; a minute with too little data is a
  row of NaN. Minutes without any sample are not rows (``read_table`` puts them on its grid).
* **Enough data**: a sampled stream (accelerometer, EDA, temperature, altitude, heart rate)
  needs samples in at least ``min_seconds`` (default :data:`MIN_SECONDS` = 30) of the minute's
  60 whole seconds. Beat channels need valid intervals covering a share of the minute
  (:data:`MIN_HEART_RATE_COVERAGE`, :data:`MIN_HRV_COVERAGE`).
* **Bad input** raises ``TypeError`` (not datetimes, not numbers) or ``ValueError`` naming the
  argument and the first bad index: lengths that differ, wrong shape, times not strictly
  increasing or NaT, values NaN/inf or physically impossible (negative intervals or
  conductance).
* **Plausibility**: a computed value outside its channel's range (:func:`lsmkit.get_channel`)
  is set to NaN and counted in one warning per call (``on_out_of_range="nan"``, the default),
  raises (``"raise"``) or is kept for :func:`lsmkit.read_table` to judge (``"keep"``).

The channel definitions are given in each function's docstring. The LSM paper names the
features but does not define them (``LSM_REFERENCE.md``); where a choice was needed it follows
common open toolboxes (RMSSD/SDNN as in neurokit2 ``hrv_time``, tested against it) and is stated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..channels import CHANNEL_NAMES
from ._checks import MIN_SECONDS
from .heart import (ENTROPY_BIN_MS, MIN_HEART_RATE_COVERAGE, MIN_HRV_COVERAGE, RR_MAX_DEVIATION, RR_RANGE_MS,
                    beats_to_minutes, rr_statistics, shannon_entropy, valid_beats)
from .motion import (MIN_ACCELEROMETER_HZ, STEP_BAND_HZ, STEP_MIN_G, STEP_MIN_INTERVAL_S,
                     accelerometer_to_minutes)
from .sampled import (EDA_CONTACT_US, altitude_to_minutes, eda_to_minutes, heart_rate_to_minutes,
                      temperature_to_minutes)

__all__ = [
    "ENTROPY_BIN_MS", "MIN_SECONDS", "MIN_HEART_RATE_COVERAGE", "MIN_HRV_COVERAGE", "RR_RANGE_MS",
    "RR_MAX_DEVIATION", "MIN_ACCELEROMETER_HZ", "STEP_BAND_HZ", "STEP_MIN_G", "STEP_MIN_INTERVAL_S",
    "EDA_CONTACT_US", "shannon_entropy", "rr_statistics", "valid_beats", "beats_to_minutes",
    "heart_rate_to_minutes", "accelerometer_to_minutes", "eda_to_minutes", "temperature_to_minutes",
    "altitude_to_minutes", "streams_to_minutes", "join_minutes",
]


_FEATURISERS = {
    "beats": beats_to_minutes,
    "accelerometer": accelerometer_to_minutes,
    "eda": eda_to_minutes,
    "temperature": temperature_to_minutes,
    "altitude": altitude_to_minutes,
    "heart_rate": heart_rate_to_minutes,
}


def streams_to_minutes(*, on_out_of_range: str = "nan", **streams) -> pd.DataFrame:
    """Several raw streams of one participant -> one wide per-minute DataFrame for ``read_table``.

    Parameters
    ----------
    on_out_of_range : {"nan", "raise", "keep"}, default "nan"
        Passed to every featuriser.
    **streams
        Any of ``beats``, ``accelerometer``, ``eda``, ``temperature``, ``altitude``,
        ``heart_rate``; each a tuple of the featuriser's positional arguments
        (``(times, rr_ms)``, ``(times, xyz_g[, rate_hz])``, ...) or a dict of its keyword
        arguments. ``None`` leaves a stream out.

    Returns
    -------
    pandas.DataFrame
        The featurisers' frames joined on the minute (outer join, index ``"timestamp"``,
        columns in canonical order). ``heart_rate`` comes from ``beats`` where they give one and
        from the ``heart_rate`` samples elsewhere (a device's own estimate is the fallback, the
        beats the definition).
    """
    unknown = sorted(set(streams) - set(_FEATURISERS))
    if unknown:
        raise ValueError(f"unknown streams {unknown}; expected any of {list(_FEATURISERS)}")
    frames = {}
    for name, args in streams.items():
        if args is None:
            continue
        if isinstance(args, dict):
            frames[name] = _FEATURISERS[name](**args, on_out_of_range=on_out_of_range)
        elif isinstance(args, (tuple, list)):
            frames[name] = _FEATURISERS[name](*args, on_out_of_range=on_out_of_range)
        else:
            raise TypeError(f"stream {name!r} must be a tuple of arguments or a dict of keyword arguments, "
                            f"got {type(args).__name__}")
    return join_minutes(**frames)


def join_minutes(**frames) -> pd.DataFrame:
    """Join featurised streams on the minute.

    Outer join, canonical column order, ``heart_rate`` from ``beats`` where they give one and from
    the ``heart_rate`` frame elsewhere.

    Parameters
    ----------
    **frames
        The featurisers' frames, keyed as in :func:`streams_to_minutes` (``beats``,
        ``accelerometer``, ``eda``, ``temperature``, ``altitude``, ``heart_rate``); ``None``
        leaves a stream out.

    Returns
    -------
    pandas.DataFrame
        One row per minute (index ``"timestamp"``), columns in canonical order.

    Raises
    ------
    ValueError
        For an unknown stream name.
    """
    unknown = sorted(set(frames) - set(_FEATURISERS))
    if unknown:
        raise ValueError(f"unknown streams {unknown}; expected any of {list(_FEATURISERS)}")
    frames = {k: v for k, v in frames.items() if v is not None}
    fallback = frames.pop("heart_rate", None)
    joined = pd.concat(list(frames.values()), axis=1, join="outer") if frames else pd.DataFrame()
    if fallback is not None:
        joined = joined.reindex(joined.index.union(fallback.index))
        base = joined["heart_rate"] if "heart_rate" in joined else pd.Series(np.nan, index=joined.index)
        joined["heart_rate"] = base.fillna(fallback["heart_rate"].reindex(joined.index))
    joined.index = pd.DatetimeIndex(joined.index, name="timestamp").astype("datetime64[ns]")
    return joined[[c for c in CHANNEL_NAMES if c in joined.columns]].sort_index()
