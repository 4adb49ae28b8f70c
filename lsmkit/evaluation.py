"""The generative tasks of the paper, scored the same way for every method.

``evaluate(methods, windows, rng=0)`` draws each task's mask once and hands the *same* mask to
every method: anything with ``impute(windows, mask) -> filled windows`` (the pretrained model, the
classes of :mod:`lsmkit.baselines`) or a plain function of ``(windows, mask)``. A method with a
``tasks`` attribute (the forecasters) is run only on those tasks. Scores count only values that
are hidden and truly observed, on values z-scored per channel, with bootstrap intervals that resample windows. When the windows carry
the simulator's ``truth``, the ``"gaps"`` task also scores each method on the device's own
realistic gaps against the values behind them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from . import masks
from .channels import get_channel, profile_channels, profile_name
from .data import observed_channels, restrict, validate_windows
from .metrics import _aligned, _check_filled

__all__ = ["TASK_SIZES", "task_mask", "evaluate"]

#: The paper's task sizes (LSM_REFERENCE.md): ratio for random, minutes for blocks, channels for sensors.
TASK_SIZES: dict[str, tuple] = {
    "random": (0.8,),
    "interpolation": (10, 30, 60, 120),
    "extrapolation": (10, 30, 60, 120),
    "sensors": (2, 6, 12),
}


def task_mask(windows: xr.Dataset, task: str, size, rng: np.random.Generator) -> xr.DataArray:
    """Return the mask of one task and size.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch.
    task : {"random", "interpolation", "extrapolation", "sensors", "gaps"}
        The task; ``"gaps"`` hides the windows' own missing values.
    size : float, int or None
        The task's size: the ratio for ``"random"``, minutes for ``"interpolation"`` and
        ``"extrapolation"``, the number of channels for ``"sensors"``; ignored for ``"gaps"``.
    rng : numpy.random.Generator
        Generator for the random masks.

    Returns
    -------
    xarray.DataArray
        Boolean mask, True where hidden.

    Raises
    ------
    ValueError
        For an unknown task.

    See Also
    --------
    lsmkit.masks : The masks behind each task.
    """
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
    """Sums of squared and absolute z-errors and counts per window: three (W,) arrays, and the
    number of scored values the fill left NaN or infinite."""
    reference = reference.transpose("window", "time", "channel")
    scored = (_aligned(mask, reference) & reference.notnull()).values
    error = (_aligned(filled["signal"], reference) - reference).values / std  # one label order for all three
    unfilled = int((scored & ~np.isfinite(error)).sum())
    error = np.where(scored, error, 0.0)
    return (error**2).sum(axis=(1, 2)), np.abs(error).sum(axis=(1, 2)), scored.sum(axis=(1, 2)), unfilled


def _as_fill(name: str, method) -> Callable:
    if isinstance(method, type):
        raise TypeError(f"method {name!r} is the class {method.__name__}, not an instance; pass {method.__name__}()")
    if hasattr(method, "impute"):
        return method.impute
    if callable(method):
        return method
    raise TypeError(f"method {name!r} has no impute(windows, mask) and is not callable: {type(method).__name__}")


def evaluate(
    methods: Mapping[str, Callable],
    windows: xr.Dataset,
    tasks: Mapping[str, Iterable] | None = None,
    rng=None,
    *,
    n_boot: int = 200,
    level: float = 0.95,
    progress: bool = True,
    profiles: Iterable | None = None,
) -> pd.DataFrame:
    """Score every method on every task and size; returns a tidy table.

    Parameters
    ----------
    methods : mapping of str to method
        Display name -> anything with ``impute(windows, mask)`` (or a function of ``(windows, mask)``)
        returning filled windows.
    windows : xarray.Dataset
        A window batch (physical units, NaN where missing).
    tasks : mapping of str to sequence, optional
        Task -> sizes (a tuple, list or numpy array); defaults to :data:`TASK_SIZES`, plus
        ``{"gaps": (None,)}`` when the windows carry the simulator's ``truth`` (scoring each method
        on the device's own gaps).
    rng : int or numpy.random.Generator, optional
        Seed or Generator for the masks and the bootstrap.
    n_boot : int, default 200
        Bootstrap resamples of windows; ``n_boot=0`` skips the bootstrap (NaN intervals). The
        masks do not depend on ``n_boot``.
    level : float, default 0.95
        The bootstrap interval's coverage, in (0, 1).
    progress : bool, default True
        Show a progress bar over the task masks.
    profiles : list of str or list of list of str, optional
        Device profiles (names in :data:`lsmkit.DEVICE_PROFILES` or channel lists) to score each
        task on: the windows are restricted to each profile (:func:`lsmkit.restrict`) and every
        profile and method gets the same masks (sensor masks draw among the profile's own channels
        from the same seed). Sensor imputation runs only at sizes that leave at least one of the
        profile's channels visible; the sizes skipped are named in a ``UserWarning`` and in the
        table's ``attrs["skipped"]``. Adds a ``profile`` column.

    Returns
    -------
    pandas.DataFrame
        Columns (``profile``,) ``task``, ``size``, ``method``, ``mse``, ``mae`` (both on z-scored values),
        ``n`` (scored values), ``mse_low``, ``mse_high`` (bootstrap interval over windows).
        A row's scores are NaN, with a ``RuntimeWarning`` naming it, when its mask hides no
        observed value (nothing to score) or the method left a scored value NaN or infinite.
    """
    validate_windows(windows)
    if not windows.sizes["window"]:
        raise ValueError("windows hold no window to evaluate")
    if bool(np.isinf(windows["signal"]).any()):
        raise ValueError("windows hold infinite values; mark values the sensor did not produce as NaN")
    if not isinstance(methods, Mapping):
        raise TypeError(f"methods must be a mapping of display name -> method, got {type(methods).__name__}")
    if not methods:
        raise ValueError("methods is empty: pass at least one name -> method with impute(windows, mask)")
    fills = {name: _as_fill(name, method) for name, method in methods.items()}
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer (0: no intervals), got {n_boot!r}")
    rng = masks._rng(rng)  # the masks' rules and messages: TypeError for a wrong kind, ValueError for a bad seed
    if tasks is None:
        tasks = {**TASK_SIZES, **({"gaps": (None,)} if "truth" in windows else {})}
    if not isinstance(tasks, Mapping):
        raise TypeError(f"tasks must be a mapping of task -> sizes such as {{'interpolation': (30, 60)}}, "
                        f"got {type(tasks).__name__}")
    checked = {}
    for task, sizes in tasks.items():  # all checked before any method runs
        if task not in (*TASK_SIZES, "gaps"):
            raise ValueError(f"unknown task {task!r}; expected one of {', '.join([*TASK_SIZES, 'gaps'])}")
        try:  # any non-string iterable: tuple, list, range, numpy array (as plain Python numbers)
            if isinstance(sizes, (str, bytes)):
                raise TypeError
            checked[task] = tuple(sizes.tolist() if isinstance(sizes, np.ndarray) else sizes)
        except TypeError:
            raise TypeError(f"tasks[{task!r}] must be a sequence of sizes such as (30, 60), got {sizes!r}") from None
        if task == "gaps" and "truth" not in windows:
            raise ValueError("the 'gaps' task scores the device's own gaps against the simulator's 'truth' "
                             "variable, which these windows lack")
    tasks = checked
    if not sum(len(s) for s in tasks.values()):
        raise ValueError(f"tasks hold no size to score: {tasks!r}")
    std = np.array([get_channel(c).std for c in windows["channel"].values], dtype=np.float32)
    boot = rng.spawn(1)[0].integers(0, windows.sizes["window"], size=(n_boot, windows.sizes["window"]))
    views = {None: windows} if profiles is None else _profile_views(windows, profiles)
    rows, skipped = [], []
    bar = tqdm(total=sum(len(s) for s in tasks.values()) * len(views), desc="evaluate", unit="mask",
               disable=not progress)
    for task, sizes in tasks.items():
        for size in sizes:
            # one seed per task and size, shared by every profile: identical masks across profiles
            seed = rng if profiles is None else np.random.SeedSequence(int(rng.integers(2**63)))
            for profile, view in views.items():
                bar.update()
                if profile is not None and task == "sensors" and size >= len(observed_channels(view)):
                    skipped.append(f"{profile}: sensors {size}")
                    continue
                mask = task_mask(view, task, size, seed if profile is None else np.random.default_rng(seed))
                reference = view["truth"] if task == "gaps" else view["signal"]
                where = f"task {task!r} size {size!r}" + ("" if profile is None else f" on profile {profile!r}")
                if not bool((mask & reference.notnull()).any()):
                    warnings.warn(f"{where} hides no observed value: nothing to score, its scores are NaN",
                                  RuntimeWarning, stacklevel=2)
                for name, fill in fills.items():
                    if getattr(methods[name], "tasks", None) is not None and task not in methods[name].tasks:
                        continue
                    row = _score(name, fill, view, mask, reference, std, boot, level, task, size, where)
                    rows.append(row if profile is None else {"profile": profile, **row})
    bar.close()
    if skipped:
        warnings.warn(f"sensor imputation sizes that hide every channel of a profile were skipped: "
                      f"{', '.join(skipped)}", UserWarning, stacklevel=2)
    table = pd.DataFrame(rows)
    table.attrs["skipped"] = skipped
    return table


def _profile_views(windows: xr.Dataset, profiles) -> dict[str, xr.Dataset]:
    """Display name -> the windows restricted to that profile (all checked before any method runs)."""
    if isinstance(profiles, str) or not isinstance(profiles, Iterable):
        raise TypeError(f"profiles must be a list of profile names or channel lists, such as ['smartwatch', "
                        f"['heart_rate']], got {profiles!r}")
    profiles = list(profiles)
    if not profiles:
        raise ValueError("profiles is empty: pass at least one profile name (see lsmkit.DEVICE_PROFILES)")
    views = {}
    for profile in profiles:
        profile_channels(profile)  # unknown names and channels raise here, named
        name = profile_name(profile)
        if name in views:
            raise ValueError(f"profile {name!r} is listed twice")
        views[name] = restrict(windows, profile)
    return views


def _score(name, fill, windows, mask, reference, std, boot, level, task, size, where) -> dict:
    """One method's row: MSE and MAE over the scored values and the bootstrap interval of the MSE."""
    filled = fill(windows, mask)
    _check_filled(filled, windows, f"the result of method {name!r}")
    squared, absolute, count, unfilled = _per_window(filled, reference, mask, std)
    n = int(count.sum())
    row = {"task": task, "size": size, "method": name, "mse": np.nan, "mae": np.nan, "n": n,
           "mse_low": np.nan, "mse_high": np.nan}
    if unfilled:
        warnings.warn(f"method {name!r} left {unfilled} scored values NaN or infinite on {where}; its scores "
                      f"there are NaN", RuntimeWarning, stacklevel=3)
    elif n:
        row.update(mse=squared.sum() / n, mae=absolute.sum() / n)
        if len(boot):
            with np.errstate(invalid="ignore", divide="ignore"):
                resampled = squared[boot].sum(axis=1) / count[boot].sum(axis=1)  # NaN: no scored value drawn
            row["mse_low"], row["mse_high"] = np.nanquantile(resampled, [(1 - level) / 2, (1 + level) / 2])
    return row
