"""The data model: continuous recordings, window batches, and the step between them.

Two forms of the same per-minute data, both ``xarray.Dataset`` objects with a float32 variable
``signal`` in physical units and NaN wherever the sensor produced no value:

recordings
    Long per-participant data, dims ``("participant", "time", "channel")``. ``time`` is the number
    of elapsed minutes since the participant's ``start`` (a per-participant datetime64 coordinate in
    UTC), so the grid has no duplicates or holes at daylight-saving transitions; the IANA time zone
    of each participant rides along as the ``timezone`` coordinate and :func:`local_time` turns
    offsets into local wall-clock time. Recordings of different lengths are NaN-padded at the end.
windows
    The model's currency, dims ``("window", "time", "channel")`` with ``time`` the minute offset
    within the window and per-window ``participant`` and ``start`` coordinates (DESIGN.md).

Labels ride along as further variables. Per-minute labels have dims ``(..., "time")``; categorical
ones are small integers with CF ``flag_values``/``flag_meanings`` attributes (see
:func:`decode_labels`). Per-participant variables (dims ``("participant",)``) become per-window
variables in :func:`to_windows`. An optional ``truth`` variable holds the values behind every gap
(the simulator writes it) so that imputation can be scored on realistic missingness.
"""

from __future__ import annotations

import warnings
import zoneinfo
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from .channels import CHANNEL_NAMES, CHANNELS, profile_channels, profile_name, resolve_channel

__all__ = [
    "make_windows",
    "make_recordings",
    "to_windows",
    "cut_windows",
    "validate_windows",
    "validate_recordings",
    "local_time",
    "decode_labels",
    "categorical",
    "missing_fraction",
    "restrict",
    "observed_channels",
    "calibration_shifts",
    "shift_calibration",
    "CALIBRATION",
]

#: How devices differ in calibration (issue 18): per device (or participant), heart rate read up to
#: 10 bpm off, skin temperature up to 3 degC off (placement, sensor), EDA scaled by 0.3 to 3 (electrode
#: type and contact; its slope scales with it). Offsets are uniform, the EDA factor log-uniform.
CALIBRATION = {"heart_rate_offset": 10.0, "skin_temperature_offset": 3.0, "eda_scale": (0.3, 3.0)}

_UNITS = {c.name: c.unit for c in CHANNELS}
_GROUPS = {c.name: c.group for c in CHANNELS}


def _channel_coords(channels: Sequence[str]) -> dict:
    channels = [resolve_channel(c) for c in ([channels] if isinstance(channels, str) else channels)]
    if len(set(channels)) != len(channels):
        raise ValueError(f"duplicate channels after alias resolution: {channels}")
    return {
        "channel": ("channel", np.asarray(channels, dtype=object)),
        "unit": ("channel", np.asarray([_UNITS[c] for c in channels], dtype=object)),
        "group": ("channel", np.asarray([_GROUPS[c] for c in channels], dtype=object)),
    }


def _as_signal(signal, dims: tuple[str, str, str]) -> np.ndarray:
    if isinstance(signal, xr.DataArray) and set(signal.dims) == set(dims):
        # Positions, not names, are used below: put the named axes in the expected order first.
        signal = signal.transpose(*dims)
    try:
        values = np.asarray(signal)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"signal must be a regular {dims} array of numbers: {err}") from None
    if values.ndim != len(dims):
        raise ValueError(f"signal must have {len(dims)} dimensions {dims}, got shape {values.shape}")
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
        raise TypeError(f"signal must be real numbers, got dtype {values.dtype}")
    return values.astype(np.float32, copy=False)


def _per_row(name: str, values, n: int, row: str) -> np.ndarray:
    """One value per window/participant, as a 1-D object array; the count must match ``signal``."""
    values = np.asarray(values, dtype=object)
    if values.ndim != 1 or len(values) != n:
        shown = values.tolist() if values.size <= 8 else f"{values.size} values"
        raise ValueError(f"{name} must give one value per {row} ({n} in signal), got {shown!r}")
    return values


def _starts(start, n: int, row: str) -> np.ndarray:
    """Start times as UTC datetime64[ns]: naive times are UTC, timezone-aware ones are converted."""
    values = _per_row("start", np.atleast_1d(np.asarray(start, dtype=object)), n, row)
    try:
        parsed = pd.to_datetime(values, utc=True)
    except (ValueError, TypeError, OverflowError) as err:
        raise ValueError(f"start must hold dates and times, one per {row}: {err}") from None
    if parsed.isna().any():
        raise ValueError(f"start is missing (NaT) for {row} {int(np.argmax(parsed.isna()))}")
    return parsed.tz_localize(None).values.astype("datetime64[ns]")


def _variables(variables: dict, dims: tuple[str, str, str]) -> dict:
    """Keyword arguments of make_*: ``(dims, values[, attrs])`` tuples, or arrays labelled by rank."""
    out = {}
    for name, value in variables.items():
        if isinstance(value, tuple):
            out[name] = value
            continue
        value = np.asarray(value)
        if value.ndim > len(dims):
            raise ValueError(f"variable {name!r} has {value.ndim} dimensions; expected at most {len(dims)} {dims}")
        out[name] = (dims[: value.ndim], value)
    return out


def _check_channel_count(values: np.ndarray, coords: dict) -> None:
    names = list(coords["channel"][1])
    if values.shape[2] != len(names):
        raise ValueError(f"signal has {values.shape[2]} channel(s) along its last axis, but channels names "
                         f"{len(names)}: {names}")


def make_windows(
    signal,
    *,
    participant: Sequence[str],
    start,
    channels: Sequence[str] = CHANNEL_NAMES,
    **variables,
) -> xr.Dataset:
    """Build a window batch from a ``(window, time, channel)`` array in physical units.

    Parameters
    ----------
    signal : array-like or xarray.DataArray
        Real numbers of shape ``(window, time, channel)``, in physical units, NaN where missing.
    participant : sequence of str
        One participant per window.
    start : sequence of datetime-like
        One start time per window (naive times are UTC, timezone-aware ones are converted).
    channels : sequence of str, default CHANNEL_NAMES
        Names of the last axis (canonical names or aliases).
    **variables
        Further variables: a 1-D array is a per-window label, a 2-D one a per-minute label, or
        pass ``(dims, values)`` tuples.

    Returns
    -------
    xarray.Dataset
        The window batch, validated by :func:`validate_windows`.

    Raises
    ------
    ValueError
        If the shapes, counts, start times or channel names are inconsistent.
    TypeError
        If ``signal`` is not real numbers.
    """
    values = _as_signal(signal, ("window", "time", "channel"))
    n_window, n_time, _ = values.shape
    coords = {
        "window": np.arange(n_window),
        "time": ("time", np.arange(n_time, dtype=np.int32), {"long_name": "minutes since the window start"}),
        "participant": ("window", _per_row("participant", participant, n_window, "window")),
        "start": ("window", _starts(start, n_window, "window")),
        **_channel_coords(channels),
    }
    _check_channel_count(values, coords)
    data_vars = {"signal": (("window", "time", "channel"), values)}
    data_vars.update(_variables(variables, ("window", "time", "channel")))
    ds = xr.Dataset(data_vars, coords=coords)
    validate_windows(ds)
    return ds


def make_recordings(
    signal,
    *,
    participant: Sequence[str],
    start,
    channels: Sequence[str] = CHANNEL_NAMES,
    timezone: Sequence[str] | str = "UTC",
    **variables,
) -> xr.Dataset:
    """Build recordings from a ``(participant, time, channel)`` array of per-minute values.

    Parameters
    ----------
    signal : array-like or xarray.DataArray
        Real numbers of shape ``(participant, time, channel)``, in physical units, NaN where
        missing.
    participant : sequence of str
        One name per participant.
    start : sequence of datetime-like
        Each participant's first minute in UTC (naive or tz-aware timestamps; aware ones are
        converted).
    channels : sequence of str, default CHANNEL_NAMES
        Names of the last axis (canonical names or aliases).
    timezone : str or sequence of str, default "UTC"
        One IANA time zone name for all participants, or one per participant.
    **variables
        Further variables as in :func:`make_windows`, with ``participant`` in place of
        ``window``.

    Returns
    -------
    xarray.Dataset
        The recordings, validated by :func:`validate_recordings`.

    Raises
    ------
    ValueError
        If the shapes, counts, start times, time zones or channel names are invalid.
    TypeError
        If ``signal`` is not real numbers.
    """
    values = _as_signal(signal, ("participant", "time", "channel"))
    n_participant, n_time, _ = values.shape
    if isinstance(timezone, str):
        timezone = [timezone] * n_participant
    coords = {
        "participant": ("participant", _per_row("participant", participant, n_participant, "participant")),
        "time": ("time", np.arange(n_time, dtype=np.int32), {"long_name": "minutes since the participant start"}),
        "start": ("participant", _starts(start, n_participant, "participant"), {"timezone": "UTC"}),
        "timezone": ("participant", _zones(timezone, n_participant)),
        **_channel_coords(channels),
    }
    _check_channel_count(values, coords)
    data_vars = {"signal": (("participant", "time", "channel"), values)}
    data_vars.update(_variables(variables, ("participant", "time", "channel")))
    ds = xr.Dataset(data_vars, coords=coords)
    validate_recordings(ds)
    return ds


def _zones(timezone, n: int) -> np.ndarray:
    zones = _per_row("timezone", timezone, n, "participant")
    for zone in dict.fromkeys(zones.tolist()):
        try:
            zoneinfo.ZoneInfo(str(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {zone!r}; expected an IANA name such as 'Europe/Berlin' or 'UTC'"
            ) from None
    return zones


def _validate(ds, kind: str, dims: tuple[str, str, str]) -> None:
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"{kind} must be an xarray.Dataset, got {type(ds).__name__}")
    if "signal" not in ds:
        raise ValueError(f"{kind} must have a 'signal' variable; found {sorted(ds.data_vars)}")
    if ds["signal"].dims != dims:
        raise ValueError(f"{kind} 'signal' must have dims {dims}, got {ds['signal'].dims}")
    if not np.issubdtype(ds["signal"].dtype, np.floating):
        raise TypeError(f"{kind} 'signal' must be floating point, got {ds['signal'].dtype}")
    for coord in ("channel", dims[0] if dims[0] == "participant" else "participant", "start"):
        if coord not in ds.coords:
            raise ValueError(f"{kind} is missing the {coord!r} coordinate")
    names = [str(c) for c in ds["channel"].values]
    unknown = [c for c in names if c not in CHANNEL_NAMES]
    if unknown:
        raise ValueError(f"{kind} has unknown channels {unknown}; expected canonical names from lsmkit.CHANNELS")
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise ValueError(f"{kind} has duplicate channels {twice}; expected each channel once")
    if not np.issubdtype(ds["start"].dtype, np.datetime64):
        raise TypeError(f"{kind} 'start' coordinate must be datetime64 (UTC), got {ds['start'].dtype}")


def validate_windows(ds) -> None:
    """Check that ``ds`` is a window batch (DESIGN.md).

    Parameters
    ----------
    ds : xarray.Dataset
        The dataset to check.

    Raises
    ------
    TypeError
        If ``ds`` is not a Dataset, or ``signal`` or ``start`` has the wrong dtype.
    ValueError
        If ``signal``, its dims, a coordinate or the channel names are wrong.
    """
    _validate(ds, "windows", ("window", "time", "channel"))


def validate_recordings(ds) -> None:
    """Check that ``ds`` is a recordings dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        The dataset to check.

    Raises
    ------
    TypeError
        If ``ds`` is not a Dataset, or ``signal`` or ``start`` has the wrong dtype.
    ValueError
        If ``signal``, its dims, a coordinate or the channel names are wrong.
    """
    _validate(ds, "recordings", ("participant", "time", "channel"))


def missing_fraction(ds: xr.Dataset, dim=("time", "channel"), channels: Sequence[str] | None = None) -> xr.DataArray:
    """Return the fraction of NaN values in ``signal`` over ``dim``.

    Parameters
    ----------
    ds : xarray.Dataset
        A window batch or recordings.
    dim : str or tuple of str, default ("time", "channel")
        The dimensions to average over.
    channels : sequence of str, optional
        Count only these channels; all by default.

    Returns
    -------
    xarray.DataArray
        The missing fraction, over the dimensions not in ``dim``.
    """
    signal = ds["signal"] if channels is None else ds["signal"].sel(channel=list(channels))
    return signal.isnull().mean(dim)


def to_windows(
    recordings: xr.Dataset,
    minutes: int = 300,
    stride: int | None = None,
    max_missing: float = 0.5,
) -> xr.Dataset:
    """Cut recordings into a window batch.

    Per-minute variables are windowed alongside ``signal``; per-participant variables become
    per-window ones. When a per-minute ``activity`` label is present, per-window ``exercise``
    and ``dominant_activity`` labels are derived from it (see :func:`lsmkit.labels.window_labels`).

    Parameters
    ----------
    recordings : xarray.Dataset
        A recordings dataset (numpy- or dask-backed; dask stays lazy apart from the small
        missingness summary, so larger-than-memory stores window with bounded memory).
    minutes : int, default 300
        Window length in minutes (the paper: 300; LSM-2: 1440).
    stride : int, optional
        Minutes between window starts; defaults to ``minutes`` (no overlap).
    max_missing : float, default 0.5
        Keep windows whose missing fraction is at most this. The fraction counts only channels
        the recordings carry at all (a channel that is NaN everywhere is absent, not missing), so
        data from a device with five sensors is not rejected for lacking the other 21. When no
        window qualifies, the result is an empty batch and a ``UserWarning`` says so.

    Returns
    -------
    xarray.Dataset
        The window batch; its ``window_stride`` and ``max_missing`` attributes record the cut.

    Raises
    ------
    TypeError
        If ``minutes``, ``stride`` or ``max_missing`` is not a number.
    ValueError
        If ``minutes`` or ``stride`` is not a positive integer, ``max_missing`` lies outside
        [0, 1], the recordings are shorter than one window or observe nothing.

    See Also
    --------
    cut_windows : Cut windows at chosen places rather than on a regular grid.

    Examples
    --------
    >>> recordings = lsmkit.simulate(n_participants=2, days=2)
    >>> windows = lsmkit.to_windows(recordings, minutes=300, max_missing=0.5)
    """
    validate_recordings(recordings)
    minutes = _positive_int("minutes", minutes)
    stride = minutes if stride is None else _positive_int("stride", stride)
    if not _is_real(max_missing):
        raise TypeError(f"max_missing must be a fraction in [0, 1], got {max_missing!r}")
    if not 0.0 <= max_missing <= 1.0:
        raise ValueError(f"max_missing must be a fraction in [0, 1], got {max_missing!r}")
    n_time = recordings.sizes["time"]
    if n_time < minutes:
        raise ValueError(f"recordings are {n_time} minutes long, shorter than one {minutes}-minute window")

    offsets = np.arange(0, n_time - minutes + 1, stride)
    present = recordings["signal"].notnull().any(("participant", "time")).compute().values
    if not present.any():
        raise ValueError("recordings hold no observed value in any channel")

    # Missingness of every candidate window from per-minute counts (cumulative sums) read only at
    # the window edges: dask keeps the (P, T) sums lazy and computes just the (P, W) edges, so the
    # summary streams through the chunks without materialising the windows or a (P, T) array.
    per_minute = recordings["signal"].isel(channel=np.flatnonzero(present)).isnull().sum("channel")
    cum = per_minute.cumsum("time")
    end = cum.isel(time=offsets + minutes - 1).variable  # .variable: no alignment on time labels
    before = cum.isel(time=np.maximum(offsets - 1, 0)).variable
    edges = xr.Dataset({"end": end, "before": before}).compute()
    before = np.where(offsets == 0, 0, edges["before"].values)  # nothing precedes minute 0
    frac = (edges["end"].values - before) / (minutes * present.sum())  # (P, W)
    p_idx, w_idx = np.nonzero(frac <= max_missing)
    first = offsets[w_idx]
    if not len(p_idx):  # an empty batch is valid, but almost never what was meant
        warnings.warn(
            f"no {minutes}-minute window has at most {max_missing:g} of its values missing (the sparsest has "
            f"{float(frac.min()):.3g}); returning an empty batch (raise max_missing= to keep sparser windows)",
            UserWarning, stacklevel=2,
        )

    out = cut_windows(recordings, p_idx, first, minutes)
    out.attrs.update(window_stride=stride, max_missing=float(max_missing))
    return out


def _is_real(value) -> bool:
    """A real number, and not a bool (``True`` is an int to Python, but never a meant count)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _positive_int(name: str, value) -> int:
    """A positive whole number (an int, or a float without fraction such as ``300.0``)."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if not np.isfinite(value) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def cut_windows(recordings: xr.Dataset, participant, first, minutes: int) -> xr.Dataset:
    """Cut a window batch at chosen places.

    Window ``w`` is recording row ``participant[w]`` from minute ``first[w]`` on, ``minutes``
    long. :func:`to_windows` cuts on a regular grid; this is for windows placed by other rules,
    such as around exercise sessions (:func:`lsmkit.downstream.session_windows`). Variables and
    labels ride along exactly as in :func:`to_windows`.

    Parameters
    ----------
    recordings : xarray.Dataset
        A recordings dataset.
    participant : array-like of int
        For each window, the integer position of its recording row.
    first : array-like of int
        For each window, its first minute within the recording.
    minutes : int
        Window length in minutes.

    Returns
    -------
    xarray.Dataset
        The window batch.

    Raises
    ------
    ValueError
        If ``participant`` and ``first`` differ in length, or a window lies outside the
        recordings.
    """
    validate_recordings(recordings)
    p_idx = np.asarray(participant, dtype=np.int64).reshape(-1)
    first = np.asarray(first, dtype=np.int64).reshape(-1)
    minutes = int(minutes)
    if p_idx.shape != first.shape:
        raise ValueError(f"participant and first must have the same length, got {p_idx.size} and {first.size}")
    if p_idx.size and (p_idx.min() < 0 or p_idx.max() >= recordings.sizes["participant"]):
        raise ValueError(f"participant positions must lie in [0, {recordings.sizes['participant']}), "
                         f"got {p_idx.min()}..{p_idx.max()}")
    if first.size and (first.min() < 0 or first.max() + minutes > recordings.sizes["time"]):
        raise ValueError(f"windows must lie inside the {recordings.sizes['time']}-minute recordings; got first "
                         f"minutes {first.min()}..{first.max()} for {minutes}-minute windows")
    per_minute_vars = [v for v in recordings.data_vars if "time" in recordings[v].dims]
    per_participant_vars = [v for v in recordings.data_vars if recordings[v].dims == ("participant",)]

    out = _gather_windows(recordings[per_minute_vars], p_idx, first, int(minutes))
    out = out.assign_coords(
        window=np.arange(len(p_idx)),
        time=("time", np.arange(minutes, dtype=np.int32), {"long_name": "minutes since the window start"}),
        participant=("window", recordings["participant"].values[p_idx]),
        start=("window", recordings["start"].values[p_idx] + first.astype("timedelta64[m]")),
        timezone=("window", recordings["timezone"].values[p_idx]) if "timezone" in recordings.coords else None,
    )
    if "timezone" not in recordings.coords:
        out = out.drop_vars("timezone")
    for var in per_participant_vars:
        out[var] = ("window", recordings[var].values[p_idx], recordings[var].attrs)
    if "activity" in out:
        from .labels import window_labels

        out = out.assign(window_labels(out["activity"]))
    out = out.transpose("window", "time", "channel", ...)
    out.attrs = dict(recordings.attrs, window_minutes=minutes)
    return out


def _gather_windows(ds: xr.Dataset, p_idx: np.ndarray, first: np.ndarray, minutes: int) -> xr.Dataset:
    """Cut per-minute variables ``(participant, time, ...)`` into ``(window, time, ...)``.

    Window ``w`` is participant ``p_idx[w]`` from minute ``first[w]`` on. numpy-backed variables
    use one vectorised index; dask-backed ones are cut by :func:`_gather_lazy`.
    """
    out = {}
    for name, var in ds.data_vars.items():
        if "participant" not in var.dims:  # shared by all participants: a broadcast view
            var = var.expand_dims(participant=ds.sizes["participant"])
        var = var.transpose("participant", "time", ...)
        if var.chunks is None:
            data = var.values[p_idx[:, None], first[:, None] + np.arange(minutes)]  # (P, T, ...) -> (W, m, ...)
        else:
            data = _gather_lazy(var.data, p_idx, first, minutes)
        out[name] = (("window", "time", *var.dims[2:]), data, var.attrs)
    coords = {k: v for k, v in ds.coords.items() if not {"participant", "time"} & set(v.dims)}
    return xr.Dataset(out, coords=coords)


def _gather_lazy(data, p_idx: np.ndarray, first: np.ndarray, minutes: int, per_chunk: int = 64):
    """Dask version of the window gather: ``(P, T, ...) -> (W, minutes, ...)``, still lazy.

    A vectorised dask index would store windows x minutes integers in its task graph (more than
    the windows themselves for year-long stores). Instead each run of at most ``per_chunk``
    windows of one participant becomes one output chunk cut from one lazy slice of its record,
    so the graph grows with windows / ``per_chunk`` and computing a batch reads only its chunks.
    """
    import dask.array as da

    pieces, start = [], 0
    for end in range(1, len(p_idx) + 1):
        if (
            end < len(p_idx)
            and end - start < per_chunk
            and p_idx[end] == p_idx[start]
            and first[end] - first[start] < per_chunk * minutes  # sparse windows: bound the slice
        ):
            continue
        rel = first[start:end] - first[start]
        span = data[p_idx[start], first[start] : first[end - 1] + minutes].rechunk({0: -1})  # (L, ...)
        pieces.append(
            da.map_blocks(
                _cut, span, rel=rel, minutes=minutes, new_axis=0, dtype=data.dtype,
                chunks=((len(rel),), (minutes,), *span.chunks[1:]),
            )
        )
        start = end
    return da.concatenate(pieces, axis=0)


def _cut(block: np.ndarray, rel: np.ndarray, minutes: int) -> np.ndarray:
    """Windows of ``minutes`` starting at offsets ``rel`` of one slice: (L, ...) -> (k, minutes, ...)."""
    return np.stack([block[r : r + minutes] for r in rel])


def local_time(ds: xr.Dataset) -> xr.DataArray:
    """Return the local wall-clock datetime64 of every minute, from ``start`` (UTC) and ``timezone``.

    Works for both forms (window batches and recordings). Without a ``timezone`` coordinate,
    every row is taken to be in UTC.

    Parameters
    ----------
    ds : xarray.Dataset
        A window batch or recordings.

    Returns
    -------
    xarray.DataArray
        Naive local datetime64 values with dims ``(participant, time)`` or ``(window, time)``.
    """
    row = "window" if "window" in ds.dims else "participant"
    zones = ds["timezone"].values if "timezone" in ds.coords else ["UTC"] * ds.sizes[row]
    offsets = pd.to_timedelta(ds["time"].values, unit="min")
    rows = []
    for start, zone in zip(pd.to_datetime(ds["start"].values), zones):
        utc = (start + offsets).tz_localize("UTC")
        rows.append(utc.tz_convert(zone).tz_localize(None).values)
    return xr.DataArray(np.stack(rows), dims=(row, "time"), coords={row: ds[row], "time": ds["time"]})


def categorical(codes, categories: Sequence[str], **attrs) -> tuple:
    """Build a ``(values, attrs)`` pair for a CF-style categorical label.

    Parameters
    ----------
    codes : array-like of int
        Category codes, positions in ``categories``; stored as int8.
    categories : sequence of str
        The category names, in code order (the ``flag_meanings``).
    **attrs
        Further attributes of the label.

    Returns
    -------
    tuple
        ``(values, attrs)`` with ``flag_values`` and ``flag_meanings`` in ``attrs``.
    """
    return np.asarray(codes, dtype=np.int8), {
        "flag_values": np.arange(len(categories), dtype=np.int8),
        "flag_meanings": " ".join(categories),
        **attrs,
    }


def decode_labels(da: xr.DataArray) -> xr.DataArray:
    """Turn a CF-style categorical label (``flag_values``/``flag_meanings``) into strings.

    Parameters
    ----------
    da : xarray.DataArray
        A categorical label.

    Returns
    -------
    xarray.DataArray
        The same label with category names in place of codes.

    Raises
    ------
    ValueError
        If ``da`` has no ``flag_meanings`` attribute.
    """
    if "flag_meanings" not in da.attrs:
        raise ValueError(f"{da.name!r} is not a categorical label (no 'flag_meanings' attribute)")
    names = np.asarray(da.attrs["flag_meanings"].split(), dtype=object)
    codes = np.asarray(da.attrs.get("flag_values", np.arange(len(names))))
    lookup = dict(zip(codes.tolist(), names))
    decoded = np.vectorize(lookup.get, otypes=[object])(da.values)
    return da.copy(data=decoded)


def observed_channels(ds: xr.Dataset) -> list[str]:
    """Return the channels of a window batch or recordings that hold at least one observed value.

    Parameters
    ----------
    ds : xarray.Dataset
        A window batch or recordings.

    Returns
    -------
    list of str
        The observed channels, in the dataset's order.
    """
    signal = ds["signal"]
    observed = signal.notnull().any([d for d in signal.dims if d != "channel"]).values
    return [str(c) for c, seen in zip(ds["channel"].values, observed) if seen]


def restrict(ds: xr.Dataset, profile) -> xr.Dataset:
    """Return what a device of ``profile`` would have recorded: every other channel made absent (NaN).

    Works on window batches and recordings alike; the channel dimension keeps its size (absent
    channels are all-NaN, which no metric scores), and ``truth``, where the simulator wrote it, is
    made absent in the same channels, so that nothing the device lacks can be scored.

    Parameters
    ----------
    ds : xarray.Dataset
        A window batch or recordings.
    profile : str or list of str
        A name in :data:`lsmkit.DEVICE_PROFILES` (``"smartwatch"``, ``"ring"``, ...) or a list of
        channel names.

    Returns
    -------
    xarray.Dataset
        A copy of ``ds``; its ``profile`` attribute names the profile.

    Raises
    ------
    ValueError
        For an unknown profile or channel, an empty profile, or data that observes none of the
        profile's channels.
    TypeError
        If ``ds`` is not a Dataset with a ``signal`` over ``channel``.

    Examples
    --------
    >>> watch = lsmkit.restrict(windows, "smartwatch")
    >>> watch.attrs["profile"]
    'smartwatch'
    """
    if not isinstance(ds, xr.Dataset) or "signal" not in ds or "channel" not in ds["signal"].dims:
        raise TypeError(f"restrict takes a window batch or recordings (an xarray.Dataset with a 'signal' over "
                        f"'channel'), got {type(ds).__name__}")
    keep = profile_channels(profile)
    name = profile_name(profile)
    held = [c for c in observed_channels(ds) if c in keep]
    if not held:
        raise ValueError(f"the data observe none of profile {name!r}'s channels {list(keep)}; they observe "
                         f"{observed_channels(ds) or 'nothing'}")
    absent = ~np.isin(ds["channel"].values.astype(str), keep)  # (C,)
    out = ds.copy()
    for var in ("signal", "truth"):
        if var in ds:
            out[var] = ds[var].where(xr.DataArray(~absent, dims="channel", coords={"channel": ds["channel"]}))
            out[var] = out[var].astype(ds[var].dtype)
    out.attrs = {**ds.attrs, "profile": name}
    return out


def calibration_shifts(n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` random device calibrations as ``(scale, offset)``.

    A device reads ``value * scale + offset``. Draws follow :data:`CALIBRATION`.

    Parameters
    ----------
    n : int
        How many calibrations to draw.
    rng : int, numpy.random.Generator or None
        Seed or generator; ``None`` for a fresh one.

    Returns
    -------
    scale, offset : numpy.ndarray
        Two ``(n, 26)`` float32 arrays, in canonical channel order.
    """
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    C = len(CHANNEL_NAMES)
    index = {c: i for i, c in enumerate(CHANNEL_NAMES)}
    scale, offset = np.ones((n, C), dtype=np.float32), np.zeros((n, C), dtype=np.float32)
    offset[:, index["heart_rate"]] = rng.uniform(-1, 1, n) * CALIBRATION["heart_rate_offset"]
    offset[:, index["skin_temperature"]] = rng.uniform(-1, 1, n) * CALIBRATION["skin_temperature_offset"]
    low, high = CALIBRATION["eda_scale"]
    factor = np.exp(rng.uniform(np.log(low), np.log(high), n))
    scale[:, index["scl"]] = scale[:, index["scl_slope"]] = factor
    return scale, offset


def shift_calibration(ds: xr.Dataset, rng=None) -> xr.Dataset:
    """Return ``ds`` as other devices would have read it.

    One random calibration (:func:`calibration_shifts`) per participant is applied to ``signal``
    (and ``truth``). Values are clipped to the channels' valid ranges.

    Parameters
    ----------
    ds : xarray.Dataset
        A window batch or recordings.
    rng : int or numpy.random.Generator, optional
        Seed or generator for the draws.

    Returns
    -------
    xarray.Dataset
        The shifted copy. The draws ride along as variables ``calibration_scale`` and
        ``calibration_offset`` (dims ``(participant, channel)``, or ``(window, channel)`` for a
        window batch), so that errors can be mapped back to the original units.
    """
    participants = pd.unique(np.asarray(ds["participant"].values))
    scale, offset = calibration_shifts(len(participants), rng)
    row = pd.Index(participants).get_indexer(np.asarray(ds["participant"].values))
    dims = ds["signal"].dims
    row_dim = dims[0]  # "window" or "participant"
    channel = [CHANNEL_NAMES.index(str(c)) for c in ds["channel"].values]
    s = xr.DataArray(scale[row][:, channel], dims=(row_dim, "channel"))
    o = xr.DataArray(offset[row][:, channel], dims=(row_dim, "channel"))
    low = xr.DataArray([CHANNELS[i].valid_range[0] for i in channel], dims="channel")
    high = xr.DataArray([CHANNELS[i].valid_range[1] for i in channel], dims="channel")
    out = ds.copy()
    for var in ("signal", "truth"):
        if var in ds:
            out[var] = (ds[var] * s + o).clip(low, high).astype(ds[var].dtype).transpose(*ds[var].dims)
    out["calibration_scale"] = s
    out["calibration_offset"] = o
    return out
