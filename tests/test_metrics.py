import numpy as np
import pytest

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
