"""Training: schedule, augmentations, resumable atomic checkpoints, and DDP under torchrun."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lsmkit.train import (TrainConfig, WindowStream, augment, learning_rate, load_checkpoint, sample_task_masks,
                          train, validation_set)

TINY = TrainConfig(preset="tiny", steps=6, batch_size=8, val_every=3, checkpoint_every=2, val_windows=16,
                   participants_per_chunk=2, days_per_chunk=2, val_participants=2, seed=3)


def test_learning_rate_warms_up_then_decays():
    config = TrainConfig(steps=1000, lr=1e-3, warmup=0.05)
    lrs = np.array([learning_rate(s, config) for s in range(1000)])
    assert lrs[0] == pytest.approx(1e-3 / 50)
    assert lrs.argmax() in (49, 50) and lrs.max() == pytest.approx(1e-3, rel=1e-3)
    assert np.all(np.diff(lrs[50:]) <= 0)
    assert lrs[-1] == pytest.approx(1e-5, rel=0.05)


def test_augment_keeps_shape_and_gaps():
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(64, 300, 4)).astype(np.float32)
    batch[:, 100:150] = np.nan
    out = augment(batch, 1.0, rng)
    assert out.shape == batch.shape and out.dtype == np.float32
    assert np.isnan(out).any(axis=(1, 2)).sum() >= 60  # stretch and crop rarely lose the whole gap
    assert not np.allclose(np.nan_to_num(out), np.nan_to_num(batch))
    np.testing.assert_array_equal(augment(batch, 0.0, rng), batch)  # probability 0: identity


def test_one_task_per_batch_from_the_mix():
    config = TrainConfig(mask_mix={"random": 1.0, "interpolation": 0.0, "extrapolation": 0.0, "sensors": 0.0})
    task, hidden = sample_task_masks(np.zeros((4, 300, 26), np.float32), config, np.random.default_rng(0))
    assert task == "random" and abs(hidden.mean() - 0.8) < 0.01
    config = TrainConfig(mask_mix={"extrapolation": 1.0}, block_minutes=(30,))
    task, hidden = sample_task_masks(np.zeros((4, 300, 26), np.float32), config, np.random.default_rng(0))
    assert task == "extrapolation" and hidden[:, -30:].all() and not hidden[:, :-30].any()


def test_stream_is_deterministic():
    a, b = WindowStream(TINY), WindowStream(TINY)
    batch_a, pos_a = a.next((0, 0))
    batch_b, pos_b = b.next((0, 0))
    np.testing.assert_array_equal(batch_a, batch_b)
    assert pos_a == pos_b == (0, 1)


def test_killed_run_resumes_to_the_same_weights(tmp_path):
    train(TINY, tmp_path / "straight", progress=False)
    train(TINY, tmp_path / "resumed", progress=False, until=3)  # "killed" after step 3 (checkpoint at 3)
    assert load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["step"] == 3
    train(TINY, tmp_path / "resumed", progress=False)
    a = load_checkpoint(tmp_path / "straight" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")
    assert a["step"] == b["step"] == 6
    for name in a["model"]:
        assert torch.equal(a["model"][name], b["model"][name]), name
    assert [h["val_random"] for h in a["history"]] == [h["val_random"] for h in b["history"]]
    assert not list((tmp_path / "resumed").glob("*.tmp"))  # atomic writes leave no temporary file


KILLABLE = TrainConfig(preset="tiny", steps=60, batch_size=8, val_every=20, checkpoint_every=1, val_windows=16,
                       participants_per_chunk=2, days_per_chunk=2, val_participants=2, seed=4)


@pytest.mark.parametrize("seed", [0, 1])
def test_sigkilled_run_leaves_a_whole_checkpoint_and_resumes_to_the_same_end(tmp_path, seed):
    """A real SIGKILL at a random moment after the first checkpoint: what is on disk loads, and
    resuming ends with the weights and history of a run that was never interrupted."""
    import signal
    import time

    out = tmp_path / "killed"
    code = (f"from lsmkit.train import TrainConfig, train; import json; "
            f"train(TrainConfig(**json.loads({json.dumps(json.dumps(_config_dict(KILLABLE)))})), {str(out)!r}, progress=False)")
    # the same thread count as this process: reductions split across threads round differently
    threads = str(torch.get_num_threads())
    child = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ, OMP_NUM_THREADS=threads,
                                                                    MKL_NUM_THREADS=threads))
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.pt").exists():
            assert child.poll() is None and time.monotonic() < deadline, "the run ended or hung before its first checkpoint"
            time.sleep(0.02)
        time.sleep(np.random.default_rng(seed).uniform(0, 0.5))  # somewhere in the middle of the run
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    state = load_checkpoint(out / "checkpoint.pt")  # whole, never half-written
    assert 1 <= state["step"] < KILLABLE.steps
    train(KILLABLE, out, progress=False)
    train(KILLABLE, tmp_path / "straight", progress=False)
    a, b = (load_checkpoint(tmp_path / d / "checkpoint.pt") for d in ("straight", "killed"))
    assert a["step"] == b["step"] == KILLABLE.steps
    for name in a["model"]:
        assert torch.equal(a["model"][name], b["model"][name]), name
    assert [h["val_random"] for h in a["history"]] == [h["val_random"] for h in b["history"]]


def _config_dict(config: TrainConfig) -> dict:
    import dataclasses

    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def test_resume_refuses_a_different_config(tmp_path):
    train(TINY, tmp_path, progress=False, until=2)
    with pytest.raises(ValueError, match="different TrainConfig"):
        train(TrainConfig(**{**TINY.__dict__, "lr": 0.5}), tmp_path, progress=False)


def _small_store(path, n: int, minutes: int = 30) -> str:
    """``n`` stored windows of the sample cohort, each tagged by its index in its first heart-rate value."""
    import lsmkit

    windows = lsmkit.load_sample(minutes=minutes).isel(window=slice(0, n))
    windows["signal"][:, 0, 0] = np.arange(n, dtype=np.float32)
    return str(lsmkit.save(windows, path))


TORCHRUN = TrainConfig(preset="tiny", steps=3, batch_size=8, val_every=3, checkpoint_every=3, val_windows=8,
                       participants_per_chunk=2, days_per_chunk=2, val_participants=2)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["simulator", "store"])
def test_torchrun_two_cpu_processes_end_with_identical_weights(tmp_path, source):
    """Two ranks end with one set of weights, the weights of one process with the whole batch; from
    a store (each rank reading its half of the block) over 7 steps, into a second pass of the store."""
    config = TORCHRUN
    if source == "store":  # 40 windows: five batches of 8 per pass, so step 6 starts a new shuffle
        config = TrainConfig(**{**TORCHRUN.__dict__, "windows": _small_store(tmp_path / "windows.nc", 40, 300),
                                "steps": 7, "val_every": 7, "checkpoint_every": 7})
    script = tmp_path / "ddp_probe.py"
    script.write_text(
        "import hashlib, json, os, sys, torch, torch.distributed as dist\n"
        "from lsmkit.train import TrainConfig, train\n"
        "dist.init_process_group('gloo')\n"
        "config = TrainConfig(**json.loads(sys.argv[2]))\n"
        "model, _, _ = train(config, sys.argv[1], resume=False, progress=False, device='cpu')\n"
        "digest = hashlib.sha256(b''.join(p.detach().numpy().tobytes() for p in model.parameters())).hexdigest()\n"
        "open(os.path.join(sys.argv[1], f'rank{dist.get_rank()}.sha'), 'w').write(digest)\n"
        "dist.destroy_process_group()\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          str(script), str(tmp_path), json.dumps(_config_dict(config))], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    digests = {Path(tmp_path, f"rank{r}.sha").read_text() for r in (0, 1)}
    assert len(digests) == 1
    two = load_checkpoint(tmp_path / "checkpoint.pt")
    assert two["step"] == config.steps and two["position"][0] == (1 if source == "store" else 0)
    # and the two processes took the same steps as one process with the whole batch
    train(config, tmp_path / "single", resume=False, progress=False, device="cpu")
    one = load_checkpoint(tmp_path / "single" / "checkpoint.pt")
    assert one["position"] == two["position"]
    torch.testing.assert_close(two["norm_mean"], one["norm_mean"], atol=0, rtol=0)  # fitted to the whole block
    for name, value in one["model"].items():
        if name.endswith("qkv.bias"):  # (q, k, v) biases: the key bias's true gradient is zero (softmax
            # ignores a shift shared by all keys), so Adam turns its rounding noise into steps of up to lr
            (q2, k2, v2), (q1, k1, v1) = two["model"][name].view(3, -1), value.view(3, -1)
            torch.testing.assert_close(torch.cat([q2, v2]), torch.cat([q1, v1]), atol=2e-5, rtol=1e-4, msg=name)
            torch.testing.assert_close(k2, k1, atol=config.lr * config.steps, rtol=0, msg=name)
            continue
        torch.testing.assert_close(two["model"][name], value, atol=2e-5, rtol=1e-4, msg=name)


def test_ranks_read_their_half_of_each_stored_block_and_together_make_the_batch(tmp_path, monkeypatch):
    """Two ranks' rows of each batch, interleaved, are one process's batch, through several blocks,
    and each rank loads only its half of a block."""
    import xarray as xr

    from lsmkit import train as train_module

    path = _small_store(tmp_path / "windows.nc", 300)
    monkeypatch.setattr(train_module, "STORE_BLOCK", 128)  # blocks of 128, 128 and 44 windows
    config = TrainConfig(**{**TINY.__dict__, "windows": path, "minutes": 30, "batch_size": 16})
    read = []  # windows each store read asks for
    isel = xr.DataArray.isel
    monkeypatch.setattr(xr.DataArray, "isel", lambda self, *a, **kw: read.append(np.size(kw["window"])) or
                        isel(self, *a, **kw))
    whole = WindowStream(config)
    ranks = [WindowStream(config, rank=r, world=2) for r in (0, 1)]
    position, held = (0, 0), {}  # chunk: windows the whole stream holds, and each rank
    for _ in range(12):  # at most 8 batches in the first chunk, so into the second
        batch, after = whole.next(position)
        shares = [stream.next(position) for stream in ranks]
        assert all(p == after for _, p in shares)
        together = np.empty_like(batch)
        for r, (rows, _) in enumerate(shares):
            assert len(rows) == 8
            together[r::2] = rows
        np.testing.assert_array_equal(together, batch)
        held[after[0]] = len(whole.chunk(after[0])), [len(stream.chunk(after[0])) for stream in ranks]
        position = after
    assert len(held) >= 2
    for n, per_rank in held.values():
        assert per_rank == [n // 2, n // 2]
    assert read == [m for n, _ in held.values() for m in (n, n // 2, n // 2)]  # each rank read only its half
    before = len(read)
    assert [s.batches_in(k) for s in (whole, *ranks) for k in (5, 6)] == [whole.batches_in(5), whole.batches_in(6)] * 3
    assert len(read) == before  # counting the batches of a block does not read it
    with pytest.raises(ValueError, match="divisible by world"):
        WindowStream(config, rank=0, world=3)


def test_config_is_checked_up_front():
    with pytest.raises(ValueError, match="unknown preset"):
        TrainConfig(preset="huge")
    with pytest.raises(ValueError, match="mask_mix"):
        TrainConfig(mask_mix={"denoise": 1.0})
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="multiple of the patch length"):
        TrainConfig(minutes=305)
    with pytest.raises(ValueError, match="normalise must be 'data' or 'registry'"):
        TrainConfig(normalise="batch")


def test_patch_replaces_the_presets_token_shape(tmp_path):
    config = TrainConfig(**{**TINY.__dict__, "patch": [2, 26], "steps": 2, "val_every": 2})
    assert config.patch == (2, 26) and config.model_config().patch == (2, 26)
    assert config.model_config().width == TrainConfig(preset="tiny").model_config().width
    model, _, history = train(config, tmp_path, progress=False)
    assert model.config.patch == (2, 26) and model.n_groups == 1
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["model_config"]["patch"] == [2, 26] and np.isfinite(history[-1]["val_sensors"])
    for bad in [(2,), 3, (0, 5), (True, 5), (2.5, 5)]:
        with pytest.raises(ValueError, match="patch must be two positive integers"):
            TrainConfig(patch=bad)
    with pytest.raises(ValueError, match="multiple of the patch length 7"):
        TrainConfig(patch=(7, 5))


def test_a_checkpoint_written_before_patch_existed_still_resumes(tmp_path):
    train(TINY, tmp_path, progress=False, until=3)
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    del state["train_config"]["patch"]  # what checkpoints written before the field hold
    torch.save(state, tmp_path / "checkpoint.pt")
    train(TINY, tmp_path, progress=False)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == TINY.steps


def test_registry_normalisation_gives_every_run_one_z_space(tmp_path):
    """Sweeps train on sets of different sizes; their validation losses share a scale only if the
    z-scoring does not depend on the training set."""
    import lsmkit

    config = TrainConfig(**{**TINY.__dict__, "steps": 1, "val_every": 1, "normalise": "registry"})
    train(config, tmp_path, progress=False)
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    np.testing.assert_allclose(state["norm_std"], [c.std for c in lsmkit.CHANNELS], rtol=1e-6)
    np.testing.assert_allclose(state["norm_mean"], [c.mean for c in lsmkit.CHANNELS], rtol=1e-6)


def test_training_from_stored_windows(tmp_path):
    import lsmkit

    windows = lsmkit.load_sample().isel(window=slice(0, 20)).sel(channel=["heart_rate", "steps", "scl"])
    path = lsmkit.save(windows, tmp_path / "windows.nc")
    config = TrainConfig(**{**TINY.__dict__, "windows": str(path), "steps": 3})
    stream = WindowStream(config)
    batch, _ = stream.next((0, 0))
    assert batch.shape == (8, 300, 26)
    assert np.isnan(batch[..., lsmkit.CHANNEL_NAMES.index("rmssd")]).all()  # absent channel: all-NaN
    _, _, history = train(config, tmp_path / "run", progress=False)
    assert history[-1]["step"] == 3 and np.isfinite(history[-1]["train_loss"])
    with pytest.raises(ValueError, match="windows of 300 minutes"):
        WindowStream(TrainConfig(**{**TINY.__dict__, "windows": str(lsmkit.save(windows.isel(time=slice(0, 100)), tmp_path / "short.nc"))}))


def test_stored_windows_stream_one_block_at_a_time_and_visit_every_window_once_per_pass(tmp_path, monkeypatch):
    import lsmkit
    from lsmkit import train as train_module

    windows = lsmkit.load_sample().isel(window=slice(0, 20))
    windows["signal"][:, 0, 0] = np.arange(20, dtype=np.float32)  # tag each window by its first heart rate
    path = lsmkit.save(windows, tmp_path / "windows.nc")
    monkeypatch.setattr(train_module, "STORE_BLOCK", 8)  # blocks of 8, 8 and 4 windows
    stream = WindowStream(TrainConfig(**{**TINY.__dict__, "windows": str(path)}))
    passes = [[stream.chunk(k) for k in range(p * 3, p * 3 + 3)] for p in range(2)]
    for chunks in passes:
        assert sorted(len(c) for c in chunks) == [4, 8, 8]  # never more than one block in memory
        tags = np.concatenate([c[:, 0, 0] for c in chunks])
        assert sorted(tags.tolist()) == list(range(20))  # every window once per pass
    order = [np.concatenate([c[:, 0, 0] for c in chunks]).tolist() for chunks in passes]
    assert order[0] != order[1]  # a new order each pass
    again = WindowStream(TrainConfig(**{**TINY.__dict__, "windows": str(path)}))
    assert np.array_equal(again.chunk(4), passes[1][1], equal_nan=True)  # deterministic from the seed


def test_validation_on_stored_windows_takes_them_instead_of_simulated_participants(tmp_path):
    import lsmkit

    windows = lsmkit.load_sample().isel(window=slice(0, 12))
    path = lsmkit.save(windows, tmp_path / "val.nc")
    val = validation_set(TrainConfig(**{**TINY.__dict__, "val_data": str(path), "val_windows": 5}))
    assert val.sizes["window"] == 5
    stored = windows["signal"].values
    for w in val["signal"].values:  # each one of the stored windows
        assert any(np.array_equal(w, s, equal_nan=True) for s in stored)


def test_bound_heap_fixes_glibcs_mmap_threshold_and_is_a_no_op_elsewhere(monkeypatch):
    import ctypes

    from lsmkit.train import bound_heap

    assert bound_heap() is True  # Linux with glibc, as on every machine the suite runs on

    def no_libc(*args, **kwargs):
        raise OSError("no such library")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    assert bound_heap() is False
