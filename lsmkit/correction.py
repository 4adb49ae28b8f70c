"""Shrinking a residual model's correction on windows that carry a single channel.

A residual model (``ModelConfig(residual=True)``) predicts the correction to linear interpolation of
the visible values. With several channels visible, the correction carries what the other channels
say; with one channel alone it can only come from that channel's own shape, and on smooth signals
(skin temperature) it adds more noise than it removes. So for windows whose visible values all lie
in one channel ``c``, the fill becomes::

    base + scale[c] * (model - base),        base = linear interpolation of the visible values,

with ``scale[c]`` in [0, 1] the least-squares shrinkage fitted on held-out validation windows
restricted to ``c`` alone, over the paper's imputation and forecasting tasks (each task and size
weighted equally). ``scale = 1`` is the model; ``scale = 0`` is linear interpolation (and the last
value carried forward, at a window's end). Windows with two or more visible channels are untouched.

The scales live in the weights' card (``"correction_scale"``); :class:`lsmkit.pretrained.PretrainedLSM`
applies them. Values are in the model's z-units throughout (linear interpolation commutes with the
normalisation, so the correction is the same in physical units up to the channel's scale).
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from .channels import CHANNEL_NAMES
from .data import restrict
from .evaluation import TASK_SIZES, task_mask
from .model import linear_fill

__all__ = ["shrink_single_channel", "fit_correction_scale"]

FIT_TASKS = ("random", "interpolation", "extrapolation")  # sensor imputation hides the only channel


def shrink_single_channel(x: torch.Tensor, visible: torch.Tensor, reconstruction: torch.Tensor,
                          scale: torch.Tensor) -> torch.Tensor:
    """Shrink the correction to linear interpolation on windows with one visible channel.

    Parameters
    ----------
    x : torch.Tensor
        Z-scored windows (B, T, C), anything where ``visible`` is False.
    visible : torch.Tensor
        Boolean (B, T, C): the values the model saw.
    reconstruction : torch.Tensor
        The model's reconstruction (B, T, C), in the z-units of ``x``.
    scale : torch.Tensor
        (C,) shrinkage per channel, in [0, 1].

    Returns
    -------
    torch.Tensor
        ``reconstruction`` where a window shows two or more channels (or none); in a window whose
        visible values all lie in one channel ``c``, that channel becomes
        ``base + scale[c] * (reconstruction - base)``; its other channels are left as they were.
    """
    seen = visible.any(dim=1)  # (B, C)
    single = seen.sum(dim=1) == 1  # (B,)
    if not bool(single.any()):
        return reconstruction
    base = linear_fill(x, visible)
    shrunk = base + scale.to(reconstruction.dtype)[None, None, :] * (reconstruction - base)  # (B, T, C)
    return torch.where((seen & single[:, None])[:, None, :], shrunk, reconstruction)


def fit_correction_scale(model, windows: xr.Dataset, *, rng=0, channels=None) -> dict[str, float]:
    """Fit the shrinkage of each channel alone on held-out windows.

    Parameters
    ----------
    model : lsmkit.pretrained.PretrainedLSM
        A residual model (its card's ``model_config`` has ``residual``); any scale it already
        carries is ignored while fitting.
    windows : xarray.Dataset
        Held-out windows with values in the channels to fit (for the shipped weights: the validation
        windows of their training run, :func:`lsmkit.train.validation_set`).
    rng : int or numpy.random.Generator, default 0
        Seed of the task masks.
    channels : sequence of str, optional
        Channels to fit; default every channel the windows observe. The others keep scale 1.

    Returns
    -------
    dict of str to float
        Channel name to its scale in [0, 1], for every channel of :data:`lsmkit.CHANNELS`.

    Raises
    ------
    ValueError
        If the model is not a residual model.
    """
    if not model.card.get("model_config", {}).get("residual", False):
        raise ValueError("only a residual model's correction can be shrunk (its card's model_config.residual)")
    seeds = _channel_seeds(rng)
    observed = windows["signal"].notnull().any(("window", "time"))
    names = [c for c in (channels or CHANNEL_NAMES) if c in observed["channel"].values and bool(observed.sel(channel=c))]
    scales = dict.fromkeys(CHANNEL_NAMES, 1.0)
    for name in names:
        alone = restrict(windows, [name])
        carried = alone["signal"].sel(channel=name).notnull().any("time").values
        alone = alone.isel(window=np.flatnonzero(carried))
        numerator = denominator = 0.0
        channel_rng = np.random.default_rng(seeds[name])  # each channel its own masks, whatever else is fitted
        for task in FIT_TASKS:
            for size in TASK_SIZES[task]:
                mask = task_mask(alone, task, size, channel_rng)
                correction, error = _correction_and_error(model, alone, mask, name)
                if len(correction):  # each task and size weighs the same, whatever its count
                    numerator += float(np.mean(correction * error))
                    denominator += float(np.mean(correction**2))
        if denominator > 0:
            scales[name] = float(np.clip(numerator / denominator, 0.0, 1.0))
    return scales


def _channel_seeds(rng) -> dict[str, int]:
    """One seed per channel of :data:`lsmkit.CHANNELS`, drawn from ``rng``."""
    drawn = np.random.default_rng(rng).integers(2**32, size=len(CHANNEL_NAMES))
    return dict(zip(CHANNEL_NAMES, (int(d) for d in drawn)))


def _correction_and_error(model, windows: xr.Dataset, mask: xr.DataArray, name: str):
    """On the hidden, observed values of ``name``: the model's correction and the base's error (z-units)."""
    signal = model._signal(windows)  # (W, T, C) in the card's channel order
    hidden = model._mask(mask, windows)
    c = CHANNEL_NAMES.index(name)
    x = torch.from_numpy((signal - model.mean) / model.std)
    h = torch.from_numpy(hidden)
    visible = ~torch.isnan(x) & ~h
    with torch.no_grad():
        _, reconstruction = model.model(x, h)
    base = linear_fill(x, visible)
    scored = (~torch.isnan(x) & h)[..., c]
    truth = torch.nan_to_num(x)[..., c]
    correction = (reconstruction.float() - base)[..., c][scored].numpy()
    error = (truth - base[..., c])[scored].numpy()
    return correction, error
