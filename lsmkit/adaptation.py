"""Adapt pretrained weights to your own recordings: masked pretraining continued, self-supervised.

:func:`adapt` continues the shipped (or any exported) weights' masked-autoencoder training on a
user's own recordings or stored windows, with no labels: the same task masks, the device-profile
recipe (whole channels removed, calibration shifts), validation on held-out days or participants
of the user's data, a progress bar, a checkpoint every few steps (rerun the same call to resume,
nothing lost on a crash) and an exported card that :func:`lsmkit.load_pretrained` loads by path.

The split comes first and the windows are cut afterwards, so no training window overlaps a
validation minute (a window batch is split by each participant's window starts, dropping training
windows that reach into the held-out ones). Both sets are written to ``out_dir`` as stores, the
training windows shuffled, and training streams them from there one block at a time
(:class:`lsmkit.train.WindowStream`); recordings passed in memory are windowed in memory first
(about five times their size at the shipped stride of 60 minutes). ``adapt_split.json`` records the
data and split, so that a rerun resumes only the same run.

    card = lsmkit.adapt("lsm-2m", my_recordings, "runs/my-watch", steps=300)
    model = lsmkit.load_pretrained(card)
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from .data import observed_channels, to_windows, validate_recordings, validate_windows

__all__ = ["adapt", "split_held_out", "split_windows", "ADAPT_RECIPE"]

#: What adapting changes in the weights' own training recipe (the rest is kept): a short run at a
#: low peak learning rate, so that a few hundred steps on a few days move the weights towards the
#: user's device without forgetting what the pretraining taught, and the device-profile recipe
#: (issue 18) so that the model keeps working when some of the user's channels drop out.
ADAPT_RECIPE: dict = {
    "batch_size": 16,
    "lr": 2e-4,
    "warmup": 0.1,
    "channel_dropout": 0.3,
    "calibration": 0.3,
    "val_every": 50,
    "checkpoint_every": 25,
    "val_windows": 64,
    "val_profiles": (),
}

_TRAIN_STORE, _VAL_STORE, _MANIFEST = "adapt_train.nc", "adapt_validation.nc", "adapt_split.json"


def split_held_out(recordings: xr.Dataset, held_out: float = 0.25, by: str = "day") -> tuple[xr.Dataset, xr.Dataset]:
    """Split recordings into (training, validation) recordings that share no minute.

    Parameters
    ----------
    recordings : xarray.Dataset
        A recordings dataset.
    held_out : float, default 0.25
        The share held out for validation, strictly between 0 and 1.
    by : {"day", "participant"}, default "day"
        ``"day"`` keeps each participant's first whole days of its own recorded span (first to
        last observed minute) for training and the last ``held_out`` share of them (at least one
        day, with any partial day after it) for validation, and a participant with less than two
        whole days only trains; ``"participant"`` holds out the last ``held_out`` share of
        participants (at least one) whole.

    Returns
    -------
    train, val : xarray.Dataset
        The training and validation recordings.

    Raises
    ------
    ValueError
        If ``by`` or ``held_out`` is invalid, ``by="participant"`` has fewer than 2 participants,
        or ``by="day"`` finds no participant with at least 2 whole days of recorded values.
    """
    validate_recordings(recordings)
    if by not in ("day", "participant"):
        raise ValueError(f"by must be 'day' or 'participant', got {by!r}")
    if isinstance(held_out, bool) or not isinstance(held_out, (int, float)) or not 0 < held_out < 1:
        raise ValueError(f"held_out must be a share strictly between 0 and 1, got {held_out!r}")
    if by == "participant":
        n = recordings.sizes["participant"]
        if n < 2:
            raise ValueError(f"by='participant' needs at least 2 participants, got {n}; use by='day'")
        n_val = min(n - 1, max(1, round(held_out * n)))
        return recordings.isel(participant=slice(0, n - n_val)), recordings.isel(participant=slice(n - n_val, n))
    # each participant's own recorded span: an export of years of phone steps before a watch came
    # along, or a participant who joined late, is split within what it recorded, not the whole grid
    observed = recordings["signal"].notnull().any("channel").values  # (participant, time)
    cuts = []
    for row in observed:
        minutes = np.flatnonzero(row)
        days = 0 if not len(minutes) else (minutes[-1] - minutes[0] + 1) // 1440
        if days >= 2:
            n_val = min(days - 1, max(1, round(held_out * days)))
            cuts.append(minutes[0] + (days - n_val) * 1440)
        else:  # too short to hold a day out: it only trains
            cuts.append(recordings.sizes["time"])
    cuts = np.array(cuts)
    if (cuts == recordings.sizes["time"]).all():
        raise ValueError(f"by='day' needs a participant with at least 2 whole days of recorded values, got "
                         f"{recordings.sizes['time']} minutes; record longer or use by='participant'")
    minute = np.arange(recordings.sizes["time"])
    before = xr.DataArray(minute[None, :] < cuts[:, None], dims=("participant", "time"))
    train, val = _masked(recordings, before), _masked(recordings, ~before)
    return train.isel(time=slice(0, int(cuts.max()))), _minutes(val, int(cuts.min()), recordings.sizes["time"])


def _masked(recordings: xr.Dataset, keep: xr.DataArray) -> xr.Dataset:
    """Recordings with the measured values (``signal``, and the simulator's ``truth``) outside ``keep`` NaN."""
    out = recordings.copy()
    for name in ("signal", "truth"):
        if name in out:
            out[name] = out[name].where(keep)
    return out


def _minutes(recordings: xr.Dataset, first: int, last: int) -> xr.Dataset:
    """Minutes ``first`` to ``last`` of recordings, as recordings that start at minute ``first``."""
    part = recordings.isel(time=slice(first, last))
    start = part["start"].values + np.timedelta64(first, "m")
    return part.assign_coords(time=part["time"] - first, start=("participant", start, part["start"].attrs))


def split_windows(windows: xr.Dataset, held_out: float = 0.25, by: str = "day") -> tuple[xr.Dataset, xr.Dataset]:
    """Split a window batch into (training, validation) batches that share no minute.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch with ``participant`` and ``start`` coordinates.
    held_out : float, default 0.25
        The share held out for validation, strictly between 0 and 1.
    by : {"day", "participant"}, default "day"
        ``"day"`` holds out each participant's last ``held_out`` share of windows (by ``start``)
        and drops that participant's training windows that reach into the first held-out one
        (windows cut with a stride shorter than their length overlap); ``"participant"`` holds
        out the last ``held_out`` share of participants whole. Participants with a single window
        only train.

    Returns
    -------
    train, val : xarray.Dataset
        The training and validation window batches.

    Raises
    ------
    ValueError
        If ``by`` or ``held_out`` is invalid, ``by="participant"`` has windows of fewer than 2
        participants, or no window is held out.
    """
    if by not in ("day", "participant"):
        raise ValueError(f"by must be 'day' or 'participant', got {by!r}")
    if isinstance(held_out, bool) or not isinstance(held_out, (int, float)) or not 0 < held_out < 1:
        raise ValueError(f"held_out must be a share strictly between 0 and 1, got {held_out!r}")
    who = np.asarray(windows["participant"].values).astype(str)
    start = windows["start"].values
    length = np.timedelta64(windows.sizes["time"], "m")
    people = list(dict.fromkeys(who))
    train, val = np.zeros(len(who), bool), np.zeros(len(who), bool)
    if by == "participant":
        if len(people) < 2:
            raise ValueError(f"by='participant' needs windows of at least 2 participants, got {len(people)}; use by='day'")
        n_val = min(len(people) - 1, max(1, round(held_out * len(people))))
        val = np.isin(who, people[len(people) - n_val:])
        train = ~val
    else:
        for person in people:
            rows = np.flatnonzero(who == person)
            rows = rows[np.argsort(start[rows], kind="stable")]
            if len(rows) < 2:
                train[rows] = True
                continue
            n_val = min(len(rows) - 1, max(1, round(held_out * len(rows))))
            val[rows[len(rows) - n_val:]] = True
            cutoff = start[rows[len(rows) - n_val]]
            train[rows[: len(rows) - n_val]] = start[rows[: len(rows) - n_val]] + length <= cutoff
    if not val.any():
        raise ValueError("no participant has 2 or more windows to hold one out; pass more windows or by='participant'")
    return windows.isel(window=np.flatnonzero(train)), windows.isel(window=np.flatnonzero(val))


def _windows(data, minutes: int, stride: int, held_out: float, by: str, max_missing: float):
    """(training, validation) window batches from recordings, or from a window batch split by window."""
    if isinstance(data, (str, os.PathLike)):
        from .io import open_dataset

        data = open_dataset(data)
    if not isinstance(data, xr.Dataset):
        raise TypeError(f"data must be recordings, a window batch or the path of a store, got {type(data).__name__}")
    if "signal" in data and data["signal"].dims[:1] == ("window",):
        validate_windows(data)
        if data.sizes["time"] != minutes:
            raise ValueError(f"the weights read windows of {minutes} minutes; these have {data.sizes['time']}")
        return split_windows(data, held_out, by)
    train_rec, val_rec = split_held_out(data, held_out, by)
    for what, part in (("training", train_rec), ("validation", val_rec)):
        if not observed_channels(part):
            raise ValueError(f"the {what} part of the data (by={by!r}, held_out={held_out}) holds no observed value; "
                             f"the data needs more recorded time, or another split")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="no window", category=UserWarning)
        return (to_windows(train_rec, minutes, stride=stride, max_missing=max_missing),
                to_windows(val_rec, minutes, stride=minutes, max_missing=max_missing))


def adapt(init: str, data, out_dir, *, steps: int = 300, held_out: float = 0.25, by: str = "day",
          max_missing: float = 0.5, seed: int = 0, until: int | None = None, progress: bool = True,
          name: str = "adapted", **recipe) -> Path:
    """Continue the masked pretraining of weights ``init`` on your own data; returns the exported card.

    Parameters
    ----------
    init : str
        A shipped name (``"lsm-2m"``) or the path of an exported card to start from. The run keeps
        its architecture, patch, window length and z-scoring statistics.
    data : xarray.Dataset or path
        Recordings (e.g. from :func:`lsmkit.read_device` or :func:`lsmkit.read_table`) or a window
        batch, in memory or as a netCDF/zarr store.
    out_dir : path
        Receives the training and validation stores, ``checkpoint.pt`` (every
        ``checkpoint_every`` steps) and the exported card ``<name>.json`` with its weights.
    steps : int, default 300
        Training steps (batches of ``batch_size`` windows); ``benchmarks/adapt.py`` measures
        their rate.
    held_out, by
        What validation sees: the last ``held_out`` share of each participant's days (``by="day"``)
        or of the participants (``by="participant"``); for a window batch, of its windows.
    max_missing : float, default 0.5
        Windows cut from recordings keep at most this share of missing values, counted over the
        channels the data carries (:func:`lsmkit.to_windows`). Exports that sample every few
        minutes (an Apple Watch's heart rate at rest) need a value closer to 1.
    seed : int
        Everything random (masks, augmentations, batch order) follows from it.
    until : int, optional
        Stop after this step (with a checkpoint and an export); the same call later resumes.
    progress : bool
        Show a progress bar.
    name : str
        The exported card's name.
    **recipe
        :class:`lsmkit.train.TrainConfig` fields overriding :data:`ADAPT_RECIPE` and the weights'
        recipe (e.g. ``lr=1e-4``, ``channel_dropout=0``).

    Returns
    -------
    pathlib.Path
        The card, ``out_dir / f"{name}.json"``; its ``training.steps`` says how far the run got.
    """
    from .pretrained import export_weights, load_pretrained
    from .train import TrainConfig, load_checkpoint, train

    source = load_pretrained(init)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shipped = source.card["training"]["config"]
    minutes = int(source.card["window_minutes"])
    train_path, val_path = out_dir / _TRAIN_STORE, out_dir / _VAL_STORE
    keep = {k: v for k, v in shipped.items() if k in TrainConfig.__dataclass_fields__}
    keep.update(ADAPT_RECIPE)
    keep.update(max_missing=max_missing)
    keep.update(recipe)
    keep.update(steps=steps, seed=seed, init=str(init), windows=str(train_path), val_data=str(val_path))
    config = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in keep.items()})
    split = {"init": str(init), "data": _describe(data), "held_out": held_out, "by": by, "minutes": minutes,
             "stride": config.stride, "max_missing": config.max_missing, "seed": seed}
    manifest = out_dir / _MANIFEST
    if train_path.exists() and val_path.exists() and manifest.exists():  # a resumed run reuses its stores
        if json.loads(manifest.read_text()) != split:
            raise ValueError(f"{out_dir} holds an adapting run on other data or another split "
                             f"({manifest.name}: {manifest.read_text().strip()}); use another out_dir")
    else:
        train_windows, val_windows = _windows(data, minutes, config.stride, held_out, by, config.max_missing)
        for what, windows in (("training", train_windows), ("validation", val_windows)):
            if windows.sizes["window"] == 0:
                raise ValueError(f"no {what} window of {minutes} minutes with at most {config.max_missing:.0%} of "
                                 f"its values missing: the data needs more recorded time or, when the device samples "
                                 f"sparsely (every few minutes), a larger max_missing")
        if train_windows.sizes["window"] < config.batch_size:
            raise ValueError(f"{train_windows.sizes['window']} training windows, fewer than one batch of "
                             f"{config.batch_size}: adapt on more recorded time or pass a smaller batch_size")
        # shuffled once on disk, so that every block the stream reads mixes participants and days
        order = np.random.default_rng([seed, 61]).permutation(train_windows.sizes["window"])
        _save_pair(train_windows.isel(window=order), val_windows, train_path, val_path)
        manifest.write_text(json.dumps(split) + "\n")
    train(config, out_dir, until=until, progress=progress)
    checkpoint = load_checkpoint(out_dir / "checkpoint.pt")
    notes = (f"adapted from {init} on {config.windows} ({_count(train_path)} windows; validation on "
             f"{_count(val_path)} held-out windows, by {by}); observed channels: "
             f"{', '.join(_observed(val_path))}")
    card_path = export_weights(checkpoint, out_dir / name, notes=notes)
    if "correction_scale" in source.card:  # fitted for the init weights, which adapting moves only a little
        card = json.loads(card_path.read_text())
        card["correction_scale"] = source.card["correction_scale"]
        card_path.write_text(json.dumps(card, indent=1))
    return card_path


def _save_pair(train_windows: xr.Dataset, val_windows: xr.Dataset, train_path: Path, val_path: Path) -> None:
    """Write both stores, the validation one last, so that a crash in between leaves no pair behind."""
    from .io import save

    for path in (val_path, train_path):
        path.unlink(missing_ok=True)
    save(train_windows, train_path)
    tmp = val_path.with_name(val_path.stem + ".tmp.nc")
    save(val_windows, tmp, overwrite=True)
    os.replace(tmp, val_path)


def _describe(data) -> dict:
    """What identifies the data a run adapts on, cheaply: a store's path, or an in-memory dataset's
    sizes, participants and first start."""
    if isinstance(data, (str, os.PathLike)):
        return {"path": str(Path(data).resolve())}
    if not isinstance(data, xr.Dataset):
        return {"type": type(data).__name__}
    return {"sizes": {str(k): int(v) for k, v in data.sizes.items()},
            "participants": [str(v) for v in np.unique(np.asarray(data["participant"].values).astype(str))][:50],
            "first_start": str(np.asarray(data["start"].values).min()) if "start" in data.coords else None}


def _observed(path: Path) -> list[str]:
    from .io import load_dataset

    return list(observed_channels(load_dataset(path)))


def _count(path: Path) -> int:
    from .io import open_dataset

    return int(open_dataset(path).sizes["window"])

