"""The pretrained wrapper, on a tiny checkpoint exported the same way as the shipped weights."""

import json

import numpy as np
import pytest
import torch
import xarray as xr

import lsmkit
from lsmkit import masks, pretrained
from lsmkit.train import TrainConfig, load_checkpoint, train


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    config = TrainConfig(preset="tiny", steps=2, batch_size=8, val_every=2, checkpoint_every=2, val_windows=8,
                         participants_per_chunk=2, days_per_chunk=2, val_participants=2)
    train(config, root / "run", progress=False)
    pretrained.export_weights(load_checkpoint(root / "run" / "checkpoint.pt"), root / "lsm-test")
    return root


@pytest.fixture()
def model(weights_dir, monkeypatch):
    monkeypatch.setattr(pretrained, "_weights_dir", lambda: weights_dir)
    return pretrained.load_pretrained("lsm-test")


@pytest.fixture(scope="module")
def windows():
    return lsmkit.load_sample().isel(window=slice(0, 6))


def test_card_records_what_a_user_needs(weights_dir):
    card = json.loads((weights_dir / "lsm-test.json").read_text())
    assert card["preset"] == "tiny" and card["patch_minutes"] == 10 and card["patch_channels"] == 5
    assert card["channels"] == list(lsmkit.CHANNEL_NAMES) and len(card["norm_mean"]) == 26
    assert set(card["validation_mse"]) == {"random", "interpolation", "extrapolation", "sensors"}
    assert card["training"]["steps"] == 2 and len(card["sha256"]) == 64


def test_export_creates_missing_folders(weights_dir, tmp_path):
    card = pretrained.export_weights(load_checkpoint(weights_dir / "run" / "checkpoint.pt"), tmp_path / "new" / "mine")
    assert card == tmp_path / "new" / "mine.json" and (tmp_path / "new" / "mine.safetensors").exists()
    assert lsmkit.load_pretrained(str(card)).card["name"] == "mine"


def test_impute_fills_hidden_and_missing_and_keeps_observed(model, windows):
    mask = masks.interpolation(windows, 60, rng=0)
    out = model.impute(windows, mask)
    assert out["signal"].dims == windows["signal"].dims and out["signal"].dtype == np.float32
    xr.testing.assert_identical(out["participant"], windows["participant"])
    keep = windows["signal"].notnull() & ~mask
    np.testing.assert_array_equal(out["signal"].values[keep.values], windows["signal"].values[keep.values])
    assert bool(out["signal"].notnull().all())
    changed = (out["signal"] != windows["signal"]) & mask & windows["signal"].notnull()
    assert int(changed.sum()) > 0.9 * int((mask & windows["signal"].notnull()).sum())
    for c in lsmkit.CHANNELS:  # outputs stay physically possible
        values = out["signal"].sel(channel=c.name).values
        assert values.min() >= c.valid_range[0] and values.max() <= c.valid_range[1]


def test_forecast_predicts_only_the_last_minutes(model, windows):
    out = model.forecast(windows, 30)
    head = windows["signal"].isel(time=slice(0, 270))
    np.testing.assert_array_equal(out["signal"].isel(time=slice(0, 270)).values[head.notnull().values],
                                  head.values[head.notnull().values])
    assert bool(out["signal"].isel(time=slice(270, None)).notnull().all())


def test_reconstruct_and_embed_shapes(model, windows):
    rec = model.reconstruct(windows, masks.random(windows, 0.8, rng=0))
    assert rec["signal"].shape == windows["signal"].shape
    emb = model.embed(windows)
    assert emb.dims == ("window", "feature") and emb.shape == (6, 64) and bool(np.isfinite(emb).all())
    tokens = model.embed(windows, pool="none")
    assert tokens.dims == ("window", "token", "feature") and tokens.shape == (6, 180, 64)
    assert tokens["token_minute"].values[6] == 10 and tokens["token_channel_group"].values[7] == 1


def test_pooling_choices_agree_with_the_tokens(model, windows):
    tokens = model.embed(windows, pool="none").values  # (W, N, D), NaN where a token held no data
    np.testing.assert_allclose(model.embed(windows, pool="max").values, np.nanmax(tokens, axis=1), rtol=1e-6)
    np.testing.assert_allclose(model.embed(windows).values, np.nanmean(tokens, axis=1), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.embed(windows, pool="min").values, np.nanmin(tokens, axis=1), rtol=1e-6)
    both = model.embed(windows, pool="mean+max")
    assert both.shape == (6, 128) and both.attrs == {"pool": "mean+max", "layers": "last", "centre": "none"}
    both = model.embed(windows, pool="max+min").values  # each statistic's features, in the order asked
    np.testing.assert_allclose(both[:, :64], np.nanmax(tokens, axis=1), rtol=1e-6)
    np.testing.assert_allclose(both[:, 64:], np.nanmin(tokens, axis=1), rtol=1e-6)
    every = model.embed(windows, pool="mean+max", layers="all")
    depth = model.model.config.depth
    assert every.shape == (6, 2 * 64 * depth)
    # block b's mean and max sit at [2*D*b, 2*D*(b+1)); they pool that block's output, not the final norm's
    z = torch.from_numpy((model._signal(windows) - model.mean) / model.std)
    blocks, _ = model.model.embed(z, every_block=True)  # depth block outputs, then the final embedding
    for b in range(depth):
        np.testing.assert_allclose(every.values[:, 128 * b : 128 * b + 64], np.nanmean(blocks[b].numpy(), axis=1),
                                   rtol=1e-4, atol=1e-5)
    assert not np.allclose(every.values[:, -128:-64], model.embed(windows).values, atol=1e-3)


def average_window(model, windows) -> xr.Dataset:
    """One window at the card's normalisation mean in every minute and channel."""
    average = windows.isel(window=[0]).copy(deep=True)
    average["signal"].values[:] = model.mean  # (1, T, C), canonical channel order
    return average


def test_centring_subtracts_the_average_windows_tokens(model, windows):
    average = average_window(model, windows)
    # the average window, centred on itself, is all zeros, in every block
    assert np.abs(model.embed(average, pool="none", centre=True).values).max() < 1e-5
    assert np.abs(model.embed(average, pool="max+min", layers="all", centre=True).values).max() < 1e-5
    # every other window's tokens move by the average window's, position by position
    tokens = model.embed(windows, pool="none").values  # (W, N, D), NaN where a token held no data
    reference = model.embed(average, pool="none").values  # (1, N, D)
    centred = model.embed(windows, pool="none", centre=True).values
    np.testing.assert_allclose(centred, tokens - reference, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.embed(windows, pool="max", centre=True).values,
                               np.nanmax(tokens - reference, axis=1), rtol=1e-5, atol=1e-5)
    assert model.embed(windows, pool="max", centre=True).attrs["centre"] == "average window"
    assert model.embed(windows, pool="none", centre=True).attrs["centre"] == "average window"
    assert model.embed(windows, pool="none").attrs["centre"] == "none"
    # every block is centred on its own output for the average window: block b's max sits at [D*b, D*(b+1))
    z = torch.from_numpy((model._signal(windows) - model.mean) / model.std)
    blocks, _ = model.model.embed(z, every_block=True)  # depth block outputs, then the final embedding
    ref_blocks, _ = model.model.embed(torch.zeros(1, *z.shape[1:]), every_block=True)
    every = model.embed(windows, pool="max", layers="all", centre=True).values
    for b in range(model.model.config.depth):
        expected = np.nanmax((blocks[b] - ref_blocks[b]).numpy(), axis=1)  # (W, D)
        np.testing.assert_allclose(every[:, 64 * b : 64 * (b + 1)], expected, rtol=1e-5, atol=1e-5)


def test_subset_of_channels_works(model, windows):
    subset = windows.sel(channel=["heart_rate", "steps", "skin_temperature"])
    out = model.impute(subset, masks.extrapolation(subset, 60))
    assert list(out["channel"].values) == ["heart_rate", "steps", "skin_temperature"]
    assert bool(out["signal"].notnull().all())
    # the same windows with the other channels present give a different (better informed) forecast
    full = model.impute(windows, masks.extrapolation(windows, 60)).sel(channel=subset["channel"].values)
    assert not np.allclose(full["signal"].values, out["signal"].values)


def test_clear_errors(model, windows):
    with pytest.raises(ValueError, match="windows are 200 minutes long; this model takes 300"):
        model.impute(windows.isel(time=slice(0, 200)))
    with pytest.raises(ValueError, match="dims"):
        model.impute(windows.transpose("time", "window", "channel"))
    with pytest.raises(TypeError, match="boolean xarray.DataArray"):
        model.impute(windows, np.zeros((6, 300, 26), dtype=bool))
    with pytest.raises(ValueError, match="pool must be"):
        model.embed(windows, pool="median")
    with pytest.raises(ValueError, match="layers must be 'last' or 'all'"):
        model.embed(windows, layers="first")
    with pytest.raises(ValueError, match="pool='none' keeps the tokens of the last layer only"):
        model.embed(windows, pool="none", layers="all")
    with pytest.raises(ValueError, match="unknown pretrained model 'nope'"):
        pretrained.load_pretrained("nope")


def test_corrupted_weights_are_refused(weights_dir, monkeypatch, tmp_path):
    for f in weights_dir.glob("lsm-test.*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    raw = bytearray((tmp_path / "lsm-test.safetensors").read_bytes())
    raw[-10] ^= 0xFF
    (tmp_path / "lsm-test.safetensors").write_bytes(bytes(raw))
    monkeypatch.setattr(pretrained, "_weights_dir", lambda: tmp_path)
    with pytest.raises(ValueError, match="corrupted or were changed"):
        pretrained.load_pretrained("lsm-test")


def test_float16_storage_changes_reconstructions_negligibly(weights_dir, monkeypatch, windows):
    pretrained.export_weights(load_checkpoint(weights_dir / "run" / "checkpoint.pt"), weights_dir / "lsm-test32",
                              dtype="float32")
    monkeypatch.setattr(pretrained, "_weights_dir", lambda: weights_dir)
    half, full = pretrained.load_pretrained("lsm-test"), pretrained.load_pretrained("lsm-test32")
    assert (weights_dir / "lsm-test.safetensors").stat().st_size < 0.6 * (weights_dir / "lsm-test32.safetensors").stat().st_size
    mask = masks.random(windows, 0.8, rng=0)
    a = half.reconstruct(windows, mask)["signal"].values
    b = full.reconstruct(windows, mask)["signal"].values
    z = np.abs(a - b) / half.std  # in z-units, channel by channel
    assert np.nanmax(z) < 0.02
