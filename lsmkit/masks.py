"""Task masks: pure functions returning boolean arrays where True means *hidden from the model*.

Every function takes a window batch (an ``xarray.Dataset`` with ``signal``, its ``signal``
DataArray, or just a ``(window, time, channel)`` shape) and returns a boolean
``xarray.DataArray`` with the batch's dims and coordinates. Randomness comes only from the ``rng``
argument (a ``numpy.random.Generator``, a seed, or None for a fresh one).

The four generative tasks of LSM_REFERENCE.md map onto them:

==========================  =============================================================
random imputation           ``random(windows, ratio=0.8)`` (a share of patches)
temporal interpolation      ``interpolation(windows, minutes)`` (one block, random place)
temporal extrapolation      ``extrapolation(windows, minutes)`` (the last minutes)
sensor imputation           ``sensors(windows, n=k)`` or ``sensors(windows, channels=[...])``
==========================  =============================================================

``union`` combines masks. Real missingness is never scored: :func:`scored` keeps only the hidden
entries that were truly observed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from .channels import resolve_channel

__all__ = ["random", "interpolation", "extrapolation", "sensors", "union", "scored", "patch_grid"]

DIMS = ("window", "time", "channel")
PATCH = (10, 5)  # minutes x channels, the paper's patch


def _template(windows) -> xr.DataArray:
    """An all-False mask shaped and labelled like ``windows``."""
    if isinstance(windows, xr.Dataset):
        if "signal" not in windows:
            raise ValueError("windows must have a 'signal' variable")
        windows = windows["signal"]
    if isinstance(windows, xr.DataArray):
        if windows.dims != DIMS:
            raise ValueError(f"windows must have dims {DIMS}, got {windows.dims}")
        return xr.zeros_like(windows, dtype=bool)
    shape = tuple(int(s) for s in windows)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"a mask shape must be (window, time, channel) with positive sizes, got {windows!r}")
    return xr.DataArray(np.zeros(shape, dtype=bool), dims=DIMS)


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _minutes(template: xr.DataArray, minutes) -> int:
    n_time = template.sizes["time"]
    if int(minutes) != minutes or not 1 <= minutes <= n_time:
        raise ValueError(f"minutes must be an integer between 1 and the window length {n_time}, got {minutes!r}")
    return int(minutes)


def patch_grid(n_time: int, n_channel: int, patch: tuple[int, int] = PATCH) -> tuple[int, int]:
    """Number of patches along time and channel (partial patches at the edges count)."""
    return -(-n_time // patch[0]), -(-n_channel // patch[1])


def random(windows, ratio: float = 0.8, rng=None, *, patch: tuple[int, int] = PATCH) -> xr.DataArray:
    """Hide ``ratio`` of the ``patch``-shaped (minutes x channels) patches of each window.

    The count per window is ``round(ratio * n_patches)``, exactly; which ones is random.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio!r}")
    mask = _template(windows)
    n_window, n_time, n_channel = mask.shape
    pt, pc = patch_grid(n_time, n_channel, patch)
    n_hidden = int(round(ratio * pt * pc))
    order = _rng(rng).random((n_window, pt * pc)).argsort(axis=1)
    hidden = np.zeros((n_window, pt * pc), dtype=bool)
    np.put_along_axis(hidden, order[:, :n_hidden], True, axis=1)
    # (W, pt * pc) -> (W, pt, pc) -> (W, T, C): repeat each patch over its minutes and channels
    grid = hidden.reshape(n_window, pt, pc).repeat(patch[0], axis=1).repeat(patch[1], axis=2)
    return mask.copy(data=grid[:, :n_time, :n_channel])


def interpolation(windows, minutes: int, rng=None) -> xr.DataArray:
    """Hide one contiguous block of ``minutes`` in every channel, at a random place per window."""
    mask = _template(windows)
    minutes = _minutes(mask, minutes)
    n_window, n_time, _ = mask.shape
    first = _rng(rng).integers(0, n_time - minutes + 1, size=n_window)
    t = np.arange(n_time)
    block = (t >= first[:, None]) & (t < first[:, None] + minutes)  # (W, T)
    return mask.copy(data=np.broadcast_to(block[:, :, None], mask.shape).copy())


def extrapolation(windows, minutes: int) -> xr.DataArray:
    """Hide the last ``minutes`` of every window in every channel (forecasting)."""
    mask = _template(windows)
    minutes = _minutes(mask, minutes)
    data = np.zeros(mask.shape, dtype=bool)
    data[:, -minutes:, :] = True
    return mask.copy(data=data)


def sensors(windows, channels: Sequence[str] | None = None, n: int | None = None, rng=None) -> xr.DataArray:
    """Hide whole channels for the whole window: the named ``channels``, or ``n`` random ones.

    With ``n``, each window draws its own channels, preferring channels it actually observes
    (hiding a channel that is all-NaN would score nothing); needs ``windows`` with values.
    """
    if (channels is None) == (n is None):
        raise ValueError("pass exactly one of channels (names) or n (a number of random channels)")
    mask = _template(windows)
    data = np.zeros(mask.shape, dtype=bool)
    if channels is not None:
        if "channel" not in mask.coords:
            raise ValueError("naming channels needs windows with a 'channel' coordinate")
        names = [resolve_channel(c) for c in ([channels] if isinstance(channels, str) else channels)]
        present = list(mask["channel"].values)
        missing = [c for c in names if c not in present]
        if missing:
            raise ValueError(f"channels {missing} are not in these windows; they have {present}")
        data[:, :, [present.index(c) for c in names]] = True
        return mask.copy(data=data)

    n_channel = mask.sizes["channel"]
    if int(n) != n or not 1 <= n <= n_channel:
        raise ValueError(f"n must be an integer between 1 and {n_channel}, got {n!r}")
    observed = _observed_channels(windows, mask.shape)  # (W, C)
    # Observed channels sort first (random order among them), then the rest.
    keys = _rng(rng).random(observed.shape) - observed
    chosen = keys.argsort(axis=1)[:, : int(n)]
    hidden = np.zeros(observed.shape, dtype=bool)
    np.put_along_axis(hidden, chosen, True, axis=1)
    data[:] = hidden[:, None, :]
    return mask.copy(data=data)


def _observed_channels(windows, shape) -> np.ndarray:
    if isinstance(windows, xr.Dataset):
        windows = windows["signal"]
    if isinstance(windows, xr.DataArray):
        return windows.notnull().any("time").values
    return np.ones((shape[0], shape[2]), dtype=bool)


def union(*masks: xr.DataArray) -> xr.DataArray:
    """Entries hidden by any of ``masks`` (which must share dims and shape)."""
    if not masks:
        raise ValueError("union needs at least one mask")
    out = masks[0]
    for m in masks[1:]:
        if m.shape != out.shape:
            raise ValueError(f"masks differ in shape: {out.shape} vs {m.shape}")
        out = out | m
    return out


def scored(mask: xr.DataArray, windows) -> xr.DataArray:
    """Entries that count in a metric: hidden by ``mask`` and truly observed in ``windows``."""
    signal = windows["signal"] if isinstance(windows, xr.Dataset) else windows
    return mask & signal.notnull()
