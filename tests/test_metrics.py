import numpy as np
import pytest
import xarray as xr

import lsmkit
from lsmkit import masks
from lsmkit.metrics import error_table, scored_errors


def _windows():
    signal = np.zeros((2, 20, 2), dtype=np.float32)
    signal[1, :5, 0] = np.nan  # a real gap
    truth = np.ones((2, 20, 2), dtype=np.float32)
    return lsmkit.make_windows(signal, participant=["a", "b"], start=["2024-01-01"] * 2, channels=["heart_rate", "steps"],
                               truth=(("window", "time", "channel"), truth))


def test_only_hidden_and_observed_entries_count():
    windows = _windows()
    mask = masks.extrapolation(windows, 10) | masks.sensors(windows, channels=["heart_rate"])
    filled = windows.copy()
    filled["signal"] = windows["signal"].fillna(0.0) + 3.0  # every scored entry is off by 3
    errors = scored_errors(filled, windows, mask)
    hr_std, steps_std = lsmkit.get_channel("heart_rate").std, lsmkit.get_channel("steps").std
    assert errors["n"].sel(channel="heart_rate").item() == 2 * 20 - 5  # the gap is not scored
    assert errors["n"].sel(channel="steps").item() == 2 * 10
    assert errors["mse"].sel(channel="heart_rate").item() == pytest.approx((3 / hr_std) ** 2)
    assert errors["mse"].sel(channel="steps").item() == pytest.approx((3 / steps_std) ** 2)
    assert errors["mae"].sel(channel="steps").item() == pytest.approx(3.0)


def test_gap_truth_scores_real_gaps():
    windows = _windows()
    gap = windows["signal"].isnull()
    filled = windows.copy()
    filled["signal"] = windows["signal"].fillna(1.0)
    errors = scored_errors(filled, windows, gap, truth="truth")
    assert errors["n"].sel(channel="heart_rate").item() == 5
    assert errors["mse"].sel(channel="heart_rate").item() == 0.0
    with pytest.raises(ValueError, match="no 'gap_truth' variable"):
        scored_errors(filled, windows, gap, truth="gap_truth")


def test_error_table_pools_by_count():
    windows = _windows()
    mask = masks.extrapolation(windows, 10)
    exact = windows.copy()
    table = error_table({"exact": exact}, windows, mask)
    assert table.loc[("exact", "all"), "mse"] == 0.0
    assert table.loc[("exact", "all"), "n"] == 40


# ---- classification scores ---------------------------------------------------------------------
from lsmkit.metrics import classification_scores, confusion_matrix  # noqa: E402


def test_a_fill_over_more_channels_scores_the_windows_channels_only():
    windows = _windows()
    mask = masks.extrapolation(windows, 10)
    filled = windows.copy()
    filled["signal"] = windows["signal"].fillna(0.0) + xr.DataArray([1.0, 3.0], dims="channel")
    one = windows.sel(channel=["steps"])
    table = error_table({"fill": filled}, one, mask.sel(channel=["steps"]))  # the fill holds heart_rate too
    assert list(table.loc["fill"].index) == ["steps", "all"]
    assert table.loc[("fill", "steps"), "mae"] == pytest.approx(3.0) and table.loc[("fill", "all"), "n"] == 20
    with pytest.raises(ValueError, match=r"filled lacks channels \['heart_rate'\] of the windows"):
        scored_errors(filled.sel(channel=["steps"]), windows, mask)


def test_known_confusion_matrix_gives_known_scores():
    # true 0: 3 right, 1 called "1"; true 1: 1 right, 1 called "0"; class 2 never occurs
    y_true = [0, 0, 0, 0, 1, 1]
    y_pred = [0, 0, 0, 1, 1, 0]
    assert confusion_matrix(y_true, y_pred, 3).tolist() == [[3, 1, 0], [1, 1, 0], [0, 0, 0]]
    scores = classification_scores(y_true, y_pred, 3)
    assert scores["accuracy"] == pytest.approx(4 / 6)
    f1_0, f1_1 = 2 * 3 / (4 + 4), 2 * 1 / (2 + 2)  # 2 TP / (support + predicted)
    assert scores["macro_f1"] == pytest.approx((f1_0 + f1_1) / 2)  # class 2 is absent: not averaged
    assert scores["balanced_accuracy"] == pytest.approx((3 / 4 + 1 / 2) / 2)


def test_a_class_only_predicted_counts_in_macro_f1_not_in_balanced_accuracy():
    scores = classification_scores([0, 0, 1, 1], [0, 2, 1, 1], 3)
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)
    assert scores["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2)


def test_scores_match_scikit_learn_on_random_labels():
    from sklearn import metrics as skm

    rng = np.random.default_rng(0)
    for _ in range(20):
        y_true, y_pred = rng.integers(0, 5, 50), rng.integers(0, 5, 50)
        scores = classification_scores(y_true, y_pred, 6)
        assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
        assert scores["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
        assert scores["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))


def test_bad_class_indices_are_named():
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 2\), got 0..2"):
        classification_scores([0, 1], [0, 2], 2)
    with pytest.raises(ValueError, match="same length"):
        classification_scores([0, 1], [0], 2)
