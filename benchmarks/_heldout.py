"""The shipped model's held-out windows, shared by the benchmarks that score it against baselines."""

import numpy as np

import lsmkit
from lsmkit.simulator import simulate
from lsmkit.train import TrainConfig, validation_set


def held_out(name=None, eval_windows=None):
    """``(model, config, windows, cohort)``: the pretrained model, its training config (from the card),
    its validation windows (the first ``eval_windows`` if given) and those participants' recordings
    (the history a seasonal-naive forecaster looks back into)."""
    model = lsmkit.load_pretrained(name)
    config = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in model.card["training"]["config"].items()})
    windows = validation_set(config)
    if eval_windows:
        windows = windows.isel(window=slice(0, eval_windows))
    cohort = simulate(config.val_participants, config.days_per_chunk, seed=np.random.SeedSequence([config.seed, 9]))
    return model, config, windows, cohort
