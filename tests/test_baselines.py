import numpy as np
import pytest

import lsmkit
from lsmkit import baselines, masks


def _windows(values):
    values = np.asarray(values, dtype=np.float32)[None, :, None]  # (1, T, 1)
    return lsmkit.make_windows(values, participant=["a"], start=["2024-01-01"], channels=["heart_rate"])


def test_linear_interpolates_between_visible_minutes_and_holds_at_edges():
    w = _windows([np.nan, 60, np.nan, np.nan, 90, np.nan])
    out = baselines.linear(w)["signal"].values[0, :, 0]
    np.testing.assert_allclose(out, [60, 60, 70, 80, 90, 90])


def test_nearest_and_mean():
    w = _windows([np.nan, 60, np.nan, np.nan, 90, np.nan])
    np.testing.assert_allclose(baselines.nearest(w)["signal"].values[0, :, 0], [60, 60, 60, 90, 90, 90])
    np.testing.assert_allclose(baselines.window_mean(w)["signal"].values[0, :, 0], [75, 60, 75, 75, 90, 75])


def test_hidden_values_are_not_seen_and_observed_ones_kept():
    w = _windows([50, 60, 70, 80, 90, 100])
    mask = masks.extrapolation(w, 2)
    out = baselines.linear(w, mask)["signal"].values[0, :, 0]
    np.testing.assert_allclose(out, [50, 60, 70, 80, 80, 80])


def test_all_missing_channel_falls_back_to_the_registry_mean():
    w = _windows([np.nan] * 6)
    for method in baselines.BASELINES.values():
        out = method(w)["signal"].values
        np.testing.assert_allclose(out, lsmkit.get_channel("heart_rate").mean)


def test_shape_mismatch_is_refused():
    w = _windows([1.0] * 6)
    with pytest.raises(ValueError, match="mask shape"):
        baselines.linear(w, masks.extrapolation((1, 5, 1), 2))
