"""The command line wraps the library: simulate to a file, pretrain and resume, export weights."""

import json

import pytest

import lsmkit
from lsmkit.cli import main
from lsmkit.train import load_checkpoint


def test_simulate_writes_a_loadable_cohort(tmp_path, capsys):
    path = tmp_path / "cohort.nc"
    assert main(["simulate", str(path), "--participants", "2", "--days", "1", "--seed", "4"]) == 0
    cohort = lsmkit.load_dataset(path)
    assert cohort.sizes == {"participant": 2, "time": 1440, "channel": 26}
    assert float(cohort["signal"].sum()) == pytest.approx(float(lsmkit.simulate(2, 1, seed=4)["signal"].sum()), rel=1e-6)


def test_pretrain_resume_and_export(tmp_path, capsys):
    args = ["pretrain", "--preset", "tiny", "--steps", "4", "--batch-size", "8", "--val-every", "2",
            "--checkpoint-every", "2", "--val-windows", "8", "--participants-per-chunk", "2", "--days-per-chunk", "2",
            "--val-participants", "2", "--mask-mix", "random=1,sensors=1", "--out", str(tmp_path / "run")]
    assert main(args) == 0
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["step"] == 4 and state["train_config"]["mask_mix"] == {"random": 1.0, "sensors": 1.0}
    assert "final validation MSE" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "run" / "checkpoint.pt"), str(tmp_path / "mine")]) == 0
    card = json.loads((tmp_path / "mine.json").read_text())
    assert card["preset"] == "tiny" and card["training"]["steps"] == 4
    assert lsmkit.load_pretrained(str(tmp_path / "mine.json")).card["sha256"] == card["sha256"]


def test_pretrain_patch_option(tmp_path):
    args = ["pretrain", "--preset", "tiny", "--patch", "5", "26", "--steps", "1", "--batch-size", "4", "--val-every", "1",
            "--val-windows", "4", "--participants-per-chunk", "2", "--days-per-chunk", "1", "--val-participants", "2",
            "--out", str(tmp_path)]
    assert main(args) == 0
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["train_config"]["patch"] == [5, 26] and state["model_config"]["patch"] == [5, 26]


def test_unknown_preset_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        main(["pretrain", "--preset", "huge", "--steps", "1", "--out", str(tmp_path)])
