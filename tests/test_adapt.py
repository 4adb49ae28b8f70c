"""Adapting weights to a user's recordings (lsmkit.adapt, ``lsmkit adapt``): held-out split, resume, export."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import lsmkit
from lsmkit.adaptation import ADAPT_RECIPE, adapt, split_held_out, split_windows
from lsmkit.pretrained import export_weights
from lsmkit.train import TrainConfig, load_checkpoint, train

FAST = dict(steps=4, val_every=2, checkpoint_every=1, batch_size=8, val_windows=8, progress=False)


@pytest.fixture(scope="module")
def base_card(tmp_path_factory):
    """A tiny model exported as a card, standing in for the shipped weights."""
    out = tmp_path_factory.mktemp("base")
    config = TrainConfig(preset="tiny", steps=2, batch_size=8, val_every=2, checkpoint_every=2, val_windows=8,
                         participants_per_chunk=2, days_per_chunk=1, val_participants=1)
    train(config, out, progress=False)
    return str(export_weights(load_checkpoint(out / "checkpoint.pt"), out / "tiny"))


@pytest.fixture(scope="module")
def watch():
    """Three days of two participants as a smartwatch records them."""
    return lsmkit.restrict(lsmkit.simulate(2, 3, seed=5), "smartwatch")


def test_split_by_day_keeps_the_last_days_apart_and_shares_no_minute(watch):
    train_rec, val_rec = split_held_out(watch, held_out=0.34, by="day")
    assert train_rec.sizes["time"] == 2 * 1440 and val_rec.sizes["time"] == 1440
    day3 = watch["start"].values + np.timedelta64(2 * 1440, "m")
    np.testing.assert_array_equal(val_rec["start"].values, day3)  # validation starts on day 3
    np.testing.assert_array_equal(train_rec["start"].values, watch["start"].values)
    np.testing.assert_array_equal(val_rec["signal"].values, watch["signal"].values[:, 2880:4320])


def test_split_by_participant_holds_out_whole_participants(watch):
    train_rec, val_rec = split_held_out(watch, held_out=0.5, by="participant")
    assert list(train_rec["participant"].values) == [watch["participant"].values[0]]
    assert list(val_rec["participant"].values) == [watch["participant"].values[1]]


@pytest.mark.parametrize("kwargs, match", [
    (dict(by="week"), "by must be 'day' or 'participant'"),
    (dict(held_out=0), "strictly between 0 and 1"),
    (dict(held_out=1.5), "strictly between 0 and 1"),
    (dict(held_out=True), "strictly between 0 and 1"),
])
def test_split_refuses_bad_arguments(watch, kwargs, match):
    with pytest.raises(ValueError, match=match):
        split_held_out(watch, **kwargs)


def test_split_needs_two_days_or_two_participants(watch):
    with pytest.raises(ValueError, match="at least 2 whole days"):
        split_held_out(watch.isel(time=slice(0, 2000)), by="day")
    with pytest.raises(ValueError, match="at least 2 participants"):
        split_held_out(watch.isel(participant=[0]), by="participant")


def test_adapt_exports_a_card_that_loads_and_validates_on_held_out_days(base_card, watch, tmp_path):
    # the base card's shrinkage of one-channel corrections (lsmkit.correction) carries over
    scaled = tmp_path / "base" / "tiny.json"
    scaled.parent.mkdir()
    shutil.copy(Path(base_card).with_suffix(".safetensors"), scaled.with_suffix(".safetensors"))
    scale = {name: 0.5 for name in lsmkit.CHANNEL_NAMES}
    scaled.write_text(json.dumps({**json.loads(Path(base_card).read_text()), "correction_scale": scale}))
    base_card = str(scaled)
    card = adapt(base_card, watch, tmp_path / "run", **FAST)
    tmp_path = tmp_path / "run"
    model = lsmkit.load_pretrained(str(card))
    assert model.card["correction_scale"] == scale
    assert model.card["training"]["steps"] == 4
    config = model.card["training"]["config"]
    assert config["init"] == base_card and config["lr"] == ADAPT_RECIPE["lr"]
    assert config["channel_dropout"] == ADAPT_RECIPE["channel_dropout"]
    assert set(model.card["validation_mse"]) == {"random", "interpolation", "extrapolation", "sensors"}
    val = lsmkit.load_dataset(tmp_path / "adapt_validation.nc")
    training = lsmkit.load_dataset(tmp_path / "adapt_train.nc")
    # validation windows start on the held-out third day; no training window reaches into it
    day3 = watch["start"].values[:, None] + np.timedelta64(2 * 1440, "m")
    assert (val["start"].values >= day3.min()).all()
    assert (training["start"].values + np.timedelta64(300, "m") <= day3.max()).all()
    assert lsmkit.observed_channels(val) == list(lsmkit.profile_channels("smartwatch"))
    # the weights moved away from the base weights
    base = load_file(base_card.replace(".json", ".safetensors"))
    moved = load_file(str(card).replace(".json", ".safetensors"))
    assert any(not torch.equal(base[k], moved[k]) for k in base)


def test_adapt_stopped_with_until_resumes_to_the_weights_of_an_uninterrupted_run(base_card, watch, tmp_path):
    adapt(base_card, watch, tmp_path / "straight", **FAST)
    first = adapt(base_card, watch, tmp_path / "parts", until=2, **FAST)
    assert lsmkit.load_pretrained(str(first)).card["training"]["steps"] == 2
    adapt(base_card, watch, tmp_path / "parts", **FAST)
    a, b = (load_checkpoint(tmp_path / d / "checkpoint.pt") for d in ("straight", "parts"))
    assert a["step"] == b["step"] == 4
    for name in a["model"]:
        assert torch.equal(a["model"][name], b["model"][name]), name


def test_a_window_batch_is_split_by_each_participants_starts_with_no_overlap(watch):
    windows = lsmkit.to_windows(watch, 300, stride=60)  # neighbours share 240 minutes
    train_w, val_w = split_windows(windows, held_out=0.25, by="day")
    length = np.timedelta64(300, "m")
    for person in np.unique(windows["participant"].values):
        t = train_w["start"].values[train_w["participant"].values == person]
        v = val_w["start"].values[val_w["participant"].values == person]
        assert len(v) and len(t)
        assert (t + length <= v.min()).all()  # no training minute inside a validation window
    assert train_w.sizes["window"] + val_w.sizes["window"] < windows.sizes["window"]  # the overlapping ones dropped
    by_person = split_windows(windows, held_out=0.5, by="participant")
    assert set(by_person[0]["participant"].values).isdisjoint(by_person[1]["participant"].values)


def test_adapt_on_a_window_batch_validates_on_its_held_out_windows(base_card, watch, tmp_path):
    windows = lsmkit.to_windows(watch, 300, stride=300)
    adapt(base_card, windows, tmp_path, held_out=0.25, **FAST)
    val = lsmkit.load_dataset(tmp_path / "adapt_validation.nc")
    _, expected = split_windows(windows, held_out=0.25)
    np.testing.assert_array_equal(val["signal"].values, expected["signal"].values)


def test_adapt_refuses_fewer_training_windows_than_one_batch(base_card, watch, tmp_path):
    with pytest.raises(ValueError, match=r"88 training windows, fewer than one batch of 256"):
        adapt(base_card, watch, tmp_path, **{**FAST, "batch_size": 256})  # 2 x 44 windows at stride 60


def test_a_rerun_on_other_data_or_another_split_is_refused_not_resumed(base_card, watch, tmp_path):
    adapt(base_card, watch, tmp_path, **{**FAST, "until": 1})
    with pytest.raises(ValueError, match="holds an adapting run on other data or another split"):
        adapt(base_card, watch, tmp_path, held_out=0.5, **FAST)
    with pytest.raises(ValueError, match="holds an adapting run on other data or another split"):
        adapt(base_card, watch.isel(participant=[0]), tmp_path, **FAST)


def test_adapt_refuses_data_too_short_for_one_window(base_card, watch, tmp_path):
    with pytest.raises(ValueError, match="needs a participant with at least 2 whole days of recorded values"):
        adapt(base_card, watch.where(watch["time"] < 100), tmp_path, **FAST)


def test_the_command_line_adapts_a_stored_recording(base_card, watch, tmp_path, capsys):
    from lsmkit.cli import main

    data = lsmkit.save(watch, tmp_path / "watch.nc")
    assert main(["adapt", "--from", base_card, "--data", str(data), "--out", str(tmp_path / "run"), "--steps", "2",
                 "--no-progress", "--name", "mine"]) == 0
    assert "load it with lsmkit.load_pretrained" in capsys.readouterr().out
    assert lsmkit.load_pretrained(str(tmp_path / "run" / "mine.json")).card["training"]["steps"] == 2


def test_the_command_line_passes_reader_options_to_a_device_export(base_card, watch, tmp_path, capsys):
    from lsmkit.cli import main
    from lsmkit.io import fitbit

    export = fitbit.write_example(lsmkit.restrict(watch, ["heart_rate", "steps"]), tmp_path / "fitbit", participant="P000",
                                  tz="Europe/Berlin")
    (export / "Your Profile" / "Profile.csv").unlink(missing_ok=True)
    for profile in export.rglob("Profile.csv"):  # a Profile-less export needs tz=
        profile.unlink()
    args = ["adapt", "--from", base_card, "--data", str(export), "--out", str(tmp_path / "run"), "--steps", "2",
            "--no-progress"]
    with pytest.raises(ValueError, match="tz="):
        main(args)
    assert main(args + ["--read", "tz=Europe/Berlin"]) == 0
    with pytest.raises(ValueError, match="--read takes KEY=VALUE"):
        main(args + ["--read", "tz"])


def test_split_by_day_follows_each_participants_own_recorded_span(watch):
    """One participant recorded from day 1, the other only from day 2: each holds out its own last day."""
    late = watch.copy()
    signal = late["signal"].values.copy()
    signal[1, :1440] = np.nan  # participant 1 joined a day late: two recorded days
    late["signal"] = (late["signal"].dims, signal)
    train_rec, val_rec = split_held_out(late, held_out=0.34, by="day")
    seen = lambda ds, p: np.flatnonzero(ds["signal"].isel(participant=p).notnull().any("channel").values)
    # participant 0: days 1-2 train, day 3 validates; participant 1: day 2 trains, day 3 validates
    assert seen(train_rec, 0).max() < 2880 and seen(train_rec, 1).min() >= 1440 and seen(train_rec, 1).max() < 2880
    np.testing.assert_array_equal(val_rec["signal"].values, late["signal"].values[:, 2880:])
    short = late.copy()
    signal = short["signal"].values.copy()
    signal[1, :2880] = np.nan  # one recorded day: participant 1 only trains
    short["signal"] = (short["signal"].dims, signal)
    train_rec, val_rec = split_held_out(short, held_out=0.34, by="day")
    assert val_rec["signal"].isel(participant=1).isnull().all()
    assert train_rec["signal"].isel(participant=1).notnull().any()
