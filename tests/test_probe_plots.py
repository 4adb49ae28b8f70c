"""Probe figures in lsmkit.probe_plots: few-shot curves from a hand-made summary, embedding scatters."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from lsmkit import probe_plots as pp

SHOTS = [1, 5, 20, -1]


def hand_summary() -> pd.DataFrame:
    """Two methods x four k x two metrics; mean = 0.5 + k/100 (+0.1 for "probe"), band mean -/+ 0.05."""
    rows = []
    for bonus, method in [(0.1, "probe"), (0.0, "scratch")]:
        for k in SHOTS:
            for offset, metric in [(0.0, "macro_f1"), (0.2, "accuracy")]:
                mean = 0.5 + (100 if k == -1 else k) / 1000 + bonus + offset
                rows.append(dict(method=method, shots=k, metric=metric, mean=mean, low=mean - 0.05,
                                 high=mean + 0.05, draws=5))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def summary():
    return hand_summary()


def by_name(figure, name):
    (trace,) = [t for t in figure.data if t.name == name]
    return trace


# ---- few-shot curves ---------------------------------------------------------------------------
def test_shot_positions_put_all_a_decade_right_of_the_largest_k():
    assert pp.shot_positions([5, -1, 1, 20]) == {1: 1.0, 5: 5.0, 20: 20.0, -1: 200.0}
    assert pp.shot_positions([-1]) == {-1: 1.0}
    with pytest.raises(ValueError, match=r"positive integers or -1 \(all\), got \[0, 1\]"):
        pp.shot_positions([0, 1])


def test_few_shot_figure_lines_bands_and_ticks(summary):
    figure = pp.few_shot_figure(summary)
    assert isinstance(figure, go.Figure)
    assert [t.name for t in figure.data] == ["probe interval", "probe", "scratch interval", "scratch"]
    line = by_name(figure, "probe")
    expected = summary[(summary["method"] == "probe") & (summary["metric"] == "macro_f1")]
    np.testing.assert_array_equal(line.x, [1, 5, 20, 200])  # "all" one decade right of k = 20
    np.testing.assert_allclose(line.y, expected["mean"])
    band = by_name(figure, "probe interval")
    assert band.fill == "toself" and band.legendgroup == line.legendgroup == "probe" and not band.showlegend
    np.testing.assert_array_equal(band.x, [1, 5, 20, 200, 200, 20, 5, 1])
    np.testing.assert_allclose(band.y[:4], expected["high"])  # upper edge out, lower edge back
    np.testing.assert_allclose(band.y[4:], expected["low"][::-1])
    np.testing.assert_allclose(np.asarray(line.customdata), expected[["low", "high"]])
    assert band.fillcolor.startswith("rgba(99, 110, 250") and line.line.color == "#636EFA"  # same colour
    axis = figure.layout.xaxis
    assert axis.type == "log" and list(axis.tickvals) == [1, 5, 20, 200]
    assert list(axis.ticktext) == ["1", "5", "20", "all"] and axis.tickvals[-1] > 20
    assert figure.layout.yaxis.title.text == "macro F1" and figure.layout.title.text == "Few-shot macro F1"


def test_few_shot_figure_metric_methods_shots_and_mark(summary):
    figure = pp.few_shot_figure(summary, "accuracy", methods=["scratch"], shots=[1, 5, -1], title="T", mark=5)
    assert [t.name for t in figure.data] == ["scratch interval", "scratch"]
    line = by_name(figure, "scratch")
    np.testing.assert_array_equal(line.x, [1, 5, 50])  # "all" now follows k = 5
    np.testing.assert_allclose(line.y, [0.701, 0.705, 0.8])
    assert list(figure.layout.xaxis.ticktext) == ["1", "5", "all"]
    assert figure.layout.yaxis.title.text == "accuracy" and figure.layout.title.text == "T"
    (shape,) = figure.layout.shapes
    assert (shape.x0, shape.x1, shape.yref) == (5, 5, "paper")
    order = pp.few_shot_figure(summary, methods=["scratch", "probe"])
    assert [t.name for t in order.data][1::2] == ["scratch", "probe"]
    assert pp.few_shot_figure(summary, mark=-1).layout.shapes[0].x0 == 200


def test_few_shot_figure_reads_summarise_output():
    probe = pytest.importorskip("lsmkit.probe")
    table = pd.DataFrame([dict(method=m, shots=k, draw=d, n_train=k, n_test=10, accuracy=a, macro_f1=a - 0.1,
                               balanced_accuracy=a)
                          for m, base in [("a", 0.6), ("b", 0.4)] for k in (1, 10, -1) for d, a in
                          enumerate(base + np.array([0.0, 0.02, 0.04]))])
    summary = probe.summarise(table, n_boot=200, rng=0)
    figure = pp.few_shot_figure(summary, "balanced_accuracy")
    rows = summary[(summary["metric"] == "balanced_accuracy") & (summary["method"] == "b")]
    np.testing.assert_allclose(by_name(figure, "b").y, rows["mean"])
    np.testing.assert_allclose(by_name(figure, "b interval").y, np.r_[rows["high"], rows["low"][::-1]])
    assert figure.layout.yaxis.title.text == "balanced accuracy"


def test_few_shot_figure_errors_name_the_bad_value(summary):
    with pytest.raises(ValueError, match="unknown metric 'f1'; expected one of accuracy, macro_f1, balanced_accuracy"):
        pp.few_shot_figure(summary, "f1")
    with pytest.raises(ValueError, match=r"summary lacks columns \['low', 'high'\]"):
        pp.few_shot_figure(summary.drop(columns=["low", "high"]))
    unknown = r"methods \['cnn'\] are not in the summary; its methods: \['probe', 'scratch'\]"
    with pytest.raises(ValueError, match=unknown):
        pp.few_shot_figure(summary, methods=["probe", "cnn"])
    with pytest.raises(ValueError, match=r"shots \[2\] are not in the summary"):
        pp.few_shot_figure(summary, shots=[1, 2])
    with pytest.raises(ValueError, match="no rows for metric 'balanced_accuracy'"):
        pp.few_shot_figure(summary, "balanced_accuracy")
    with pytest.raises(ValueError, match=r"mark=2 is not one of the drawn shots"):
        pp.few_shot_figure(summary, mark=2)


# ---- embeddings --------------------------------------------------------------------------------
POINTS = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [4.0, 5.0]])


def test_embedding_figure_one_trace_per_sorted_category():
    labels = np.array(["walk", "run", "walk", "bike", "walk"])
    figure = pp.embedding_figure(POINTS, labels, hover=[f"w{i}" for i in range(5)], title="emb")
    assert [t.name for t in figure.data] == ["bike", "run", "walk"]
    walk = by_name(figure, "walk")
    assert len(walk.x) == 3 and list(walk.customdata) == [0, 2, 4]
    np.testing.assert_array_equal(walk.x, POINTS[[0, 2, 4], 0])
    np.testing.assert_array_equal(walk.y, POINTS[[0, 2, 4], 1])
    assert list(walk.hovertext) == ["w0", "w2", "w4"] and figure.layout.title.text == "emb"
    for trace in figure.data:  # customdata maps every point back to its window
        np.testing.assert_array_equal(POINTS[np.asarray(trace.customdata)], np.c_[trace.x, trace.y])
    assert len({t.marker.color for t in figure.data}) == 3


def test_embedding_figure_numeric_labels_by_count_of_values():
    few = pp.embedding_figure(POINTS, np.array([3, 10, 3, 2, 10]))
    assert [t.name for t in few.data] == ["2", "3", "10"]  # sorted by value, not as text
    assert [len(t.x) for t in few.data] == [1, 2, 2]
    floats = pp.embedding_figure(POINTS, np.array([1.5, np.nan, 1.5, 0.25, np.nan]))
    assert [t.name for t in floats.data] == ["0.25", "1.5", "missing"]
    assert list(by_name(floats, "missing").customdata) == [1, 4]
    booleans = pp.embedding_figure(POINTS, np.array([True, False, True, True, False]))
    assert [(t.name, len(t.x)) for t in booleans.data] == [("False", 2), ("True", 3)]
    rng = np.random.default_rng(0)
    many = rng.normal(size=(40, 2))
    values = np.arange(40.0)  # more than 12 distinct numbers: a colour scale
    (trace,) = pp.embedding_figure(many, values).data
    np.testing.assert_array_equal(trace.marker.color, values)
    assert trace.marker.showscale and list(trace.customdata) == list(range(40))
    assert len(pp.embedding_figure(many, values % 12).data) == 12  # twelve values are still categories


def test_embedding_figure_selected_ring():
    figure = pp.embedding_figure(POINTS, np.array(list("abaab")), selected=3)
    ring = figure.data[-1]
    assert ring.name == "selected" and ring.marker.symbol == "circle-open" and not ring.showlegend
    assert (list(ring.x), list(ring.y), list(ring.customdata)) == ([3.0], [4.0], [3])
    assert ring.marker.size > max(t.marker.size for t in figure.data[:-1])
    assert "selected" not in [t.name for t in pp.embedding_figure(POINTS, np.zeros(5)).data]


def test_embedding_figure_errors():
    with pytest.raises(ValueError, match=r"labels must be one per point, shape \(5,\), got \(4,\)"):
        pp.embedding_figure(POINTS, np.zeros(4))
    with pytest.raises(ValueError, match=r"points must have shape \(W, 2\), got \(5, 3\)"):
        pp.embedding_figure(np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"hover must hold one text per point \(5\), got 2"):
        pp.embedding_figure(POINTS, np.zeros(5), hover=["a", "b"])
    with pytest.raises(ValueError, match=r"selected must be a window position in \[0, 5\) or None, got 5"):
        pp.embedding_figure(POINTS, np.zeros(5), selected=5)
