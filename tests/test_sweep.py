"""The sweep runner: its grid and checks, a tiny real sweep through the command line, a sweep
killed mid-way and resumed, and a results table that never shows a partial or repeated row."""

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lsmkit import scaling
from lsmkit.cli import main
from lsmkit.sweep import (
    COLUMNS,
    SweepConfig,
    append_row,
    eval_steps,
    long_form,
    per_run,
    prepare,
    read_results,
    run_one,
    run_sweep,
    runs,
    training_set,
)
from lsmkit.train import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
GRID = ["--presets", "tiny", "--windows", "24", "48", "--steps", "8", "--batch-size", "4", "--evals", "3",
        "--val-participants", "1", "--val-windows", "16"]
CONFIG = SweepConfig(presets=("tiny",), windows=(24, 48), steps=(8,), batch_size=4, evals=3, val_participants=1,
                     val_windows=16)
KEYS = [(f"tiny_w{w}_s8", s) for w in (24, 48) for s in (3, 6, 8)]


def sweep_command(out):
    return [sys.executable, "-m", "lsmkit", "sweep", "run", "--out", str(out), "--no-progress", *GRID]


def environment():
    return {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """An uninterrupted sweep, run like a user would: ``python -m lsmkit sweep run ...``."""
    out = tmp_path_factory.mktemp("sweep")
    done = subprocess.run(sweep_command(out), cwd=ROOT, env=environment(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "results:" in done.stdout and "(6 rows)" in done.stdout
    return out


# ---- the grid -----------------------------------------------------------------------------------
def test_grid_expands_presets_then_windows_then_steps():
    config = SweepConfig(presets=["tiny", "mini"], windows=[32, 64], steps=[10, 20], batch_size=8)
    names = [r.name for r in runs(config)]
    assert names == ["tiny_w32_s10", "tiny_w32_s20", "tiny_w64_s10", "tiny_w64_s20",
                     "mini_w32_s10", "mini_w32_s20", "mini_w64_s10", "mini_w64_s20"]
    assert [r.index for r in runs(config)] == list(range(8))
    assert config.presets == ("tiny", "mini") and config.windows == (32, 64)  # lists become tuples
    assert eval_steps(8, 3) == [3, 6, 8] and eval_steps(10, 4) == [3, 6, 9, 10] and eval_steps(3, 5) == [1, 2, 3]


@pytest.mark.parametrize("changes, message", [
    ({"presets": ("huge",)}, "unknown preset 'huge'; valid presets: micro, tiny, mini"),
    ({"presets": ()}, "presets must list one or more distinct values"),
    ({"windows": (24, 24)}, "windows must list one or more distinct values, got \\(24, 24\\)"),
    ({"windows": (0, 24)}, "windows must be positive integers, got 0"),
    ({"steps": (7.5,)}, "steps must be positive integers, got 7.5"),
    ({"windows": (2,)}, "every training set must hold a batch: windows 2 < batch_size 4"),
    ({"lr": 0.0}, "lr must be positive and finite, got 0.0"),
    ({"evals": 0}, "evals must be positive integers, got 0"),
    ({"seed": -1}, "seed must be non-negative integers, got -1"),
    ({"minutes": 305}, "minutes \\(305\\) must be a multiple of the patch length 10"),
])
def test_bad_config_raises_a_named_error(changes, message):
    fields = {"presets": ("tiny",), "windows": (24,), "steps": (8,), "batch_size": 4, **changes}
    with pytest.raises(ValueError, match=message):
        SweepConfig(**fields)


def test_a_folder_holds_one_sweep_and_runs_are_indexed(tmp_path):
    prepare(CONFIG, tmp_path)
    assert pd.read_csv(tmp_path / "runs.csv")["run"].tolist() == ["tiny_w24_s8", "tiny_w48_s8"]
    with pytest.raises(ValueError, match="holds another sweep \\(steps \\(8,\\) -> \\(9,\\)\\)"):
        prepare(replace(CONFIG, steps=(9,)), tmp_path)
    with pytest.raises(ValueError, match="index 2 is out of range: the sweep has 2 runs, 0 to 1"):
        run_one(CONFIG, tmp_path, 2)


def test_plan_command_prints_and_writes_the_run_list(tmp_path, capsys):
    assert main(["sweep", "plan", "--out", str(tmp_path), *GRID]) == 0
    printed = capsys.readouterr().out
    assert "tiny_w24_s8" in printed and "tiny_w48_s8" in printed and "3 6 8" in printed
    planned = pd.read_csv(tmp_path / "runs.csv")
    assert planned["hours"].tolist() == [120.0, 240.0] and planned["parameters"].nunique() == 1
    assert main(["sweep", "plan", "--out", str(tmp_path)]) == 0  # the folder remembers its grid
    with pytest.raises(ValueError, match="holds another sweep \\(lr 0.001 -> 0.01\\)"):
        main(["sweep", "plan", "--out", str(tmp_path), "--lr", "0.01"])
    with pytest.raises(ValueError, match="give --presets, --windows and --steps"):
        main(["sweep", "plan", "--out", str(tmp_path / "new"), "--presets", "tiny"])


# ---- training sets ------------------------------------------------------------------------------
def test_training_sets_are_distinct_nested_and_from_other_people():
    from lsmkit.train import TrainConfig, validation_set

    small, large = training_set(24, seed=3), training_set(48, seed=3)
    assert small.sizes["window"] == 24 and large.sizes["window"] == 48
    np.testing.assert_array_equal(small["signal"].values, large["signal"].values[:24])  # a prefix
    keys = list(zip(large["participant"].values, large["start"].values))
    assert len(set(keys)) == 48  # distinct windows: no window twice
    assert np.diff(large["start"].values[large["participant"].values == keys[0][0]]).min() >= np.timedelta64(300, "m")
    val = validation_set(TrainConfig(preset="tiny", val_participants=1, val_windows=16, seed=3))
    assert all(p.startswith("train-") for p in large["participant"].values)
    train_rows = {np.nan_to_num(w).tobytes() for w in large["signal"].values}
    assert not train_rows & {np.nan_to_num(w).tobytes() for w in val["signal"].values}


# ---- a tiny real sweep --------------------------------------------------------------------------
def test_tiny_sweep_logs_every_evaluation_once(finished):
    table = read_results(finished)
    assert list(table.columns) == list(COLUMNS)
    assert list(zip(table["run"], table["step"])) == KEYS
    assert sorted(set(table["windows"])) == [24, 48] and (table["hours"] == table["windows"] * 5).all()
    for _, run in table.groupby("run"):
        assert run["step"].is_monotonic_increasing and run["flops"].is_monotonic_increasing
        assert (run["flops"] == scaling.training_flops("tiny", batch_size=4) * run["step"]).all()
        assert (run["samples"] == 4 * run["step"]).all()
    losses = table[[f"loss_{t}" for t in ("random", "interpolation", "extrapolation", "sensors")]].to_numpy()
    assert np.isfinite(losses).all() and (losses > 0).all()
    assert (table["parameters"] > 100_000).all() and (table["steps"] == 8).all() and (table["seed"] == 0).all()
    stored = sorted(p.name for p in (finished / "data").iterdir())
    assert stored == ["windows-24.nc", "windows-48.nc"]


def test_per_run_picks_final_or_best_rows(finished):
    table = read_results(finished)
    final = per_run(table, "final")
    assert final["run"].tolist() == ["tiny_w24_s8", "tiny_w48_s8"] and (final["step"] == 8).all()
    best = per_run(table, "best", task="sensors")
    assert (best["loss_sensors"].to_numpy() == table.groupby("run")["loss_sensors"].min().to_numpy()).all()
    tidy = long_form(table)
    assert len(tidy) == 4 * len(table) and set(tidy["task"]) == {"random", "interpolation", "extrapolation", "sensors"}
    with pytest.raises(ValueError, match="unknown pick 'middle'"):
        per_run(table, "middle")
    with pytest.raises(ValueError, match="unknown task 'forecast'"):
        per_run(table, "best", task="forecast")


def test_rerunning_a_finished_sweep_changes_nothing(finished):
    before = (finished / "results.csv").read_bytes()
    run_sweep(CONFIG, finished, progress=False)  # every run finished: no process is started
    assert run_one(CONFIG, finished, 1, progress=False) == 0
    assert (finished / "results.csv").read_bytes() == before


# ---- killed and resumed -------------------------------------------------------------------------
def _kill_after(rows: int, seconds: float, out: Path) -> bool:
    """Start the sweep and SIGKILL its process group ``seconds`` after the table first holds
    ``rows`` rows (0: after the start); False if the sweep finished first."""
    sweep = subprocess.Popen(sweep_command(out), cwd=ROOT, env=environment(), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    table, deadline = out / "results.csv", time.monotonic() + 240
    try:
        while rows and not (table.exists() and table.read_bytes().count(b"\n") > rows):
            if sweep.poll() is not None:
                return False
            assert time.monotonic() < deadline, "the sweep hung"
            time.sleep(0.02)
        sweep.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        return True
    finally:  # killed on schedule, or because the test failed: never left running
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)  # the whole process group: the sweep and its run process
        sweep.wait()


def _assert_nothing_half_written(out: Path, reference: pd.DataFrame) -> int:
    """Every row on disk is whole and equals the uninterrupted sweep's; every checkpoint loads."""
    table = out / "results.csv"
    if table.exists():
        raw = table.read_bytes()
        assert raw.startswith(b"run,preset") and raw.endswith(b"\n")  # a header, no partial row
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a damaged or repeated line would warn
            rows = read_results(out)
        expected = reference.set_index(["run", "step"]).loc[list(zip(rows["run"], rows["step"]))].reset_index()
        pd.testing.assert_frame_equal(rows, expected[rows.columns])
    for checkpoint in out.glob("runs/*/checkpoint.pt"):
        assert load_checkpoint(checkpoint)["step"] >= 1  # written whole (atomically replaced)
    return len(read_results(out)) if table.exists() else 0


@pytest.mark.parametrize("seed", [0, 1])
def test_sweep_killed_at_random_points_resumes_without_losing_or_repeating_rows(finished, tmp_path, seed):
    """SIGKILL the sweep up to three times at random moments (a random delay after the start, then
    after a random number of rows: inside a run or between runs), checking after each kill that
    nothing on disk is lost or half-written; then let it finish and compare with the sweep that
    was never interrupted."""
    out, reference = tmp_path / "killed", read_results(finished)
    rng = np.random.default_rng(seed)
    kills, rows = 0, 0
    targets = [0, *sorted(rng.integers(1, len(KEYS), size=2))]  # rows on disk before each kill: first none
    for target in targets:
        killed = _kill_after(int(target), rng.uniform(0.0, 4.0), out)
        now = _assert_nothing_half_written(out, reference)
        assert now >= rows  # a kill never takes away a row that was there
        kills, rows = kills + killed, now
        if not killed:
            break
    assert kills >= 1, "the sweep always finished before it could be killed"

    done = subprocess.run(sweep_command(out), cwd=ROOT, env=environment(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed = read_results(out)
    assert not resumed.duplicated(["run", "step"]).any()
    assert list(zip(resumed["run"], resumed["step"])) == KEYS
    pd.testing.assert_frame_equal(resumed, reference)  # resumed runs end exactly where uninterrupted ones do
    assert (out / "results.csv").read_bytes().count(b"\n") == 1 + len(KEYS)


# ---- the table ----------------------------------------------------------------------------------
def row(run="r", step=1, loss=1.0):
    return {c: 0 for c in COLUMNS} | {"run": run, "preset": "tiny", "step": step, "loss_random": loss}


def test_reader_ignores_a_partial_last_line_and_appends_stay_whole(finished, tmp_path):
    path = tmp_path / "results.csv"
    path.write_bytes((finished / "results.csv").read_bytes() + b"tiny_w48_s8,tiny,164210,48,240.0,8,9,3")
    with pytest.warns(UserWarning, match="ignoring a partial last line"):
        pd.testing.assert_frame_equal(read_results(path), read_results(finished))
    append_row(path, row("extra", 5))  # after a line cut by a crash: ours starts on a line of its own
    with pytest.warns(UserWarning, match="ignoring 1 damaged line"):
        table = read_results(path)
    assert "extra" in set(table["run"]) and len(table) == len(KEYS) + 1


def test_repeated_rows_are_dropped_with_a_warning(tmp_path):
    path = tmp_path / "results.csv"
    for r in (row("a", 1, 2.0), row("a", 2, 1.5), row("a", 1, 9.0)):
        append_row(path, r)
    with pytest.warns(UserWarning, match="ignoring 1 repeated \\(run, step\\) row"):
        table = read_results(path)
    assert table["step"].tolist() == [1, 2] and table["loss_random"].tolist() == [2.0, 1.5]


def _append_many(path, worker, n):
    for i in range(n):
        append_row(path, row(f"w{worker}", i, loss=1.0 + i / 7))


def test_concurrent_appenders_write_whole_lines(tmp_path):
    path = tmp_path / "results.csv"
    context = multiprocessing.get_context("fork")  # fast, and the workers only write files
    workers = [context.Process(target=_append_many, args=(path, w, 300)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a damaged or repeated line would warn
        table = read_results(path)
    assert len(table) == 1200 and table.groupby("run").size().tolist() == [300] * 4
    assert np.allclose(table["loss_random"], 1.0 + table["step"] / 7)
    assert path.read_text().count("run,preset") == 1  # one header


def test_reading_needs_no_torch(finished):
    code = ("import sys, lsmkit; t = lsmkit.sweep.read_results(sys.argv[1]); "
            "assert 'torch' not in sys.modules; print(len(t))")
    out = subprocess.run([sys.executable, "-c", code, str(finished)], cwd=ROOT, env=environment(),
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(len(KEYS))
