"""The generative tasks of the paper, scored the same way for every method.

``evaluate(methods, windows, rng=0)`` draws each task's mask once and hands the *same* mask to
every method (``method(windows, mask) -> filled windows``: ``model.impute`` or any function of
:mod:`lsmkit.baselines`). Scores count only values that are hidden and truly observed, on values
z-scored per channel, with bootstrap intervals that resample windows. When the windows carry
the simulator's ``truth``, the ``"gaps"`` task also scores each method on the device's own
realistic gaps against the values behind them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from . import masks
from .channels import get_channel
from .data import validate_windows

__all__ = ["TASK_SIZES", "task_mask", "evaluate"]

#: The paper's task sizes (LSM_REFERENCE.md): ratio for random, minutes for blocks, channels for sensors.
TASK_SIZES: dict[str, tuple] = {
    "random": (0.8,),
    "interpolation": (10, 30, 60, 120),
    "extrapolation": (10, 30, 60, 120),
    "sensors": (2, 6, 12),
}


def task_mask(windows: xr.Dataset, task: str, size, rng: np.random.Generator) -> xr.DataArray:
    """The mask of one task and size (``"gaps"`` hides the windows' own missing values)."""
    if task == "random":
        return masks.random(windows, ratio=size, rng=rng)
    if task == "interpolation":
        return masks.interpolation(windows, size, rng=rng)
    if task == "extrapolation":
        return masks.extrapolation(windows, size)
    if task == "sensors":
        return masks.sensors(windows, n=size, rng=rng)
    if task == "gaps":
        return windows["signal"].isnull()
    raise ValueError(f"unknown task {task!r}; expected one of {', '.join([*TASK_SIZES, 'gaps'])}")


def _per_window(filled: xr.Dataset, reference: xr.DataArray, mask: xr.DataArray, std: np.ndarray):
    """Sums of squared and absolute z-errors and counts per window: three (W,) arrays."""
    scored = (mask & reference.notnull()).transpose("window", "time", "channel").values
    error = (filled["signal"] - reference).transpose("window", "time", "channel").values / std
    error = np.where(scored, error, 0.0)
    return (error**2).sum(axis=(1, 2)), np.abs(error).sum(axis=(1, 2)), scored.sum(axis=(1, 2))


def evaluate(
    methods: Mapping[str, Callable],
    windows: xr.Dataset,
    tasks: Mapping[str, Sequence] | None = None,
    rng=None,
    *,
    n_boot: int = 200,
    level: float = 0.95,
) -> pd.DataFrame:
    """Score every method on every task and size; returns a tidy table.

    Parameters
    ----------
    methods
        Name -> ``callable(windows, mask)`` returning filled windows.
    windows
        A window batch; with a ``truth`` variable the ``"gaps"`` task is added.
    tasks
        Task -> sizes; defaults to :data:`TASK_SIZES`.
    rng
        Seed or Generator for the masks and the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Columns ``task``, ``size``, ``method``, ``mse``, ``mae`` (both on z-scored values),
        ``n`` (scored values), ``mse_lower``, ``mse_upper`` (bootstrap interval over windows).
    """
    validate_windows(windows)
    if not methods:
        raise ValueError("methods is empty: pass at least one name -> callable(windows, mask)")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    tasks = dict(TASK_SIZES if tasks is None else tasks)
    if "truth" in windows and "gaps" not in tasks:
        tasks["gaps"] = (None,)
    std = np.array([get_channel(c).std for c in windows["channel"].values], dtype=np.float32)
    boot = rng.integers(0, windows.sizes["window"], size=(n_boot, windows.sizes["window"]))
    rows = []
    for task, sizes in tasks.items():
        for size in sizes:
            mask = task_mask(windows, task, size, rng)
            reference = windows["truth"] if task == "gaps" else windows["signal"]
            for name, method in methods.items():
                squared, absolute, count = _per_window(method(windows, mask), reference, mask, std)
                n = int(count.sum())
                with np.errstate(invalid="ignore", divide="ignore"):
                    resampled = squared[boot].sum(axis=1) / count[boot].sum(axis=1)
                    lower, upper = np.nanquantile(resampled, [(1 - level) / 2, (1 + level) / 2]) if n else (np.nan,) * 2
                rows.append({"task": task, "size": size, "method": name,
                             "mse": squared.sum() / n if n else np.nan, "mae": absolute.sum() / n if n else np.nan,
                             "n": n, "mse_lower": lower, "mse_upper": upper})
    return pd.DataFrame(rows)
