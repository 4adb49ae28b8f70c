"""Shipped pretrained weights and the friendly wrapper around them.

``model = lsmkit.load_pretrained()`` loads the default checkpoint from ``lsmkit/weights/``
(safetensors, never pickle) after checking its sha256 against the JSON card next to it. The
wrapper takes and returns window batches in physical units; z-scoring with the statistics stored
in the card happens inside.

======================================  ==========================================================
``model.impute(windows, mask)``         hidden and missing values filled, observed values untouched
``model.forecast(windows, minutes)``    the last ``minutes`` of every window predicted
``model.reconstruct(windows, mask)``    the model's reconstruction of every value
``model.embed(windows, pool="mean")``   window embeddings, dims ``("window", "feature")``
======================================  ==========================================================
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from . import masks
from .channels import CHANNEL_NAMES, CHANNELS
from .data import validate_windows
from .evaluation import TASK_SIZES
from .correction import shrink_single_channel
from .model import LSM, ModelConfig

__all__ = ["DEFAULT_WEIGHTS", "PretrainedLSM", "load_pretrained", "list_pretrained", "export_weights"]

DEFAULT_WEIGHTS = "lsm-2m"
_RANGES = np.array([c.valid_range for c in CHANNELS], dtype=np.float32)  # (C, 2)
_CHANNEL_INDEX = {name: i for i, name in enumerate(CHANNEL_NAMES)}
_CARD_KEYS = ("weights_file", "sha256", "model_config", "window_minutes", "channels", "norm_mean", "norm_std")


def _canonical(channels) -> np.ndarray:
    """The position in :data:`~lsmkit.channels.CHANNEL_NAMES` of each of ``channels`` (canonical names)."""
    return np.array([_CHANNEL_INDEX[str(c)] for c in channels], dtype=np.intp)


def _is_whole(value) -> bool:
    """An int, or a float with no fraction (``30.0``); never a bool, a string or None."""
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and float(value).is_integer())


POOL_STATISTICS = ("mean", "max", "min")  # what ``embed`` can pool tokens with; ``pool`` joins them with "+"


def _pool_statistics(pool) -> tuple[str, ...]:
    """``"max+min"`` as ``("max", "min")``, ``"none"`` as ``()``; anything else is refused."""
    if pool == "none":
        return ()
    stats = tuple(pool.split("+")) if isinstance(pool, str) else ()
    if stats and set(stats) <= set(POOL_STATISTICS) and len(set(stats)) == len(stats):
        return stats
    raise ValueError(f"pool must be 'mean', 'max', 'min', several of them joined by '+' (e.g. 'max+min') "
                     f"or 'none', got {pool!r}")


def _check_flag(name: str, value) -> None:
    """Refuse anything but True or False (numpy's included): ``centre="no"`` would read as True."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def _pool_tokens(tokens: np.ndarray, has: np.ndarray, stat: str) -> np.ndarray:
    """One statistic over the tokens that hold data: (B, N, D) with ``has`` (B, N) -> (B, D)."""
    if stat == "mean":
        return np.where(has[..., None], tokens, 0.0).sum(axis=1) / np.maximum(has.sum(axis=1), 1)[:, None]
    fill = -np.inf if stat == "max" else np.inf
    return getattr(np.where(has[..., None], tokens, fill), stat)(axis=1)


def _weights_dir() -> Path:
    return Path(str(resources.files("lsmkit").joinpath("weights")))


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def list_pretrained() -> list[str]:
    """Names of the shipped checkpoints.

    Returns
    -------
    list of str
        The checkpoint names, sorted, each loadable with :func:`load_pretrained`.
    """
    return sorted(p.stem for p in _weights_dir().glob("*.json"))


def load_pretrained(name: str | None = None, *, device: str = "cpu") -> "PretrainedLSM":
    """Load a checkpoint, verified by sha256 against its card.

    Parameters
    ----------
    name : str or path-like, optional
        A shipped checkpoint (default :data:`DEFAULT_WEIGHTS`; see :func:`list_pretrained`) or the
        path of a ``.json`` card written by :func:`export_weights` (your own pretraining).
    device : str, default "cpu"
        The torch device to put the model on, such as ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    PretrainedLSM
        The model in evaluation mode, wrapped to take and return physical units.

    Raises
    ------
    ValueError
        If ``device`` names no torch device, ``name`` is no known checkpoint, the card is not valid
        JSON or lacks keys, or the weights' sha256 differs from the card's (corrupted or changed).
    FileNotFoundError
        If the card's weights file is missing.

    Examples
    --------
    >>> model = load_pretrained()
    >>> filled = model.impute(windows, mask)
    """
    from safetensors.torch import load_file

    name = str(name or DEFAULT_WEIGHTS)
    try:
        torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}") from None
    card_path = Path(name) if name.endswith(".json") else _weights_dir() / f"{name}.json"
    if not card_path.exists():
        raise ValueError(f"unknown pretrained model {name!r}; available: {', '.join(list_pretrained()) or 'none'}")
    try:
        card = json.loads(card_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"card {card_path} is not valid JSON ({error}); reinstall lsmkit or re-export the "
                         f"weights") from None
    missing = [k for k in _CARD_KEYS if not isinstance(card, dict) or k not in card]
    if missing:
        raise ValueError(f"card {card_path} lacks {missing}; it was not written by lsmkit.pretrained.export_weights")
    weights = card_path.with_name(card["weights_file"])
    if not weights.exists():
        raise FileNotFoundError(f"weights file {weights} is missing; reinstall lsmkit")
    digest = _sha256(weights)
    if digest != card["sha256"]:
        raise ValueError(f"weights {weights} are corrupted or were changed: sha256 {digest} != card {card['sha256']}")
    config = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in card["model_config"].items()})
    model = LSM(config)
    model.load_state_dict({k: v.float() for k, v in load_file(weights).items()})
    return PretrainedLSM(model.to(device).eval(), card)


def export_weights(checkpoint: dict, path, *, notes: str = "", dtype: str = "float16") -> Path:
    """Write a training checkpoint's weights as safetensors plus a JSON card.

    Parameters
    ----------
    checkpoint : dict
        What :func:`lsmkit.train.load_checkpoint` returns.
    path : str or path-like
        The card path without suffix (``.../lsm-2m`` writes ``lsm-2m.safetensors`` and
        ``lsm-2m.json``); missing parent folders are created.
    notes : str, default ""
        Free text stored in the card.
    dtype : {"float16", "float32"}, default "float16"
        How the weights are stored. float16 halves the file; they are loaded back as float32, and
        the reconstructions differ from float32 weights by far less than the model's error.

    Returns
    -------
    pathlib.Path
        The card path.

    Raises
    ------
    ValueError
        If ``dtype`` is neither ``"float16"`` nor ``"float32"``.

    See Also
    --------
    load_pretrained : Load the card written here.
    """
    from safetensors.torch import save_file

    from . import __version__

    if dtype not in ("float16", "float32"):
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = path.with_suffix(".safetensors")
    save_file({k: v.to(getattr(torch, dtype)).contiguous() for k, v in checkpoint["model"].items()}, weights)
    last = checkpoint["history"][-1] if checkpoint["history"] else {}
    card = {
        "name": path.name,
        "weights_file": weights.name,
        "sha256": _sha256(weights),
        "dtype": dtype,
        "preset": checkpoint["train_config"]["preset"],
        "model_config": checkpoint["model_config"],
        "patch_minutes": checkpoint["model_config"]["patch"][0],
        "patch_channels": checkpoint["model_config"]["patch"][1],
        "window_minutes": checkpoint["train_config"]["minutes"],
        "channels": list(checkpoint["channels"]),
        "norm_mean": [float(v) for v in checkpoint["norm_mean"]],
        "norm_std": [float(v) for v in checkpoint["norm_std"]],
        "parameters": int(sum(v.numel() for v in checkpoint["model"].values())),
        "training": {
            "data": checkpoint["train_config"]["windows"] or "lsmkit.simulate, streamed chunk by chunk (see config)",
            "steps": checkpoint["step"],
            "samples": checkpoint["step"] * checkpoint["train_config"]["batch_size"],
            "config": checkpoint["train_config"],
            "history": checkpoint["history"],
        },
        "validation_mse": {k[4:]: v for k, v in last.items() if k[4:] in TASK_SIZES},
        "profiles": _profile_scores(last, checkpoint["train_config"].get("val_profiles") or []),
        "validation_data": "held-out simulated participants (lsmkit.train.validation_set)",
        "lsmkit_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "notes": notes,
    }
    card_path = path.with_suffix(".json")
    card_path.write_text(json.dumps(card, indent=1))
    return card_path


def _profile_scores(last: dict, profiles) -> dict:
    """The card's device profiles: each validated profile's device, channels and last validation MSE
    per task (history keys ``val_<profile>_<task>``), so a user can see what the weights do on a device."""
    from .channels import DEVICE_PROFILES, PROFILES

    devices = {p.name: p.device for p in PROFILES}
    return {name: {"device": devices[name], "channels": list(DEVICE_PROFILES[name]),
                   "validation_mse": {task: last[f"val_{name}_{task}"] for task in TASK_SIZES
                                      if f"val_{name}_{task}" in last}}
            for name in profiles}


class PretrainedLSM:
    """A pretrained LSM in physical units: impute, forecast, reconstruct, embed window batches.

    Usually made by :func:`load_pretrained`. Windows are z-scored with the statistics stored in the
    card before they reach the model, and outputs are mapped back to physical units.

    Parameters
    ----------
    model : LSM
        The trained model.
    card : dict
        The checkpoint's card (see :func:`export_weights`); its channel list must be
        :data:`lsmkit.CHANNELS`.
    batch_size : int, default 256
        Windows per forward pass.

    Attributes
    ----------
    model : LSM
        The wrapped model.
    card : dict
        The checkpoint's card.
    batch_size : int
        Windows per forward pass.
    mean, std : numpy.ndarray
        The card's normalisation statistics per channel.
    minutes : int
        The window length the model takes.

    Raises
    ------
    ValueError
        If ``batch_size`` is not a positive integer or the card's channel list differs from
        :data:`lsmkit.CHANNELS`.
    """

    def __init__(self, model: LSM, card: dict, batch_size: int = 256):
        if not _is_whole(batch_size) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.model = model
        self.card = card
        self.batch_size = int(batch_size)
        self.mean = np.asarray(card["norm_mean"], dtype=np.float32)
        self.std = np.asarray(card["norm_std"], dtype=np.float32)
        self.minutes = int(card["window_minutes"])
        if list(card["channels"]) != list(CHANNEL_NAMES):
            raise ValueError("the checkpoint's channel list differs from lsmkit.CHANNELS")
        # windows that carry one channel: shrink the correction to linear interpolation (lsmkit.correction)
        scale = card.get("correction_scale")
        self._scale = None if scale is None else torch.tensor([float(scale[c]) for c in CHANNEL_NAMES])

    def __repr__(self) -> str:
        val = ", ".join(f"{k} {v:.3f}" for k, v in self.card.get("validation_mse", {}).items())
        return (f"PretrainedLSM({self.card['name']!r}: preset {self.card['preset']}, "
                f"{self.card['parameters'] / 1e6:.2f}M parameters, {self.minutes}-minute windows; "
                f"validation MSE {val})")

    # ---- boundaries ------------------------------------------------------------------------
    def _check_windows(self, windows: xr.Dataset) -> None:
        validate_windows(windows)
        if windows.sizes["time"] != self.minutes:
            raise ValueError(f"windows are {windows.sizes['time']} minutes long; this model takes {self.minutes}-minute "
                             f"windows (cut them with lsmkit.to_windows(..., minutes={self.minutes}))")

    def _signal(self, windows: xr.Dataset) -> np.ndarray:
        """Canonical-order (W, T, 26) float32 array; absent channels all-NaN."""
        self._check_windows(windows)
        channels = list(windows["channel"].values)
        if len(set(channels)) != len(channels):
            raise ValueError(f"windows have duplicate channels {sorted({str(c) for c in channels if channels.count(c) > 1})}")
        # validate_windows fixed the dim order and the names; absent channels become NaN
        values, where = windows["signal"].values, _canonical(channels)
        if np.array_equal(where, np.arange(len(CHANNEL_NAMES))):
            signal = values.astype(np.float32)
        else:
            signal = np.full(values.shape[:2] + (len(CHANNEL_NAMES),), np.nan, dtype=np.float32)
            signal[..., where] = values
        infinite = np.isinf(signal).any(axis=(0, 1))  # (C,)
        if infinite.any():  # one inf poisons every token it shares attention with: refuse it
            names = [c for c, bad in zip(CHANNEL_NAMES, infinite) if bad]
            raise ValueError(f"windows hold infinite values in channels {names}; mark values the sensor did not "
                             f"produce as NaN")
        return signal

    def _mask(self, mask, windows: xr.Dataset) -> np.ndarray:
        if mask is None:
            return np.zeros((windows.sizes["window"], self.minutes, len(CHANNEL_NAMES)), dtype=bool)
        if not isinstance(mask, xr.DataArray) or mask.dtype != bool:
            kind = f"a DataArray of {mask.dtype}" if isinstance(mask, xr.DataArray) else type(mask).__name__
            raise TypeError(f"mask must be a boolean xarray.DataArray (see lsmkit.masks), got {kind}")
        if set(mask.dims) != set(masks.DIMS):
            raise ValueError(f"mask must have dims {masks.DIMS}, got {mask.dims}")
        mask = mask.transpose(*masks.DIMS)
        if mask.shape != windows["signal"].shape:
            raise ValueError(f"mask shape {mask.shape} differs from the windows' {windows['signal'].shape}")
        if "window" in mask.coords and not np.array_equal(mask["window"].values, windows["window"].values):
            raise ValueError("mask was made for other windows (its 'window' coordinate differs); build it from these windows")
        if "channel" in mask.coords:  # aligned by name, not by position
            other = sorted({str(c) for c in mask["channel"].values} ^ {str(c) for c in windows["channel"].values})
            if other or len(set(mask["channel"].values)) != mask.sizes["channel"]:
                raise ValueError(f"mask channels differ from the windows' (not in both: {other}, or duplicated); "
                                 f"build the mask from these windows")
            channels = mask["channel"].values
        else:
            channels = windows["channel"].values
        full = np.zeros(mask.shape[:2] + (len(CHANNEL_NAMES),), dtype=bool)
        full[..., _canonical(channels)] = mask.values
        return full

    def _output(self, windows: xr.Dataset, values: np.ndarray) -> xr.Dataset:
        """Put canonical-order values back into a Dataset shaped like ``windows``."""
        out = values[..., _canonical(windows["channel"].values)].astype(np.float32)
        # a shallow copy with the new signal: the other variables and the coordinates are shared
        return windows.copy(data={name: out if name == "signal" else var.data for name, var in windows.data_vars.items()})

    # ---- the model ---------------------------------------------------------------------------
    @torch.inference_mode()
    def _reconstruct(self, signal: np.ndarray, hidden: np.ndarray) -> np.ndarray:
        z = (signal - self.mean) / self.std
        out = np.empty_like(z)
        device = next(self.model.parameters()).device
        for i in range(0, len(z), self.batch_size):
            x = torch.from_numpy(z[i : i + self.batch_size]).to(device)
            h = torch.from_numpy(hidden[i : i + self.batch_size]).to(device)
            _, rec = self.model(x, h)
            if self._scale is not None:
                rec = shrink_single_channel(x, ~torch.isnan(x) & ~h, rec.float(), self._scale.to(device))
            out[i : i + self.batch_size] = rec.float().cpu().numpy()
        physical = out * self.std + self.mean
        return np.clip(physical, _RANGES[:, 0], _RANGES[:, 1])  # never outside what a sensor can report

    def reconstruct(self, windows: xr.Dataset, mask: xr.DataArray | None = None) -> xr.Dataset:
        """The model's reconstruction of every value, seeing only what ``mask`` leaves visible.

        Parameters
        ----------
        windows : xarray.Dataset
            Window batch in physical units, with the model's window length.
        mask : xarray.DataArray, optional
            Boolean mask with dims ``("window", "time", "channel")`` (see :mod:`lsmkit.masks`) of the
            values to hide; nothing hidden if None.

        Returns
        -------
        xarray.Dataset
            A copy of ``windows`` whose ``signal`` is the reconstruction, clipped to each channel's
            valid range.

        Raises
        ------
        ValueError
            If the windows are invalid or of another length, hold infinite values or duplicate
            channels, or the mask does not match them.
        TypeError
            If ``mask`` is not a boolean DataArray.
        """
        signal = self._signal(windows)
        return self._output(windows, self._reconstruct(signal, self._mask(mask, windows)))

    def impute(self, windows: xr.Dataset, mask: xr.DataArray | None = None, *,
               infer_absent: bool = False) -> xr.Dataset:
        """Fill the values hidden by ``mask`` and the gaps of the channels the windows carry.

        Observed, unhidden values stay. A channel with no observed value anywhere in ``windows`` is
        one the device never recorded: it stays absent (NaN) unless ``infer_absent=True``. Channels
        hidden by ``mask`` count as carried. A window with nothing visible (all missing, or all
        hidden) has no token for the encoder to see; its fill is the model's unconditional guess,
        the same for every such window. An empty batch (no windows) comes back empty.

        Parameters
        ----------
        windows : xarray.Dataset
            Window batch in physical units, with the model's window length.
        mask : xarray.DataArray, optional
            Boolean mask with dims ``("window", "time", "channel")`` (see :mod:`lsmkit.masks`) of the
            values to hide and fill; only the gaps are filled if None.
        infer_absent : bool, default False
            Predict the channels the device never recorded from the other channels (sensor
            imputation).

        Returns
        -------
        xarray.Dataset
            A copy of ``windows`` with the filled ``signal`` and a boolean ``inferred`` coordinate
            (over ``channel``) that marks the channels predicted without a single observed value.

        Raises
        ------
        ValueError
            If ``infer_absent`` is not True or False, the windows are invalid or of another length,
            hold infinite values or duplicate channels, or the mask does not match them.
        TypeError
            If ``mask`` is not a boolean DataArray.

        Examples
        --------
        >>> mask = lsmkit.masks.sensors(windows, n=3, rng=0)
        >>> filled = model.impute(windows, mask)
        """
        _check_flag("infer_absent", infer_absent)
        signal = self._signal(windows)
        hidden = self._mask(mask, windows)
        rec = self._reconstruct(signal, hidden)
        keep = ~np.isnan(signal) & ~hidden
        absent = np.isnan(signal).all(axis=(0, 1))  # (C,) channels the device never recorded
        if not infer_absent:
            rec = np.where(absent, np.float32(np.nan), rec)
        out = self._output(windows, np.where(keep, signal, rec))
        inferred = (absent & infer_absent & (len(signal) > 0))[_canonical(windows["channel"].values)]
        out.coords["inferred"] = ("channel", inferred)
        return out

    def forecast(self, windows: xr.Dataset, minutes: int) -> xr.Dataset:
        """Predict the last ``minutes`` of each window from the minutes before them.

        Parameters
        ----------
        windows : xarray.Dataset
            Window batch in physical units, with the model's window length.
        minutes : int
            The forecast horizon, between 1 and the window length.

        Returns
        -------
        xarray.Dataset
            Like :meth:`impute` with the :func:`lsmkit.masks.extrapolation` mask: the last ``minutes``
            predicted, the gaps before them filled.

        Raises
        ------
        TypeError
            If ``minutes`` is not a number.
        ValueError
            If ``minutes`` is not a whole number between 1 and the window length, or the windows
            are invalid.
        """
        self._check_windows(windows)  # first: the window length bounds the horizon
        if not isinstance(minutes, (int, float, np.integer, np.floating)) or isinstance(minutes, bool):
            raise TypeError(f"minutes (the forecast horizon) must be an integer, got {minutes!r}")
        if not _is_whole(minutes) or not 1 <= minutes <= self.minutes:
            raise ValueError(f"minutes (the forecast horizon) must be an integer between 1 and the window length "
                             f"{self.minutes}, got {minutes!r}")
        return self.impute(windows, masks.extrapolation(windows, minutes))

    @torch.inference_mode()
    def embed(self, windows: xr.Dataset, pool: str = "mean", layers: str = "last",
              centre: bool = False) -> xr.DataArray:
        """Encoder embeddings of each window.

        Parameters
        ----------
        windows : xarray.Dataset
            Window batch in physical units, with the model's window length; at least one window.
        pool : str, default "mean"
            How to summarise the tokens that hold data: ``"mean"``, ``"max"``, ``"min"`` or several
            joined by ``+`` (``"max+min"``: each statistic's features, concatenated in that order)
            give dims ``("window", "feature")`` (windows with no data at all get the class token,
            centred likewise when ``centre=True``); ``"none"`` keeps every token, dims
            ``("window", "token", "feature")``, NaN for tokens with no data.
        layers : {"last", "all"}, default "last"
            ``"all"`` pools every encoder block's output (before the final norm) and concatenates
            them, as DINO's linear evaluation does; only with a pooling ``pool``.
        centre : bool, default False
            Subtract, block by block and token by token, the embedding of the average window (every
            value at the card's normalisation mean, nothing missing). Every window's tokens carry
            the same position code, and it sets most of a pooled maximum; what centring leaves is
            how each token differs from an ordinary window at the same place and time.

        Returns
        -------
        xarray.DataArray
            The embeddings, named ``"embedding"``, with a ``participant`` coordinate over
            ``window`` (and ``token_minute``, ``token_channel_group`` over ``token`` for
            ``pool="none"``); ``pool``, ``layers`` and ``centre`` are recorded in its attrs.

        Raises
        ------
        ValueError
            If ``pool``, ``layers`` or ``centre`` is not one of the accepted values,
            ``pool="none"`` is combined with ``layers="all"``, or ``windows`` holds no window.

        Notes
        -----
        :class:`lsmkit.probe.LinearProbe` uses ``pool="max+min", layers="all", centre=True``
        (why: ``benchmarks/results/downstream.md``).

        Examples
        --------
        >>> features = model.embed(windows, pool="max+min", layers="all", centre=True)
        """
        stats = _pool_statistics(pool)
        if layers not in ("last", "all"):
            raise ValueError(f"layers must be 'last' or 'all', got {layers!r}")
        if pool == "none" and layers == "all":
            raise ValueError("pool='none' keeps the tokens of the last layer only; use layers='last'")
        _check_flag("centre", centre)
        z = (self._signal(windows) - self.mean) / self.std
        if len(z) == 0:
            raise ValueError("windows hold no window to embed")
        device = next(self.model.parameters()).device
        keep = slice(None, -1) if layers == "all" else slice(-1, None)  # block outputs, or the final embedding
        if centre:  # the average window: z = 0 everywhere, every value present
            average = self.model.embed(torch.from_numpy(np.zeros_like(z[:1])).to(device), every_block=True)
            ref_tokens, ref_classes = (torch.stack(part[keep]).float().cpu().numpy() for part in average)
        chunks = []
        for i in range(0, len(z), self.batch_size):
            batch = torch.from_numpy(z[i : i + self.batch_size]).to(device)
            tokens, classes = self.model.embed(batch, every_block=True)
            tokens = torch.stack(tokens[keep]).float().cpu().numpy()  # (L, B, N, D), NaN for tokens without data
            classes = torch.stack(classes[keep]).float().cpu().numpy()  # (L, B, D)
            if centre:
                tokens, classes = tokens - ref_tokens, classes - ref_classes
            if pool == "none":
                chunks.append(tokens[0])
                continue
            has = ~np.isnan(tokens[0, ..., 0])  # (B, N)
            empty = ~has.any(axis=1)[:, None]  # windows with no data: the class token
            pooled = [np.where(empty, c, _pool_tokens(t, has, stat))  # (B, D) per layer and statistic
                      for t, c in zip(tokens, classes) for stat in stats]
            chunks.append(np.concatenate(pooled, axis=1))
        values = np.concatenate(chunks)
        coords = {"window": windows["window"].values, "participant": ("window", windows["participant"].values)}
        attrs = {"pool": pool, "layers": layers, "centre": "average window" if centre else "none"}
        if pool != "none":
            return xr.DataArray(values, dims=("window", "feature"), coords=coords, name="embedding", attrs=attrs)
        pt, pc = self.model.config.patch
        groups = self.model.n_groups
        token = np.arange(values.shape[1])
        coords.update(token=token, token_minute=("token", (token // groups) * pt),
                      token_channel_group=("token", token % groups))
        return xr.DataArray(values, dims=("window", "token", "feature"), coords=coords, name="embedding",
                            attrs=attrs)
