"""Figure builders in lsmkit.plots, on small recordings whose gaps and labels are known exactly."""

import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import lsmkit
from lsmkit import plots
from lsmkit.data import categorical
from lsmkit.labels import ACTIVITIES

DAYS = 7
T = DAYS * 1440
HR, STEPS, TEMP = (lsmkit.CHANNEL_NAMES.index(c) for c in ("heart_rate", "steps", "skin_temperature"))
# P0 starts 07:00 UTC = 08:00 in Berlin, so local day 0 is 16 hours long and minute m of the
# recording is local minute 480 + m of day 0.
START = "2024-03-04T07:00"
HR_GAP = slice(100, 160)  # minutes since start: heart rate missing 09:40-10:40 local on day 0
STEPS_GAP = slice(300, 305)


@pytest.fixture(scope="module")
def recordings():
    rng = np.random.default_rng(0)
    means = np.array([c.mean for c in lsmkit.CHANNELS], dtype=np.float32)
    truth = (means + rng.normal(size=(2, T, 26))).astype(np.float32)
    signal = truth.copy()
    signal[0, HR_GAP, HR] = np.nan
    signal[0, STEPS_GAP, STEPS] = np.nan
    signal[1, T - 2 * 1440 :] = np.nan  # P1's recording is two days shorter: NaN padding
    truth[1, T - 2 * 1440 :] = np.nan
    activity = np.zeros((2, T), np.int8)
    activity[0, 600:660] = ACTIVITIES.index("run")
    sleep = np.zeros((2, T), bool)
    sleep[0, 900:1380] = True  # 23:00 on day 0 to 07:00 on day 1 (local)
    codes, attrs = categorical(activity, ACTIVITIES)
    return lsmkit.make_recordings(
        signal,
        participant=["P0", "P1"],
        start=[START, START],
        timezone=["Europe/Berlin", "UTC"],
        truth=(("participant", "time", "channel"), truth),
        activity=(("participant", "time"), codes, attrs),
        sleep=(("participant", "time"), sleep),
    )


def observed(fig, name):
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


def truth_traces(fig):
    return [t for t in fig.data if t.legendgroup == "truth"]


def test_returns_one_row_per_channel_with_units_in_axis_titles(recordings):
    fig = plots.recording_figure(recordings, "P0", day=0)
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data if t.legendgroup != "truth"] == ["heart_rate", "steps", "skin_temperature"]
    titles = [fig.layout.yaxis.title.text, fig.layout.yaxis2.title.text, fig.layout.yaxis3.title.text]
    assert titles == ["heart rate<br>(bpm)", "steps<br>(steps/min)", "skin temperature<br>(degC)"]
    assert "yaxis4" not in fig.layout.to_plotly_json()
    # rows are stacked top to bottom without overlap
    domains = [fig.layout.yaxis.domain, fig.layout.yaxis2.domain, fig.layout.yaxis3.domain]
    assert domains[0][1] == pytest.approx(1.0) and domains[2][0] == pytest.approx(0.0)
    assert domains[0][0] > domains[1][1] and domains[1][0] > domains[2][1]
    assert fig.layout.xaxis3.title.text == "local time (Europe/Berlin)"


def test_trace_count_is_channels_plus_one_truth_trace_per_channel_with_gaps(recordings):
    assert len(plots.recording_figure(recordings, "P0", day=0).data) == 3 + 2  # gaps in heart rate and steps
    assert len(plots.recording_figure(recordings, "P0", day=1).data) == 3  # no gaps on day 1
    assert len(plots.recording_figure(recordings, "P0", day=0, show_truth=False).data) == 3
    assert len(plots.recording_figure(recordings.drop_vars("truth"), "P0", day=0).data) == 3
    fig = plots.recording_figure(recordings, "P0", day=0, channels=lsmkit.CHANNEL_NAMES)
    assert len(fig.data) == 26 + 2 and fig.layout.yaxis26.title.text == "altitude std<br>(m)"


def test_x_is_local_wall_clock_time_over_the_day(recordings):
    fig = plots.recording_figure(recordings, "P0", day=0)
    x = pd.to_datetime(np.asarray(observed(fig, "heart_rate").x))
    assert len(x) == 16 * 60  # day 0 starts at 08:00 local
    assert x[0] == pd.Timestamp("2024-03-04 08:00") and x[-1] == pd.Timestamp("2024-03-04 23:59")
    assert [pd.Timestamp(v) for v in fig.layout.xaxis.range] == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-05")]
    x1 = pd.to_datetime(np.asarray(observed(plots.recording_figure(recordings, "P0", day=1), "steps").x))
    assert len(x1) == 1440 and x1[0] == pd.Timestamp("2024-03-05 00:00")
    assert "P0" in fig.layout.title.text and "04 Mar 2024" in fig.layout.title.text


def test_nan_gaps_are_preserved_in_observed_traces(recordings):
    fig = plots.recording_figure(recordings, "P0", day=0)
    hr = np.asarray(observed(fig, "heart_rate").y, dtype=float)
    steps = np.asarray(observed(fig, "steps").y, dtype=float)
    np.testing.assert_array_equal(np.flatnonzero(np.isnan(hr)), np.arange(100, 160))
    np.testing.assert_array_equal(np.flatnonzero(np.isnan(steps)), np.arange(300, 305))
    assert np.isnan(np.asarray(observed(fig, "skin_temperature").y, dtype=float)).sum() == 0
    expected = recordings["signal"].sel(participant="P0", channel="heart_rate").values[:960]
    np.testing.assert_array_equal(hr, expected)
    assert observed(fig, "heart_rate").connectgaps is False


def test_truth_trace_fills_only_the_gaps(recordings):
    fig = plots.recording_figure(recordings, "P0", day=0)
    hr_truth, steps_truth = truth_traces(fig)
    assert hr_truth.yaxis == "y" and steps_truth.yaxis == "y2"
    y = np.asarray(hr_truth.y, dtype=float)
    # the gap plus one observed minute either side, so the dotted line joins the solid one
    np.testing.assert_array_equal(np.flatnonzero(np.isfinite(y)), np.arange(99, 161))
    expected = recordings["truth"].sel(participant="P0", channel="heart_rate").values[HR_GAP]
    np.testing.assert_array_equal(y[HR_GAP], expected)
    assert np.isfinite(np.asarray(steps_truth.y, dtype=float)).sum() == 5 + 2
    assert [t.showlegend for t in (hr_truth, steps_truth)] == [True, False]  # one legend entry


def test_sleep_and_exercise_are_shaded_from_labels(recordings):
    day0 = plots.recording_figure(recordings, "P0", day=0).layout.shapes
    kinds = [s.legendgroup for s in day0]
    assert kinds == ["sleep", "exercise"]
    sleep, run = day0
    assert pd.Timestamp(sleep.x0) == pd.Timestamp("2024-03-04 23:00")
    assert pd.Timestamp(sleep.x1) == pd.Timestamp("2024-03-05 00:00")
    assert pd.Timestamp(run.x0) == pd.Timestamp("2024-03-04 18:00")
    assert pd.Timestamp(run.x1) == pd.Timestamp("2024-03-04 19:00")
    assert run.label.text == "run"
    day1 = plots.recording_figure(recordings, "P0", day=1).layout.shapes
    assert len(day1) == 1 and pd.Timestamp(day1[0].x1) == pd.Timestamp("2024-03-05 07:00")
    assert len(plots.recording_figure(recordings.drop_vars(["sleep", "activity"]), "P0", day=0).layout.shapes) == 0


def test_days_follow_the_local_calendar_and_ignore_padding(recordings):
    assert len(plots.recording_days(recordings, "P0")) == DAYS + 1  # 08:00 local start spills into an 8th date
    assert len(plots.recording_days(recordings, "P1")) == DAYS - 2 + 1
    last = plots.recording_figure(recordings, "P0", day=-1)
    assert len(observed(last, "heart_rate").x) == 8 * 60  # until 08:00 local on the 8th date
    assert "11 Mar 2024" in last.layout.title.text


def test_participant_by_position_and_channel_aliases(recordings):
    by_name = plots.recording_figure(recordings, "P1", day=2, channels=["heart_rate", "temperature"])
    by_position = plots.recording_figure(recordings, 1, day=2, channels=["hr", "skin_temp"])
    assert [t.name for t in by_position.data] == ["heart_rate", "skin_temperature"]
    np.testing.assert_array_equal(np.asarray(by_name.data[0].y), np.asarray(by_position.data[0].y))


def test_daylight_saving_end_breaks_the_line_instead_of_doubling_back():
    values = np.ones((1, 3 * 1440, 26), np.float32) * 70
    ds = lsmkit.make_recordings(values, participant=["A"], start=["2024-11-02T04:00"], timezone="America/New_York")
    fig = plots.recording_figure(ds, "A", day=1)  # Sunday 3 Nov 2024 has 25 local hours
    x = pd.to_datetime(np.asarray(fig.data[0].x))
    y = np.asarray(fig.data[0].y, dtype=float)
    assert len(x) == 25 * 60 + 1 and np.isnan(y).sum() == 1
    steps_back = np.flatnonzero(np.diff(x.values) < np.timedelta64(0))
    assert len(steps_back) == 1 and np.isnan(y[steps_back[0]])  # the break sits where the clock steps back


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(participant="nobody"), "unknown participant 'nobody'"),
        (dict(participant=5), "unknown participant 5"),
        (dict(day=8), "day 8 is out of range"),
        (dict(day=-9), "day -9 is out of range"),
        (dict(day=1.5), "day 1.5 is out of range"),
        (dict(day="monday"), "day .monday. is out of range"),
        (dict(channels=["heart_rate", "blood_pressure"]), "unknown channel 'blood_pressure'"),
        (dict(channels=[]), "channels is empty"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_the_value(recordings, kwargs, message):
    args = dict(participant="P0", day=0) | kwargs
    with pytest.raises(ValueError, match=message):
        plots.recording_figure(recordings, **args)


def test_channel_absent_from_the_dataset_is_a_value_error(recordings):
    subset = recordings.sel(channel=["heart_rate", "steps"])
    with pytest.raises(ValueError, match=r"'scl' \(scl\) is not in these recordings"):
        plots.recording_figure(subset, "P0", channels=["scl"])
    with pytest.raises(ValueError, match="unknown participant"):
        plots.missingness_figure(recordings, participant="P9")


def test_missingness_table_per_participant_and_per_day(recordings):
    per_participant = plots.missingness_table(recordings)
    assert per_participant.shape == (26, 2)
    assert per_participant.loc["heart_rate", "P0"] == pytest.approx(60 / T)
    assert per_participant.loc["steps", "P0"] == pytest.approx(5 / T)
    assert per_participant.loc["heart_rate", "P1"] == 0.0  # NaN padding is not missingness
    per_day = plots.missingness_table(recordings, "P0")
    assert per_day.shape == (26, DAYS + 1)
    assert per_day.loc["heart_rate"].iloc[0] == pytest.approx(60 / 960)
    assert per_day.loc["heart_rate"].iloc[1:].sum() == 0.0


def test_missingness_figure_heatmaps(recordings):
    fig = plots.missingness_figure(recordings)
    (heatmap,) = fig.data
    assert heatmap.type == "heatmap" and np.asarray(heatmap.z).shape == (26, 2)
    assert list(heatmap.x) == ["P0", "P1"] and heatmap.y[0] == "heart_rate"
    assert (heatmap.zmin, heatmap.zmax) == (0, 1)
    per_day = plots.missingness_figure(recordings, participant="P0", channels=["hr", "steps"])
    z = np.asarray(per_day.data[0].z)
    assert z.shape == (2, DAYS + 1) and z[0, 0] == pytest.approx(60 / 960)
    assert per_day.data[0].x[0] == "Mon 04 Mar" and "P0" in per_day.layout.title.text


def test_works_on_simulated_recordings():
    ds = lsmkit.simulate(1, 2, seed=0)
    fig = plots.recording_figure(ds, 0, day=0, channels=["heart_rate", "steps"])
    assert sum(t.legendgroup != "truth" for t in fig.data) == 2
    assert any(s.legendgroup == "sleep" for s in fig.layout.shapes)
    assert plots.missingness_figure(ds).data[0].z is not None


def test_one_week_figure_is_fast(recordings):
    plots.recording_figure(recordings, "P0", day=3)  # warm caches
    timings = []
    for day in range(5):
        start = time.perf_counter()
        plots.recording_figure(recordings, "P0", day=day)
        timings.append(time.perf_counter() - start)
    # ~20 ms on a laptop; the bound is loose so that a loaded CI runner does not flake
    assert np.median(timings) < 0.25


def test_day_none_draws_the_whole_recording(recordings):
    fig = plots.recording_figure(recordings, "P0", day=None)
    x = pd.to_datetime(np.asarray(observed(fig, "heart_rate").x))
    assert len(x) == T and x[0] == pd.Timestamp("2024-03-04 08:00")
    assert [pd.Timestamp(v) for v in fig.layout.xaxis.range] == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-12")]
    assert [s.legendgroup for s in fig.layout.shapes] == ["sleep", "exercise"]
    assert fig.layout.shapes[1].label.text is None  # no activity labels in the long view
    assert "8 days" in fig.layout.title.text
    assert len(observed(plots.recording_figure(recordings, "P1", day=None), "steps").x) == T - 2 * 1440
