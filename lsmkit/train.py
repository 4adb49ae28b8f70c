"""Pretraining: the paper's recipe, streamed data, masks from a task mix, resumable checkpoints.

``train(TrainConfig(...), out_dir)`` runs in one process, or in several under ``torchrun``
(DistributedDataParallel, gloo on CPU, nccl on GPU): rank ``r`` of ``world`` trains on rows
``r::world`` of each global batch and weights its loss by its share of the scored values, so a step
computes the same gradient however many processes share the work (up to float rounding). From a
window store each rank loads only its own rows of each block, so it holds ``1/world`` of the block
in memory; the ranks then gather each global batch (:func:`gather_batch`), because calibration
shifts, augmentations, channel removal and the task mask are drawn over the whole batch with one
generator.

Everything random is a function of ``(seed, step)`` or ``(seed, chunk)``: masks and augmentations
of step ``s`` come from ``default_rng([seed, s])``, the k-th data chunk from its own seed. A run
killed and resumed from its last checkpoint therefore continues exactly where it was.

Checkpoints (``checkpoint.pt`` in ``out_dir``) are written to a temporary file and renamed, so a
crash never leaves a half-written one; they hold only tensors and plain Python values and load
with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import xarray as xr
from tqdm.auto import tqdm

from . import evaluation, masks
from .channels import CHANNEL_NAMES, CHANNELS, PROFILES, SENSOR_GROUPS, profile_channels
from .data import calibration_shifts, to_windows
from .model import LSM, ModelConfig, get_config
from .simulator import simulate

__all__ = ["bound_heap", "TrainConfig", "Normaliser", "WindowStream", "gather_batch", "validation_set", "sample_task_masks",
           "augment", "drop_channels", "training_batch", "initial_weights", "train", "load_checkpoint", "TASKS",
           "DROP_MIX"]

#: The four generative tasks at the sizes used for validation during training.
TASKS = {
    "random": ("random", 0.8),
    "interpolation": ("interpolation", 60),
    "extrapolation": ("extrapolation", 60),
    "sensors": ("sensors", 6),
}


#: How a window that loses channels (``TrainConfig.channel_dropout``) chooses what it keeps:
#: the channels of a random device profile other than "full", a random non-empty subset of the
#: sensor groups, or each channel kept with its own random probability (at least one kept).
DROP_MIX = {"profile": 0.4, "groups": 0.3, "channels": 0.3}


@dataclass(frozen=True)
class TrainConfig:
    """A pretraining run. The defaults follow LSM_REFERENCE.md, scaled to a CPU.

    The paper trains with batch 4096 at peak learning rate 5e-3; at the small batches a CPU
    affords, a peak of 1e-3 is stable. The options ``channel_dropout``, ``calibration``,
    ``instance_norm`` and ``residual`` serve incomplete sensor sets and other devices (issue 18).

    Parameters
    ----------
    preset : str, default "2M"
        Model size, a key of :data:`lsmkit.model.PRESETS`.
    patch : tuple of (int, int), optional
        Replaces the preset's (minutes, channels) patch, (10, 5), e.g. ``(2, 26)``: one token per two
        minutes of every channel (``benchmarks/patch_layout.py`` compares shapes).
    steps : int, default 2000
        Optimiser steps.
    batch_size : int, default 64
        Windows per global batch.
    lr : float, default 1e-3
        Peak learning rate.
    warmup : float, default 0.05
        Share of ``steps`` with linear warm-up, before the cosine decay.
    min_lr_ratio : float, default 0.01
        Where the cosine decay ends, as a fraction of the peak.
    weight_decay : float, default 1e-4
        AdamW weight decay (not applied to biases, norms and tokens).
    betas : tuple of (float, float), default (0.9, 0.95)
        AdamW betas.
    clip : float, default 1.0
        Gradient-norm clipping threshold.
    mask_mix : dict, default {"random": 0.4, "interpolation": 0.2, "extrapolation": 0.2, "sensors": 0.2}
        Weight of each task of :data:`TASKS`; each training batch draws one
        (:func:`sample_task_masks`).
    random_ratio : float, default 0.8
        Share of values the random task hides.
    block_minutes : tuple of int, default (10, 30, 60, 120)
        Block sizes the interpolation and extrapolation tasks are drawn from.
    sensor_counts : tuple of int, default (2, 6, 12)
        Numbers of channels the sensor task hides, drawn from.
    augment : float, default 0.5
        Probability of each augmentation: stretch, flip, noise (see :func:`augment`).
    minutes : int, default 300
        Window length; a multiple of the patch length.
    stride : int, default 60
        Minutes between the starts of the windows cut from simulated recordings.
    max_missing : float, default 0.5
        Keep windows whose missing fraction is at most this (see :func:`lsmkit.data.to_windows`).
    participants_per_chunk : int, default 16
        Simulated participants per data chunk.
    days_per_chunk : int, default 7
        Simulated days per participant, in each chunk and in the validation set.
    windows : str, optional
        Stored windows (netCDF/zarr) to train on instead of the simulator.
    val_data : str, optional
        Stored windows to validate on instead of simulated participants.
    val_participants : int, default 8
        Simulated validation participants.
    val_windows : int, default 256
        At most this many validation windows.
    val_every : int, default 200
        Steps between validations.
    checkpoint_every : int, default 200
        Steps between checkpoints.
    normalise : {"data", "registry"}, default "data"
        ``"data"`` z-scores with statistics of the first training chunk (what a model meant for your
        data wants); ``"registry"`` with the defaults of :data:`lsmkit.CHANNELS`, so that runs on
        training sets of different sizes train and are validated in one z-space (scaling sweeps).
    seed : int, default 0
        Seed of everything random (data, masks, augmentations, initialisation).
    channel_dropout : float, default 0.0
        Share of training windows that lose whole channels as inherited missingness before the task
        mask is drawn (absent, never scored; what they keep follows :data:`DROP_MIX`).
    calibration : float, default 0.0
        Share of training windows whose heart rate, skin temperature and EDA are shifted as devices
        differ (:func:`lsmkit.data.calibration_shifts`).
    instance_norm : bool, default False
        Model option of :class:`lsmkit.model.ModelConfig`.
    residual : bool, default False
        Model option of :class:`lsmkit.model.ModelConfig`.
    bf16 : bool, default False
        Run forward and backward under bfloat16 autocast (weights, optimiser and loss reduction stay
        float32).
    val_profiles : tuple of str, default ()
        Also validate on these device profiles (history columns ``val_<profile>_<task>``).
    init : str, optional
        Continue from pretrained weights (:func:`initial_weights`): a shipped name or the path of a
        card; the run then z-scores with that card's statistics.

    Raises
    ------
    ValueError
        If a field is out of range: ``patch`` not two positive integers, an unknown preset or device
        profile, ``mask_mix`` with unknown tasks or weights negative or all zero, ``channel_dropout``
        or ``calibration`` not a probability, an unknown ``normalise``, a count that is not positive,
        or ``minutes`` not a multiple of the patch length.

    Examples
    --------
    >>> config = TrainConfig(preset="tiny", steps=600, channel_dropout=0.3)
    >>> model, normaliser, history = train(config, "runs/tiny")
    """

    preset: str = "2M"
    patch: tuple[int, int] | None = None  # (minutes, channels) per token; None: the preset's (10, 5)
    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-3
    warmup: float = 0.05
    min_lr_ratio: float = 0.01
    weight_decay: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.95)
    clip: float = 1.0
    mask_mix: dict = field(default_factory=lambda: {"random": 0.4, "interpolation": 0.2, "extrapolation": 0.2,
                                                    "sensors": 0.2})
    random_ratio: float = 0.8
    block_minutes: tuple[int, ...] = (10, 30, 60, 120)
    sensor_counts: tuple[int, ...] = (2, 6, 12)
    augment: float = 0.5  # probability of each augmentation: stretch, flip, noise
    minutes: int = 300
    stride: int = 60
    max_missing: float = 0.5
    participants_per_chunk: int = 16
    days_per_chunk: int = 7
    windows: str | None = None  # stored windows (netCDF/zarr) instead of the simulator
    val_data: str | None = None  # stored windows to validate on instead of simulated participants
    val_participants: int = 8
    val_windows: int = 256
    val_every: int = 200
    checkpoint_every: int = 200
    normalise: str = "data"  # z-score with statistics of the training data, or the registry's defaults
    seed: int = 0
    channel_dropout: float = 0.0  # share of windows that lose whole channels (DROP_MIX)
    calibration: float = 0.0  # share of windows with a device calibration shift
    instance_norm: bool = False
    residual: bool = False
    bf16: bool = False
    val_profiles: tuple[str, ...] = ()
    init: str | None = None  # start from these weights (shipped name or card path) instead of at random

    def __post_init__(self):
        if self.patch is not None:
            patch = tuple(self.patch) if isinstance(self.patch, (tuple, list)) else ()
            if len(patch) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                                          for v in patch):
                raise ValueError(f"patch must be two positive integers (minutes, channels), got {self.patch!r}")
            object.__setattr__(self, "patch", tuple(int(v) for v in patch))
        self.model_config()  # raises, listing the presets, for an unknown name
        unknown = set(self.mask_mix) - set(TASKS)
        if unknown or not self.mask_mix or min(self.mask_mix.values()) < 0 or sum(self.mask_mix.values()) <= 0:
            raise ValueError(f"mask_mix must give non-negative weights, not all zero, to tasks among "
                             f"{', '.join(TASKS)}; got {self.mask_mix}")
        for name in ("channel_dropout", "calibration"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
        object.__setattr__(self, "val_profiles", tuple(self.val_profiles))
        for profile in self.val_profiles:
            profile_channels(profile)  # raises, listing the profiles, for an unknown name
        if self.normalise not in ("data", "registry"):
            raise ValueError(f"normalise must be 'data' or 'registry', got {self.normalise!r}")
        for name in ("steps", "batch_size", "minutes", "stride", "val_every", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.minutes % self.model_config().patch[0]:
            raise ValueError(f"minutes ({self.minutes}) must be a multiple of the patch length "
                             f"{self.model_config().patch[0]}")

    def model_config(self) -> ModelConfig:
        """The architecture this run trains: the preset, with ``patch`` when given."""
        options = {"instance_norm": self.instance_norm, "residual": self.residual}
        return get_config(self.preset, **options, **({} if self.patch is None else {"patch": self.patch}))


class Normaliser:
    """Per-channel z-scoring with statistics measured on training data (stored with weights).

    Calling it z-scores a (window, time, channel) array.

    Parameters
    ----------
    mean : array-like
        Mean of each channel, in physical units.
    std : array-like
        Standard deviation of each channel, in physical units.
    """

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)

    @classmethod
    def fit(cls, signal: np.ndarray) -> "Normaliser":
        """Fit to the observed values of a (window, time, channel) array; absent channels get (0, 1).

        Parameters
        ----------
        signal : numpy.ndarray
            Windows (W, T, C) in physical units, NaN for missing.

        Returns
        -------
        Normaliser
            The fitted normaliser.
        """
        flat = signal.reshape(-1, signal.shape[-1])  # (W*T, C)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN channels: handled below
            mean, std = np.nanmean(flat, axis=0), np.nanstd(flat, axis=0)
        mean = np.where(np.isfinite(mean), mean, 0.0)
        std = np.where(np.isfinite(std) & (std > 1e-6), std, 1.0)
        return cls(mean, std)

    def __call__(self, signal: np.ndarray) -> np.ndarray:
        return (signal - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Map z-scored values back to physical units.

        Parameters
        ----------
        z : numpy.ndarray
            Z-scored values, channels last.

        Returns
        -------
        numpy.ndarray
            The values in physical units.
        """
        return z * self.std + self.mean


#: Stored windows are read this many at a time (64 MB of 300-minute, 26-channel float32 windows), so
#: pretraining on a store holds one block in memory whatever the store's size.
STORE_BLOCK = 2048


def open_windows(path, minutes: int) -> xr.DataArray:
    """The ``signal`` of a window store, lazily (dask), with all 26 channels (absent ones NaN)."""
    from .io import open_dataset

    stored = open_dataset(path)["signal"]
    if stored.dims != ("window", "time", "channel") or stored.sizes["time"] != minutes:
        raise ValueError(f"{path} must hold windows of {minutes} minutes, got signal dims {dict(stored.sizes)}")
    return stored.reindex(channel=list(CHANNEL_NAMES))  # absent channels become NaN


class WindowStream:
    """Deterministic batches of windows from the simulator (chunk by chunk) or stored windows.

    ``position`` = (chunk, batch within chunk) is all the state there is; ``next(position)``
    returns the same array every time. A store is read lazily, one block of :data:`STORE_BLOCK`
    windows per chunk: each pass over the store visits its blocks in a new random order and
    shuffles the windows within each block, so memory stays bounded however large the store is.

    Under ``torchrun``, ``WindowStream(config, rank, world)`` serves rank ``rank``'s rows of each
    global batch, rows ``rank::world`` (``train`` gathers them back with :func:`gather_batch`). From a
    store the rank loads only those windows of each shuffled block, ``1/world`` of it (the store's
    compressed chunks holding them are still decompressed whole: a shuffled block's rows are spread
    over all of them); the simulator's chunk every rank simulates whole and keeps its rows. Batches
    and positions do not depend on ``world``: the rows of all ranks, interleaved, are the batch one
    process reads.

    Parameters
    ----------
    config : TrainConfig
        The run: data source, window length, batch size, seed.
    rank : int, default 0
        This process's rank.
    world : int, default 1
        Number of processes; must divide ``config.batch_size``.

    Raises
    ------
    ValueError
        If ``rank`` is not in ``[0, world)``, ``world`` does not divide the batch size, or the store
        holds fewer windows than one batch.
    """

    def __init__(self, config: TrainConfig, rank: int = 0, world: int = 1):
        if not 0 <= rank < world or config.batch_size % world:
            raise ValueError(f"rank {rank} of {world} processes: need 0 <= rank < world and batch_size "
                             f"{config.batch_size} divisible by world")
        self.config, self.rank, self.world = config, rank, world
        self._cache: tuple[int, np.ndarray, int] | None = None  # (chunk, this rank's windows, windows in chunk)
        self._stored = None if config.windows is None else open_windows(config.windows, config.minutes)
        if self._stored is not None and self._stored.sizes["window"] < config.batch_size:
            raise ValueError(f"{config.windows} holds {self._stored.sizes['window']} windows, fewer than one batch "
                             f"of {config.batch_size}: store more windows or lower batch_size")

    def _block(self, k: int) -> slice:
        """The store's rows in chunk k: block k % n of pass k // n, each pass in a new block order."""
        n_windows = self._stored.sizes["window"]
        n_blocks = -(-n_windows // STORE_BLOCK)
        block = np.random.default_rng([self.config.seed, 2, k // n_blocks]).permutation(n_blocks)[k % n_blocks]
        return slice(block * STORE_BLOCK, min((block + 1) * STORE_BLOCK, n_windows))

    def chunk(self, k: int) -> np.ndarray:
        """This rank's windows of the k-th chunk, shuffled.

        Parameters
        ----------
        k : int
            The chunk.

        Returns
        -------
        numpy.ndarray
            Windows (W, T, C), float32 in physical units: positions ``rank::world`` of the
            shuffled chunk; in one process, the whole chunk.
        """
        if self._cache is not None and self._cache[0] == k:
            return self._cache[1]
        c = self.config
        if self._stored is not None:
            rows = self._block(k)
            order = np.random.default_rng([c.seed, 4, k]).permutation(rows.stop - rows.start)
            mine = rows.start + order[self.rank :: self.world]  # store rows, in the order this rank trains on them
            ascending = np.argsort(mine)  # read in store order, then put back in training order
            signal = np.empty((len(mine), c.minutes, len(CHANNEL_NAMES)), dtype=np.float32)
            signal[ascending] = self._stored.isel(window=mine[ascending]).values
            n_windows = rows.stop - rows.start
        else:
            cohort = simulate(c.participants_per_chunk, c.days_per_chunk, seed=np.random.SeedSequence([c.seed, 1, k]))
            signal = to_windows(cohort, c.minutes, stride=c.stride, max_missing=c.max_missing)["signal"].values
            signal = signal[np.random.default_rng([c.seed, 2, k]).permutation(len(signal))]
            n_windows = len(signal)
            signal = signal[self.rank :: self.world]
        self._cache = (k, signal, n_windows)
        return signal

    def batches_in(self, k: int) -> int:
        """Whole global batches in chunk k (the same on every rank; a store's block is not read for it).

        Parameters
        ----------
        k : int
            The chunk.

        Returns
        -------
        int
            Number of whole global batches.
        """
        if self._stored is not None:
            rows = self._block(k)
            return (rows.stop - rows.start) // self.config.batch_size
        self.chunk(k)
        return self._cache[2] // self.config.batch_size

    def next(self, position: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
        """This rank's rows of the batch at ``position``, and the position after it.

        Parameters
        ----------
        position : tuple of (int, int)
            (chunk, batch within chunk); a batch past the chunk's end moves on to the next chunk.

        Returns
        -------
        batch : numpy.ndarray
            Rows ``rank::world`` of the global batch (all of it in one process), (B/world, T, C).
        position : tuple of (int, int)
            The position after it.
        """
        k, b = position
        while b >= self.batches_in(k):
            k, b = k + 1, 0
        share = self.config.batch_size // self.world  # global rows [b*size, (b+1)*size) at stride world
        return self.chunk(k)[b * share : (b + 1) * share], (k, b + 1)


def gather_batch(rows: np.ndarray, world: int, device) -> np.ndarray:
    """The global batch from every rank's rows (rank r holds rows ``r::world``), on every rank.

    Parameters
    ----------
    rows : numpy.ndarray
        This rank's rows (B/world, T, C).
    world : int
        Number of processes; with 1, ``rows`` is returned as it is.
    device : torch.device or str
        Where the collective runs (a GPU for nccl).

    Returns
    -------
    numpy.ndarray
        The global batch (B, T, C).
    """
    if world == 1:
        return rows
    mine = torch.from_numpy(np.ascontiguousarray(rows)).to(_collective_device(device))
    parts = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(parts, mine)
    batch = torch.stack(parts, dim=1)  # world x (B/world, T, C) -> (B/world, world, T, C)
    return batch.flatten(0, 1).cpu().numpy()  # (B/world, world, T, C) -> (B, T, C): row i*world + r from rank r


def validation_set(config: TrainConfig) -> xr.Dataset:
    """Held-out windows to validate on.

    Parameters
    ----------
    config : TrainConfig
        The run.

    Returns
    -------
    xarray.Dataset
        ``config.val_data`` (stored windows, e.g. a user's held-out days), or simulated participants
        drawn from a seed no training chunk uses; at most ``config.val_windows`` of them.
    """
    if config.val_data is not None:
        signal = open_windows(config.val_data, config.minutes)
        n = signal.sizes["window"]
        keep = np.sort(np.random.default_rng([config.seed, 10]).permutation(n)[: config.val_windows])
        return signal.isel(window=keep).load().to_dataset(name="signal")
    cohort = simulate(config.val_participants, config.days_per_chunk, seed=np.random.SeedSequence([config.seed, 9]))
    windows = to_windows(cohort, config.minutes, stride=config.minutes, max_missing=config.max_missing)
    n = min(config.val_windows, windows.sizes["window"])
    return windows.isel(window=np.random.default_rng([config.seed, 10]).permutation(windows.sizes["window"])[:n])


def task_mask(task: str, size, batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of the four task masks for a (B, T, C) batch, as a boolean array (see
    :func:`lsmkit.evaluation.task_mask`, which draws the same masks for evaluation)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    return evaluation.task_mask(xr.DataArray(batch, dims=masks.DIMS), task, size, rng).values


def sample_task_masks(batch: np.ndarray, config: TrainConfig, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """One task for the whole batch, drawn with the weights of ``config.mask_mix``, and its mask.

    One task per batch rather than per window: the encoder keeps as many tokens as the
    least-masked window of a batch holds, so a batch of random-80% masks runs about five times
    faster than a mixed one.

    Parameters
    ----------
    batch : numpy.ndarray
        Windows (B, T, C).
    config : TrainConfig
        Gives the task weights and sizes (``mask_mix``, ``random_ratio``, ``block_minutes``,
        ``sensor_counts``).
    rng : numpy.random.Generator
        Source of the draws.

    Returns
    -------
    task : str
        The task drawn.
    hidden : numpy.ndarray
        Boolean task mask (B, T, C).
    """
    names = list(config.mask_mix)
    weights = np.array([config.mask_mix[n] for n in names], dtype=float)
    task = names[rng.choice(len(names), p=weights / weights.sum())]
    size = {"random": config.random_ratio,
            "interpolation": int(rng.choice(config.block_minutes)),
            "extrapolation": int(rng.choice(config.block_minutes)),
            "sensors": int(rng.choice(config.sensor_counts))}[task]
    return task, task_mask(task, size, batch, rng)


def augment(batch: np.ndarray, probability: float, rng: np.random.Generator) -> np.ndarray:
    """The paper's augmentations on z-scored windows, each applied with ``probability``.

    Time stretch by [1, 1.5] then crop, time flip, Gaussian noise with SD in [0, 0.5].

    Parameters
    ----------
    batch : numpy.ndarray
        Z-scored windows (B, T, C); NaN gaps stay gaps.
    probability : float
        Probability of each augmentation, per window.
    rng : numpy.random.Generator
        Source of the draws.

    Returns
    -------
    numpy.ndarray
        The augmented windows (B, T, C).
    """
    B, T, _ = batch.shape
    out = batch.copy()
    stretch = rng.random(B) < probability
    factor = rng.uniform(1.0, 1.5, B)
    first = (rng.random(B) * (T - T / factor)).astype(int)
    index = np.where(stretch[:, None], first[:, None] + (np.arange(T)[None, :] / factor[:, None]).astype(int),
                     np.arange(T)[None, :])  # (B, T): nearest-sample resampling keeps NaN gaps as gaps
    out = np.take_along_axis(out, np.clip(index, 0, T - 1)[:, :, None], axis=1)
    flip = rng.random(B) < probability
    out[flip] = out[flip, ::-1]
    noisy = rng.random(B) < probability
    sd = rng.uniform(0.0, 0.5, B) * noisy
    return out + rng.standard_normal(out.shape).astype(np.float32) * sd[:, None, None].astype(np.float32)


def drop_channels(n: int, probability: float, rng: np.random.Generator) -> np.ndarray:
    """Which channels each of ``n`` windows loses as inherited missingness.

    A window keeps at least one channel (which may still hold no value in that window).

    Parameters
    ----------
    n : int
        Number of windows.
    probability : float
        Probability that a window loses channels; what it keeps is drawn by :data:`DROP_MIX`.
    rng : numpy.random.Generator
        Source of the draws.

    Returns
    -------
    numpy.ndarray
        Boolean (n, C), True = removed.
    """
    C = len(CHANNEL_NAMES)
    removed = np.zeros((n, C), dtype=bool)
    groups = np.array([c.group for c in CHANNELS])
    profiles = [p.channels for p in PROFILES if p.name != "full"]
    kinds = list(DROP_MIX)
    weights = np.array([DROP_MIX[k] for k in kinds])
    for i in np.flatnonzero(rng.random(n) < probability):
        kind = kinds[rng.choice(len(kinds), p=weights / weights.sum())]
        if kind == "profile":
            keep = np.isin(CHANNEL_NAMES, profiles[rng.integers(len(profiles))])
        elif kind == "groups":
            chosen = rng.random(len(SENSOR_GROUPS)) < 0.5
            chosen[rng.integers(len(SENSOR_GROUPS))] = True
            keep = np.isin(groups, np.array(SENSOR_GROUPS)[chosen])
        else:
            keep = rng.random(C) < rng.uniform(0.1, 0.9)
            keep[rng.integers(C)] = True
        removed[i] = ~keep
    return removed


def training_batch(batch: np.ndarray, normaliser: Normaliser, config: TrainConfig, step: int):
    """What step ``step`` trains on: the z-scored, augmented batch and its task mask.

    In order: calibration shifts (``config.calibration``), z-scoring, the paper's augmentations,
    channel removal (``config.channel_dropout``: removed channels become NaN, so they are absent and
    never scored), then the task mask. Everything random comes from ``default_rng([seed, 3, step])``.

    Parameters
    ----------
    batch : numpy.ndarray
        The global batch (B, T, C) in physical units.
    normaliser : Normaliser
        The run's z-scoring.
    config : TrainConfig
        The run.
    step : int
        The training step.

    Returns
    -------
    z : numpy.ndarray
        The z-scored, augmented batch (B, T, C), float32.
    hidden : numpy.ndarray
        Boolean task mask (B, T, C).
    """
    rng = np.random.default_rng([config.seed, 3, step])
    if config.calibration:  # devices differ: shift some windows as another device would read them
        scale, offset = calibration_shifts(len(batch), rng)
        shifted = rng.random(len(batch)) < config.calibration
        batch = np.where(shifted[:, None, None], batch * scale[:, None] + offset[:, None], batch)
    z = augment(normaliser(batch).astype(np.float32), config.augment, rng)
    if config.channel_dropout:  # inherited missingness: these channels were never recorded
        removed = drop_channels(len(z), config.channel_dropout, rng)
        z = np.where(removed[:, None, :], np.float32(np.nan), z)
    _, hidden = sample_task_masks(z, config, rng)
    return z, hidden


def learning_rate(step: int, config: TrainConfig) -> float:
    """Linear warm-up then cosine decay to ``min_lr_ratio`` of the peak."""
    warm = max(1, int(config.warmup * config.steps))
    if step < warm:
        return config.lr * (step + 1) / warm
    progress = (step - warm) / max(1, config.steps - warm)
    return config.lr * (config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def evaluate_tasks(model: LSM, windows_z: np.ndarray, config: TrainConfig, device) -> dict[str, float]:
    """Validation MSE (z-scored, hidden and observed values only) for each of the four tasks, on all
    channels (keys ``random``, ...) and on each of ``config.val_profiles`` (``<profile>_random``, ...;
    a profile's sensor task hides at most all but one of its channels, and is left out for a
    one-channel profile)."""
    model.eval()
    losses = {}
    for profile in (None, *config.val_profiles):
        z = windows_z
        if profile is not None:
            z = np.where(np.isin(CHANNEL_NAMES, profile_channels(profile)), windows_z, np.nan).astype(np.float32)
        n_channels = len(CHANNEL_NAMES) if profile is None else len(profile_channels(profile))
        for t, (name, (task, size)) in enumerate(TASKS.items()):
            if task == "sensors":
                if n_channels < 2:
                    continue
                size = min(size, n_channels - 1)
            hidden = task_mask(task, size, z, np.random.default_rng([config.seed, 11, t]))
            total, count = 0.0, 0
            for i in range(0, len(z), 128):
                x = torch.from_numpy(z[i : i + 128]).to(device)
                h = torch.from_numpy(hidden[i : i + 128]).to(device)
                _, rec = model(x, h)
                scored = h & ~torch.isnan(x)
                total += float(((rec - torch.nan_to_num(x)) ** 2 * scored).sum())
                count += int(scored.sum())
            losses[name if profile is None else f"{profile}_{name}"] = total / max(count, 1)
    model.train()
    return losses


def _save_atomic(obj: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)  # atomic on POSIX: readers see the old file or the new one, never half


def load_checkpoint(path) -> dict:
    """Load a checkpoint written by :func:`train` (tensors and plain values only; never unpickles code).

    Parameters
    ----------
    path : str or path-like
        The checkpoint file, e.g. ``out_dir / "checkpoint.pt"``.

    Returns
    -------
    dict
        The checkpoint, on the CPU: ``model`` and ``optimizer`` states, ``step``, ``position``,
        ``history``, ``train_config``, ``model_config``, ``norm_mean``, ``norm_std`` and
        ``channels``.

    See Also
    --------
    lsmkit.pretrained.export_weights : Ship a checkpoint's weights.
    """
    return torch.load(path, map_location="cpu", weights_only=True)


def _distributed() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


MMAP_THRESHOLD = 4 << 20  # bytes: allocations at least this large are mmapped, and unmapped when freed


def bound_heap(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's ``malloc`` mmap threshold, so that large freed buffers return to the system.

    glibc raises its threshold after each large buffer is freed (up to 32 MB), after which every
    store block, decompressed chunk and batch comes from the heap, which only grows. A fixed
    threshold keeps the resident size near what training holds: 200 steps of a tiny model from a
    5 GB window store peaked at 836-853 MB instead of 1,080-1,110 MB, at the same step rate within
    run-to-run noise (two runs each, 2-core AVX-512 EPYC, ``benchmarks/readers.py``'s training phase).

    Parameters
    ----------
    threshold : int, default 4 MB
        Bytes from which an allocation is mapped on its own.

    Returns
    -------
    bool
        Whether the threshold was set (False where the C library is not glibc).
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library already loaded into this process
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, Windows, musl without mallopt)
        return False
    M_MMAP_THRESHOLD = -3  # <malloc.h>
    return bool(mallopt(M_MMAP_THRESHOLD, int(threshold)))


def train(config: TrainConfig, out_dir, *, resume: bool = True, device: str | None = None, progress: bool = True,
          until: int | None = None):
    """Pretrain (or resume pretraining) a model.

    Under ``torchrun`` call it from every rank (see ``lsmkit pretrain``); rank 0 writes files.

    Parameters
    ----------
    config : TrainConfig
        The run.
    out_dir : str or path-like
        Receives ``checkpoint.pt`` every ``config.checkpoint_every`` steps and at the end.
    resume : bool, default True
        Continue from ``out_dir``'s checkpoint when there is one.
    device : str, optional
        Torch device; ``"cuda"`` when available, else ``"cpu"``.
    progress : bool, default True
        Show a progress bar and validation losses (rank 0).
    until : int, optional
        Stop early after that step (with a checkpoint), for time-boxed sessions: a later call with
        the same config resumes and ends exactly where an uninterrupted run would.

    Returns
    -------
    model : LSM
        The trained model.
    normaliser : Normaliser
        The z-scoring it was trained with.
    history : list of dict
        One row per validation: ``step``, ``train_loss``, ``grad_norm``, ``lr``,
        ``samples_per_s`` and ``val_<task>`` (``val_<profile>_<task>`` for ``val_profiles``).

    Raises
    ------
    ValueError
        If the number of processes does not divide the batch size, the checkpoint in ``out_dir``
        was written by a different TrainConfig, or under ``torchrun`` it exists for only some of
        the processes.

    Notes
    -----
    On Linux with glibc, training fixes the process's ``malloc`` mmap threshold at 4 MB
    (:func:`bound_heap`), so that the blocks and batches it frees go back to the system instead of
    fragmenting the heap: pretraining from a 5 GB store peaked above 1 GB of RSS without it.
    """
    bound_heap()
    out_dir = Path(out_dir)
    rank, world = _distributed()
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} must be divisible by the {world} processes")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    model = LSM(config.model_config()).to(device)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "token" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2 or "token" in n]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=config.lr, betas=config.betas)
    stream = WindowStream(config, rank, world)
    val = validation_set(config)
    step, position, history = 0, (0, 0), []
    checkpoint = out_dir / "checkpoint.pt"
    resuming = resume and checkpoint.exists()
    if world > 1:  # every rank must take the same branch below, or their collectives would not match
        seen = torch.tensor([int(resuming)], device=_collective_device(device))
        dist.all_reduce(seen)
        if 0 < int(seen.item()) < world:
            raise ValueError(f"{checkpoint} exists for {int(seen.item())} of the {world} processes: under torchrun "
                             f"out_dir must be one folder that every process sees")
    if resuming:
        state = load_checkpoint(checkpoint)
        if _saved_config(state["train_config"]) != _plain(config):
            raise ValueError(f"{checkpoint} was written by a different TrainConfig; use another out_dir or resume=False")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, position, history = state["step"], tuple(state["position"]), list(state["history"])
        normaliser = Normaliser(state["norm_mean"], state["norm_std"])
    elif config.init is not None:  # continue in the z-space the weights were trained in
        normaliser = initial_weights(model, config.init)
    elif config.normalise == "registry":  # one z-space for every run: losses comparable across data sizes
        normaliser = Normaliser([c.mean for c in CHANNELS], [c.std for c in CHANNELS])
    else:
        normaliser = _data_normaliser(config, stream, rank, world, device)
    val_z = normaliser(val["signal"].values).astype(np.float32)

    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    # bfloat16 on a GPU always; on a CPU when asked and the CPU has the instructions for it
    autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                              enabled=device.type == "cuda" or (config.bf16 and cpu_has_bf16()))
    if config.bf16 and device.type == "cpu" and not cpu_has_bf16() and rank == 0:
        warnings.warn(f"bf16=True, but this CPU has no AVX-512 BF16 or AMX (torch reports "
                      f"{torch.backends.cpu.get_cpu_capability()}): bfloat16 matmuls are emulated here, hundreds of "
                      f"times slower than float32, so this run trains in float32", RuntimeWarning, stacklevel=2)

    def save():
        if rank == 0:
            _save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                          "position": list(position), "history": history, "train_config": _plain(config),
                          "model_config": _plain(model.config), "norm_mean": torch.from_numpy(normaliser.mean),
                          "norm_std": torch.from_numpy(normaliser.std), "channels": list(CHANNEL_NAMES)}, checkpoint)
        if world > 1:  # no rank goes on (or returns, and resumes later) before the checkpoint is written
            dist.barrier()

    bar = tqdm(total=config.steps, initial=step, desc=f"pretrain {config.preset}", disable=not progress or rank != 0)
    t0, samples = time.perf_counter(), 0
    last = config.steps if until is None else min(until, config.steps)
    while step < last:
        batch, position = stream.next(position)
        batch = gather_batch(batch, world, device)  # the whole batch: masks and augmentations are drawn over it
        z, hidden = training_batch(batch, normaliser, config, step)
        rows = slice(rank, None, world)  # this rank's share of the global batch
        x, h = torch.from_numpy(z[rows]).to(device), torch.from_numpy(hidden[rows]).to(device)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        with autocast:
            loss, _ = ddp(x, h)
        optimizer.zero_grad(set_to_none=True)
        (loss * _rank_weight(x, h, world)).backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        step += 1
        samples += len(batch)
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if step % config.val_every == 0 or step == config.steps:
            val_loss = evaluate_tasks(model, val_z, config, device)
            elapsed = time.perf_counter() - t0
            history.append({"step": step, "train_loss": loss.item(), "grad_norm": grad_norm.item(),
                            "lr": learning_rate(step - 1, config), "samples_per_s": samples / elapsed,
                            **{f"val_{k}": v for k, v in val_loss.items()}})
            t0, samples = time.perf_counter(), 0
            if rank == 0 and progress:
                bar.write(f"step {step}: " + ", ".join(f"{k} {v:.3f}" for k, v in val_loss.items()))
        if step % config.checkpoint_every == 0 or step == last:
            save()
    bar.close()
    return model, normaliser, history


def _data_normaliser(config: TrainConfig, stream: WindowStream, rank: int, world: int, device) -> Normaliser:
    """Z-scoring fitted to the whole first chunk, as one process fits it. Under ``torchrun`` each
    rank holds only its rows of that chunk, so rank 0 reads it whole once and sends the statistics."""
    if world == 1:
        return Normaliser.fit(stream.chunk(0))
    stats = torch.zeros(2, len(CHANNEL_NAMES), dtype=torch.float32)
    if rank == 0:
        whole = Normaliser.fit(WindowStream(config).chunk(0))
        stats = torch.from_numpy(np.stack([whole.mean, whole.std]))
    stats = stats.to(_collective_device(device))
    dist.broadcast(stats, 0)
    mean, std = stats.cpu().numpy()
    return Normaliser(mean, std)


def _collective_device(device) -> torch.device:
    """Where tensors of a collective live: nccl moves only GPU tensors, gloo CPU ones."""
    return torch.device(device) if dist.get_backend() == "nccl" else torch.device("cpu")


def initial_weights(model: LSM, init: str) -> Normaliser:
    """Copy the weights of the card ``init`` into ``model``; returns the card's normaliser.

    Every tensor whose name and shape match is copied; the rest keep their initialisation (new
    inputs such as ``stats_embed``). When ``model`` predicts residuals over linear interpolation and
    the source predicts values directly, the output layer ``decoder_pred`` keeps its zero start, so
    that training begins from linear interpolation rather than from twice the signal.

    Parameters
    ----------
    model : LSM
        The model to initialise, in place.
    init : str
        A shipped checkpoint name or the path of a card (sha256-checked, see
        :func:`lsmkit.pretrained.load_pretrained`).

    Returns
    -------
    Normaliser
        The card's z-scoring statistics.
    """
    from .pretrained import load_pretrained

    source = load_pretrained(init)
    state = source.model.state_dict()
    skip = set()
    if model.config.residual and not source.model.config.residual:
        skip |= {"decoder_pred.weight", "decoder_pred.bias"}
    own = model.state_dict()
    copied = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape and k not in skip}
    model.load_state_dict(copied, strict=False)
    return Normaliser(source.mean, source.std)


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX), as torch reports it.
    Without it, bfloat16 autocast is emulated and far slower than float32 (benchmarks/training.py)."""
    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(bool(check()) for check in checks if check is not None)


def _rank_weight(x: torch.Tensor, hidden: torch.Tensor, world: int) -> torch.Tensor | float:
    """Scale of this rank's loss so that DDP's gradient average equals the gradient of the MSE
    over the whole global batch: ranks score different numbers of values (gaps, random masks),
    and a plain average of per-rank means would weight their values unequally."""
    if world == 1:
        return 1.0
    local = (hidden & ~torch.isnan(x)).sum().float()
    total = local.clone()
    dist.all_reduce(total)
    return world * local / total.clamp(min=1.0)


def _saved_config(saved: dict) -> dict | None:
    """A checkpoint's TrainConfig as :func:`_plain` values, fields added since it was written at their
    defaults (None when it no longer makes a TrainConfig)."""
    try:
        return _plain(TrainConfig(**saved))
    except (TypeError, ValueError):
        return None


def _plain(obj) -> dict:
    """A dataclass as plain values that survive ``weights_only`` loading unchanged (lists, not tuples)."""

    def convert(v):
        if isinstance(v, (tuple, list)):
            return [convert(x) for x in v]
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        return v

    return convert(asdict(obj))
