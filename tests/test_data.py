import numpy as np
import pandas as pd
import pytest
import xarray as xr

import lsmkit
from lsmkit.data import categorical, decode_labels, make_recordings, make_windows, validate_windows


def ramp_recordings(n_participants=2, minutes=1000, channels=lsmkit.CHANNEL_NAMES, **kwargs):
    values = np.arange(n_participants * minutes * len(channels), dtype=np.float32)
    values = values.reshape(n_participants, minutes, len(channels))
    return make_recordings(
        values,
        participant=[f"p{i}" for i in range(n_participants)],
        start=pd.date_range("2024-03-30", periods=n_participants, freq="D"),
        channels=channels,
        **kwargs,
    )


def test_window_batch_follows_design():
    ds = make_windows(np.zeros((3, 300, 26)), participant=["a", "a", "b"], start=["2024-01-01"] * 3,
                      exercise=np.array([True, False, True]))
    assert ds["signal"].dims == ("window", "time", "channel")
    assert ds["signal"].dtype == np.float32
    assert ds["start"].dtype == np.dtype("datetime64[ns]")
    assert list(ds["participant"].values) == ["a", "a", "b"]
    assert ds["unit"].sel(channel="heart_rate").item() == "bpm"
    assert ds["group"].sel(channel="scl").item() == "eda"
    assert ds["exercise"].dims == ("window",)


def test_make_windows_resolves_aliases_and_rejects_bad_input():
    ds = make_windows(np.zeros((1, 10, 2)), participant=["a"], start=["2024-01-01"], channels=["bpm", "steps"])
    assert list(ds["channel"].values) == ["heart_rate", "steps"]
    with pytest.raises(ValueError, match="3 dimensions"):
        make_windows(np.zeros((10, 2)), participant=["a"], start=["2024-01-01"], channels=["hr", "steps"])
    with pytest.raises(TypeError, match="real numbers"):
        make_windows(np.array([[["x"]]]), participant=["a"], start=["2024-01-01"], channels=["hr"])
    with pytest.raises(ValueError, match="duplicate channels"):
        make_windows(np.zeros((1, 10, 2)), participant=["a"], start=["2024-01-01"], channels=["hr", "bpm"])


def test_validate_windows_errors_name_the_problem():
    with pytest.raises(TypeError, match="xarray.Dataset"):
        validate_windows(np.zeros((1, 2, 3)))
    ds = make_windows(np.zeros((1, 10, 1)), participant=["a"], start=["2024-01-01"], channels=["hr"])
    with pytest.raises(ValueError, match="dims"):
        validate_windows(ds.transpose("time", "window", "channel"))
    with pytest.raises(ValueError, match="'signal' variable"):
        validate_windows(ds.rename(signal="x"))


def test_to_windows_cuts_with_length_and_stride():
    rec = ramp_recordings(minutes=1000)
    w = lsmkit.to_windows(rec, minutes=300, stride=100)
    assert w.sizes["window"] == 2 * 8  # starts 0, 100, ..., 700 per participant
    assert w.sizes["time"] == 300
    # window 1 of participant 0 starts at minute 100: its first value is row 100 of the recording
    np.testing.assert_array_equal(w["signal"].isel(window=1).values, rec["signal"].isel(participant=0, time=slice(100, 400)).values)
    assert pd.Timestamp(w["start"].values[1]) == pd.Timestamp("2024-03-30 01:40")
    assert list(w["participant"].values[:8]) == ["p0"] * 8
    assert w.attrs["window_minutes"] == 300


def test_to_windows_filters_by_missingness_over_present_channels_only():
    rec = ramp_recordings(n_participants=1, minutes=600, channels=["heart_rate", "steps"])
    # A 5-channel-like device: the other 24 channels are simply absent, not missing.
    full = rec.reindex(channel=list(lsmkit.CHANNEL_NAMES))
    signal = full["signal"].values.copy()
    signal[0, 300:500, 0] = np.nan  # 200 of 300 heart-rate minutes missing in window 2: 1/3 of values
    full["signal"].values = signal
    assert lsmkit.to_windows(full, 300, max_missing=0.5).sizes["window"] == 2
    assert lsmkit.to_windows(full, 300, max_missing=0.3).sizes["window"] == 1
    frac = lsmkit.missing_fraction(lsmkit.to_windows(full, 300, max_missing=1.0), channels=["heart_rate", "steps"])
    np.testing.assert_allclose(frac.values, [0.0, 200 / 600])


def test_to_windows_carries_labels_and_derives_window_labels():
    activity = np.zeros((1, 600), dtype=np.int8)
    activity[0, 320:360] = 2  # 40 minutes of running in the second window
    codes, attrs = categorical(activity, lsmkit.labels.ACTIVITIES)
    rec = ramp_recordings(n_participants=1, minutes=600, activity=(("participant", "time"), codes, attrs),
                          age=("participant", np.array([33.0])))
    w = lsmkit.to_windows(rec, 300)
    assert w["activity"].dims == ("window", "time")
    assert list(w["exercise"].values) == [False, True]
    assert list(decode_labels(w["dominant_activity"]).values) == ["none", "run"]
    assert list(w["age"].values) == [33.0, 33.0]


def test_to_windows_bad_arguments():
    rec = ramp_recordings(minutes=100)
    with pytest.raises(ValueError, match="shorter than one 300-minute window"):
        lsmkit.to_windows(rec, 300)
    with pytest.raises(ValueError, match="max_missing"):
        lsmkit.to_windows(rec, 10, max_missing=1.5)
    with pytest.raises(ValueError, match="stride"):
        lsmkit.to_windows(rec, 10, stride=0)
    with pytest.raises(ValueError, match="minutes must be a positive integer"):
        lsmkit.to_windows(rec, 2.5)
    empty = rec.copy()
    empty["signal"] = empty["signal"] * np.nan
    with pytest.raises(ValueError, match="no observed value"):
        lsmkit.to_windows(empty, 10)


def test_to_windows_is_lazy_on_dask_and_equals_eager():
    rec = ramp_recordings(minutes=1000)
    lazy = lsmkit.to_windows(rec.chunk(time=250), 300, stride=150)
    assert lazy["signal"].chunks is not None
    xr.testing.assert_identical(lazy.compute(), lsmkit.to_windows(rec, 300, stride=150))


def test_local_time_is_dst_safe():
    # 2024-03-31: Europe/Berlin springs forward at 01:00 UTC (02:00 local -> 03:00).
    rec = ramp_recordings(n_participants=1, minutes=240, timezone="Europe/Berlin")
    rec = rec.assign_coords(start=("participant", np.array(["2024-03-31T00:00"], dtype="datetime64[ns]")))
    local = pd.DatetimeIndex(lsmkit.local_time(rec).values[0])
    assert local[0] == pd.Timestamp("2024-03-31 01:00")
    assert local[60] == pd.Timestamp("2024-03-31 03:00")  # an hour of wall clock skipped, no minute lost
    assert np.all(np.diff(rec["time"].values) == 1)
