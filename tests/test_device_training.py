"""Training for incomplete sensor sets and other devices (issue 18): channel removal, calibration
shifts, instance normalisation, residual decoding, bf16 autocast and starting from shipped weights."""

import numpy as np
import pytest
import torch

import lsmkit
from lsmkit import baselines
from lsmkit.channels import CHANNEL_NAMES
from lsmkit.model import LSM, MIN_VISIBLE, SCALE_FLOOR, get_config, linear_fill, window_statistics
from lsmkit.pretrained import export_weights
from lsmkit.train import (DROP_MIX, Normaliser, TrainConfig, WindowStream, cpu_has_bf16, drop_channels,
                          initial_weights, load_checkpoint, train, training_batch)

TINY = TrainConfig(preset="tiny", steps=6, batch_size=8, val_every=3, checkpoint_every=2, val_windows=16,
                   participants_per_chunk=2, days_per_chunk=2, val_participants=2, seed=3, channel_dropout=0.7,
                   calibration=0.5, instance_norm=True, residual=True, val_profiles=("smartwatch", "heart_rate_only"))


def test_channel_removal_is_reproducible_keeps_a_channel_and_follows_the_probability():
    a = drop_channels(2000, 0.6, np.random.default_rng(5))
    np.testing.assert_array_equal(a, drop_channels(2000, 0.6, np.random.default_rng(5)))
    assert (~a).sum(axis=1).min() >= 1
    assert a.any(axis=1).mean() == pytest.approx(0.6, abs=0.04)
    assert not drop_channels(100, 0.0, np.random.default_rng(0)).any()
    assert set(DROP_MIX) == {"profile", "groups", "channels"}
    # some windows keep exactly a device profile's channels
    kept = {tuple(np.array(CHANNEL_NAMES)[~row]) for row in a[a.any(axis=1)]}
    assert lsmkit.DEVICE_PROFILES["sports_watch"] in kept and lsmkit.DEVICE_PROFILES["smartwatch"] in kept


def test_training_batches_are_reproducible_and_never_score_a_removed_channel():
    stream = WindowStream(TINY)
    batch, _ = stream.next((0, 0))
    normaliser = Normaliser.fit(stream.chunk(0))
    z, hidden = training_batch(batch, normaliser, TINY, step=4)
    z2, hidden2 = training_batch(batch, normaliser, TINY, step=4)
    np.testing.assert_array_equal(z, z2)
    np.testing.assert_array_equal(hidden, hidden2)
    removed = np.isnan(z).all(axis=1) & ~np.isnan(normaliser(batch)).all(axis=1)  # (B, C): recorded, then removed
    assert removed.any()
    # what the loss counts: hidden and observed; a removed channel is observed nowhere
    scored = hidden & ~np.isnan(z)
    assert not scored.transpose(0, 2, 1)[removed].any()


def test_a_device_robust_run_resumes_exactly_and_validates_on_profiles(tmp_path):
    _, _, history = train(TINY, tmp_path / "straight", progress=False)
    train(TINY, tmp_path / "resumed", progress=False, until=3)
    train(TINY, tmp_path / "resumed", progress=False)
    a = load_checkpoint(tmp_path / "straight" / "checkpoint.pt")["model"]
    b = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["model"]
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)
    keys = set(history[-1])
    assert {"val_random", "val_smartwatch_random", "val_smartwatch_sensors", "val_heart_rate_only_interpolation"} <= keys
    assert "val_heart_rate_only_sensors" not in keys  # one channel: nothing left to see
    assert all(np.isfinite(v) for k, v in history[-1].items() if k.startswith("val_"))

    # the card lists the validated profiles with their last scores; validation_mse stays all-channel
    card = lsmkit.load_pretrained(lsmkit.pretrained.export_weights(
        load_checkpoint(tmp_path / "straight" / "checkpoint.pt"), tmp_path / "card" / "robust")).card
    assert set(card["validation_mse"]) == {"random", "interpolation", "extrapolation", "sensors"}
    assert list(card["profiles"]) == ["smartwatch", "heart_rate_only"]
    watch = card["profiles"]["smartwatch"]
    assert watch["channels"] == list(lsmkit.DEVICE_PROFILES["smartwatch"]) and "smartwatch" in watch["device"]
    assert watch["validation_mse"]["interpolation"] == history[-1]["val_smartwatch_interpolation"]
    assert set(card["profiles"]["heart_rate_only"]["validation_mse"]) == {"random", "interpolation", "extrapolation"}


def test_instance_statistics_round_trip_and_survive_all_nan_and_constant_channels():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(3, 2, size=(4, 300, 6)).astype(np.float32))
    x[0, :, 1] = float("nan")  # all missing
    x[1, :, 2] = 5.0  # constant
    x[2, : 300 - MIN_VISIBLE + 1, 3] = float("nan")  # too few visible minutes for its own statistics
    visible = ~torch.isnan(x)
    mean, scale, own = window_statistics(x, visible)
    assert torch.isfinite(mean).all() and torch.isfinite(scale).all()
    assert not own[0, 1] and mean[0, 1] == 0 and scale[0, 1] == 1
    assert own[1, 2] and mean[1, 2] == pytest.approx(5.0) and scale[1, 2] == pytest.approx(SCALE_FLOOR)
    assert not own[2, 3] and mean[2, 3] == 0
    assert mean[3, 0] == pytest.approx(float(x[3, :, 0].mean()), rel=1e-5)
    assert scale[3, 0] == pytest.approx(float(x[3, :, 0].std(unbiased=False)), rel=1e-4)
    z = (x - mean[:, None]) / scale[:, None]
    torch.testing.assert_close(z * scale[:, None] + mean[:, None], x, equal_nan=True)


def test_linear_fill_matches_the_linear_baseline():
    windows = lsmkit.load_sample().isel(window=slice(0, 6))
    hidden = lsmkit.masks.interpolation(windows, 60, rng=0)
    expected = baselines.Linear().impute(windows, hidden)["signal"].values
    x = torch.from_numpy(windows["signal"].values)
    visible = ~torch.isnan(x) & ~torch.from_numpy(hidden.values)
    filled = linear_fill(x, visible).numpy()
    carried = ~np.isnan(x.numpy()).all(axis=1)  # (W, C): channels with something to interpolate
    both = np.broadcast_to(carried[:, None, :], filled.shape) & visible.any(dim=1, keepdim=True).numpy()
    low, high = np.array([c.valid_range for c in lsmkit.CHANNELS]).T
    np.testing.assert_allclose(np.clip(filled, low, high)[both], expected[both], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("instance_norm", [False, True])
def test_an_untrained_residual_model_is_linear_interpolation(instance_norm):
    torch.manual_seed(0)
    model = LSM(get_config("tiny", residual=True, instance_norm=instance_norm)).eval()
    rng = np.random.default_rng(1)
    x = torch.from_numpy(np.cumsum(rng.normal(size=(3, 300, 26)), axis=1).astype(np.float32) / 10)
    x[:, :, 7] = float("nan")
    hidden = torch.zeros_like(x, dtype=torch.bool)
    hidden[:, 120:180] = True
    with torch.no_grad():
        _, rec = model(x, hidden)
    expected = linear_fill(x, ~torch.isnan(x) & ~hidden)
    torch.testing.assert_close(rec, expected, rtol=1e-4, atol=1e-4)


def test_the_residual_decoder_sees_the_fill_it_corrects():
    """Each decoder token gets its patch's linear fill (``base_embed``): without it the residual model
    cannot learn corrections and stays at linear interpolation (benchmarks/results/studies/residual_decoder.md)."""
    torch.manual_seed(0)
    model = LSM(get_config("tiny", residual=True)).eval()
    torch.nn.init.normal_(model.decoder_pred.weight, std=0.1)  # as after some training
    x = torch.from_numpy(np.random.default_rng(2).normal(size=(2, 300, 26)).astype(np.float32))
    hidden = torch.zeros_like(x, dtype=torch.bool)
    hidden[:, 100:200] = True
    inputs = model.prepare(x, hidden)
    with torch.no_grad():
        latent, keep, key_mask = model.forward_encoder(inputs["values"], inputs["present"])
        n = inputs["values"].shape[1]
        one = model.forward_decoder(latent, keep, key_mask, n, base=inputs["base"])
        other = model.forward_decoder(latent, keep, key_mask, n, base=inputs["base"] + 1.0)
    assert (one - other).abs().mean() > 1e-3  # the correction depends on the fill, not only on the tokens
    assert LSM(get_config("tiny")).base_embed is None  # a direct model has nothing to correct


def test_bf16_autocast_tracks_float32_training():
    """A short micro run under bfloat16 autocast follows the float32 loss curve within noise."""
    stream = WindowStream(TrainConfig(preset="micro", batch_size=8, participants_per_chunk=2, days_per_chunk=2))
    chunk = stream.chunk(0)
    z = Normaliser.fit(chunk)(chunk[:64]).astype(np.float32)
    hidden = lsmkit.train.task_mask("random", 0.8, z, np.random.default_rng(0))
    curves = {}
    for bf16 in (False, True):
        torch.manual_seed(0)
        model = LSM(get_config("micro"))
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
        losses = []
        for step in range(30):
            rows = slice(8 * (step % 8), 8 * (step % 8) + 8)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss, _ = model(torch.from_numpy(z[rows]), torch.from_numpy(hidden[rows]))
            assert loss.dtype == torch.float32  # the reduction stays in float32
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        assert all(p.dtype == torch.float32 for p in model.parameters())
        curves[bf16] = np.array(losses)
    assert curves[False][-8:].mean() < 0.8 * curves[False][:3].mean()  # it learned something
    assert curves[True][-8:].mean() == pytest.approx(curves[False][-8:].mean(), rel=0.05)


@pytest.mark.skipif(cpu_has_bf16(), reason="this CPU multiplies bfloat16 in hardware")
def test_bf16_on_a_cpu_without_it_warns_and_trains_in_float32(tmp_path):
    config = TrainConfig(preset="micro", steps=1, batch_size=4, val_every=1, checkpoint_every=1, val_windows=4,
                         participants_per_chunk=2, days_per_chunk=2, val_participants=2, bf16=True)
    with pytest.warns(RuntimeWarning, match="no AVX-512 BF16.*trains in float32"):
        train(config, tmp_path, progress=False)


def test_starting_from_shipped_weights_copies_what_fits():
    model = LSM(get_config("2M", instance_norm=True, residual=True))
    normaliser = initial_weights(model, "lsm-2m")
    shipped = lsmkit.load_pretrained("lsm-2m")
    for name in ("blocks.0.qkv.weight", "stats_embed.weight", "decoder_pred.weight"):  # the shipped weights are residual
        torch.testing.assert_close(model.state_dict()[name], shipped.model.state_dict()[name])
    np.testing.assert_array_equal(normaliser.mean, shipped.mean)
    with pytest.raises(ValueError, match="unknown pretrained model 'nope'"):
        initial_weights(model, "nope")


def test_residual_training_from_direct_weights_keeps_a_zero_output_start(tmp_path):
    """Weights that predict values directly (no residual decoder) seed a residual model everywhere but
    its output layer, which keeps its zero start: training then begins from linear interpolation."""
    config = TrainConfig(preset="2M", steps=1, batch_size=2, val_every=1, checkpoint_every=1, val_windows=4,
                         participants_per_chunk=2, days_per_chunk=2, val_participants=2)
    train(config, tmp_path / "run", progress=False)
    card = export_weights(load_checkpoint(tmp_path / "run" / "checkpoint.pt"), tmp_path / "direct")
    source = lsmkit.load_pretrained(str(card))
    assert not source.card["model_config"]["residual"]
    model = LSM(get_config("2M", instance_norm=True, residual=True))
    initial_weights(model, str(card))
    torch.testing.assert_close(model.blocks[0].qkv.weight, source.model.blocks[0].qkv.weight)
    assert model.decoder_pred.weight.abs().max() == 0


def test_new_options_are_checked_up_front():
    with pytest.raises(ValueError, match="channel_dropout must be a probability"):
        TrainConfig(channel_dropout=1.5)
    with pytest.raises(ValueError, match="calibration must be a probability"):
        TrainConfig(calibration=True)
    with pytest.raises(ValueError, match="unknown device profile 'watch'"):
        TrainConfig(val_profiles=("watch",))
    assert TrainConfig(instance_norm=True).model_config().instance_norm
