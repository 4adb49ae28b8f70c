"""lsmkit.features: raw streams -> per-minute channels, with known answers on synthetic signals.

RMSSD and SDNN are cross-checked against neurokit2 (a test-only dependency, skipped when absent).
Each featuriser is fuzzed (500 examples): it returns channels inside their plausible ranges (or
NaN) or raises the documented ValueError/TypeError. Bad input must name the argument and index.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lsmkit
from lsmkit import features, physiology

T0 = np.datetime64("2024-01-01T00:00:00", "ns")
FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def clock(seconds) -> np.ndarray:
    """Times ``seconds`` after T0."""
    return T0 + (np.asarray(seconds, dtype=float) * 1e9).astype("timedelta64[ns]")


def beats(rr, start_s=0.0):
    """Contiguous beats: each interval ends where the next begins."""
    rr = np.asarray(rr, dtype=float)
    return clock(start_s + np.cumsum(rr) / 1000.0), rr


def sampled(rate, seconds, start_s=0.0):
    return clock(start_s + np.arange(int(round(rate * seconds))) / rate)


def gait(rate=32.0, minutes=2, cadence=120.0, amplitude=0.3, axis=2):
    """A still device with one axis up, bouncing along it once per step."""
    t = np.arange(int(rate * 60 * minutes)) / rate
    xyz = np.zeros((t.size, 3))
    xyz[:, axis] = 1.0 + amplitude * (1.0 - np.cos(2 * np.pi * cadence / 60.0 * t)) * (cadence > 0)
    return clock(t), xyz


def in_range(frame: pd.DataFrame) -> None:
    assert frame.index.name == "timestamp" and frame.index.dtype == "datetime64[ns]"
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert (frame.index == frame.index.floor("min")).all()
    for name in frame.columns:
        lo, hi = lsmkit.get_channel(name).valid_range
        values = frame[name].dropna()
        assert ((values >= lo) & (values <= hi)).all(), (name, values[(values < lo) | (values > hi)])


# ---- heart ----------------------------------------------------------------------------------------
def test_physiology_and_features_share_one_definition():
    assert physiology.rr_statistics is features.rr_statistics
    assert physiology.shannon_entropy is features.shannon_entropy
    assert physiology.ENTROPY_BIN_MS == features.ENTROPY_BIN_MS == 8.0


def test_steady_beats_give_exact_heart_channels():
    out = features.beats_to_minutes(*beats(np.full(120, 1000.0)))
    # The last beat ends at 02:00 exactly: a row of its own, with no time covered in it.
    assert len(out) == 3 and out["rr_percent_valid"].iloc[2] == 0.0 and np.isnan(out["heart_rate"].iloc[2])
    assert list(out.columns) == [c for c in lsmkit.CHANNEL_NAMES[:10] if c != "resting_heart_rate"]
    first = out.iloc[0]
    assert first["heart_rate"] == pytest.approx(60.0)
    assert first["rr_percent_valid"] == pytest.approx(100.0)
    assert first[["rr_median", "rr_p20", "rr_p80"]].tolist() == [1000.0, 1000.0, 1000.0]
    assert first["rmssd"] == 0.0 and first["sdnn"] == 0.0
    assert first["rr_entropy"] == 0.0 and first["rr_diff_entropy"] == 0.0


def test_rmssd_and_sdnn_match_neurokit2():
    nk = pytest.importorskip("neurokit2")
    rng = np.random.default_rng(3)
    rr = np.round(physiology.simulate_beats(800.0, 40.0, 0.6, 70, rng))  # whole ms: exact peak positions
    out = features.beats_to_minutes(*beats(rr[:74]))  # about 56 s: one minute
    peaks = np.r_[0, np.cumsum(rr[:74])].astype(int)
    ref = nk.hrv_time(peaks, sampling_rate=1000)
    assert len(out) == 1 and out["rr_percent_valid"].iloc[0] > 90
    assert out["rmssd"].iloc[0] == pytest.approx(ref["HRV_RMSSD"].iloc[0], rel=1e-9)
    assert out["sdnn"].iloc[0] == pytest.approx(ref["HRV_SDNN"].iloc[0], rel=1e-9)
    assert out["rr_median"].iloc[0] == pytest.approx(ref["HRV_MedianNN"].iloc[0], rel=1e-9)


def test_ectopic_beat_is_rejected_and_its_time_uncovered():
    rr = np.full(60, 1000.0)
    rr[30], rr[31] = 450.0, 1550.0  # a premature beat and its compensatory pause
    out = features.beats_to_minutes(*beats(rr)).iloc[0]
    assert out["heart_rate"] == pytest.approx(60.0)
    assert out["rr_percent_valid"] == pytest.approx(100.0 * 58000 / 60000)
    assert out["rmssd"] == 0.0  # the differences across the artefact are not successive
    assert features.valid_beats(rr).sum() == 58


def test_intervals_outside_physiological_range_are_invalid():
    for rr, valid in ((240.0, False), (250.0, True), (2400.0, True), (2500.0, False)):
        assert features.valid_beats(np.full(5, rr)).tolist() == [valid] * 5
    assert features.valid_beats([800, 800, 800, 3000, 800, 800]).tolist() == [True] * 3 + [False] + [True] * 2


def test_coverage_thresholds_blank_heart_rate_then_hrv():
    low = features.beats_to_minutes(*beats(np.full(12, 1000.0))).iloc[0]  # 12 s: 20 %
    assert low["rr_percent_valid"] == pytest.approx(20.0) and np.isnan(low["heart_rate"])
    mid = features.beats_to_minutes(*beats(np.full(20, 1000.0))).iloc[0]  # 33 %
    assert mid["heart_rate"] == pytest.approx(60.0) and np.isnan(mid["rmssd"]) and np.isnan(mid["rr_median"])


def test_interval_straddling_a_minute_counts_in_both():
    times, rr = beats(np.full(30, 1000.0), start_s=59.5)  # first interval 59.5 s - 60.5 s
    t = np.r_[clock([59.5]), times]
    r = np.r_[800.0, rr]
    out = features.beats_to_minutes(t, r)
    # minute 0: the 800 ms interval and the first half of the one ending at 60.5 s
    assert out["rr_percent_valid"].tolist() == pytest.approx([100 * 1300 / 60000, 100 * 29500 / 60000])


def test_gaps_are_not_successive_differences():
    first, rr1 = beats(np.full(20, 900.0))
    second, rr2 = beats(np.full(20, 1000.0), start_s=30.0)
    out = features.beats_to_minutes(np.r_[first, second], np.r_[rr1, rr2]).iloc[0]
    assert out["rmssd"] == 0.0  # the 900 -> 1000 step spans a gap
    assert out["rr_percent_valid"] == pytest.approx(100 * 38000 / 60000)


def test_timezone_aware_times_are_converted_to_utc():
    times, rr = beats(np.full(70, 1000.0))
    aware = pd.DatetimeIndex(times).tz_localize("UTC").tz_convert("Europe/Berlin")
    out = features.beats_to_minutes(aware, rr)
    assert out.index[0] == pd.Timestamp("2024-01-01 00:00") and out.index.tz is None


def test_heart_rate_samples_average_per_minute():
    out = features.heart_rate_to_minutes(sampled(1, 120), np.r_[np.full(60, 70.0), np.full(60, 90.0)])
    assert out["heart_rate"].tolist() == [70.0, 90.0]


# ---- accelerometer --------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [20.0, 32.0, 50.0, 100.0])
def test_two_hertz_gait_gives_120_steps(rate):
    out = features.accelerometer_to_minutes(*gait(rate=rate), rate_hz=rate)
    assert out["steps"].tolist() == [120.0, 120.0]
    assert out["zero_crossing_mean"].iloc[0] == pytest.approx(0.25, abs=0.01)  # two crossings a step
    assert out["zero_crossing_std"].iloc[0] < 0.02
    assert out["sleep_coefficient"].tolist() == [100.0, 100.0]
    assert out["log_energy"].iloc[0] == pytest.approx(np.log(0.3**2 / 2), abs=0.02)  # var of A cos
    assert out["kurtosis"].iloc[0] == pytest.approx(1.5, abs=0.02)  # a sinusoid's
    assert out["log_energy_ratio"].iloc[0] == 6.0  # all energy at 2 Hz, above the 1 Hz split
    assert out["jerk_autocorrelation_ratio"].iloc[0] == pytest.approx(np.cos(2 * np.pi * 2 / rate), abs=0.01)
    assert out["covariance_condition_number"].iloc[0] == 8.0  # motion on one axis only


@pytest.mark.parametrize("cadence", [1, 3, 10, 60, 100, 119])
def test_a_bout_of_steps_is_counted_exactly(cadence):
    t, xyz = gait(minutes=1, cadence=120.0)
    walking = np.arange(len(t)) / 32.0 < cadence / 2.0  # a bout of `cadence` steps at 2 Hz
    xyz[~walking, 2] = 1.0
    assert features.accelerometer_to_minutes(t, xyz)["steps"].iloc[0] == cadence


def test_still_device_gives_no_steps_and_one_g_up():
    for axis in (0, 1, 2):
        t, xyz = gait(cadence=0.0, axis=axis)
        out = features.accelerometer_to_minutes(t, xyz, axis=axis)
        assert out["steps"].tolist() == [0.0, 0.0] and out["axis_mean"].tolist() == [1.0, 1.0]
        assert out["log_energy"].iloc[0] == -12.0 and out["sleep_coefficient"].iloc[0] == 0.0
        assert out["zero_crossing_mean"].iloc[0] == 60.0 and out["zero_crossing_std"].iloc[0] == 0.0
        assert out[["kurtosis", "covariance_condition_number", "jerk_autocorrelation_ratio"]].isna().all(axis=None)
    upside_down = features.accelerometer_to_minutes(t, -xyz, axis=0)
    assert upside_down["axis_mean"].iloc[0] == 0.0


def test_noise_features_have_their_textbook_values():
    rng = np.random.default_rng(0)
    t = sampled(32, 60)
    xyz = np.array([0, 0, 1.0]) + rng.normal(0, 0.02, (t.size, 3))  # sensor noise
    out = features.accelerometer_to_minutes(t, xyz).iloc[0]
    assert out["covariance_condition_number"] < 0.2  # isotropic: eigenvalues alike
    assert out["jerk_autocorrelation_ratio"] == 0.0  # white-noise jerk is -0.5, clipped
    assert out["kurtosis"] == pytest.approx(3.0, abs=0.3)
    assert out["log_energy_ratio"] == pytest.approx(np.log(15 / 1), abs=0.3)  # flat spectrum to 16 Hz
    assert out["steps"] == 0.0


def test_slow_sway_has_low_energy_ratio():
    t = sampled(32, 60)
    xyz = np.zeros((t.size, 3))
    xyz[:, 2] = 1 + 0.2 * np.sin(2 * np.pi * 0.2 * np.arange(t.size) / 32)
    assert features.accelerometer_to_minutes(t, xyz)["log_energy_ratio"].iloc[0] == -6.0


def test_short_and_partial_minutes_are_nan():
    t, xyz = gait(minutes=1)
    out = features.accelerometer_to_minutes(t[: 32 * 20], xyz[: 32 * 20], rate_hz=32)  # 20 s < 30 s
    assert out.isna().all(axis=None) and len(out) == 1


def test_rate_is_estimated_and_checked():
    t, xyz = gait(rate=25.0)
    assert features.accelerometer_to_minutes(t, xyz)["steps"].iloc[0] == 120.0
    with pytest.raises(ValueError, match=r"rate_hz = 32 but the median spacing of times is 0\.04 s"):
        features.accelerometer_to_minutes(t, xyz, rate_hz=32)
    with pytest.raises(ValueError, match=r"5 Hz is below 10 Hz"):
        features.accelerometer_to_minutes(*gait(rate=5.0))


def three_hours_of_wearing(rate=32.0):
    """Three hours from T0 (minutes): still (sensor noise 0.002 g, so the band stays within the
    crossings' +-0.01 g), walking 20-45 at 1.95 Hz, still, walking 52-58 at 1.83 Hz, off 61:00-65:20,
    walking 65-80 at 2.17 Hz, still with 0.01 g noise, walking 100-115 at 2.04 Hz with a 3 s gap at
    107:30, a 20 s gap at 150:10. In chunks of 7 minutes the seams at 21, 28, 35, 42, 56, 72, 79
    and 107 fall in bouts (107 half a minute before the 3 s gap), 49 in a still stretch 4 minutes
    after a bout (the crossings' state crosses it) and 63 in the 61-65 gap (the next chunk starts
    at 65)."""
    rng = np.random.default_rng(7)
    t = np.arange(int(180 * 60 * rate)) / rate
    minute = t / 60
    xyz = np.array([0.05, 0.1, 0.99]) + rng.normal(0, 0.002, (t.size, 3))
    xyz[(minute >= 80) & (minute < 100)] += rng.normal(0, 0.01, (int(20 * 60 * rate), 3))
    for lo, hi, hz in ((20, 45, 1.95), (52, 58, 1.83), (65, 80, 2.17), (100, 115, 2.04)):  # peaks at any phase
        bout = (minute >= lo) & (minute < hi)
        xyz[bout, 2] += 0.3 * np.sin(2 * np.pi * hz * t[bout]) + rng.normal(0, 0.03, bout.sum())
    off = ((t >= 61 * 60) & (t < 65 * 60 + 20)) | ((t >= 107.5 * 60) & (t < 107.5 * 60 + 3)) \
        | ((t >= 150 * 60 + 10) & (t < 150 * 60 + 30))
    return clock(t[~off]), xyz[~off]


def test_chunks_give_the_whole_stream_answers():
    t, xyz = three_hours_of_wearing()
    whole = features.accelerometer_to_minutes(t, xyz, 32.0, chunk_minutes=10**6)  # one chunk
    chunked = features.accelerometer_to_minutes(t, xyz, 32.0, chunk_minutes=7)  # 26 of them
    assert chunked.index.equals(whole.index) and len(whole) == 176  # the minutes 61-64 hold no sample
    # Steps exactly: 30 s margins leave the band at the seams as the whole segment's (to 1e-25), so
    # both chunks by a seam find the same peaks there, and each keeps its own.
    assert whole["steps"].sum() == 7_324 and (chunked["steps"] - whole["steps"]).abs().max() == 0
    # The other channels within 1e-6 (relative): the per-minute ones see the same samples; the
    # crossings' are the same crossing times, the detector's state carried across each seam.
    np.testing.assert_allclose(chunked.drop(columns="steps"), whole.drop(columns="steps"), rtol=1e-6, atol=0)
    assert whole.loc["2024-01-01 00:49", "zero_crossing_mean"] == 60.0  # still: no crossing in the minute
    # float32 input is taken to float64 a chunk at a time: the same answers as converting it first.
    single = xyz.astype(np.float32)
    assert features.accelerometer_to_minutes(t, single, 32.0, chunk_minutes=7).equals(
        features.accelerometer_to_minutes(t, single.astype(float), 32.0))


# ---- EDA, temperature, altitude -------------------------------------------------------------------
def test_eda_level_slope_and_contact():
    t = sampled(4, 120)
    ramp = 2.0 + 0.5 * np.arange(t.size) / 240.0  # 0.5 uS/min
    out = features.eda_to_minutes(t, ramp)
    assert out["scl"].tolist() == pytest.approx([2.0 + 0.5 * 119.5 / 240, 2.5 + 0.5 * 119.5 / 240])
    assert out["scl_slope"].tolist() == pytest.approx([0.5, 0.5])
    assert out["eda_lead_contact"].tolist() == [60.0, 60.0]


def test_eda_contact_loss():
    t = sampled(4, 120)
    us = np.full(t.size, 3.0)
    us[:160] = 0.0  # the first 40 s without contact
    out = features.eda_to_minutes(t, us)
    assert out["eda_lead_contact"].tolist() == [20.0, 60.0]
    assert np.isnan(out["scl"].iloc[0]) and out["scl"].iloc[1] == 3.0
    us[:60] = 0.0
    us[60:160] = 3.0
    assert features.eda_to_minutes(t, us)["scl"].iloc[0] == 3.0  # 45 s of contact: mean of those


def test_temperature_mean_and_slope():
    t = sampled(4, 60)
    out = features.temperature_to_minutes(t, 33.0 + 0.1 * np.arange(t.size) / 240)
    assert out["skin_temperature_slope"].iloc[0] == pytest.approx(0.1)
    assert out["skin_temperature"].iloc[0] == pytest.approx(33.0 + 0.1 * 119.5 / 240)
    slow = features.temperature_to_minutes(clock([0, 60, 120]), [33.0, 33.5, 34.0], min_seconds=1)
    assert slow["skin_temperature"].tolist() == [33.0, 33.5, 34.0]
    assert slow["skin_temperature_slope"].isna().all()  # one sample a minute: no slope
    assert features.temperature_to_minutes(clock([0, 60, 120]), [33.0, 33.5, 34.0]).isna().all(axis=None)


def test_altitude_std():
    t = sampled(1, 60)
    out = features.altitude_to_minutes(t, np.tile([99.0, 101.0], 30))
    assert out["altitude_std"].iloc[0] == pytest.approx(1.0)


def test_out_of_range_values_follow_the_policy():
    t = sampled(1, 60)
    hot = np.full(60, 60.0)
    with pytest.warns(UserWarning, match=r"skin_temperature \(1\)"):
        assert features.temperature_to_minutes(t, hot)["skin_temperature"].isna().all()
    with pytest.raises(ValueError, match=r"skin_temperature = 60 in the minute 2024-01-01 00:00:00 is outside"):
        features.temperature_to_minutes(t, hot, on_out_of_range="raise")
    assert features.temperature_to_minutes(t, hot, on_out_of_range="keep")["skin_temperature"].iloc[0] == 60.0


# ---- several streams ------------------------------------------------------------------------------
def test_streams_join_and_heart_rate_falls_back_to_device_samples():
    bt, rr = beats(np.full(60, 1000.0))  # minute 0 only
    hr_t = sampled(1, 180)
    out = features.streams_to_minutes(beats=(bt, rr), heart_rate=(hr_t, np.full(180, 72.0)),
                                      temperature={"times": sampled(4, 120), "celsius": np.full(480, 33.0)},
                                      eda=None)
    assert list(out.index) == list(pd.date_range("2024-01-01", periods=3, freq="min"))
    assert out["heart_rate"].tolist() == pytest.approx([60.0, 72.0, 72.0])
    assert out["skin_temperature"].iloc[:2].tolist() == [33.0, 33.0] and np.isnan(out["skin_temperature"].iloc[2])
    assert list(out.columns) == [c for c in lsmkit.CHANNEL_NAMES if c in out.columns]
    rec = lsmkit.read_table(out.reset_index())
    assert float(rec["signal"].sel(channel="heart_rate").isel(participant=0, time=1)) == 72.0
    with pytest.raises(ValueError, match=r"unknown streams \['ppg'\]"):
        features.streams_to_minutes(ppg=(bt, rr))


# ---- bad input ------------------------------------------------------------------------------------
GOOD_T = sampled(4, 60)
BAD = {
    "mismatched lengths": (features.eda_to_minutes, (GOOD_T, np.ones(10)), r"microsiemens has 10 samples but times has 240"),
    "non-monotonic times": (features.eda_to_minutes, (GOOD_T[[0, 2, 1, 3]], np.ones(4)),
                            r"times must be strictly increasing; times\[2\]"),
    "repeated time": (features.beats_to_minutes, (GOOD_T[[0, 1, 1]], np.full(3, 800.0)), r"times\[2\]"),
    "NaT": (features.temperature_to_minutes, (np.r_[GOOD_T[:3], np.datetime64("NaT")], np.ones(4)),
            r"times holds NaT at index 3"),
    "NaN value": (features.temperature_to_minutes, (GOOD_T[:5], [33, 33, np.nan, 33, 33]),
                  r"celsius\[2\] = nan is not finite"),
    "inf value": (features.altitude_to_minutes, (GOOD_T[:3], [1, np.inf, 1]), r"metres\[1\] = inf"),
    "NaN in xyz": (features.accelerometer_to_minutes, (GOOD_T[:3], [[0, 0, 1], [0, 0, 1], [0, np.nan, 1]]),
                   r"xyz_g\[2\]"),
    "xyz with two columns": (features.accelerometer_to_minutes, (GOOD_T[:3], np.ones((3, 2))),
                             r"xyz_g must have shape \('n', 3\), got \(3, 2\)"),
    "xyz flat": (features.accelerometer_to_minutes, (GOOD_T[:3], np.ones(3)), r"xyz_g must have shape"),
    "values 2-D": (features.eda_to_minutes, (GOOD_T[:3], np.ones((3, 1))), r"microsiemens must have shape \('n',\)"),
    "times 2-D": (features.eda_to_minutes, (GOOD_T[:4].reshape(2, 2), np.ones(4)), r"times must be one-dimensional"),
    "negative interval": (features.beats_to_minutes, (GOOD_T[:3], [800, -5, 800]), r"rr_ms\[1\] = -5.0 is not a positive"),
    "zero interval": (features.beats_to_minutes, (GOOD_T[:3], [800, 800, 0]), r"rr_ms\[2\] = 0.0"),
    "negative conductance": (features.eda_to_minutes, (GOOD_T[:3], [1, 1, -0.5]), r"microsiemens\[2\] = -0.5 is below 0"),
    "bad rate": (lambda t, x: features.accelerometer_to_minutes(t, x, rate_hz=0), (GOOD_T[:3], np.ones((3, 3))),
                 r"rate_hz must be a positive number"),
    "bad axis": (lambda t, x: features.accelerometer_to_minutes(t, x, axis=3), (GOOD_T[:3], np.ones((3, 3))),
                 r"axis must be 0, 1 or 2"),
    "bad chunk_minutes": (lambda t, x: features.accelerometer_to_minutes(t, x, chunk_minutes=0),
                          (GOOD_T[:3], np.ones((3, 3))), r"chunk_minutes must be a whole number of minutes"),
    "bad min_seconds": (lambda t, x: features.eda_to_minutes(t, x, min_seconds=0), (GOOD_T[:3], np.ones(3)),
                        r"min_seconds must be an integer from 1 to 60"),
    "bad policy": (lambda t, x: features.eda_to_minutes(t, x, on_out_of_range="clip"), (GOOD_T[:3], np.ones(3)),
                   r"on_out_of_range must be one of"),
    "one sample, no rate": (features.accelerometer_to_minutes, (GOOD_T[:1], np.ones((1, 3))), r"pass rate_hz"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_argument_and_index(case):
    function, args, message = BAD[case]
    with pytest.raises(ValueError, match=message):
        function(*args)


@pytest.mark.parametrize("args, message", [
    ((np.arange(3.0), np.ones(3)), r"times must be datetime64 .* got dtype float64"),
    ((GOOD_T[:3], ["a", "b", "c"]), r"celsius must be numbers, got list"),
])
def test_wrong_types_raise_type_error(args, message):
    with pytest.raises(TypeError, match=message):
        features.temperature_to_minutes(*args)


def test_empty_streams_give_empty_frames():
    empty = np.zeros(0, "datetime64[ns]")
    assert features.eda_to_minutes(empty, []).shape == (0, 3)
    assert features.beats_to_minutes(empty, []).shape == (0, 9)
    assert features.accelerometer_to_minutes(empty, np.zeros((0, 3))).shape == (0, 10)


# ---- fuzzing --------------------------------------------------------------------------------------
def _run(function, *args, **kwargs):
    """The featuriser's frame, or None for the documented errors; nothing else may escape."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return function(*args, **kwargs)
        except (ValueError, TypeError) as error:
            assert str(error)
            return None


GAPS = st.lists(st.sampled_from([0.0, 0.0, 0.0, 0.01, 0.5, 3.0, 70.0]), min_size=1, max_size=8)


@FUZZ
@given(rr=st.lists(st.floats(1.0, 5000.0), max_size=200), gaps=GAPS, offset=st.floats(0, 120))
def test_fuzz_beats(rr, gaps, offset):
    rr = np.asarray(rr)
    gap = np.resize(np.asarray(gaps), rr.size) * 1000.0
    times = clock(offset + np.cumsum(rr + gap) / 1000.0)
    out = _run(features.beats_to_minutes, times, rr)
    assert out is not None  # valid input
    in_range(out)
    assert out["rr_percent_valid"].notna().all()


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), rate=st.sampled_from([10.0, 12.5, 25.0, 32.0, 50.0]),
       seconds=st.floats(0.5, 100.0), cadence=st.floats(0, 250), noise=st.sampled_from([0.0, 1e-4, 0.02, 0.5, 3.0]),
       scale=st.sampled_from([1.0, 1e-6, 8.0]), gap=st.sampled_from([0, 0, 2, 40]))
def test_fuzz_accelerometer(seed, rate, seconds, cadence, noise, scale, gap):
    rng = np.random.default_rng(seed)
    n = max(int(rate * seconds), 2)
    t = np.arange(n) / rate
    t[n // 2:] += gap
    xyz = rng.normal(0, noise, (n, 3)) + rng.uniform(-1, 1, 3)
    xyz[:, rng.integers(3)] += 0.4 * np.cos(2 * np.pi * cadence / 60 * t)
    out = _run(features.accelerometer_to_minutes, clock(t), scale * xyz, axis=int(rng.integers(3)))
    if out is not None:
        in_range(out)
        assert out["steps"].dropna().apply(float.is_integer).all()


@FUZZ
@given(values=st.lists(st.floats(-5, 150), min_size=0, max_size=400), rate=st.sampled_from([0.5, 1.0, 4.0, 8.0]),
       stream=st.sampled_from(["eda", "temperature", "altitude", "heart_rate"]), min_seconds=st.integers(1, 60))
def test_fuzz_sampled_streams(values, rate, stream, min_seconds):
    function = {"eda": features.eda_to_minutes, "temperature": features.temperature_to_minutes,
                "altitude": features.altitude_to_minutes, "heart_rate": features.heart_rate_to_minutes}[stream]
    times = clock(np.arange(len(values)) / rate)
    out = _run(function, times, values, min_seconds=min_seconds)
    if out is None:
        assert stream in ("eda", "heart_rate") and min(values) < 0  # the documented refusal
        return
    in_range(out)
    if stream == "eda":
        assert out["eda_lead_contact"].dropna().between(0, 60).all()


@FUZZ
@given(times=st.lists(st.integers(-10**12, 10**12), max_size=30), values=st.lists(st.floats(), max_size=30),
       stream=st.sampled_from(["beats", "eda", "accelerometer"]))
def test_fuzz_malformed_input_raises_only_documented_errors(times, values, stream):
    t = T0 + np.asarray(times, dtype=np.int64).astype("timedelta64[ns]")
    if stream == "accelerometer":
        values = np.resize(np.asarray(values, dtype=float), (len(values) // 3, 3)) if values else np.zeros((0, 3))
    out = _run({"beats": features.beats_to_minutes, "eda": features.eda_to_minutes,
                "accelerometer": features.accelerometer_to_minutes}[stream], t, values)
    if out is not None:
        in_range(out)


def test_rate_estimate_is_the_median_spacing_of_a_long_stream_with_a_gap():
    # More than one block of spacings, a short last block holding a 10-minute gap: still the median.
    from lsmkit.features._checks import _BLOCK
    from lsmkit.features.motion import _median_spacing

    ns = np.arange(_BLOCK + 3, dtype=np.int64) * 31_250_000  # 32 Hz
    ns[-2:] += 600 * 10**9
    assert _median_spacing(ns) == np.median(np.diff(ns)) == 31_250_000
    slow = np.arange(5, dtype=np.int64) * 3 * 10**9  # one sample every 3 s: above the int32 cap
    assert _median_spacing(slow) == 3e9
