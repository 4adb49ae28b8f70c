"""The shipped pretrained model: present, verified, described by its card, and better than
classical fills on held-out windows (a regression guard for retrained weights)."""

import numpy as np
import pytest

import lsmkit
from lsmkit import baselines, masks
from lsmkit.metrics import error_table


@pytest.fixture(scope="module")
def model():
    return lsmkit.load_pretrained()


def test_default_model_is_the_2m_preset_with_a_full_card(model):
    card = model.card
    assert card["preset"] == "2M" and abs(card["parameters"] - 2.2e6) / 2.2e6 < 0.05
    assert card["patch_minutes"] == 10 and card["patch_channels"] == 5 and card["window_minutes"] == 300
    assert card["channels"] == list(lsmkit.CHANNEL_NAMES)
    assert set(card["validation_mse"]) == {"random", "interpolation", "extrapolation", "sensors"}
    history = card["training"]["history"]
    last, before = history[-1], history[-2]
    for task in card["validation_mse"]:  # trained until validation loss flattened
        assert abs(last[f"val_{task}"] - before[f"val_{task}"]) < 0.01
    assert "lsm-2m" in lsmkit.pretrained.list_pretrained()


@pytest.mark.parametrize("task", ["interpolation", "extrapolation", "sensors"])
def test_beats_linear_interpolation_on_bundled_windows(model, task):
    windows = lsmkit.load_sample().isel(window=slice(0, 48))
    mask = {"interpolation": masks.interpolation(windows, 60, rng=1), "extrapolation": masks.extrapolation(windows, 60),
            "sensors": masks.sensors(windows, n=6, rng=1)}[task]
    table = error_table({"model": model.impute(windows, mask), "linear": baselines.Linear().impute(windows, mask)}, windows, mask)
    assert table.loc[("model", "all"), "mse"] < 0.9 * table.loc[("linear", "all"), "mse"]
