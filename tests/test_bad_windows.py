"""A catalogue of malformed input for the window data model: each named case ends in a clear error or a
reported fallback.

``to_windows`` (recordings -> window batch), ``make_windows``/``make_recordings`` (arrays -> datasets) and
``validate_windows`` are fed bad lengths, strides, dims, dtypes, channels and coordinates. An error must be
a ``ValueError`` or ``TypeError`` whose message names the offending argument, dim, channel or coordinate;
a fallback (all-missing data) must be documented behaviour, warned about where data would vanish
unnoticed. tests/test_data.py holds the normal behaviour; tests/test_fuzz.py the property-based search.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import lsmkit
from lsmkit import masks
from lsmkit.data import make_recordings, make_windows, validate_windows

CHANNELS = ["heart_rate", "steps", "scl"]
MINUTES = 120


@pytest.fixture(scope="module")
def rec():
    """Two participants, 120 minutes, three channels, fully observed."""
    rng = np.random.default_rng(0)
    return make_recordings(rng.normal(70, 5, (2, MINUTES, 3)), participant=["a", "b"],
                           start=["2024-01-01", "2024-01-02"], channels=CHANNELS)


def _set(rec, **coords):
    return rec.assign_coords(**coords)


# ---- to_windows: errors -----------------------------------------------------------------------
# Each case: (change to the recordings or None, to_windows keyword arguments, exception, regex).

TO_WINDOWS_ERRORS = [
    # minutes
    pytest.param(None, {"minutes": 0}, ValueError, r"minutes must be a positive integer, got 0", id="minutes-zero"),
    pytest.param(None, {"minutes": -30}, ValueError, r"minutes must be a positive integer, got -30", id="minutes-negative"),
    pytest.param(None, {"minutes": 2.5}, ValueError, r"minutes must be a positive integer, got 2\.5",
                 id="minutes-fractional"),
    pytest.param(None, {"minutes": float("nan")}, ValueError, r"minutes must be a positive integer, got nan",
                 id="minutes-nan"),
    pytest.param(None, {"minutes": float("inf")}, ValueError, r"minutes must be a positive integer, got inf",
                 id="minutes-inf"),
    pytest.param(None, {"minutes": None}, TypeError, r"minutes must be a positive integer, got None", id="minutes-none"),
    pytest.param(None, {"minutes": "30"}, TypeError, r"minutes must be a positive integer, got '30'", id="minutes-text"),
    pytest.param(None, {"minutes": True}, TypeError, r"minutes must be a positive integer, got True", id="minutes-bool"),
    pytest.param(None, {"minutes": MINUTES + 1}, ValueError,
                 r"recordings are 120 minutes long, shorter than one 121-minute window", id="recordings-shorter-than-a-window"),
    pytest.param(lambda r: r.isel(time=slice(0, 0)), {"minutes": 1}, ValueError,
                 r"recordings are 0 minutes long, shorter than one 1-minute window", id="recordings-with-no-minutes"),
    # stride
    pytest.param(None, {"minutes": 30, "stride": 0}, ValueError, r"stride must be a positive integer, got 0",
                 id="stride-zero"),
    pytest.param(None, {"minutes": 30, "stride": -10}, ValueError, r"stride must be a positive integer, got -10",
                 id="stride-negative"),
    pytest.param(None, {"minutes": 30, "stride": 7.5}, ValueError, r"stride must be a positive integer, got 7\.5",
                 id="stride-fractional"),
    pytest.param(None, {"minutes": 30, "stride": float("nan")}, ValueError, r"stride must be a positive integer, got nan",
                 id="stride-nan"),
    pytest.param(None, {"minutes": 30, "stride": "10"}, TypeError, r"stride must be a positive integer, got '10'",
                 id="stride-text"),
    pytest.param(None, {"minutes": 30, "stride": True}, TypeError, r"stride must be a positive integer, got True",
                 id="stride-bool"),
    # max_missing
    pytest.param(None, {"minutes": 30, "max_missing": 1.5}, ValueError, r"max_missing must be a fraction in \[0, 1\], got 1\.5",
                 id="max-missing-above-one"),
    pytest.param(None, {"minutes": 30, "max_missing": -0.1}, ValueError, r"max_missing must be a fraction in \[0, 1\]",
                 id="max-missing-negative"),
    pytest.param(None, {"minutes": 30, "max_missing": float("nan")}, ValueError, r"max_missing must be a fraction.*nan",
                 id="max-missing-nan"),
    pytest.param(None, {"minutes": 30, "max_missing": "0.5"}, TypeError, r"max_missing must be a fraction.*'0\.5'",
                 id="max-missing-text"),
    pytest.param(None, {"minutes": 30, "max_missing": None}, TypeError, r"max_missing must be a fraction.*None",
                 id="max-missing-none"),
    # the recordings themselves: type, variable, dims
    pytest.param(lambda r: r["signal"], {"minutes": 30}, TypeError, r"recordings must be an xarray\.Dataset, got DataArray",
                 id="dataarray-instead-of-dataset"),
    pytest.param(lambda r: r["signal"].isel(channel=0), {"minutes": 30}, TypeError,
                 r"recordings must be an xarray\.Dataset, got DataArray", id="2d-dataarray"),
    pytest.param(lambda r: r["signal"].values, {"minutes": 30}, TypeError, r"recordings must be an xarray\.Dataset, got ndarray",
                 id="numpy-array"),
    pytest.param(lambda r: r.rename(signal="hr"), {"minutes": 30}, ValueError,
                 r"recordings must have a 'signal' variable; found \['hr'\]", id="dataset-missing-signal-variable"),
    pytest.param(lambda r: r.transpose("time", "participant", "channel"), {"minutes": 30}, ValueError,
                 r"recordings 'signal' must have dims \('participant', 'time', 'channel'\), got \('time', 'participant', "
                 r"'channel'\)", id="dims-in-wrong-order"),
    pytest.param(lambda r: r.isel(channel=0), {"minutes": 30}, ValueError,
                 r"must have dims \('participant', 'time', 'channel'\), got \('participant', 'time'\)", id="2d-signal"),
    pytest.param(lambda r: r.assign(signal=r["signal"].expand_dims(device=2, axis=3)), {"minutes": 30}, ValueError,
                 r"got \('participant', 'time', 'channel', 'device'\)", id="extra-dim"),
    pytest.param(lambda r: lsmkit.to_windows(r, 30), {"minutes": 10}, ValueError,
                 r"recordings 'signal' must have dims .*got \('window', 'time', 'channel'\)", id="windows-instead-of-recordings"),
    # dtypes
    pytest.param(lambda r: r.assign(signal=r["signal"].astype(str)), {"minutes": 30}, TypeError,
                 r"recordings 'signal' must be floating point, got <U", id="string-dtype"),
    pytest.param(lambda r: r.assign(signal=r["signal"].astype(object)), {"minutes": 30}, TypeError,
                 r"must be floating point, got object", id="object-dtype"),
    pytest.param(lambda r: r.assign(signal=r["signal"].astype(complex)), {"minutes": 30}, TypeError,
                 r"must be floating point, got complex128", id="complex-dtype"),
    pytest.param(lambda r: r.assign(signal=r["signal"] > 70), {"minutes": 30}, TypeError,
                 r"must be floating point, got bool", id="bool-dtype"),
    pytest.param(lambda r: r.assign(signal=r["signal"].astype(np.int64)), {"minutes": 30}, TypeError,
                 r"must be floating point, got int64", id="integer-dtype"),
    # channels and coordinates
    pytest.param(lambda r: _set(r, channel=["heart_rate", "glucose", "scl"]), {"minutes": 30}, ValueError,
                 r"recordings has unknown channels \['glucose'\]; expected canonical names", id="unknown-channel-name"),
    pytest.param(lambda r: _set(r, channel=["hr", "steps", "scl"]), {"minutes": 30}, ValueError,
                 r"recordings has unknown channels \['hr'\]", id="alias-instead-of-canonical-channel-name"),
    pytest.param(lambda r: _set(r, channel=["heart_rate", "heart_rate", "scl"]), {"minutes": 30}, ValueError,
                 r"recordings has duplicate channels \['heart_rate'\]", id="duplicate-channel"),
    pytest.param(lambda r: r.drop_vars("channel"), {"minutes": 30}, ValueError,
                 r"recordings is missing the 'channel' coordinate", id="channel-coordinate-missing"),
    pytest.param(lambda r: r.drop_vars("start"), {"minutes": 30}, ValueError,
                 r"recordings is missing the 'start' coordinate", id="start-coordinate-missing"),
    pytest.param(lambda r: _set(r, start=("participant", ["monday", "tuesday"])), {"minutes": 30}, TypeError,
                 r"recordings 'start' coordinate must be datetime64 \(UTC\), got <U", id="start-coordinate-not-datetime"),
    pytest.param(lambda r: r.assign(signal=r["signal"] * np.nan), {"minutes": 30}, ValueError,
                 r"recordings hold no observed value in any channel", id="all-values-missing"),
]


@pytest.mark.parametrize(("change", "options", "error", "match"), TO_WINDOWS_ERRORS)
def test_to_windows_refuses_bad_input_naming_the_culprit(rec, change, options, error, match):
    recordings = rec if change is None else change(rec)
    with pytest.raises(error, match=match):
        lsmkit.to_windows(recordings, **options)


# ---- to_windows: documented fallbacks ----------------------------------------------------------


def _with_nan(rec, index):
    signal = rec["signal"].values.copy()
    signal[index] = np.nan
    return rec.copy(data={"signal": signal})


def test_all_missing_channel_is_absent_not_missing(rec):
    # DESIGN.md: data with fewer channels is legal; a channel NaN everywhere does not count as missing.
    recordings = _with_nan(rec, (slice(None), slice(None), 1))
    windows = lsmkit.to_windows(recordings, 30, max_missing=0.0)
    assert windows.sizes["window"] == 2 * MINUTES // 30  # nothing rejected for lacking steps
    assert list(windows["channel"].values) == CHANNELS  # and the channel rides along, all NaN
    assert windows["signal"].sel(channel="steps").isnull().all()
    assert windows["signal"].sel(channel=["heart_rate", "scl"]).notnull().all()


def test_all_missing_windows_are_left_out_and_the_rest_kept(rec):
    recordings = _with_nan(rec, (0, slice(0, 60)))  # participant a: first hour off-wrist
    windows = lsmkit.to_windows(recordings, 30)
    assert windows.sizes["window"] == 2 + 4
    starts = pd.DatetimeIndex(windows["start"].values)
    assert list(starts[:2]) == [pd.Timestamp("2024-01-01 01:00"), pd.Timestamp("2024-01-01 01:30")]
    assert list(windows["participant"].values) == ["a"] * 2 + ["b"] * 4
    assert windows["signal"].notnull().all()


def test_all_missing_participant_contributes_no_window(rec):
    windows = lsmkit.to_windows(_with_nan(rec, (0,)), 30)
    assert set(windows["participant"].values) == {"b"} and windows.sizes["window"] == 4


def test_no_window_passing_max_missing_warns_and_returns_an_empty_batch(rec):
    recordings = _with_nan(rec, (slice(None), slice(1, None)))  # one observed minute in each recording
    with pytest.warns(UserWarning, match=r"no 30-minute window has at most 0\.5 of its values missing \(the sparsest "
                                         r"has 0\.967\); returning an empty batch \(raise max_missing="):
        windows = lsmkit.to_windows(recordings, 30)
    validate_windows(windows)
    assert windows.sizes == {"window": 0, "time": 30, "channel": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # keeping the sparse windows on request is silent
        assert lsmkit.to_windows(recordings, 30, max_missing=1.0).sizes["window"] == 8


def test_windows_shorter_than_a_patch_work_with_partial_patches(rec):
    minutes = masks.PATCH[0] // 2  # 5 minutes: half a patch
    windows = lsmkit.to_windows(rec, minutes)
    assert windows.sizes["time"] == minutes and windows.sizes["window"] == 2 * MINUTES // minutes
    assert masks.patch_grid(minutes, 3) == (1, 1)  # one partial patch covers the whole window
    assert masks.random(windows, 1.0, rng=0).all() and not masks.random(windows, 0.0, rng=0).any()


def test_integral_float_minutes_and_stride_are_accepted(rec):
    windows = lsmkit.to_windows(rec, 30.0, stride=15.0)
    assert windows.sizes["time"] == 30 and windows.attrs["window_stride"] == 15
    assert windows.sizes["window"] == 2 * len(range(0, MINUTES - 30 + 1, 15))


# ---- make_windows / make_recordings -------------------------------------------------------------


def _windows(signal=None, **kwargs):
    args = {"participant": ["a", "b"], "start": ["2024-01-01", "2024-01-02"], "channels": ["hr", "steps"]}
    args.update(kwargs)
    return make_windows(np.zeros((2, 10, 2)) if signal is None else signal, **args)


def _recordings(signal=None, **kwargs):
    args = {"participant": ["a", "b"], "start": ["2024-01-01", "2024-01-02"], "channels": ["hr", "steps"]}
    args.update(kwargs)
    return make_recordings(np.zeros((2, 10, 2)) if signal is None else signal, **args)


MAKE_ERRORS = [
    pytest.param(_windows, np.zeros((10, 2)), {}, ValueError,
                 r"signal must have 3 dimensions \('window', 'time', 'channel'\), got shape \(10, 2\)", id="signal-2d"),
    pytest.param(_windows, np.zeros((2, 10, 2, 1)), {}, ValueError, r"signal must have 3 dimensions.*\(2, 10, 2, 1\)",
                 id="signal-4d"),
    pytest.param(_windows, np.full((2, 10, 2), "60"), {}, TypeError, r"signal must be real numbers, got dtype <U2",
                 id="signal-strings"),
    pytest.param(_windows, np.zeros((2, 10, 2), dtype=object), {}, TypeError, r"signal must be real numbers, got dtype object",
                 id="signal-object"),
    pytest.param(_windows, np.zeros((2, 10, 2), dtype=complex), {}, TypeError, r"got dtype complex128", id="signal-complex"),
    pytest.param(_windows, np.zeros((2, 10, 2), dtype=bool), {}, TypeError, r"got dtype bool", id="signal-bool"),
    pytest.param(_windows, np.zeros((2, 10, 2), dtype="datetime64[ns]"), {}, TypeError, r"got dtype datetime64",
                 id="signal-datetimes"),
    pytest.param(_windows, [[[1.0, 2.0]] * 10, [[1.0]] * 10], {}, ValueError,
                 r"signal must be a regular \('window', 'time', 'channel'\) array of numbers", id="signal-ragged-lists"),
    pytest.param(_windows, np.zeros((2, 10, 3)), {}, ValueError,
                 r"signal has 3 channel\(s\) along its last axis, but channels names 2: \['heart_rate', 'steps'\]",
                 id="more-channels-than-names"),
    pytest.param(_windows, None, {"channels": ["hr", "glucose"]}, ValueError, r"unknown channel 'glucose'",
                 id="unknown-channel-name"),
    pytest.param(_windows, None, {"channels": ["hr", "bpm"]}, ValueError,
                 r"duplicate channels after alias resolution: \['heart_rate', 'heart_rate'\]", id="duplicate-channel-via-alias"),
    pytest.param(_windows, None, {"participant": ["a"]}, ValueError,
                 r"participant must give one value per window \(2 in signal\), got \['a'\]", id="participant-count-mismatch"),
    pytest.param(_windows, None, {"participant": "ab"}, ValueError,
                 r"participant must give one value per window \(2 in signal\), got 'ab'", id="participant-as-one-string"),
    pytest.param(_windows, None, {"start": ["2024-01-01"]}, ValueError,
                 r"start must give one value per window \(2 in signal\), got \['2024-01-01'\]", id="start-count-mismatch"),
    pytest.param(_windows, None, {"start": "2024-01-01"}, ValueError, r"start must give one value per window",
                 id="start-scalar-for-two-windows"),
    pytest.param(_windows, None, {"start": ["2024-01-01", "yesterday"]}, ValueError,
                 r"start must hold dates and times, one per window: .*yesterday", id="start-unparseable"),
    pytest.param(_windows, None, {"start": ["2024-01-01", None]}, ValueError, r"start is missing \(NaT\) for window 1",
                 id="start-missing"),
    pytest.param(_recordings, None, {"start": [None, "2024-01-01"]}, ValueError,
                 r"start is missing \(NaT\) for participant 0", id="recordings-start-missing"),
    pytest.param(_recordings, None, {"timezone": "Mars/Olympus_Mons"}, ValueError,
                 r"unknown time zone 'Mars/Olympus_Mons'; expected an IANA name", id="recordings-unknown-time-zone"),
    pytest.param(_recordings, None, {"timezone": ["UTC"]}, ValueError,
                 r"timezone must give one value per participant \(2 in signal\), got \['UTC'\]",
                 id="recordings-time-zone-count-mismatch"),
    pytest.param(_windows, None, {"exercise": [True]}, ValueError,
                 r"conflicting sizes for dimension 'window': length 1 on 'exercise'", id="label-with-wrong-length"),
    pytest.param(_windows, None, {"x": np.zeros((2, 10, 2, 1))}, ValueError,
                 r"variable 'x' has 4 dimensions; expected at most 3 \('window', 'time', 'channel'\)", id="label-with-4-dims"),
]


@pytest.mark.parametrize(("make", "signal", "options", "error", "match"), MAKE_ERRORS)
def test_make_windows_and_recordings_refuse_bad_input_naming_the_culprit(make, signal, options, error, match):
    with pytest.raises(error, match=match):
        make(signal, **options)


@pytest.mark.parametrize(("make", "row"), [(_windows, "window"), (_recordings, "participant")],
                         ids=["windows", "recordings"])
def test_make_takes_a_dataarray_signal_by_dim_name_in_any_order(make, row):
    """Dim names are unambiguous: a transposed DataArray gives what the ordered one gives."""
    values = np.arange(40, dtype=np.float32).reshape(2, 10, 2)
    ordered = xr.DataArray(values, dims=(row, "time", "channel"))
    expected = make(ordered)
    for order in [("time", row, "channel"), ("channel", "time", row)]:
        xr.testing.assert_identical(make(ordered.transpose(*order)), expected)


def test_make_accepts_one_channel_name_and_converts_aware_starts_to_utc():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pandas deprecation about dropping the time zone
        ds = make_windows(np.zeros((1, 10, 1)), participant=["a"], start=[pd.Timestamp("2024-07-01 02:00", tz="Europe/Berlin")],
                          channels="hr")
    assert list(ds["channel"].values) == ["heart_rate"]
    assert pd.Timestamp(ds["start"].values[0]) == pd.Timestamp("2024-07-01 00:00")  # CEST is UTC+2


# ---- validate_windows ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def windows():
    return _windows()


VALIDATE_ERRORS = [
    pytest.param(lambda w: w["signal"], TypeError, r"windows must be an xarray\.Dataset, got DataArray", id="dataarray"),
    pytest.param(lambda w: {"signal": w["signal"]}, TypeError, r"windows must be an xarray\.Dataset, got dict", id="dict"),
    pytest.param(lambda w: _recordings(), ValueError,
                 r"windows 'signal' must have dims \('window', 'time', 'channel'\), got \('participant', 'time', 'channel'\)",
                 id="recordings-instead-of-windows"),
    pytest.param(lambda w: w.drop_vars("signal"), ValueError, r"windows must have a 'signal' variable; found \[\]",
                 id="missing-signal-variable"),
    pytest.param(lambda w: w.drop_vars("participant"), ValueError, r"windows is missing the 'participant' coordinate",
                 id="missing-participant-coordinate"),
    pytest.param(lambda w: w.assign_coords(channel=["heart_rate", "glucose"]), ValueError,
                 r"windows has unknown channels \['glucose'\]", id="unknown-channel"),
    pytest.param(lambda w: w.assign_coords(channel=["steps", "steps"]), ValueError,
                 r"windows has duplicate channels \['steps'\]", id="duplicate-channel"),
    pytest.param(lambda w: w.assign_coords(start=("window", [1.0, 2.0])), TypeError,
                 r"windows 'start' coordinate must be datetime64 \(UTC\), got float64", id="start-as-numbers"),
]


@pytest.mark.parametrize(("change", "error", "match"), VALIDATE_ERRORS)
def test_validate_windows_names_the_problem(windows, change, error, match):
    validate_windows(windows)  # the unchanged batch is fine
    with pytest.raises(error, match=match):
        validate_windows(change(windows))
