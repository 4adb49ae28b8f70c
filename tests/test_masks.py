"""Task masks: shapes, ratios, contiguity, determinism, and real NaNs never scored."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import lsmkit
from lsmkit import masks


@pytest.fixture(scope="module")
def windows():
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(6, 300, 26)).astype(np.float32)
    signal[:, :, 20:23] = np.nan  # no EDA on this device
    signal[0, 100:160, :] = np.nan  # an off-wrist hour
    return lsmkit.make_windows(signal, participant=list("aabbcc"), start=["2024-01-01"] * 6)


shapes = st.tuples(st.integers(1, 5), st.integers(10, 400), st.integers(1, 30))


@settings(max_examples=60, deadline=None)
@given(shape=shapes, ratio=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_random_mask_shape_dtype_and_exact_patch_count(shape, ratio, seed):
    mask = masks.random(shape, ratio=ratio, rng=seed)
    assert mask.dims == masks.DIMS and mask.shape == shape and mask.dtype == bool
    pt, pc = masks.patch_grid(shape[1], shape[2])
    # hidden patches per window: count patch corners
    corners = mask.values[:, ::10, ::5]
    assert np.all(corners.sum(axis=(1, 2)) == round(ratio * pt * pc))
    # every patch is all-hidden or all-visible
    for w in range(shape[0]):
        for i in range(pt):
            for j in range(pc):
                block = mask.values[w, i * 10 : (i + 1) * 10, j * 5 : (j + 1) * 5]
                assert block.all() or not block.any()


def test_random_ratio_honoured_on_values(windows):
    mask = masks.random(windows, 0.8, rng=1)
    assert abs(float(mask.mean()) - 0.8) < 0.03
    assert list(mask["channel"].values) == list(windows["channel"].values)


@settings(max_examples=100, deadline=None)
@given(shape=shapes, data=st.data())
def test_interpolation_is_one_contiguous_block_in_all_channels(shape, data):
    minutes = data.draw(st.integers(1, shape[1]))
    mask = masks.interpolation(shape, minutes, rng=data.draw(st.integers(0, 1000))).values
    for w in range(shape[0]):
        per_minute = mask[w].all(axis=1)
        assert np.array_equal(per_minute, mask[w].any(axis=1))  # all channels alike
        hidden = np.flatnonzero(per_minute)
        assert len(hidden) == minutes and np.all(np.diff(hidden) == 1)


def test_interpolation_positions_vary_and_cover_the_window():
    mask = masks.interpolation((2000, 300, 1), 60, rng=0).values[:, :, 0]
    first = mask.argmax(axis=1)
    assert first.min() == 0 or first.min() < 5
    assert first.max() > 230 and first.max() <= 240
    assert len(np.unique(first)) > 200


def test_extrapolation_hides_exactly_the_last_minutes():
    mask = masks.extrapolation((3, 300, 26), 30).values
    assert mask[:, -30:].all() and not mask[:, :-30].any()


def test_sensors_by_name_and_by_count(windows):
    named = masks.sensors(windows, channels=["heart_rate", "steps"])
    assert named.sel(channel=["heart_rate", "steps"]).all() and int(named.sum()) == 6 * 300 * 2
    counted = masks.sensors(windows, n=6, rng=3)
    per_window = counted.any("time").sum("channel")
    assert np.all(per_window.values == 6)
    assert np.array_equal(counted.all("time").values, counted.any("time").values)  # whole window
    # absent EDA channels are never chosen while observed ones remain
    assert not counted.sel(channel=["scl", "scl_slope", "eda_lead_contact"]).any()


def test_masks_are_deterministic_under_a_seed(windows):
    for make in (lambda r: masks.random(windows, 0.5, rng=r), lambda r: masks.interpolation(windows, 30, rng=r),
                 lambda r: masks.sensors(windows, n=3, rng=r)):
        xr.testing.assert_identical(make(7), make(7))
        xr.testing.assert_identical(make(np.random.default_rng(7)), make(np.random.default_rng(7)))
        assert not make(7).equals(make(8))


def test_real_nans_never_scored(windows):
    mask = masks.union(masks.random(windows, 0.8, rng=0), masks.extrapolation(windows, 60))
    scored = masks.scored(mask, windows)
    assert not scored.values[np.isnan(windows["signal"].values)].any()
    hidden_but_missing = int((mask.values & np.isnan(windows["signal"].values)).sum())
    assert hidden_but_missing > 0 and int(scored.sum()) == int(mask.sum()) - hidden_but_missing
    assert int(scored.sum()) < int(mask.sum())


def test_union_and_errors(windows):
    a, b = masks.extrapolation(windows, 10), masks.sensors(windows, channels="steps")
    assert int(masks.union(a, b).sum()) == int(a.sum()) + int(b.sum()) - int((a & b).sum())
    with pytest.raises(ValueError, match="minutes must be an integer between 1 and the window length 300"):
        masks.extrapolation(windows, 301)
    with pytest.raises(ValueError, match="ratio"):
        masks.random(windows, 1.5)
    with pytest.raises(ValueError, match="exactly one of"):
        masks.sensors(windows)
    with pytest.raises(ValueError, match=r"channels \['glucose'\]|unknown channel"):
        masks.sensors(windows, channels=["glucose"])
    with pytest.raises(ValueError, match="dims"):
        masks.random(windows["signal"].transpose("time", "window", "channel"))
    with pytest.raises(ValueError, match="union needs"):
        masks.union()
