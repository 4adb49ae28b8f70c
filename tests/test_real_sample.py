"""The bundled real sample data_samples/sweat_workouts.nc (see data_samples/README.md).

The numbers were measured on the file written by data_samples/make_real_sample.py from sweat 0.25.0.
"""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import lsmkit

ROOT = Path(__file__).resolve().parents[1]
PATH = ROOT / "data_samples" / "sweat_workouts.nc"
LICENSE = ROOT / "data_samples" / "LICENSES" / "sweat_workouts.txt"

# Non-NaN minutes per channel and participant (participants in chronological order).
PARTICIPANTS = ["3173437224", "4078723797", "4801048867", "2020-06-01-16-52-40", "6449921903"]
OBSERVED = {
    "heart_rate": [59, 139, 86, 2, 4],
    "steps": [59, 0, 0, 0, 0],
    "altitude_std": [0, 139, 86, 2, 0],
}
HRV = ["rr_percent_valid", "rr_p80", "rr_p20", "rr_median", "rmssd", "sdnn", "rr_entropy", "rr_diff_entropy"]


@pytest.fixture(scope="module")
def ds():
    return xr.load_dataset(PATH)


def test_file_is_small_and_a_valid_recordings_dataset(ds):
    assert PATH.stat().st_size < 100_000
    lsmkit.data.validate_recordings(ds)
    assert ds["signal"].dims == ("participant", "time", "channel")
    assert ds["signal"].dtype == np.float32
    assert tuple(ds["channel"].values) == lsmkit.CHANNEL_NAMES
    assert list(ds["unit"].values) == [c.unit for c in lsmkit.CHANNELS]
    assert list(ds["participant"].values) == PARTICIPANTS
    assert ds.sizes == {"participant": 5, "time": 140, "channel": 26}
    np.testing.assert_array_equal(ds["time"].values, np.arange(140))


def test_starts_are_whole_utc_minutes_in_chronological_order(ds):
    start = ds["start"].values
    assert start[0] == np.datetime64("2019-01-29T10:25")
    assert start[-1] == np.datetime64("2021-03-18T13:02")
    assert np.all(np.diff(start) > np.timedelta64(0))
    assert np.all(start.astype("datetime64[m]") == start)
    np.testing.assert_array_equal(ds["utc_offset"].values, [np.nan, 120, 120, 120, 60])


def test_only_heart_rate_steps_and_altitude_are_observed(ds):
    counts = ds["signal"].notnull().sum("time")
    for name in lsmkit.CHANNEL_NAMES:
        expected = OBSERVED.get(name, [0] * 5)
        assert counts.sel(channel=name).values.tolist() == expected, name
    assert int(ds["signal"].notnull().any("channel").sum()) == 290


def test_no_hrv_channels_because_the_sources_hold_no_beat_intervals(ds):
    # None of the FIT/TCX files carries RR intervals, so RMSSD and the other HRV channels
    # cannot be derived from them and must be absent rather than invented.
    assert ds["signal"].sel(channel=HRV).isnull().all()


def test_heart_rate_is_plausible_and_matches_the_devices_own_average(ds):
    hr = ds["signal"].sel(channel="heart_rate")
    lo, hi = lsmkit.get_channel("heart_rate").valid_range
    assert lo <= float(hr.min()) and float(hr.max()) <= hi
    assert float(hr.min()) == pytest.approx(78.767, abs=0.01)
    assert float(hr.max()) == pytest.approx(188.70, abs=0.01)
    assert float(hr.mean()) == pytest.approx(146.60, abs=0.01)  # workouts: well above resting
    # Independent check: each workout's mean of minute means lies within 1.5 bpm of the average
    # heart rate the device itself wrote into the file's session/lap summary.
    np.testing.assert_allclose(hr.mean("time").values, ds["device_avg_heart_rate"].values, atol=1.5)


def test_steps_and_altitude_std_are_in_range(ds):
    steps = ds["signal"].sel(channel="steps", participant="3173437224")
    assert float(steps.min()) >= 0 and float(steps.max()) <= 300
    assert float(steps.mean()) == pytest.approx(88.81, abs=0.01)
    assert ds["sport"].sel(participant="3173437224").item() == "running"
    alt = ds["signal"].sel(channel="altitude_std")
    lo, hi = lsmkit.get_channel("altitude_std").valid_range
    assert lo <= float(alt.min()) and float(alt.max()) <= hi
    assert float(alt.max()) == pytest.approx(29.15, abs=0.01)  # a fast mountain descent


def test_provenance_and_licence(ds):
    attrs = ds.attrs
    assert attrs["license"] == "MIT"
    assert attrs["copyright"] == "Copyright (c) 2020 Aart Goossens"
    assert "MIT License" in attrs["attribution"]
    assert attrs["source_package"] == "sweat" and attrs["source_version"] == "0.25.0"
    assert attrs["source_url"] == "https://github.com/goldencheetah/sweatpy"
    assert all(f.startswith("sweat/examples/data/") for f in ds["source_file"].values)
    text = LICENSE.read_text()
    assert "Copyright (c) 2020 Aart Goossens" in text
    assert "The above copyright notice and this permission notice shall be included" in text
