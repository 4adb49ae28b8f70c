"""The shipped pretrained model: present, verified, described by its card, and better than
classical fills on held-out windows (a regression guard for retrained weights)."""

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


def _calibration_rise(model, monkeypatch):
    """Issue 18's calibration check on a small set: per-participant device shifts (skin temperature
    +-3 C, EDA x0.3 to x3, heart rate +-10 bpm), scored in the reference calibration on identical masks;
    the MSE rise in % per task."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    monkeypatch.syspath_prepend(str(root / "benchmarks"))
    spec = importlib.util.spec_from_file_location("device_profiles", root / "benchmarks" / "device_profiles.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    windows = lsmkit.load_sample().isel(window=slice(0, None, 4))
    tasks = {"random": [0.8], "interpolation": [60], "extrapolation": [60], "sensors": [6]}
    rise = script.calibration(model, windows, seed=0, n_boot=0, tasks=tasks)["rise %"]
    assert set(rise.index) == set(tasks)
    return rise


def test_calibration_shifts_raise_the_error_less_than_ten_percent(model, monkeypatch):
    """Issue 18's bound for the shipped weights; the all-channel weights they replaced rose 12.5% on
    extrapolation 60 here (random 4.3, interpolation 6.2, sensors 1.7)."""
    rise = _calibration_rise(model, monkeypatch)
    assert (rise < 10).all(), rise.round(1).to_dict()


def test_the_device_robust_weights_beat_linear_interpolation_on_a_smartwatch(model):
    """The card records the device recipe (residual decoder, instance normalisation, validation on
    profiles), and on bundled windows cut down to a smartwatch's five channels the model fills a
    60-minute gap better than linear interpolation (the all-channel weights it replaced did not)."""
    assert model.card["model_config"]["residual"] and model.card["model_config"]["instance_norm"]
    assert set(model.card["profiles"]) == {"smartwatch", "sports_watch", "heart_rate_only", "skin_temperature_only"}
    windows = lsmkit.restrict(lsmkit.load_sample().isel(window=slice(0, 48)), "smartwatch")
    mask = masks.interpolation(windows, 60, rng=1)
    fills = {"model": model.impute(windows, mask), "linear": baselines.Linear().impute(windows, mask)}
    mse = error_table(fills, windows, mask).xs("all", level="channel")["mse"]
    assert mse["model"] < 0.9 * mse["linear"], mse.round(3).to_dict()
