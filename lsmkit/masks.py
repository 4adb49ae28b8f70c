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

from collections.abc import Iterable, Mapping, Sequence

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
    if isinstance(windows, np.ndarray) and windows.ndim != 1:
        raise TypeError(f"windows is a numpy array of shape {windows.shape}; pass the window batch (an xarray.Dataset, "
                        f"see lsmkit.make_windows), its 'signal' DataArray, or a (window, time, channel) shape")
    if isinstance(windows, (str, bytes, Mapping)) or not isinstance(windows, Iterable):
        raise TypeError(f"windows must be a window batch (xarray.Dataset), its 'signal' DataArray or a "
                        f"(window, time, channel) shape, got {type(windows).__name__}")
    shape = tuple(windows)
    if len(shape) != 3 or not all(_is_int(s) and s >= 1 for s in shape):
        raise ValueError(f"a mask shape must be (window, time, channel) with positive integer sizes, got {windows!r}")
    return xr.DataArray(np.zeros(tuple(int(s) for s in shape), dtype=bool), dims=DIMS)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_, float, np.floating, str)):  # numpy's own message would not say "rng"
        raise TypeError(f"rng must be a numpy.random.Generator, an integer seed or None, got {rng!r}")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as err:
        raise type(err)(f"rng must be a numpy.random.Generator, a non-negative integer seed or None, got {rng!r} "
                        f"({err})") from None


def _count(name: str, value, upper: int, what: str) -> int:
    """A whole number in [1, upper]; ``what`` says what the upper bound is."""
    message = f"{name} must be an integer between 1 and {what}{upper}, got {value!r}"
    if not _is_real(value):
        raise TypeError(message)
    if not np.isfinite(value) or int(value) != value or not 1 <= value <= upper:
        raise ValueError(message)
    return int(value)


def _minutes(template: xr.DataArray, minutes) -> int:
    return _count("minutes", minutes, template.sizes["time"], "the window length ")


def _patch(patch) -> tuple[int, int]:
    message = f"patch must be (minutes, channels), two positive integers, got {patch!r}"
    if isinstance(patch, (str, bytes)) or not isinstance(patch, Iterable):
        raise TypeError(message)
    patch = tuple(patch)
    if len(patch) != 2 or not all(_is_int(p) and p >= 1 for p in patch):
        raise ValueError(message)
    return int(patch[0]), int(patch[1])


def patch_grid(n_time: int, n_channel: int, patch: tuple[int, int] = PATCH) -> tuple[int, int]:
    """Return the number of patches along time and channel (partial patches at the edges count).

    Parameters
    ----------
    n_time : int
        Minutes per window.
    n_channel : int
        Channels per window.
    patch : tuple of int, default (10, 5)
        Patch shape, ``(minutes, channels)``.

    Returns
    -------
    tuple of int
        ``(patches along time, patches along channel)``.

    Raises
    ------
    TypeError, ValueError
        If ``patch`` is not two positive integers.

    Examples
    --------
    >>> patch_grid(300, 26)
    (30, 6)
    """
    patch = _patch(patch)
    return -(-n_time // patch[0]), -(-n_channel // patch[1])


def random(windows, ratio: float = 0.8, rng=None, *, patch: tuple[int, int] = PATCH) -> xr.DataArray:
    """Hide ``ratio`` of the ``patch``-shaped (minutes x channels) patches of each window.

    The count per window is ``round(ratio * n_patches)``, exactly; which ones is random.

    Parameters
    ----------
    windows : xarray.Dataset, xarray.DataArray or tuple of int
        A window batch, its ``signal`` DataArray, or a ``(window, time, channel)`` shape.
    ratio : float, default 0.8
        Share of patches to hide, in [0, 1].
    rng : numpy.random.Generator, int or None, optional
        Generator or seed; ``None`` for a fresh generator.
    patch : tuple of int, default (10, 5)
        Patch shape, ``(minutes, channels)`` (the paper's patch by default).

    Returns
    -------
    xarray.DataArray
        Boolean, True where hidden, with the batch's dims and coordinates.

    Raises
    ------
    TypeError, ValueError
        If ``ratio`` is not a number in [0, 1], ``patch`` is not two positive integers, or
        ``windows`` is not a window batch or shape.

    Examples
    --------
    >>> mask = lsmkit.masks.random(windows, ratio=0.8, rng=0)
    >>> counted = lsmkit.masks.scored(mask, windows)
    """
    if not _is_real(ratio):
        raise TypeError(f"ratio must be a number in [0, 1], got {ratio!r}")
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio!r}")
    patch = _patch(patch)
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
    """Hide one contiguous block of ``minutes`` in every channel, at a random place per window.

    Parameters
    ----------
    windows : xarray.Dataset, xarray.DataArray or tuple of int
        A window batch, its ``signal`` DataArray, or a ``(window, time, channel)`` shape.
    minutes : int
        Length of the block, from 1 to the window length.
    rng : numpy.random.Generator, int or None, optional
        Generator or seed; ``None`` for a fresh generator.

    Returns
    -------
    xarray.DataArray
        Boolean, True where hidden, with the batch's dims and coordinates.

    Raises
    ------
    TypeError, ValueError
        If ``minutes`` is not an integer between 1 and the window length.
    """
    mask = _template(windows)
    minutes = _minutes(mask, minutes)
    n_window, n_time, _ = mask.shape
    first = _rng(rng).integers(0, n_time - minutes + 1, size=n_window)
    t = np.arange(n_time)
    block = (t >= first[:, None]) & (t < first[:, None] + minutes)  # (W, T)
    return mask.copy(data=np.broadcast_to(block[:, :, None], mask.shape).copy())


def extrapolation(windows, minutes: int) -> xr.DataArray:
    """Hide the last ``minutes`` of every window in every channel (forecasting).

    Parameters
    ----------
    windows : xarray.Dataset, xarray.DataArray or tuple of int
        A window batch, its ``signal`` DataArray, or a ``(window, time, channel)`` shape.
    minutes : int
        Minutes to hide at the end, from 1 to the window length.

    Returns
    -------
    xarray.DataArray
        Boolean, True where hidden, with the batch's dims and coordinates.

    Raises
    ------
    TypeError, ValueError
        If ``minutes`` is not an integer between 1 and the window length.
    """
    mask = _template(windows)
    minutes = _minutes(mask, minutes)
    data = np.zeros(mask.shape, dtype=bool)
    data[:, -minutes:, :] = True
    return mask.copy(data=data)


def sensors(windows, channels: Sequence[str] | None = None, n: int | None = None, rng=None) -> xr.DataArray:
    """Hide whole channels for the whole window: the named ``channels``, or ``n`` random ones.

    With ``n``, each window draws its own channels, preferring channels it actually observes
    (hiding a channel that is all-NaN would score nothing); needs ``windows`` with values.

    Parameters
    ----------
    windows : xarray.Dataset, xarray.DataArray or tuple of int
        A window batch, its ``signal`` DataArray, or a ``(window, time, channel)`` shape.
    channels : str or sequence of str, optional
        Channel names (aliases resolved) to hide in every window; needs a ``channel``
        coordinate.
    n : int, optional
        Number of random channels to hide per window, from 1 to the number of channels.
    rng : numpy.random.Generator, int or None, optional
        Generator or seed; ``None`` for a fresh generator.

    Returns
    -------
    xarray.DataArray
        Boolean, True where hidden, with the batch's dims and coordinates.

    Raises
    ------
    ValueError
        Unless exactly one of ``channels`` and ``n`` is given; for channels not in the windows
        or an empty list; for ``n`` out of range.
    TypeError
        If ``channels`` is neither a name nor a list of names, or ``n`` is not a number.

    Examples
    --------
    >>> mask = lsmkit.masks.sensors(windows, channels=["heart_rate", "steps"])
    >>> mask = lsmkit.masks.sensors(windows, n=3, rng=0)
    """
    if (channels is None) == (n is None):
        raise ValueError("pass exactly one of channels (names) or n (a number of random channels)")
    mask = _template(windows)
    data = np.zeros(mask.shape, dtype=bool)
    if channels is not None:
        if "channel" not in mask.coords:
            raise ValueError("naming channels needs windows with a 'channel' coordinate")
        if not isinstance(channels, (str, Iterable)):
            raise TypeError(f"channels must be a channel name or a list of names, got {type(channels).__name__}")
        names = [resolve_channel(c) for c in ([channels] if isinstance(channels, str) else channels)]
        if not names:
            raise ValueError("channels names no channel; pass at least one name (or n= for random channels)")
        present = list(mask["channel"].values)
        missing = [c for c in names if c not in present]
        if missing:
            raise ValueError(f"channels {missing} are not in these windows; they have {present}")
        data[:, :, [present.index(c) for c in names]] = True
        return mask.copy(data=data)

    n = _count("n", n, mask.sizes["channel"], "")
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


def _check_mask(mask, name: str) -> xr.DataArray:
    """``mask`` with dims in :data:`DIMS` order (names are unambiguous, so any order is fine)."""
    if not isinstance(mask, xr.DataArray):
        hint = " (pass masks as separate arguments: union(*masks))" if isinstance(mask, (list, tuple)) else ""
        raise TypeError(f"{name} must be a boolean xarray.DataArray, got {type(mask).__name__}{hint}")
    if mask.dtype != bool:
        raise TypeError(f"{name} must be boolean (True = hidden), got dtype {mask.dtype}")
    if len(mask.dims) != len(DIMS) or set(mask.dims) != set(DIMS):
        raise ValueError(f"{name} must have dims {DIMS} (in any order), got {mask.dims}")
    return mask.transpose(*DIMS)


def _check_same_cells(a: xr.DataArray, b: xr.DataArray, what: str) -> None:
    """Same shape and, where both are labelled, the same labels: xarray would otherwise align by label
    and silently drop the cells that only one of them has."""
    if a.shape != b.shape:
        raise ValueError(f"{what} differ in shape: {a.shape} vs {b.shape} {DIMS}")
    for dim in DIMS:
        if dim in a.indexes and dim in b.indexes and set(a.indexes[dim]) != set(b.indexes[dim]):
            only = sorted(map(str, set(a.indexes[dim]) ^ set(b.indexes[dim])))[:5]
            raise ValueError(f"{what} differ in their {dim!r} labels (e.g. {', '.join(only)} in only one)")


def union(*masks: xr.DataArray) -> xr.DataArray:
    """Return the entries hidden by any of ``masks``.

    Parameters
    ----------
    *masks : xarray.DataArray
        Boolean masks with dims ``(window, time, channel)`` in any order, sharing shape and
        labels.

    Returns
    -------
    xarray.DataArray
        Boolean, True where any mask is True, with dims ``(window, time, channel)``.

    Raises
    ------
    ValueError
        If no mask is given, or the masks differ in dims, shape or labels.
    TypeError
        If a mask is not a boolean DataArray (for instance a list of masks: pass them as
        separate arguments, ``union(*masks)``).
    """
    if not masks:
        raise ValueError("union needs at least one mask")
    out = _check_mask(masks[0], "mask 0")
    for i, m in enumerate(masks[1:], start=1):
        m = _check_mask(m, f"mask {i}")
        _check_same_cells(out, m, "masks")
        out = out | m
    return out


def scored(mask: xr.DataArray, windows) -> xr.DataArray:
    """Return the entries that count in a metric: hidden by ``mask`` and truly observed in ``windows``.

    Parameters
    ----------
    mask : xarray.DataArray
        Boolean task mask, True where hidden.
    windows : xarray.Dataset or xarray.DataArray
        The window batch (with ``signal``) or its ``signal`` DataArray.

    Returns
    -------
    xarray.DataArray
        Boolean, with dims ``(window, time, channel)``.

    Raises
    ------
    TypeError, ValueError
        If ``mask`` or ``windows`` is of the wrong kind, or they differ in shape or labels.
    """
    mask = _check_mask(mask, "mask")
    signal = windows["signal"] if isinstance(windows, xr.Dataset) and "signal" in windows else windows
    if not isinstance(signal, xr.DataArray):
        raise TypeError(f"windows must be a window batch (xarray.Dataset with 'signal') or its 'signal' DataArray "
                        f"with dims {DIMS}, got {type(windows).__name__}")
    if len(signal.dims) != len(DIMS) or set(signal.dims) != set(DIMS):
        raise ValueError(f"windows must be a window batch (xarray.Dataset with 'signal') or its 'signal' DataArray "
                         f"with dims {DIMS}, got dims {signal.dims}")
    signal = signal.transpose(*DIMS)
    _check_same_cells(mask, signal, "mask and windows")
    return mask & signal.notnull()
