"""The Python side of lsmkit.widgets: controls change the FigureWidget in place."""

import datetime

import numpy as np
import plotly.graph_objects as go
import pytest

import lsmkit
from lsmkit.widgets import RecordingExplorer


@pytest.fixture(scope="module")
def recordings():
    ds = lsmkit.simulate(2, 3, seed=0)
    # P001's recording ends a day early (NaN padding), so its day slider is shorter.
    for var in ("signal", "truth"):
        ds[var][1, -1440:] = np.nan
    return ds


@pytest.fixture
def explorer(recordings):
    return RecordingExplorer(recordings)


def ys(figure):
    return [np.asarray(t.y, dtype=float) for t in figure.data if t.legendgroup != "truth"]


def test_starts_on_the_first_participant_and_day(explorer, recordings):
    assert isinstance(explorer.figure, go.FigureWidget)
    assert explorer.children[-1] is explorer.figure
    assert explorer.participant.options == (("P000", "P000"), ("P001", "P001"))
    assert (explorer.day.min, explorer.day.max, explorer.day.value) == (0, 2, 0)
    assert explorer.channels.value == ("heart_rate", "steps", "skin_temperature")
    assert explorer.figure.layout.title.text.startswith("Participant P000 · Mon 01 Jan 2024")
    assert [t.name for t in explorer.figure.data if t.legendgroup != "truth"] == list(explorer.channels.value)


def test_day_slider_updates_the_figure_in_place(explorer, recordings):
    figure = explorer.figure
    before = ys(figure)
    explorer.day.value = 1
    assert explorer.figure is figure
    assert "Tue 02 Jan 2024" in figure.layout.title.text
    after = ys(figure)
    expected = recordings["signal"].sel(participant="P000", channel="heart_rate").values[1440:2880]
    np.testing.assert_array_equal(after[0], expected)
    assert not np.array_equal(before[0], after[0], equal_nan=True)


def test_participant_dropdown_changes_data_title_and_day_range(explorer, recordings):
    explorer.day.value = 2
    explorer.participant.value = "P001"
    assert explorer.day.max == 1 and explorer.day.value == 1  # clamped to P001's last day
    assert explorer.figure.layout.title.text.startswith("Participant P001 · Tue 02 Jan 2024")
    expected = recordings["signal"].sel(participant="P001", channel="steps").values[1440:2880]
    np.testing.assert_array_equal(ys(explorer.figure)[1], expected)
    explorer.participant.value = "P000"
    assert explorer.day.max == 2


def test_channel_selection_changes_rows_and_drops_stale_axes(explorer):
    sent = []
    explorer.figure._send_relayout_msg = lambda data, **kwargs: sent.append(data)
    explorer.channels.value = ("heart_rate", "rmssd", "scl", "steps")
    assert [t.name for t in explorer.figure.data if t.legendgroup != "truth"] == ["heart_rate", "rmssd", "scl", "steps"]
    assert explorer.figure.layout.yaxis4.title.text == "steps<br>(steps/min)"
    explorer.channels.value = ("scl",)
    layout = explorer.figure.layout.to_plotly_json()
    assert [t.name for t in explorer.figure.data if t.legendgroup != "truth"] == ["scl"]
    assert not any(key in layout for key in ("xaxis2", "yaxis2", "yaxis4"))
    # the front end is told to delete the removed axes, not just left with them
    assert {"xaxis2": None, "yaxis2": None, "xaxis3": None, "yaxis3": None, "xaxis4": None, "yaxis4": None}.items() <= sent[-2].items()


def test_empty_channel_selection_keeps_the_figure_and_says_why(explorer):
    title = explorer.figure.layout.title.text
    n_traces = len(explorer.figure.data)
    explorer.channels.value = ()
    assert "at least one channel" in explorer.message.value
    assert explorer.figure.layout.title.text == title and len(explorer.figure.data) == n_traces
    explorer.channels.value = ("heart_rate",)
    assert explorer.message.value == "" and len(ys(explorer.figure)) == 1


def test_initial_participant_and_day(recordings):
    explorer = RecordingExplorer(recordings, participant="P001", day=1, channels=["hr"])
    assert explorer.figure.layout.title.text.startswith("Participant P001 · Tue 02 Jan 2024")
    assert [t.name for t in explorer.figure.data if t.legendgroup != "truth"] == ["heart_rate"]


def test_times_reach_the_browser_as_dates_not_integers(explorer):
    # FigureWidget serialises datetime64[ns] arrays as integer nanoseconds, which plotly.js
    # would draw on a numeric axis; the figure builder hands it millisecond datetimes instead.
    from plotly.serializers import custom_serializers

    explorer.day.value = 1
    x = custom_serializers["to_json"](explorer.figure.data[0].x, None)
    assert isinstance(x, list) and len(x) == 1440
    assert x[0] == datetime.datetime(2024, 1, 2, 0, 0)


def test_participant_change_redraws_once(explorer, monkeypatch):
    calls = []
    build = explorer._build
    monkeypatch.setattr(explorer, "_build", lambda: calls.append(1) or build())
    explorer.day.value = 2  # one redraw
    explorer.participant.value = "P001"  # clamps the day to 1: still one redraw
    explorer.participant.value = "P000"  # no clamp: one redraw
    assert len(calls) == 3


# ---- ScalingExplorer --------------------------------------------------------------------------
from lsmkit.scaling import fit_power_law, fit_power_law_ols  # noqa: E402
from lsmkit.scaling_plots import scaling_points, synthetic_sweep  # noqa: E402
from lsmkit.widgets import ScalingExplorer  # noqa: E402


@pytest.fixture(scope="module")
def sweep_results():
    return synthetic_sweep(0)


@pytest.fixture
def scaling(sweep_results):
    return ScalingExplorer(sweep_results, n_boot=10)  # few replicates: these tests check the point estimates


def trace(figure, name):
    (found,) = [t for t in figure.data if t.name == name]
    return found


def click(figure, name, point):
    """What the front end sends when a point is clicked (plotly's FigureWidget message)."""
    index = [t.name for t in figure.data].index(name)
    found = figure.data[index]
    figure._handler_js2py_pointsCallback({"new": {"event_type": "plotly_click", "points": {
        "xs": [found.x[point]], "ys": [found.y[point]], "point_indexes": [point], "trace_indexes": [index]}}})


def test_scaling_explorer_starts_on_the_compute_frontier(scaling, sweep_results):
    points = scaling_points(sweep_results, "random", "compute")
    np.testing.assert_array_equal(trace(scaling.figure, "in the fit").x, points["x"])
    expected = fit_power_law(points["x"], points["loss"], groups=points["run"], n_boot=0)
    assert scaling.fit.params == pytest.approx(expected.params, rel=1e-9)
    assert f"b = {expected.params['b']:.3f}" in scaling.readout.value
    assert scaling.children[-1] is scaling.figure and scaling.excluded == set()


def test_toggling_a_run_refits_without_it(scaling):
    figure, points = scaling.figure, scaling.points
    before = scaling.fit.params["b"]
    scaling.toggle("2M_w2048_s2000")
    kept = points[points["run"] != "2M_w2048_s2000"]
    expected = fit_power_law(kept["x"], kept["loss"], groups=kept["run"], n_boot=0)
    assert scaling.fit.params["b"] == pytest.approx(expected.params["b"], rel=1e-9) != before
    assert scaling.figure is figure
    assert set(trace(figure, "held out").customdata) == {"2M_w2048_s2000"}
    assert len(trace(figure, "in the fit").x) == len(kept)
    assert f"{len(kept['run'].unique())} of {points['run'].nunique()} runs" in scaling.readout.value
    scaling.toggle("2M_w2048_s2000")  # back in
    assert scaling.fit.params["b"] == pytest.approx(before, rel=1e-9) and len(trace(figure, "held out").x) == 0


def test_clicking_a_point_toggles_its_run(scaling):
    run = trace(scaling.figure, "in the fit").customdata[-1]
    click(scaling.figure, "in the fit", len(scaling.points) - 1)
    assert scaling.excluded == {run} and set(trace(scaling.figure, "held out").customdata) == {run}
    click(scaling.figure, "held out", 0)
    assert scaling.excluded == set() and len(trace(scaling.figure, "held out").x) == 0


def test_switching_axis_changes_the_x_data_and_clears_exclusions(scaling):
    scaling.toggle(scaling.points["run"].iloc[0])
    scaling.axis.value = "parameters"
    np.testing.assert_array_equal(trace(scaling.figure, "in the fit").x, [160_000, 740_000, 2_200_000, 7_300_000])
    assert scaling.figure.layout.xaxis.title.text == "parameters" and scaling.excluded == set()
    scaling.axis.value = "data"
    np.testing.assert_array_equal(trace(scaling.figure, "in the fit").x, [320, 1280, 5120, 10240])
    assert trace(scaling.figure, "extrapolation").x[-1] == 100 * 10240
    scaling.task.value = "extrapolation"
    points = scaling_points(scaling.results, "extrapolation", "data")
    np.testing.assert_array_equal(trace(scaling.figure, "in the fit").y, points["loss"])


def test_switching_form_changes_the_law(scaling):
    assert set(scaling.fit.params) == {"a", "b", "c"}
    scaling.form.value = "no floor"
    assert set(scaling.fit.params) == {"a", "b"} and scaling.fit.method == "huber"
    scaling.form.value = "ols"
    points = scaling.points
    expected = fit_power_law_ols(points["x"], points["loss"], groups=points["run"])
    assert scaling.fit.method == "ols" and scaling.fit.params == pytest.approx(expected.params)
    assert "<b>c</b>" not in scaling.readout.value
    scaling.form.value = "floor"
    assert set(scaling.fit.params) == {"a", "b", "c"} and "<b>c</b>" in scaling.readout.value


def test_a_toggle_that_would_break_the_fit_is_refused(sweep_results):
    scaling = ScalingExplorer(sweep_results, axis="parameters", n_boot=10)  # 4 runs, 4 points; the floor law has 3
    scaling.toggle("tiny_w2048_s2000")
    assert scaling.fit.n_points == 3
    fit = scaling.fit
    scaling.toggle("mini_w2048_s2000")
    assert scaling.excluded == {"tiny_w2048_s2000"} and scaling.fit is fit
    assert "only 2 points" in scaling.message.value
    with pytest.raises(ValueError, match="run 'nope' has no point on this axis"):
        scaling.toggle("nope")
    with pytest.raises(ValueError, match="unknown axis 'windows'; expected one of compute, data, parameters"):
        ScalingExplorer(sweep_results, axis="windows")


# ---- MaskExplorer and ForecastExplorer --------------------------------------------------------------
import xarray as xr  # noqa: E402

from lsmkit import baselines, masks, metrics  # noqa: E402
from lsmkit.widgets import ForecastExplorer, MaskExplorer  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return lsmkit.load_pretrained()


@pytest.fixture(scope="module")
def sample():
    return lsmkit.load_sample().isel(window=slice(0, 40))  # P000's windows and the first of P001's


@pytest.fixture
def masker(sample, model):
    return MaskExplorer(sample, model)


@pytest.fixture
def forecaster(sample, model):
    return ForecastExplorer(sample, model)


class Counting:
    """A method that counts its impute calls."""

    def __init__(self, method):
        self.method, self.calls = method, 0
        self.minutes = getattr(method, "minutes", None)

    def impute(self, windows, mask=None):
        self.calls += 1
        return self.method.impute(windows, mask)


def row_channels(figure):
    """Channel of each row, from the y axis titles."""
    layout = figure.layout.to_plotly_json()
    keys = sorted((k for k in layout if k.startswith("yaxis")), key=lambda k: int(k[5:] or 1))
    return [layout[k]["title"]["text"].split("<br>")[0].replace(" ", "_") for k in keys]


def fill_ys(figure, name):
    return [np.asarray(t.y, dtype=float) for t in figure.data if t.name == name]


def test_mask_explorer_starts_with_model_and_first_baseline(masker):
    assert isinstance(masker.figure, go.FigureWidget) and masker.children[-1] is masker.figure
    assert (masker.task.value, masker.size.value, masker.hide.value) == ("interpolation", 60, ())
    assert list(masker.baselines) == ["linear interpolation", "kNN", "window mean"]
    assert [t.name for t in masker.figure.data[:4]] == ["observed", "hidden (truth)", "lsm-2m", "linear interpolation"]
    assert len(row_channels(masker.figure)) == 4 and "lsm-2m" in masker.readout.value
    assert masker.figure.layout.title.text.startswith("Window 0 · participant P000")


def test_hiding_a_channel_by_clicking_shows_the_fills_over_the_whole_channel(masker, model):
    masker.set(task="sensors", size=0)
    assert "Nothing to score" in masker.readout.value
    assert all(np.isnan(y).all() for y in fill_ys(masker.figure, "lsm-2m"))  # nothing hidden, nothing filled
    masker.hide.value = ("steps",)
    assert row_channels(masker.figure) == ["steps"]
    (filled,) = fill_ys(masker.figure, "lsm-2m")
    one = masker.one()
    expected = model.impute(one, masks.sensors(one, channels=["steps"]))["signal"].sel(channel="steps").values[0]
    np.testing.assert_allclose(filled, expected)
    (observed,) = fill_ys(masker.figure, "observed")
    assert np.isnan(observed).all() and np.isfinite(filled).all()
    masker.hide.value = ("steps", "skin_temperature")
    assert row_channels(masker.figure) == ["steps", "skin_temperature"]


def test_error_readout_equals_lsmkit_metrics(masker, model):
    for settings in (dict(task="random", size=0.5), dict(task="sensors", size=6, hide=("heart_rate",)),
                     dict(task="extrapolation", size=30, baseline="kNN")):
        masker.set(**settings)
        one, mask = masker.one(), masker.mask()
        fresh = {"linear interpolation": baselines.Linear(), "kNN": baselines.KNN()}[masker.baseline.value]
        fills = {"lsm-2m": model.impute(one, mask), masker.baseline.value: fresh.impute(one, mask)}
        table = metrics.error_table(fills, one, mask)
        for name in fills:
            assert masker.errors[name] == pytest.approx(table.loc[(name, "all"), "mse"], rel=1e-5)
            assert f"{masker.errors[name]:.3f}" in masker.readout.value
        assert masker.n_scored == table.loc[("lsm-2m", "all"), "n"]


def test_each_mask_control_changes_the_figure(masker, sample):
    title, before = masker.figure.layout.title.text, fill_ys(masker.figure, "observed")[0]
    masker.window.value = 3
    assert title.startswith("Window 0") and masker.figure.layout.title.text.startswith("Window 3 · participant P000")
    assert not np.array_equal(before, fill_ys(masker.figure, "observed")[0], equal_nan=True)

    masker.task.value = "extrapolation"  # the size list follows the task
    assert masker.size.value == 60 and [v for _, v in masker.size.options] == [10, 30, 60, 120]
    assert {(s.x0, s.x1) for s in masker.figure.layout.shapes} == {(240, 300)}
    masker.size.value = 10
    assert {(s.x0, s.x1) for s in masker.figure.layout.shapes} == {(290, 300)}
    assert np.isfinite(fill_ys(masker.figure, "lsm-2m")[0]).sum() == 10

    fill = fill_ys(masker.figure, "linear interpolation")[0]
    masker.baseline.value = "window mean"
    assert [t.name for t in masker.figure.data[:4]] == ["observed", "hidden (truth)", "lsm-2m", "window mean"]
    assert not np.array_equal(fill, fill_ys(masker.figure, "window mean")[0], equal_nan=True)

    masker.participant.value = "P001"  # moves to P001's first window
    first = int(np.flatnonzero(sample["participant"].values == "P001")[0])
    assert masker.window.value == first and all(v >= first for _, v in masker.window.options)
    assert f"Window {first} · participant P001" in masker.figure.layout.title.text


def test_masks_repeat_for_the_same_window_and_settings(masker, sample, model):
    masker.set(task="random", size=0.8)
    first = [t.y for t in masker.figure.data]
    masker.set(window=5)
    masker.set(window=0)
    np.testing.assert_array_equal(masker.mask().values, MaskExplorer(sample, model, task="random").mask().values)
    for a, b in zip(first, masker.figure.data):
        np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b.y, dtype=float))


def test_fills_are_cached_by_window_and_mask(sample):
    counting = Counting(lsmkit.load_pretrained())
    explorer = MaskExplorer(sample, counting, {"linear": baselines.Linear()})
    explorer.set(size=30)
    explorer.set(size=60)  # back to the first mask: cached
    explorer.set(window=1)
    assert counting.calls == 3


def test_set_changes_several_controls_with_one_redraw(masker, monkeypatch):
    calls = []
    draw = masker._draw
    monkeypatch.setattr(masker, "_draw", lambda: calls.append(1) or draw())
    seconds = masker.set(participant="P001", task="sensors", size=6, hide=("scl",), baseline="kNN")
    assert len(calls) == 1 and 0 < seconds < 30
    assert masker.window.value == int(np.flatnonzero(masker.windows["participant"].values == "P001")[0])
    masker.set(window=2)  # a window of another participant: the participant follows
    assert masker.participant.value == "P000" and len(calls) == 2
    with pytest.raises(ValueError, match=r"unknown controls \['colour'\]"):
        masker.set(colour="red")


def test_forecast_explorer_horizon_slider_moves_the_forecast(forecaster, model):
    assert [t.name for t in forecaster.figure.data[:6]] == [
        "observed", "hidden (truth)", "lsm-2m", "last value", "AR(5)", "seasonal naive"]
    assert row_channels(forecaster.figure) == ["heart_rate", "steps", "skin_temperature"]
    assert forecaster.horizon.value == 60 and {(s.x0, s.x1) for s in forecaster.figure.layout.shapes} == {(240, 300)}
    forecaster.horizon.value = 120
    assert {(s.x0, s.x1) for s in forecaster.figure.layout.shapes} == {(180, 300)}
    for name in ("lsm-2m", "last value", "AR(5)", "seasonal naive"):
        for y in fill_ys(forecaster.figure, name):
            assert np.isnan(y[:180]).all() and np.isfinite(y[180:]).all()
    one = forecaster.one()
    expected = model.forecast(one, 120)["signal"].sel(channel="heart_rate").values[0, 180:]
    np.testing.assert_allclose(fill_ys(forecaster.figure, "lsm-2m")[0][180:], expected)


def test_forecast_baselines_on_shown_channels_match_the_whole_window(forecaster, sample):
    forecaster.set(window=30, horizon=30)  # a window with a day of history before it
    one = forecaster.one()
    mask = masks.extrapolation(one, 30)
    for name, baseline in [("last value", baselines.Nearest()), ("AR(5)", baselines.AutoRegressive()),
                           ("seasonal naive", baselines.SeasonalNaive(history=sample))]:
        full = baseline.impute(one, mask)["signal"].sel(channel=list(forecaster.channels.value)).values[0]
        for row, y in enumerate(fill_ys(forecaster.figure, name)):
            np.testing.assert_allclose(y[-30:], full[-30:, row], rtol=1e-6)


def test_forecast_readout_and_channel_selection(forecaster, model):
    forecaster.set(window=7, channels=("heart_rate", "scl"))
    assert row_channels(forecaster.figure) == ["heart_rate", "scl"]
    one = forecaster.one()
    mask = masks.extrapolation(one, 60)
    fills = {"lsm-2m": model.impute(one, mask), "last value": baselines.Nearest().impute(one, mask)}
    table = metrics.error_table(fills, one.sel(channel=["heart_rate", "scl"]), mask.sel(channel=["heart_rate", "scl"]))
    for name in fills:
        assert forecaster.errors[name] == pytest.approx(table.loc[(name, "all"), "mse"], rel=1e-5)
    n_traces = len(forecaster.figure.data)
    forecaster.channels.value = ()
    assert "select at least one channel" in forecaster.readout.value and len(forecaster.figure.data) == n_traces
    forecaster.channels.value = ("steps",)
    assert row_channels(forecaster.figure) == ["steps"] and "MSE" in forecaster.readout.value


def test_forecast_explorer_takes_history_and_custom_baselines(sample, model):
    explorer = ForecastExplorer(sample.isel(window=slice(20, 40)), model, history=sample, horizon=30)
    assert "seasonal naive" in explorer.errors
    custom = ForecastExplorer(sample, model, {"mean": baselines.WindowMean(), "knn": baselines.KNN()})
    assert [t.name for t in custom.figure.data[:4]] == ["observed", "hidden (truth)", "lsm-2m", "mean"]
    assert set(custom.errors) == {"lsm-2m", "mean", "knn"}


@pytest.mark.parametrize("widget", [MaskExplorer, ForecastExplorer])
def test_window_explorers_refuse_bad_inputs(widget, sample, model):
    short = lsmkit.to_windows(lsmkit.load_sample(form="recordings").isel(participant=[0]), minutes=100)
    with pytest.raises(ValueError, match="windows are 100 minutes long; the model takes 300-minute windows"):
        widget(short, model)
    with pytest.raises(ValueError, match="baselines is empty"):
        widget(sample, model, baselines={})
    with pytest.raises(TypeError, match=r"baseline 'x' must have an impute\(windows, mask\) method, got int"):
        widget(sample, model, baselines={"x": 3})
    with pytest.raises(TypeError, match="model must have an impute"):
        widget(sample, model=object())
    with pytest.raises(ValueError, match="window 40 is out of range"):
        widget(sample, model, window=40)
    with pytest.raises(TypeError, match="windows must be an xarray.Dataset"):
        widget(sample["signal"], model)


def test_mask_explorer_refuses_an_unknown_task(sample, model):
    with pytest.raises(ValueError, match="unknown task 'gaps'; expected one of random, interpolation"):
        MaskExplorer(sample, model, task="gaps")


# ---- EmbeddingExplorer ------------------------------------------------------------------------------
import importlib.util  # noqa: E402

import pandas as pd  # noqa: E402

from lsmkit import downstream  # noqa: E402
from lsmkit.probe import project, summarise  # noqa: E402
from lsmkit.widgets import EmbeddingExplorer, FewShotExplorer  # noqa: E402


@pytest.fixture(scope="module")
def labelled():
    """The bundled windows (8 participants) with the exercise task's categorical label, and random embeddings."""
    windows = downstream.task_windows(lsmkit.load_sample(), "exercise")
    return windows, np.random.default_rng(0).normal(size=(windows.sizes["window"], 16))


@pytest.fixture
def embedder(labelled):
    return EmbeddingExplorer(*labelled)


def scatter_names(figure):
    return [t.name for t in figure.data]


def test_embedding_explorer_starts_coloured_by_label(embedder, labelled):
    windows, embeddings = labelled
    assert "lsmkit-embedding-explorer" in embedder._dom_classes
    assert embedder.children[1:] == (embedder.figure, embedder.window_figure)
    assert embedder.color.value == "label" and embedder.color.options[-1] == "participant"
    assert {"exercise", "sex", "age", "label"} <= set(embedder.color.options)
    assert "signal" not in embedder.color.options and "activity" not in embedder.color.options  # not per-window
    np.testing.assert_allclose(embedder.points, project(embeddings, "pca"))
    assert scatter_names(embedder.figure) == ["exercise", "no_exercise", "selected"]
    names = lsmkit.decode_labels(windows["label"]).values
    for trace in embedder.figure.data[:2]:
        positions = np.asarray(trace.customdata)
        assert len(trace.x) == (names == trace.name).sum() and (names[positions] == trace.name).all()
        np.testing.assert_allclose(np.c_[trace.x, trace.y], embedder.points[positions])
    assert len(embedder.figure.data[0].x) == 18 and len(embedder.figure.data[1].x) == 205
    assert embedder.selected == 0
    assert embedder.window_figure.layout.title.text.startswith("Window 0 · participant P000")


def test_colour_by_changes_the_traces(embedder, labelled):
    windows, _ = labelled
    figure = embedder.figure
    embedder.color.value = "participant"
    assert embedder.figure is figure
    assert scatter_names(figure) == [f"P00{i}" for i in range(8)] + ["selected"]
    counts = pd.Series(windows["participant"].values).value_counts().sort_index()
    assert [len(t.x) for t in figure.data[:-1]] == counts.tolist()
    embedder.color.value = "sex"  # a categorical label: drawn by name
    assert set(scatter_names(figure)) <= {"female", "male", "selected"} and len(figure.data) >= 2
    embedder.color.value = "exercise"
    assert scatter_names(figure) == ["False", "True", "selected"]
    assert "coloured by exercise" in figure.layout.title.text
    embedder.select(3)
    embedder.color.value = "age"  # eight participants, eight ages: still categories; the ring stays
    assert len(figure.data) == 9 and list(figure.data[-1].customdata) == [3]


def test_select_moves_the_ring_and_draws_the_window(embedder, labelled):
    windows, _ = labelled
    embedder.select(57)
    ring = embedder.figure.data[-1]
    assert ring.name == "selected" and (ring.x[0], ring.y[0]) == tuple(embedder.points[57])
    assert embedder.selected == 57 and list(ring.customdata) == [57]
    title = embedder.window_figure.layout.title.text
    assert title.startswith(f"Window 57 · participant {windows['participant'].values[57]}")
    (heart,) = [t for t in embedder.window_figure.data if t.yaxis == "y"]
    np.testing.assert_array_equal(np.asarray(heart.y, dtype=float),
                                  windows["signal"].isel(window=57).sel(channel="heart_rate").values)
    with pytest.raises(ValueError, match="window 223 is out of range: the batch has 223 windows"):
        embedder.select(223)


def test_clicking_a_point_selects_its_window(embedder):
    exercise = embedder.figure.data[0]
    target = int(exercise.customdata[4])
    click(embedder.figure, "exercise", 4)
    assert embedder.selected == target
    assert embedder.window_figure.layout.title.text.startswith(f"Window {target} ·")
    assert tuple(embedder.figure.data[-1].x) == (embedder.points[target, 0],)
    embedder.color.value = "participant"  # the redrawn traces are clickable too
    target = int(embedder.figure.data[2].customdata[0])
    click(embedder.figure, "P002", 0)
    assert embedder.selected == target and f"Window {target} ·" in embedder.window_figure.layout.title.text


@pytest.mark.skipif(importlib.util.find_spec("umap") is not None, reason="umap-learn is installed")
def test_umap_without_umap_learn_stays_on_pca_and_says_why(embedder):
    names = scatter_names(embedder.figure)
    embedder.projection.value = "umap"
    assert embedder.projection.value == "pca" and "pip install umap-learn" in embedder.message.value
    assert scatter_names(embedder.figure) == names
    assert "umap-learn" in embedder.projection.tooltips[1]
    embedder.color.value = "participant"
    assert embedder.message.value == ""


def test_embedding_explorer_inputs(labelled):
    windows, embeddings = labelled
    small = windows.isel(window=slice(0, 30))
    array = xr.DataArray(embeddings[:30].T, dims=("feature", "window"))  # any dim order
    explorer = EmbeddingExplorer(small.drop_vars("label"), array, color="label", channels=["steps"])
    assert explorer.color.value == "participant" and scatter_names(explorer.figure) == ["P000", "P001", "selected"]
    np.testing.assert_allclose(explorer.embeddings, embeddings[:30])
    assert row_channels(explorer.window_figure) == ["steps"]
    with pytest.raises(ValueError, match=r"embeddings must have shape \(W, D\) with W = 30 windows, got \(29, 16\)"):
        EmbeddingExplorer(small, embeddings[:29])
    with pytest.raises(ValueError, match="cannot colour by 'colour'; per-window variables: sex, age"):
        EmbeddingExplorer(small, embeddings[:30], color="colour")
    with pytest.raises(ValueError, match="unknown projection 'tsne'; expected one of pca, umap"):
        EmbeddingExplorer(small, embeddings[:30], projection="tsne")


def test_embedding_explorer_embeds_with_the_model(labelled, model):
    few = labelled[0].isel(window=slice(10, 18))
    explorer = EmbeddingExplorer(few, model=model)
    np.testing.assert_allclose(explorer.embeddings, model.embed(few).values, rtol=1e-6)
    assert explorer.points.shape == (8, 2)


# ---- FewShotExplorer ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def few_shot_table():
    """few_shot's per-draw table by hand: three methods, k in 1, 5, all, four draws."""
    rng = np.random.default_rng(0)
    rows = []
    for method, skill in [("linear probe", 0.7), ("1-D CNN", 0.5), ("scratch encoder", 0.4)]:
        for k in (1, 5, -1):
            for draw in range(4):
                base = skill + (0.2 if k == -1 else 0.02 * k) + rng.normal(0, 0.03)
                rows.append(dict(method=method, shots=k, draw=draw, n_train=2 * k if k > 0 else 100, n_test=50,
                                 accuracy=base + 0.1, macro_f1=base, balanced_accuracy=base + 0.05))
    return pd.DataFrame(rows)


@pytest.fixture
def few(few_shot_table):
    return FewShotExplorer(few_shot_table, n_boot=200)


def expected_at(table, metric, k, n_boot=200):
    summary = summarise(table[["method", "shots", "draw", metric]], n_boot=n_boot, rng=0)
    return summary[summary["shots"] == k].sort_values("mean", ascending=False).reset_index(drop=True)


def test_few_shot_explorer_starts_with_every_method_at_the_smallest_k(few, few_shot_table):
    assert "lsmkit-few-shot-explorer" in few._dom_classes and few.children[-1] is few.figure
    assert few.methods.value == ("linear probe", "1-D CNN", "scratch encoder")
    assert few.k.options == (("1", 1), ("5", 5), ("all", -1)) and few.k.value == 1
    assert [t.name for t in few.figure.data][1::2] == ["linear probe", "1-D CNN", "scratch encoder"]
    assert few.figure.layout.yaxis.title.text == "macro F1"
    assert few.figure.layout.shapes[0].x0 == 1
    expected = expected_at(few_shot_table, "macro_f1", 1)
    assert list(few.at_k["method"]) == list(expected["method"]) == ["linear probe", "1-D CNN", "scratch encoder"]
    np.testing.assert_allclose(few.at_k[["mean", "low", "high"]], expected[["mean", "low", "high"]])
    for row in expected.itertuples():
        assert f"<b>{row.mean:.3f}</b></td><td>[{row.low:.3f}, {row.high:.3f}]" in few.readout.value


def test_deselecting_a_method_removes_its_traces(few):
    few.methods.value = ("linear probe", "scratch encoder")
    names = [t.name for t in few.figure.data]
    assert names == ["linear probe interval", "linear probe", "scratch encoder interval", "scratch encoder"]
    assert "1-D CNN" not in few.readout.value and list(few.at_k["method"]) == ["linear probe", "scratch encoder"]
    figure = few.figure
    few.methods.value = ()
    assert "select at least one method" in few.message.value and len(figure.data) == 4
    few.methods.value = ("1-D CNN",)
    assert few.message.value == "" and [t.name for t in figure.data] == ["1-D CNN interval", "1-D CNN"]


def test_changing_k_reads_out_summarise_at_that_k(few, few_shot_table):
    before = few.readout.value
    few.k.value = 5
    expected = expected_at(few_shot_table, "macro_f1", 5)
    np.testing.assert_allclose(few.at_k[["mean", "low", "high"]], expected[["mean", "low", "high"]])
    assert few.readout.value != before and "k = 5 per class" in few.readout.value
    for row in expected.itertuples():
        assert f"<b>{row.mean:.3f}</b></td><td>[{row.low:.3f}, {row.high:.3f}]" in few.readout.value
    assert few.figure.layout.shapes[0].x0 == 5
    few.k.value = -1
    assert few.figure.layout.shapes[0].x0 == 50 and "all labelled windows" in few.readout.value
    np.testing.assert_allclose(few.at_k["mean"], expected_at(few_shot_table, "macro_f1", -1)["mean"])


def test_metric_change_changes_the_axis_and_summarises_once(few, few_shot_table, monkeypatch):
    import lsmkit.probe

    calls = []
    monkeypatch.setattr(lsmkit.probe, "summarise", lambda table, **kw: calls.append(list(table.columns)) or
                        summarise(table, **kw))
    few.metric.value = "accuracy"
    assert few.figure.layout.yaxis.title.text == "accuracy" and "accuracy at k = 1" in few.readout.value
    np.testing.assert_allclose(few.at_k["mean"], expected_at(few_shot_table, "accuracy", 1)["mean"])
    few.methods.value = ("1-D CNN",)  # toggling methods and k reuses the summary
    few.k.value = 5
    few.metric.value = "macro_f1"  # cached since the start
    few.metric.value = "accuracy"
    assert calls == [["method", "shots", "draw", "accuracy"]]
    few.metric.value = "balanced_accuracy"
    assert few.figure.layout.yaxis.title.text == "balanced accuracy" and len(calls) == 2


def test_few_shot_explorer_refuses_bad_tables(few_shot_table):
    with pytest.raises(ValueError, match="expected lsmkit.probe.few_shot's table"):
        FewShotExplorer(few_shot_table.drop(columns=["draw"]))
    with pytest.raises(ValueError, match="unknown metric 'f1'; this table has accuracy, macro_f1"):
        FewShotExplorer(few_shot_table, metric="f1")
    two_tasks = pd.concat([few_shot_table.assign(task="activity"), few_shot_table.assign(task="exercise")])
    with pytest.raises(ValueError, match=r"several tasks \(activity, exercise\); pick one"):
        FewShotExplorer(two_tasks)
    one = FewShotExplorer(two_tasks[two_tasks["task"] == "activity"])
    assert len(one.at_k) == few_shot_table["method"].nunique()


def test_a_device_profile_makes_the_other_channels_absent_unfilled_and_unscored(masker, forecaster):
    masker.set(task="interpolation", size=60, profile="full")
    full_scored = masker.n_scored
    masker.set(profile="smartwatch")
    one = masker.one()
    absent = [c for c in one["channel"].values if c not in lsmkit.DEVICE_PROFILES["smartwatch"]]
    assert one["signal"].sel(channel=absent).isnull().all()
    fill = masker.cached(("model", *masker._settings()), lambda: None)
    assert fill["signal"].sel(channel=absent).isnull().all()  # no invented sensors
    assert 0 < masker.n_scored < full_scored
    forecaster.set(profile="heart_rate_only", channels=("heart_rate",))
    assert forecaster.n_scored > 0 and np.isfinite(forecaster.errors[forecaster.model_name])
    with pytest.raises(ValueError, match="unknown device profile 'watch'"):
        lsmkit.widgets.MaskExplorer(masker.windows, model=masker.model, profile="watch")
