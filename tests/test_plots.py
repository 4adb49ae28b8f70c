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


# ---- imputation_figure and task_error_figure ------------------------------------------------------
from lsmkit import masks  # noqa: E402

W_T = 60  # minutes per test window
W_HR, W_STEPS, W_RMSSD = (lsmkit.CHANNEL_NAMES.index(c) for c in ("heart_rate", "steps", "rmssd"))


@pytest.fixture(scope="module")
def windows():
    rng = np.random.default_rng(1)
    means = np.array([c.mean for c in lsmkit.CHANNELS], dtype=np.float32)
    signal = (means + rng.normal(size=(2, W_T, 26))).astype(np.float32)
    signal[0, 20:25, W_HR] = np.nan  # a real gap inside the hidden block below
    signal[:, :, W_RMSSD] = np.nan  # a channel this device never records
    return lsmkit.make_windows(signal, participant=["A", "B"], start=["2024-01-01T00:00", "2024-01-01T05:00"])


def block(windows, first, stop):
    mask = masks.interpolation(windows, 1, rng=0) & False
    mask[:, first:stop, :] = True
    return mask


def fills_for(windows, mask):
    return {"mean": lsmkit.baselines.WindowMean().impute(windows, mask),
            "linear": lsmkit.baselines.Linear().impute(windows, mask)}


def rows_of(fig):
    """Channel of each subplot row, from the y axis titles ("heart rate<br>(bpm)")."""
    layout = fig.layout.to_plotly_json()
    axes = sorted((k for k in layout if k.startswith("yaxis")), key=lambda k: int(k[5:] or 1))
    return [layout[k]["title"]["text"] for k in axes]


def test_imputation_figure_traces_per_row_and_fills_on_hidden_minutes_only(windows):
    mask = block(windows, 10, 30)
    fills = fills_for(windows, mask)
    fig = plots.imputation_figure(windows, mask, fills, window=0, channels=["hr", "steps"])
    assert [t.name for t in fig.data] == ["observed", "hidden (truth)", "mean", "linear"] * 2
    assert rows_of(fig) == ["heart rate<br>(bpm)", "steps<br>(steps/min)"]  # units on the y axes
    assert [t.showlegend for t in fig.data] == [True] * 4 + [False] * 4  # one legend entry per kind
    hr = windows["signal"].values[0, :, W_HR]
    observed, truth, mean, linear = (np.asarray(t.y, dtype=float) for t in fig.data[:4])
    hidden = np.zeros(W_T, bool)
    hidden[10:30] = True
    np.testing.assert_array_equal(observed[~hidden], hr[~hidden])
    assert np.isnan(observed[hidden]).all()
    np.testing.assert_array_equal(truth[hidden], hr[hidden])  # NaN where the device had a gap too
    assert np.isnan(truth[~hidden]).all() and np.isnan(truth[20:25]).all()
    for trace, method in ((mean, "mean"), (linear, "linear")):
        np.testing.assert_array_equal(trace[hidden], fills[method]["signal"].values[0, hidden, W_HR])
        assert np.isnan(trace[~hidden]).all()
        assert fig.data[2].line.dash == "dash"
    assert fig.data[2].line.color != fig.data[3].line.color
    assert fig.data[2].line.color == fig.data[6].line.color  # a method keeps its colour on every row


def test_imputation_figure_shades_each_rows_hidden_spans(windows):
    mask = block(windows, 10, 30)
    mask[0, 45:50, W_STEPS] = True  # a second span, on steps only
    fig = plots.imputation_figure(windows, mask, {}, channels=["heart_rate", "steps"])
    spans = [(s.xref, s.yref, s.x0, s.x1) for s in fig.layout.shapes]
    assert spans == [("x", "y domain", 10, 30), ("x2", "y2 domain", 10, 30), ("x2", "y2 domain", 45, 50)]
    assert len(fig.data) == 2 * 2  # no fills: observed and truth per row
    assert "Window 0 · participant A" in fig.layout.title.text and "525 of 1560 values hidden" in fig.layout.title.text  # 20 x 26 + 5


def test_imputation_figure_sensors_task_hides_whole_channels_and_is_shown_by_default(windows):
    mask = masks.sensors(windows, channels=["steps", "scl"])
    fig = plots.imputation_figure(windows, mask, fills_for(windows, mask), window=1)
    assert rows_of(fig) == ["steps<br>(steps/min)", "scl<br>(uS)"]  # only the hidden channels
    observed, truth, mean = (np.asarray(t.y, dtype=float) for t in fig.data[:3])
    assert np.isnan(observed).all()
    np.testing.assert_array_equal(truth, windows["signal"].values[1, :, W_STEPS])
    np.testing.assert_allclose(mean, lsmkit.get_channel("steps").mean)  # nothing visible: the registry's mean
    assert [(s.x0, s.x1) for s in fig.layout.shapes] == [(0, W_T), (0, W_T)]
    assert "Window 1 · participant B" in fig.layout.title.text


def test_imputation_figure_extrapolation_tail_and_default_channels(windows):
    mask = masks.extrapolation(windows, 15)
    fig = plots.imputation_figure(windows, mask, fills_for(windows, mask))
    # every channel hides the same tail: ties go to one of each main sensor; rmssd (never recorded) is skipped
    assert rows_of(fig)[:3] == ["heart rate<br>(bpm)", "steps<br>(steps/min)", "skin temperature<br>(degC)"]
    assert len(rows_of(fig)) == 4 and not any("rmssd" in r for r in rows_of(fig))
    linear = np.asarray(fig.data[3].y, dtype=float)
    assert np.isnan(linear[:-15]).all() and np.isfinite(linear[-15:]).all()
    assert linear[-1] == windows["signal"].values[0, -16, W_HR]  # linear holds the last visible value
    assert [(s.x0, s.x1) for s in fig.layout.shapes][:1] == [(W_T - 15, W_T)]


def test_imputation_figure_accepts_masks_and_fills_with_other_channel_order(windows):
    mask = masks.sensors(windows, channels=["steps"])
    fills = fills_for(windows, mask)
    reordered = mask.isel(channel=slice(None, None, -1)).transpose("channel", "time", "window")
    subset = {k: v.sel(channel=["skin_temperature", "steps"]) for k, v in fills.items()}
    a = plots.imputation_figure(windows, mask, fills, channels=["steps"])
    b = plots.imputation_figure(windows, reordered, subset, channels=["steps"])
    for ta, tb in zip(a.data, b.data):
        np.testing.assert_array_equal(np.asarray(ta.y, dtype=float), np.asarray(tb.y, dtype=float))


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(mask="wrong shape"), ValueError, r"mask shape \(2, 30, 26\) differs from the windows' \(2, 60, 26\)"),
        (dict(mask="unknown channel"), ValueError, r"mask has channels \['heart_rate'\] that are not in the windows"),
        (dict(mask="not a mask"), TypeError, "mask must be a boolean xarray.DataArray"),
        (dict(channels=["blood_pressure"]), ValueError, "unknown channel 'blood_pressure'"),
        (dict(channels=[]), ValueError, "channels is empty"),
        (dict(window=2), ValueError, "window 2 is out of range: the batch has 2 windows"),
        (dict(fills="short"), ValueError, "fill 'short' has sizes"),
        (dict(fills="lacks"), ValueError, r"fill 'lacks' lacks channels \['heart_rate'\]"),
    ],
)
def test_imputation_figure_bad_inputs_say_what_is_wrong(windows, change, error, message):
    mask = block(windows, 10, 30)
    args = dict(windows=windows, mask=mask, fills=fills_for(windows, mask), channels=["heart_rate"], window=0)
    if change.get("mask") == "wrong shape":
        args["mask"] = mask.isel(time=slice(0, 30))
    elif change.get("mask") == "unknown channel":
        args["windows"] = windows.drop_sel(channel="heart_rate")
        args["channels"] = ["steps"]
        args["fills"] = {}
    elif change.get("mask") == "not a mask":
        args["mask"] = mask.values
    elif change.get("fills") == "short":
        args["fills"] = {"short": windows.isel(time=slice(0, 10))}
    elif change.get("fills") == "lacks":
        args["fills"] = {"lacks": windows.sel(channel=["steps"])}
    else:
        args.update(change)
    with pytest.raises(error, match=message):
        plots.imputation_figure(**args)


@pytest.fixture(scope="module")
def table():
    rows = []
    for task, sizes in lsmkit.evaluation.TASK_SIZES.items():
        for k, size in enumerate(sizes):
            for m, method in enumerate(["lsm", "linear", "AR"]):
                if method == "AR" and task != "extrapolation":
                    continue  # forecasters run on extrapolation only
                mse = 0.1 * (m + 1) * (k + 1)
                rows.append(dict(task=task, size=size, method=method, mse=mse, mae=mse, n=100,
                                 mse_low=mse * 0.8, mse_high=mse * 1.3))
    rows.append(dict(task="gaps", size=None, method="lsm", mse=0.5, mae=0.5, n=10, mse_low=0.4, mse_high=0.7))
    # out of order on purpose: panels and sizes are sorted, not taken in table order
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)


def test_task_error_figure_panels_sizes_and_methods(table):
    fig = plots.task_error_figure(table)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["<b>random</b>", "<b>interpolation</b>", "<b>extrapolation</b>", "<b>sensors</b>", "<b>gaps</b>"]
    assert fig.layout.xaxis.categoryarray == ("80%",)
    assert fig.layout.xaxis2.categoryarray == ("10", "30", "60", "120")
    assert fig.layout.xaxis4.categoryarray == ("2", "6", "12") and fig.layout.xaxis4.type == "category"
    assert fig.layout.xaxis5.categoryarray == ("all gaps",)
    assert fig.layout.xaxis2.title.text == "minutes hidden" and fig.layout.yaxis.title.text == "MSE (z-scored)"
    per_panel = {}
    for t in fig.data:
        per_panel.setdefault(t.xaxis, []).append(t.name)
    assert {k: sorted(v) for k, v in per_panel.items()} == {
        "x": ["linear", "lsm"], "x2": ["linear", "lsm"], "x3": ["AR", "linear", "lsm"], "x4": ["linear", "lsm"], "x5": ["lsm"]}
    assert sorted(t.name for t in fig.data if t.showlegend) == ["AR", "linear", "lsm"]  # one legend entry each
    colours = {}
    for t in fig.data:
        colours.setdefault(t.name, set()).add(t.line.color)
    assert all(len(c) == 1 for c in colours.values()) and len({c.pop() for c in colours.values()}) == 3


def test_task_error_figure_points_and_error_bars_equal_the_table(table):
    fig = plots.task_error_figure(table)
    (trace,) = [t for t in fig.data if t.xaxis == "x2" and t.name == "linear"]
    expected = table[(table.task == "interpolation") & (table.method == "linear")].sort_values("size")
    assert list(trace.x) == ["10", "30", "60", "120"]
    np.testing.assert_allclose(trace.y, expected["mse"])
    assert trace.error_y.symmetric is False
    np.testing.assert_allclose(np.asarray(trace.y) + np.asarray(trace.error_y.array), expected["mse_high"])
    np.testing.assert_allclose(np.asarray(trace.y) - np.asarray(trace.error_y.arrayminus), expected["mse_low"])
    np.testing.assert_allclose(np.asarray(trace.customdata), expected[["mse_low", "mse_high"]].to_numpy())
    assert plots.task_error_figure(table, log_y=True).layout.yaxis3.type == "log"


def test_task_error_figure_on_a_real_evaluation_table():
    windows = lsmkit.load_sample().isel(window=slice(0, 6))
    methods = {"linear": lsmkit.baselines.Linear(), "AR": lsmkit.baselines.AutoRegressive()}
    result = lsmkit.evaluate(methods, windows, tasks={"interpolation": (10, 30), "extrapolation": (10,),
                                                      "gaps": (None,)}, rng=0, n_boot=20, progress=False)
    fig = plots.task_error_figure(result)
    assert [a.text for a in fig.layout.annotations] == ["<b>interpolation</b>", "<b>extrapolation</b>", "<b>gaps</b>"]
    assert len(fig.data) == 1 + 2 + 1  # AR runs on extrapolation only
    (ar,) = [t for t in fig.data if t.name == "AR"]
    row = result[result.method == "AR"].iloc[0]
    assert ar.y[0] == pytest.approx(row.mse) and ar.y[0] + ar.error_y.array[0] == pytest.approx(row.mse_high)


def test_task_error_figure_bad_tables():
    with pytest.raises(ValueError, match=r"table lacks columns \['mse_low', 'mse_high'\]"):
        plots.task_error_figure(pd.DataFrame({"task": ["random"], "size": [0.8], "method": ["a"], "mse": [1.0]}))
    with pytest.raises(ValueError, match="table is empty"):
        plots.task_error_figure(pd.DataFrame(columns=["task", "size", "method", "mse", "mse_low", "mse_high"]))
