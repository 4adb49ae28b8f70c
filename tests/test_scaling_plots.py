"""Scaling figures in lsmkit.scaling_plots, on a hand-made table and on synthetic sweeps from a known law."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from lsmkit import scaling_plots as sp
from lsmkit.scaling import fit_power_law, fit_power_law_ols
from lsmkit.sweep import COLUMNS, per_run


@pytest.fixture(scope="module")
def results():
    return sp.synthetic_sweep(0)


@pytest.fixture(scope="module")
def data_fit(results):
    points = sp.scaling_points(results, "random", "data")
    return points, fit_power_law(points["x"], points["loss"], groups=points["run"], n_boot=30, rng=0)


def by_name(figure, name):
    (trace,) = [t for t in figure.data if t.name == name]
    return trace


# ---- the synthetic sweep and the choice of points ---------------------------------------------
def test_synthetic_sweep_has_the_sweep_columns_and_grid(results):
    assert list(results.columns) == list(COLUMNS)
    assert sorted(results["parameters"].unique()) == [160_000, 740_000, 2_200_000, 7_300_000]
    assert results["windows"].max() / results["windows"].min() >= 30
    assert results["run"].nunique() == 16 and (results.groupby("run").size() == 5).all()
    assert len(per_run(results)) == 16  # every run finished
    np.testing.assert_array_equal(results["hours"], results["windows"] * 5)


def test_synthetic_sweep_is_reproducible_and_noise_free_on_request():
    pd.testing.assert_frame_equal(sp.synthetic_sweep(3), sp.synthetic_sweep(3))
    law = sp.SYNTHETIC_LAW
    clean = sp.synthetic_sweep(noise=0).iloc[0]  # tiny model, 64 windows, first evaluation
    expected = (law["E"] + law["A"] * 160_000 ** -law["alpha"] + law["B"] * 320 ** -law["beta"]
                + law["K"] * clean["samples"] ** -law["gamma"])
    assert clean["loss_random"] == pytest.approx(expected, rel=1e-12)


# Frontier by hand: (flops, loss) of runs a, b, c; * marks the frontier.
HAND = [("a", 1, 5.0), ("a", 2, 4.0), ("a", 4, 3.5), ("b", 2, 4.5), ("b", 4, 3.0), ("b", 8, 2.0), ("c", 3, 3.8),
        ("c", 8, 2.5)]
HAND_FRONTIER = [("a", 1, 5.0), ("a", 2, 4.0), ("c", 3, 3.8), ("b", 4, 3.0), ("b", 8, 2.0)]


def test_compute_frontier_by_hand():
    table = pd.DataFrame(HAND, columns=["run", "flops", "loss_random"])
    frontier = sp.compute_frontier(table)
    assert list(frontier[["run", "flops", "loss_random"]].itertuples(index=False, name=None)) == HAND_FRONTIER


def test_compute_frontier_is_the_lower_envelope(results):
    frontier = sp.compute_frontier(results, "extrapolation")
    # its losses are the running minimum over all evaluations with at most that compute
    running = [results.loc[results["flops"] <= f, "loss_extrapolation"].min() for f in frontier["flops"]]
    np.testing.assert_array_equal(frontier["loss_extrapolation"], running)
    assert np.all(np.diff(frontier["loss_extrapolation"]) < 0)
    # no evaluation lies below the envelope (the frontier loss reached with at most its compute)
    index = np.searchsorted(frontier["flops"], results["flops"], side="right") - 1
    assert np.all(results["loss_extrapolation"].to_numpy() >= frontier["loss_extrapolation"].to_numpy()[index])


def test_scaling_points_holds_the_other_axis_at_its_largest(results):
    data = sp.scaling_points(results, "sensors", "data")
    assert set(data["parameters"]) == {7_300_000} and list(data["x"]) == [320.0, 1280.0, 5120.0, 10240.0]
    final = results[results["step"] == results["steps"]].set_index("run")["loss_sensors"]
    np.testing.assert_array_equal(data["loss"], final[data["run"]])
    params = sp.scaling_points(results, "random", "parameters")
    assert set(params["windows"]) == {2048} and list(params["x"]) == [160_000, 740_000, 2_200_000, 7_300_000]
    assert list(sp.scaling_points(results, "random", "windows")["x"]) == [64, 256, 1024, 2048]
    compute = sp.scaling_points(results, "random", "compute")
    np.testing.assert_array_equal(compute["x"], sp.compute_frontier(results)["flops"])


def test_scaling_points_keeps_the_best_run_per_size():
    table = sp.synthetic_sweep(0)
    longer = table[table["run"] == "7M_w64_s2000"].assign(run="7M_w64_s4000", steps=4000, step=lambda t: t["step"] * 2,
                                                           loss_random=lambda t: t["loss_random"] - 0.01)
    points = sp.scaling_points(pd.concat([table, longer]), "random", "data")
    assert points["run"].iloc[0] == "7M_w64_s4000" and len(points) == 4


def test_noise_free_data_axis_recovers_the_data_exponent():
    points = sp.scaling_points(sp.synthetic_sweep(noise=0), "random", "data")
    fit = fit_power_law(points["x"], points["loss"], n_boot=0)
    assert fit.params["b"] == pytest.approx(-sp.SYNTHETIC_LAW["beta"], abs=1e-6)


@pytest.mark.parametrize("call", [lambda r: sp.scaling_points(r, "imputation"), lambda r: sp.compute_frontier(r, "x"),
                                  lambda r: sp.loss_vs_compute_figure(r, "Random")])
def test_unknown_task_lists_the_valid_ones(results, call):
    with pytest.raises(ValueError, match="unknown task .* random, interpolation, extrapolation, sensors"):
        call(results)


def test_unknown_axis_lists_the_valid_ones(results, data_fit):
    with pytest.raises(ValueError, match="unknown axis 'flops'; expected one of compute, data, windows, parameters"):
        sp.scaling_points(results, "random", "flops")
    with pytest.raises(ValueError, match="unknown axis 'hours'; expected one of compute, data"):
        sp.loss_vs_axis_figure(data_fit[0], "hours")


# ---- figures ----------------------------------------------------------------------------------
def test_loss_vs_compute_figure_runs_frontier_and_fit(results):
    points = sp.scaling_points(results)
    fit = fit_power_law(points["x"], points["loss"], groups=points["run"], n_boot=20, rng=0)
    figure = sp.loss_vs_compute_figure(results, "random", fit)
    assert isinstance(figure, go.Figure)
    assert figure.layout.xaxis.type == "log" and figure.layout.yaxis.type == "log"
    runs = [t for t in figure.data if t.legendgroup]
    assert len(runs) == 16 and sum(t.showlegend for t in runs) == 4  # one curve per run, one legend entry per size
    one = [t for t in runs if t.customdata[0] == "2M_w256_s2000"][0]
    expected = results[results["run"] == "2M_w256_s2000"]
    np.testing.assert_array_equal(one.y, expected["loss_random"])
    assert len({t.line.color for t in runs}) == 4
    frontier = by_name(figure, "compute-efficient frontier")
    np.testing.assert_array_equal(frontier.x, points["x"])
    np.testing.assert_array_equal(frontier.y, points["loss"])
    line = by_name(figure, sp._law(fit))
    np.testing.assert_allclose(line.y, fit.predict(line.x)["estimate"], rtol=1e-12)
    assert line.x[0] == results["flops"].min() and line.x[-1] == pytest.approx(results["flops"].max())
    assert sp.loss_vs_compute_figure(results).data[-1].name == "compute-efficient frontier"


def test_loss_vs_axis_figure_line_extrapolation_band_and_predictions(data_fit):
    points, fit = data_fit
    fitted, held_out = points.iloc[:3], points.iloc[3:]  # the largest data size held out
    figure = sp.loss_vs_axis_figure(fitted, "data", fit, held_out=held_out, task="random")
    assert [t.name for t in figure.data] == ["95% interval", sp._law(fit), "extrapolation", "prediction at 10x, 100x",
                                             "in the fit", "held out"]
    assert figure.layout.xaxis.title.text == "training data (hours)"
    line, extra = by_name(figure, sp._law(fit)), by_name(figure, "extrapolation")
    assert (line.x[0], line.x[-1]) == pytest.approx((320, 5120), rel=1e-12)  # the fitted points' range
    np.testing.assert_allclose(line.y, fit.predict(line.x)["estimate"], rtol=1e-12)
    assert extra.line.dash == "dash" and extra.x[0] == pytest.approx(5120)
    assert extra.x[-1] == 100 * 10240  # exactly 100x the largest run shown, held out or not
    np.testing.assert_allclose(extra.y, fit.predict(extra.x)["estimate"], rtol=1e-12)
    band = by_name(figure, "95% interval")
    x = np.concatenate([line.x, extra.x])
    expected = fit.predict(x)
    assert band.fill == "toself" and len(band.x) == 2 * len(x)
    np.testing.assert_allclose(band.y[: len(x)], expected["upper"], rtol=1e-12)
    np.testing.assert_allclose(band.y[len(x):], expected["lower"][::-1], rtol=1e-12)
    at = by_name(figure, "prediction at 10x, 100x")
    np.testing.assert_array_equal(at.x, [102400, 1024000])
    expected = fit.predict([102400, 1024000])
    np.testing.assert_allclose(at.y, expected["estimate"])
    np.testing.assert_allclose(at.y + at.error_y.array, expected["upper"])
    np.testing.assert_allclose(at.y - at.error_y.arrayminus, expected["lower"])
    held = by_name(figure, "held out")
    assert list(held.customdata) == ["7M_w2048_s2000"] and held.marker.symbol == "circle-open"


def test_loss_vs_axis_figure_options(data_fit):
    points, _ = data_fit
    bare = sp.loss_vs_axis_figure(points, "parameters")
    assert [t.name for t in bare.data] == ["in the fit"] and bare.layout.xaxis.title.text == "parameters"
    no_boot = fit_power_law(points["x"], points["loss"], floor=False, n_boot=0)
    figure = sp.loss_vs_axis_figure(points, "data", no_boot, extrapolate=())
    assert [t.name for t in figure.data] == [sp._law(no_boot), "in the fit"]  # no band, no extrapolation
    ols = fit_power_law_ols(points["x"], points["loss"])
    figure = sp.loss_vs_axis_figure(points, "data", ols, extrapolate=(10,))
    assert by_name(figure, "extrapolation").x[-1] == 10 * points["x"].max()
    assert "(log-log OLS)" in figure.data[1].name
    with pytest.raises(ValueError, match="columns 'x' and 'loss'"):
        sp.loss_vs_axis_figure(points.drop(columns="loss"), "data")
