"""Shrinking the residual correction on one-channel windows (lsmkit.correction)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lsmkit
from lsmkit import masks
from lsmkit.correction import FIT_TASKS, _channel_seeds, _correction_and_error, fit_correction_scale, shrink_single_channel
from lsmkit.evaluation import TASK_SIZES, task_mask
from lsmkit.model import linear_fill


def _windows(rng, B=4, T=30, C=3):
    x = torch.from_numpy(rng.normal(size=(B, T, C)).astype(np.float32))
    visible = torch.from_numpy(rng.random((B, T, C)) > 0.3)
    return x, visible


def test_scale_zero_gives_linear_interpolation_one_the_model_and_only_on_one_channel_windows():
    rng = np.random.default_rng(0)
    x, visible = _windows(rng)
    visible[0, :, 1:] = False  # window 0 shows channel 0 only
    visible[1, :, [0, 2]] = False  # window 1 shows channel 1 only; windows 2 and 3 show all three
    rec = torch.from_numpy(rng.normal(size=x.shape).astype(np.float32))
    base = linear_fill(x, visible)
    zero = shrink_single_channel(x, visible, rec, torch.zeros(3))
    assert torch.allclose(zero[0, :, 0], base[0, :, 0]) and torch.allclose(zero[1, :, 1], base[1, :, 1])
    assert torch.equal(zero[2:], rec[2:])  # several channels visible: untouched
    assert torch.equal(zero[0, :, 1:], rec[0, :, 1:])  # the absent channels of a one-channel window too
    assert torch.allclose(shrink_single_channel(x, visible, rec, torch.ones(3)), rec)
    half = shrink_single_channel(x, visible, rec, torch.full((3,), 0.5))
    assert torch.allclose(half[0, :, 0], (base[0, :, 0] + rec[0, :, 0]) / 2)


def test_nothing_changes_without_a_one_channel_window():
    x, visible = _windows(np.random.default_rng(1))
    rec = torch.randn(x.shape)
    assert shrink_single_channel(x, visible, rec, torch.zeros(3)) is rec


def _objective(model, windows, name, scale, seed):
    """What the fit minimises: each task's and size's mean squared error, summed."""
    rng, total = np.random.default_rng(_channel_seeds(seed)[name]), 0.0
    alone = lsmkit.restrict(windows, [name])
    alone = alone.isel(window=np.flatnonzero(alone["signal"].sel(channel=name).notnull().any("time").values))
    for task in FIT_TASKS:
        for size in TASK_SIZES[task]:
            correction, error = _correction_and_error(model, alone, task_mask(alone, task, size, rng), name)
            total += float(np.mean((scale * correction - error) ** 2))
    return total


@pytest.fixture(scope="module")
def shipped():
    return lsmkit.load_pretrained(), lsmkit.load_sample().isel(window=slice(0, 24))


def test_the_fitted_scale_minimises_the_fit_objective(shipped):
    model, windows = shipped
    scales = fit_correction_scale(model, windows, rng=3, channels=["skin_temperature", "heart_rate"])
    assert set(scales) == set(lsmkit.CHANNEL_NAMES)
    assert scales["steps"] == 1.0  # not fitted: untouched
    for name in ("skin_temperature", "heart_rate"):
        best = _objective(model, windows, name, scales[name], seed=3)
        for other in (0.0, 1.0, scales[name] - 0.05, scales[name] + 0.05):
            assert best <= _objective(model, windows, name, min(max(other, 0.0), 1.0), seed=3) + 1e-9


def test_only_residual_models_are_shrunk(shipped):
    model, windows = shipped
    plain = lsmkit.load_pretrained()
    plain.card = {**plain.card, "model_config": {**plain.card["model_config"], "residual": False}}
    with pytest.raises(ValueError, match="residual"):
        fit_correction_scale(plain, windows)


def test_the_shipped_card_shrinks_skin_temperature_alone_towards_linear_interpolation(shipped):
    model, windows = shipped
    scale = model.card["correction_scale"]
    assert 0.0 <= scale["skin_temperature"] < 0.2 and scale["heart_rate"] > 0.5
    alone = lsmkit.restrict(windows, "skin_temperature_only")
    hidden = masks.interpolation(alone, 60, rng=0)
    shrunk = model.impute(alone, hidden)["signal"]
    unshrunk = lsmkit.load_pretrained()
    unshrunk._scale = None
    raw = unshrunk.impute(alone, hidden)["signal"]
    linear = lsmkit.baselines.classical()["linear interpolation"].impute(alone, hidden)["signal"]
    gap = raw - linear
    assert np.allclose(shrunk - linear, scale["skin_temperature"] * gap, atol=2e-3, equal_nan=True)
    # a window with several channels is filled exactly as without the card's scales
    full = model.impute(windows, hidden)["signal"]
    assert np.array_equal(full.values, unshrunk.impute(windows, hidden)["signal"].values, equal_nan=True)
