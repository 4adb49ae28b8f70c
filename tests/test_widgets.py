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
