"""Sampled streams -> per-minute channels: EDA, skin temperature, barometric altitude, a device's
heart-rate samples (see :mod:`lsmkit.features` for the conventions)."""

from __future__ import annotations

import numpy as np

from ._checks import (MIN_SECONDS, _NS_PER_S, _check_min_seconds, _check_option, _frame, _minutes,
                      _seconds_covered, _slope_per_minute, _times, _values)

#: EDA at or below this (uS) means the electrodes lost skin contact.
EDA_CONTACT_US = 0.02


def _sampled(what, times, values, name, min_seconds, on_out_of_range, measure, columns, minimum=None):
    """Apply ``measure(ns, values) -> {channel: value}`` to each minute with enough seconds covered."""
    _check_option(on_out_of_range, "on_out_of_range", ("nan", "raise", "keep"))
    _check_min_seconds(min_seconds)
    ns = _times(times)
    v = _values(values, name, ns.size, minimum=minimum)
    starts, row = _minutes(ns)
    enough = _seconds_covered(ns, row, starts.size) >= min_seconds
    bounds = np.searchsorted(row, np.arange(starts.size + 1))
    out = {c: np.full(starts.size, np.nan) for c in columns}
    for r in np.flatnonzero(enough):
        part = slice(bounds[r], bounds[r + 1])
        for channel, value in measure(ns[part], v[part]).items():
            out[channel][r] = value
    return _frame(starts, out, on_out_of_range, what)


def _eda_minute(ns, us, min_seconds):
    contact = us > EDA_CONTACT_US
    second = (ns // _NS_PER_S) % 60
    share = np.bincount(second, weights=contact, minlength=60) / np.maximum(np.bincount(second, minlength=60), 1)
    seconds = int((share >= 0.5).sum())
    if seconds < min_seconds:
        return {"scl": np.nan, "scl_slope": np.nan, "eda_lead_contact": float(seconds)}
    return {"scl": us[contact].mean(), "scl_slope": _slope_per_minute(ns[contact], us[contact]),
            "eda_lead_contact": float(seconds)}


def eda_to_minutes(times, microsiemens, *, min_seconds: int = MIN_SECONDS, on_out_of_range: str = "nan"):
    """Electrodermal activity (uS, any rate, e.g. 4 Hz) -> ``scl``, ``scl_slope``, ``eda_lead_contact``.

    A sample has lead contact when it exceeds :data:`EDA_CONTACT_US` (0.02 uS: an open circuit
    reads about zero). ``eda_lead_contact`` counts the seconds of the minute (0-60, a 1 Hz
    equivalent whatever the rate) in which at least half the samples have contact. ``scl`` is
    the mean and ``scl_slope`` the least-squares slope (uS/min) of the contact samples, NaN when
    fewer than ``min_seconds`` seconds have contact. Minutes with samples in fewer than
    ``min_seconds`` seconds are NaN throughout.

    Parameters
    ----------
    times : array-like of datetime64
        Sample times, strictly increasing; naive UTC or tz-aware.
    microsiemens : array-like of float
        Skin conductance (uS), one per time, not negative.
    min_seconds : int, default MIN_SECONDS
        Seconds of the minute (of its 60 whole seconds, 1 to 60) that must hold samples.
    on_out_of_range : {"nan", "raise", "keep"}, default "nan"
        What to do with a value outside its channel's plausible range (see :mod:`lsmkit.features`).

    Returns
    -------
    pandas.DataFrame
        Per minute (index ``"timestamp"``): ``scl``, ``scl_slope`` and ``eda_lead_contact``.

    Raises
    ------
    TypeError
        If ``times`` are not datetimes or the values not numbers.
    ValueError
        For bad input (see :mod:`lsmkit.features`): lengths that differ, times not strictly
        increasing or NaT, values NaN or infinite or negative conductance, ``min_seconds`` not an
        integer from 1 to 60, an unknown ``on_out_of_range``, or (with ``"raise"``) a value
        outside its plausible range.
    """
    return _sampled("eda_to_minutes", times, microsiemens, "microsiemens", min_seconds, on_out_of_range,
                    lambda ns, v: _eda_minute(ns, v, min_seconds), ("scl", "scl_slope", "eda_lead_contact"),
                    minimum=0.0)


def temperature_to_minutes(times, celsius, *, min_seconds: int = MIN_SECONDS, on_out_of_range: str = "nan"):
    """Skin temperature (degC, any rate) -> ``skin_temperature`` and ``skin_temperature_slope``.

    ``skin_temperature`` is the mean of the minute's samples and ``skin_temperature_slope`` their
    least-squares slope (degC/min; NaN with one sample). Minutes with samples in fewer than
    ``min_seconds`` seconds are NaN; pass ``min_seconds=1`` for a logger that samples once a
    minute.

    Parameters
    ----------
    times : array-like of datetime64
        Sample times, strictly increasing; naive UTC or tz-aware.
    celsius : array-like of float
        Skin temperature (degC), one per time.
    min_seconds : int, default MIN_SECONDS
        Seconds of the minute (of its 60 whole seconds, 1 to 60) that must hold samples.
    on_out_of_range : {"nan", "raise", "keep"}, default "nan"
        What to do with a value outside its channel's plausible range (see :mod:`lsmkit.features`).

    Returns
    -------
    pandas.DataFrame
        Per minute (index ``"timestamp"``): ``skin_temperature`` and ``skin_temperature_slope``.

    Raises
    ------
    TypeError
        If ``times`` are not datetimes or the values not numbers.
    ValueError
        For bad input (see :mod:`lsmkit.features`): lengths that differ, times not strictly
        increasing or NaT, values NaN or infinite, ``min_seconds`` not an
        integer from 1 to 60, an unknown ``on_out_of_range``, or (with ``"raise"``) a value
        outside its plausible range.
    """
    return _sampled("temperature_to_minutes", times, celsius, "celsius", min_seconds, on_out_of_range,
                    lambda ns, v: {"skin_temperature": v.mean(), "skin_temperature_slope": _slope_per_minute(ns, v)},
                    ("skin_temperature", "skin_temperature_slope"))


def altitude_to_minutes(times, metres, *, min_seconds: int = MIN_SECONDS, on_out_of_range: str = "nan"):
    """Barometric altitude (m, any rate) -> ``altitude_std``.

    ``altitude_std`` is the population SD (``ddof=0``) of the minute's samples, NaN with fewer
    than two samples or samples in fewer than ``min_seconds`` seconds.

    Parameters
    ----------
    times : array-like of datetime64
        Sample times, strictly increasing; naive UTC or tz-aware.
    metres : array-like of float
        Barometric altitude (m), one per time.
    min_seconds : int, default MIN_SECONDS
        Seconds of the minute (of its 60 whole seconds, 1 to 60) that must hold samples.
    on_out_of_range : {"nan", "raise", "keep"}, default "nan"
        What to do with a value outside its channel's plausible range (see :mod:`lsmkit.features`).

    Returns
    -------
    pandas.DataFrame
        Per minute (index ``"timestamp"``): ``altitude_std``.

    Raises
    ------
    TypeError
        If ``times`` are not datetimes or the values not numbers.
    ValueError
        For bad input (see :mod:`lsmkit.features`): lengths that differ, times not strictly
        increasing or NaT, values NaN or infinite, ``min_seconds`` not an
        integer from 1 to 60, an unknown ``on_out_of_range``, or (with ``"raise"``) a value
        outside its plausible range.
    """
    return _sampled("altitude_to_minutes", times, metres, "metres", min_seconds, on_out_of_range,
                    lambda ns, v: {"altitude_std": v.std() if v.size >= 2 else np.nan}, ("altitude_std",))


def heart_rate_to_minutes(times, bpm, *, min_seconds: int = MIN_SECONDS, on_out_of_range: str = "nan"):
    """A device's own heart-rate samples (bpm, e.g. 1 Hz) -> per-minute ``heart_rate``.

    ``heart_rate`` is the mean of the minute's samples, in minutes with samples in at least
    ``min_seconds`` seconds.

    Parameters
    ----------
    times : array-like of datetime64
        Sample times, strictly increasing; naive UTC or tz-aware.
    bpm : array-like of float
        Heart rate (bpm), one per time, not negative.
    min_seconds : int, default MIN_SECONDS
        Seconds of the minute (of its 60 whole seconds, 1 to 60) that must hold samples.
    on_out_of_range : {"nan", "raise", "keep"}, default "nan"
        What to do with a value outside its channel's plausible range (see :mod:`lsmkit.features`).

    Returns
    -------
    pandas.DataFrame
        Per minute (index ``"timestamp"``): ``heart_rate``.

    Raises
    ------
    TypeError
        If ``times`` are not datetimes or the values not numbers.
    ValueError
        For bad input (see :mod:`lsmkit.features`): lengths that differ, times not strictly
        increasing or NaT, values NaN or infinite or negative, ``min_seconds`` not an
        integer from 1 to 60, an unknown ``on_out_of_range``, or (with ``"raise"``) a value
        outside its plausible range.
    """
    return _sampled("heart_rate_to_minutes", times, bpm, "bpm", min_seconds, on_out_of_range,
                    lambda ns, v: {"heart_rate": v.mean()}, ("heart_rate",), minimum=0.0)
