"""Bad input to the evaluation suite and the metrics: each named case ends in a ``TypeError``/
``ValueError`` that names the offending thing, or in a documented NaN reported by a
``RuntimeWarning`` (asserted here).

Part of "bad input never crashes or loses data": no KeyError, broadcasting error or silently
aligned-away windows, and never a score that quietly averages over less than its ``n`` says.
"""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import lsmkit
from lsmkit import baselines, masks
from lsmkit.metrics import classification_scores, confusion_matrix, error_table, scored_errors

from malformed import relabel, with_signal

TASKS = {"interpolation": (30,)}
FAST = dict(tasks=TASKS, rng=0, n_boot=5, progress=False)


@pytest.fixture(scope="module")
def sample():
    return lsmkit.load_sample().isel(window=slice(0, 4))


@pytest.fixture()
def windows(sample):
    return sample.copy(deep=True)


def oracle(w, mask):
    """Exact wherever the data was observed."""
    return with_signal(w, w["signal"].fillna(0.0))


# ---- evaluate: arguments ----------------------------------------------------------------------------
MEAN = {"mean": baselines.WindowMean()}

BAD_EVALUATE = {
    "unknown-task": (dict(methods=MEAN, tasks={"denoise": (1,)}), ValueError,
                     "unknown task 'denoise'; expected one of random, interpolation"),
    "tasks-not-a-mapping": (dict(methods=MEAN, tasks=["random"]), TypeError, "tasks must be a mapping .*got list"),
    "task-sizes-not-a-sequence": (dict(methods=MEAN, tasks={"interpolation": 30}), TypeError,
                                  r"tasks\['interpolation'\] must be a sequence of sizes .*got 30"),
    "task-sizes-a-string": (dict(methods=MEAN, tasks={"interpolation": "30"}), TypeError,
                            r"tasks\['interpolation'\] must be a sequence"),
    "tasks-empty": (dict(methods=MEAN, tasks={}), ValueError, "tasks hold no size to score"),
    "task-sizes-empty": (dict(methods=MEAN, tasks={"random": ()}), ValueError, "tasks hold no size to score"),
    "interpolation-size-zero": (dict(methods=MEAN, tasks={"interpolation": (0,)}), ValueError,
                                "minutes must be an integer between 1 and the window length 300, got 0"),
    "extrapolation-beyond-the-window": (dict(methods=MEAN, tasks={"extrapolation": (301,)}), ValueError,
                                        "minutes must be an integer between 1 and the window length 300, got 301"),
    "sensors-more-than-there-are": (dict(methods=MEAN, tasks={"sensors": (100,)}), ValueError,
                                    "n must be an integer between 1 and 26, got 100"),
    "random-ratio-above-one": (dict(methods=MEAN, tasks={"random": (2.0,)}), ValueError,
                               r"ratio must be in \[0, 1\], got 2.0"),
    "methods-empty": (dict(methods={}), ValueError, "methods is empty"),
    "methods-a-list": (dict(methods=[baselines.Linear()]), TypeError, "methods must be a mapping .*got list"),
    "method-not-callable": (dict(methods={"x": 5}), TypeError, "method 'x' has no impute.*not callable: int"),
    "method-a-class-not-an-instance": (dict(methods={"x": baselines.Linear}), TypeError,
                                       r"method 'x' is the class Linear, not an instance; pass Linear\(\)"),
    "level-one": (dict(methods=MEAN, level=1.0), ValueError, r"level must be in \(0, 1\), got 1.0"),
    "level-zero": (dict(methods=MEAN, level=0), ValueError, r"level must be in \(0, 1\), got 0"),
    "n_boot-negative": (dict(methods=MEAN, n_boot=-1), ValueError, "n_boot must be a non-negative integer \\(0: no intervals\\), got -1"),
    "n_boot-fraction": (dict(methods=MEAN, n_boot=2.5), ValueError, "n_boot must be a non-negative integer \\(0: no intervals\\), got 2.5"),
    "rng-string": (dict(methods=MEAN, rng="x"), TypeError, "rng must be .*got 'x'"),
    "rng-negative-seed": (dict(methods=MEAN, rng=-1), ValueError, "rng must be .*non-negative integer seed.*got -1"),
}


@pytest.mark.parametrize("case", list(BAD_EVALUATE), ids=list(BAD_EVALUATE))
def test_bad_evaluate_arguments_are_named(windows, case):
    kwargs, error, message = BAD_EVALUATE[case]
    with pytest.raises(error, match=message):
        lsmkit.evaluate(windows=windows, **{**FAST, **kwargs})


def test_bad_tasks_are_refused_before_any_method_runs(windows):
    calls = []

    def spy(w, mask):
        calls.append(mask)
        return oracle(w, mask)

    with pytest.raises(ValueError, match="unknown task 'denoise'"):
        lsmkit.evaluate({"spy": spy}, windows, tasks={"interpolation": (30,), "denoise": (1,)}, progress=False)
    assert calls == []


@pytest.mark.parametrize("sizes", [np.array([30, 60]), [30, 60], range(30, 61, 30)], ids=["array", "list", "range"])
def test_task_sizes_may_be_any_non_string_iterable(windows, sizes):
    expected = lsmkit.evaluate(MEAN, windows, **{**FAST, "tasks": {"interpolation": (30, 60)}})
    table = lsmkit.evaluate(MEAN, windows, **{**FAST, "tasks": {"interpolation": sizes}})
    assert table["size"].tolist() == [30, 60] and all(type(s) is int for s in table["size"])
    assert table.equals(expected)


BAD_WINDOWS = {
    "zero-windows": (lambda w: w.isel(window=slice(0, 0)), ValueError, "windows hold no window to evaluate"),
    "numpy-array": (lambda w: w["signal"].values, TypeError, "windows must be an xarray.Dataset, got ndarray"),
    "dims-in-wrong-order": (lambda w: w.transpose("time", "window", "channel"), ValueError, "must have dims"),
    "inf-value": (lambda w: with_signal(w, w["signal"].where(w["time"] != 3, np.inf)), ValueError,
                  "windows hold infinite values"),
    "shorter-than-the-task": (lambda w: w.isel(time=slice(0, 20)), ValueError,
                              "minutes must be an integer between 1 and the window length 20, got 30"),
    "gaps-without-truth": (lambda w: w.drop_vars("truth"), ValueError, "'gaps' task .*'truth' variable"),
}


@pytest.mark.parametrize("case", list(BAD_WINDOWS), ids=list(BAD_WINDOWS))
def test_bad_windows_are_named(windows, case):
    make, error, message = BAD_WINDOWS[case]
    tasks = {"gaps": (None,)} if case == "gaps-without-truth" else TASKS
    with pytest.raises(error, match=message):
        lsmkit.evaluate(MEAN, make(windows), **{**FAST, "tasks": tasks})


# ---- evaluate: what a method returns ---------------------------------------------------------------
BAD_RESULTS = {
    "None": (lambda w, m: None, TypeError, "the result of method 'x' must be filled windows .*got NoneType"),
    "numpy-array": (lambda w, m: w["signal"].values, TypeError, "the result of method 'x' must be .*got ndarray"),
    "dataarray": (lambda w, m: w["signal"], TypeError, "the result of method 'x' must be .*got DataArray"),
    "fewer-windows": (lambda w, m: w.isel(window=slice(0, 2)), ValueError,
                      r"the result of method 'x' has sizes .*'window': 2"),
    "fewer-channels": (lambda w, m: w.isel(channel=slice(0, 5)), ValueError,
                       r"the result of method 'x' lacks channels \['rr_median'"),
    "fewer-minutes": (lambda w, m: w.isel(time=slice(0, 100)), ValueError,
                      r"the result of method 'x' has sizes .*'time': 100"),
    "other-window-labels": (lambda w, m: relabel(w, w["window"].values + 100, "window"), ValueError,
                            "the result of method 'x' has other window labels"),
    "other-channel-labels": (lambda w, m: relabel(w, ["sdnn" if c == "heart_rate" else c
                                                                   for c in w["channel"].values]),
                             ValueError, r"the result of method 'x' lacks channels \['heart_rate'\]"),
    "wrong-signature": (lambda w: w, TypeError, "takes 1 positional argument but 2 were given"),
}


@pytest.mark.parametrize("case", list(BAD_RESULTS), ids=list(BAD_RESULTS))
def test_what_a_method_returns_is_checked(windows, case):
    method, error, message = BAD_RESULTS[case]
    with pytest.raises(error, match=message):
        lsmkit.evaluate({"x": method}, windows, **FAST)


def off_by_channel(w, mask):
    """Off by a different share of each channel's default std: any mix-up of channels shows."""
    std = np.array([lsmkit.get_channel(c).std for c in w["channel"].values], dtype=np.float32)
    return with_signal(w, w["signal"].fillna(0.0) + std * np.linspace(0.1, 2.0, len(std), dtype=np.float32))


@pytest.mark.parametrize("case", ["transposed", "channels-reordered", "windows-reordered"])
def test_a_result_in_another_order_is_scored_by_name(windows, case):
    def reordered(w, mask):
        out = off_by_channel(w, mask)
        return {"transposed": lambda: out.transpose("channel", "time", "window"),
                "channels-reordered": lambda: out.isel(channel=slice(None, None, -1)),
                "windows-reordered": lambda: out.isel(window=slice(None, None, -1))}[case]()

    table = lsmkit.evaluate({"plain": off_by_channel, "reordered": reordered}, windows,
                            **{**FAST, "tasks": {"sensors": (6,)}}).set_index("method")
    columns = ["mse", "mae", "n", "mse_low", "mse_high"]
    np.testing.assert_allclose(table.loc["reordered", columns].astype(float), table.loc["plain", columns].astype(float))
    assert table.loc["plain", "n"] > 0 and table.loc["plain", "mse"] > 0.1


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "minus-inf"])
def test_a_fill_left_non_finite_is_reported_and_scored_nan(windows, value):
    """It used to give NaN (or inf) silently; the other methods' rows must not suffer."""
    def lazy(w, mask):
        return with_signal(w, oracle(w, mask)["signal"].where(~mask, value))

    with pytest.warns(RuntimeWarning, match=r"method 'lazy' left \d+ scored values NaN or infinite on task "
                                            r"'interpolation' size 30; its scores there are NaN"):
        table = lsmkit.evaluate({"lazy": lazy, "oracle": oracle}, windows, **FAST).set_index("method")
    assert table.loc["lazy", ["mse", "mae", "mse_low", "mse_high"]].isna().all()
    assert table.loc["lazy", "n"] == table.loc["oracle", "n"] > 0
    assert table.loc["oracle", "mse"] == 0


@pytest.mark.parametrize("case", ["all-missing-windows", "sensors-over-absent-channels"])
def test_nothing_to_score_is_reported_and_scored_nan(windows, case):
    if case == "all-missing-windows":
        w, tasks = with_signal(windows, windows["signal"] * np.nan), {"interpolation": (30,)}
    else:  # windows of two channels, both missing: hiding them scores nothing
        w = windows.isel(channel=[0, 1])
        w, tasks = with_signal(w, w["signal"] * np.nan), {"sensors": (2,)}
    with pytest.warns(RuntimeWarning, match="hides no observed value: nothing to score, its scores are NaN"):
        table = lsmkit.evaluate(MEAN, w, **{**FAST, "tasks": tasks})
    assert len(table) == 1 and table["n"].item() == 0
    assert table[["mse", "mae", "mse_low", "mse_high"]].isna().all(axis=None)


# ---- metrics: scored_errors and error_table --------------------------------------------------------------
def _small():
    signal = np.zeros((2, 20, 2), dtype=np.float32)
    signal[1, :5, 0] = np.nan  # a real gap
    truth = np.ones((2, 20, 2), dtype=np.float32)
    return lsmkit.make_windows(signal, participant=["a", "b"], start=["2024-01-01"] * 2, channels=["heart_rate", "steps"],
                               truth=(("window", "time", "channel"), truth))


def _off_by(w, value=3.0):
    return with_signal(w, w["signal"].fillna(0.0) + value)


BAD_SCORING = {
    "filled-numpy-array": (dict(filled=lambda w: _off_by(w)["signal"].values), TypeError,
                           "filled must be filled windows .*got ndarray"),
    "filled-dataarray": (dict(filled=lambda w: _off_by(w)["signal"]), TypeError, "filled must be .*got DataArray"),
    "filled-fewer-windows": (dict(filled=lambda w: _off_by(w).isel(window=[0])), ValueError,
                             r"filled has sizes .*'window': 1"),
    "filled-fewer-channels": (dict(filled=lambda w: _off_by(w).isel(channel=[0])), ValueError,
                              r"filled lacks channels \["),
    "filled-other-channel-labels": (dict(filled=lambda w: relabel(_off_by(w), ["heart_rate", "sdnn"])),
                                    ValueError, r"filled lacks channels \["),
    "filled-other-window-labels": (dict(filled=lambda w: relabel(_off_by(w), [5, 6], "window")), ValueError,
                                   "filled has other window labels"),
    "windows-numpy-array": (dict(windows=lambda w: w["signal"].values), TypeError,
                            "windows must be an xarray.Dataset, got ndarray"),
    "windows-with-inf": (dict(windows=lambda w: with_signal(w, w["signal"].where(w["channel"] != "steps", np.inf))),
                         ValueError, r"windows 'signal' holds infinite values in channels \['steps'\]"),
    "mask-numpy-array": (dict(mask=lambda m: m.values), TypeError, "mask must be a boolean xarray.DataArray .*ndarray"),
    "mask-int-dtype": (dict(mask=lambda m: m.astype(int)), TypeError, "DataArray of int64"),
    "mask-fewer-minutes": (dict(mask=lambda m: m.isel(time=slice(0, 10))), ValueError, r"mask has sizes .*'time': 10"),
    "mask-2d": (dict(mask=lambda m: m.isel(window=0)), ValueError, "mask has sizes"),
    "mask-other-windows": (dict(mask=lambda m: relabel(m, [5, 6], "window")), ValueError,
                           "mask has other window labels"),
    "truth-variable-missing": (dict(truth="gap_truth"), ValueError, "windows have no 'gap_truth' variable"),
    "std-wrong-length": (dict(std=np.ones(3)), ValueError, r"std must hold one value per channel \(2\), got shape \(3,\)"),
    "std-missing-a-channel": (dict(std=xr.DataArray([1.0], dims="channel", coords={"channel": ["heart_rate"]})),
                              ValueError, r"std must be a DataArray over 'channel' .*missing \['steps'\]"),
    "std-series-missing-a-channel": (dict(std=pd.Series({"heart_rate": 1.0, "sdnn": 2.0})), ValueError,
                                     r"std is labelled \(Series\) .*missing \['steps'\]"),
    "std-dict-missing-a-channel": (dict(std={"steps": 1.0}), ValueError,
                                   r"std is labelled \(dict\) .*missing \['heart_rate'\]"),
    "std-series-by-position": (dict(std=pd.Series([1.0, 2.0])), ValueError,
                               r"std is labelled \(Series\) .*missing \['heart_rate', 'steps'\]"),
    "std-zero": (dict(std=np.array([0.0, 1.0])), ValueError,
                 r"std must be positive and finite; channels \['heart_rate'\] have \[0.0\]"),
    "std-negative": (dict(std=np.array([1.0, -2.0])), ValueError, r"channels \['steps'\] have \[-2.0\]"),
    "std-nan": (dict(std=np.array([np.nan, 1.0])), ValueError, r"channels \['heart_rate'\] have \[nan\]"),
}


@pytest.mark.parametrize("case", list(BAD_SCORING), ids=list(BAD_SCORING))
def test_bad_scoring_input_is_named(case):
    changes, error, message = BAD_SCORING[case]
    w = _small()
    mask = masks.extrapolation(w, 10)
    filled = changes.get("filled", _off_by)(w)
    windows = changes.get("windows", lambda w: w)(w)
    mask = changes.get("mask", lambda m: m)(mask)
    kwargs = {k: v for k, v in changes.items() if k in ("truth", "std")}
    with pytest.raises(error, match=message):
        scored_errors(filled, windows, mask, **kwargs)


@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
def test_a_fill_left_non_finite_makes_its_channel_nan_never_a_mean_of_the_rest(value):
    """One NaN among the scored heart-rate values used to be skipped, leaving the mean of the
    others next to an ``n`` that counted it."""
    w = _small()
    mask = masks.extrapolation(w, 10)
    filled = _off_by(w)
    filled["signal"][0, -1, 0] = value
    with pytest.warns(RuntimeWarning, match=r"NaN or infinite at 1 scored values, in channels \['heart_rate'\]"):
        errors = scored_errors(filled, w, mask)
    assert np.isnan(errors["mse"].sel(channel="heart_rate").item())
    assert np.isnan(errors["mae"].sel(channel="heart_rate").item())
    assert errors["n"].sel(channel="heart_rate").item() == 20
    assert errors["mae"].sel(channel="steps").item() == pytest.approx(3.0)
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        table = error_table({"m": filled}, w, mask)
    assert np.isnan(table.loc[("m", "all"), "mse"]) and table.loc[("m", "all"), "n"] == 40


def test_a_mask_that_hides_nothing_is_reported_and_scores_nan():
    """The pooled row used to say mse 0.0 over n 0."""
    w = _small()
    nothing = xr.zeros_like(masks.extrapolation(w, 10))
    with pytest.warns(RuntimeWarning, match="the mask hides no observed value: nothing to score"):
        errors = scored_errors(_off_by(w), w, nothing)
    assert (errors["n"] == 0).all() and errors["mse"].isnull().all() and errors["mae"].isnull().all()
    with pytest.warns(RuntimeWarning, match="nothing to score"):
        table = error_table({"m": _off_by(w)}, w, nothing)
    assert np.isnan(table.loc[("m", "all"), "mse"]) and table.loc[("m", "all"), "n"] == 0


@pytest.mark.parametrize("case", ["mask-transposed", "filled-transposed", "filled-channels-reordered",
                                  "std-as-numpy", "std-as-dataarray-over-all-26", "std-as-series-reversed",
                                  "std-as-dict-reversed"])
def test_legal_variants_score_the_same(case):
    w = _small()
    mask = masks.extrapolation(w, 10)
    filled = _off_by(w)
    expected = scored_errors(filled, w, mask)
    kwargs = {}
    if case == "mask-transposed":
        mask = mask.transpose("channel", "window", "time")
    elif case == "filled-transposed":
        filled = filled.transpose("time", "channel", "window")
    elif case == "filled-channels-reordered":
        filled = filled.isel(channel=[1, 0])
    elif case == "std-as-numpy":
        kwargs["std"] = np.array([lsmkit.get_channel(c).std for c in w["channel"].values])
    elif case in ("std-as-series-reversed", "std-as-dict-reversed"):  # matched by name, not by position
        std = {str(c): lsmkit.get_channel(c).std for c in w["channel"].values[::-1]}
        kwargs["std"] = pd.Series(std) if case == "std-as-series-reversed" else std
    else:
        kwargs["std"] = xr.DataArray([c.std for c in lsmkit.CHANNELS], dims="channel",
                                     coords={"channel": list(lsmkit.CHANNEL_NAMES)})
    errors = scored_errors(filled, w, mask, **kwargs).sel(channel=w["channel"].values)  # in the windows' order
    xr.testing.assert_allclose(errors[["mse", "mae", "n"]], expected[["mse", "mae", "n"]])


@pytest.mark.parametrize("fills, error, message", [
    ({}, ValueError, "fills is empty"),
    ([None], TypeError, "fills must be a mapping of method name -> filled windows, got list"),
    ({"m": 5}, TypeError, "filled must be filled windows .*got int"),
], ids=["empty", "a-list", "a-fill-that-is-not-windows"])
def test_bad_error_table_fills_are_named(fills, error, message):
    w = _small()
    with pytest.raises(error, match=message):
        error_table(fills, w, masks.extrapolation(w, 10))


# ---- metrics: classification ------------------------------------------------------------------------------
BAD_LABELS = {
    "lengths-differ": (([0, 1], [0], 2), ValueError, "must be 1-D and the same length, got \\(2,\\) and \\(1,\\)"),
    "two-dimensional": (([[0, 1]], [[0, 1]], 2), ValueError, "must be 1-D"),
    "n_classes-zero": (([0], [0], 0), ValueError, "n_classes must be a positive integer, got 0"),
    "n_classes-negative": (([0], [0], -1), ValueError, "n_classes must be a positive integer, got -1"),
    "n_classes-fraction": (([0], [0], 2.5), TypeError, "n_classes must be a positive integer, got 2.5"),
    "n_classes-None": (([0], [0], None), TypeError, "n_classes must be a positive integer, got None"),
    "n_classes-string": (([0], [0], "3"), TypeError, "n_classes must be a positive integer, got '3'"),
    "labels-with-fractions": (([0.5, 1], [0, 1], 2), ValueError, "y_true must hold integer class indices, got 0.5"),
    "labels-with-nan": (([0, 1], [np.nan, 1], 2), ValueError, "y_pred must hold integer class indices, got nan"),
    "labels-as-strings": ((["a", "b"], [0, 1], 2), TypeError, "y_true must hold integer class indices, got dtype <U1"),
    "labels-with-None": (([0, None], [0, 1], 2), TypeError, "y_true must hold integer class indices, got dtype object"),
    "object-labels-with-a-string": ((pd.Series([0, "1"], dtype=object), [0, 1], 2), TypeError,
                                    "y_true must hold integer class indices, got dtype object"),
    "object-labels-with-fractions": ((pd.Series([0, 1.5], dtype=object), [0, 1], 2), ValueError,
                                     "y_true must hold integer class indices, got 1.5"),
    "negative-class": (([-1, 0], [0, 0], 2), ValueError, r"class indices must lie in \[0, 2\), got -1..0"),
    "class-beyond-n_classes": (([0, 1], [0, 2], 2), ValueError, r"class indices must lie in \[0, 2\), got 0..2"),
    "no-predictions": (([], [], 2), ValueError, "no predictions to score"),
}


@pytest.mark.parametrize("case", list(BAD_LABELS), ids=list(BAD_LABELS))
def test_bad_labels_are_named(case):
    args, error, message = BAD_LABELS[case]
    with pytest.raises(error, match=message):
        classification_scores(*args)


def test_whole_float_and_bool_labels_count_as_class_indices():
    assert confusion_matrix([0.0, 1.0, 1.0], np.array([0, 1, 0], dtype=np.int8), 2).tolist() == [[1, 0], [1, 1]]
    assert classification_scores([True, False], [True, True], 2)["accuracy"] == 0.5


def test_object_labels_holding_whole_numbers_count_as_class_indices():
    """A pandas object column of ints (read from a mixed table, say) was accepted before and must stay so."""
    y_true = pd.Series([0, 1, 1], dtype=object)
    y_pred = pd.Series([0, np.int64(1), 0.0], dtype=object)
    assert confusion_matrix(y_true, y_pred, 2).tolist() == [[1, 0], [1, 1]]
    assert classification_scores(y_true, y_pred, 2) == classification_scores([0, 1, 1], [0, 1, 0], 2)
