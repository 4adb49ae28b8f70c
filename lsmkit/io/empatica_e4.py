"""Empatica E4 sessions in: the folder or zip that E4 connect downloads, as per-minute LSM channels.

The layout, as Empatica documents it (support article "Data export and formatting from E4
connect", support.empatica.com/hc/en-us/articles/201608896, and the ``info.txt`` shipped in every
download, e.g. im-ethz/flirt ``test/wearable-data/empatica/info.txt``):

- every CSV starts with two header rows: the session start as a UNIX timestamp in seconds (UTC;
  article 202800715 "Session start-time format and synchronization": the E4 stores no time zone)
  and the sample rate in Hz; ``ACC.csv`` repeats both once per column;
- ``ACC.csv``: 32 Hz, three columns x, y, z in units of 1/64 g (range +-2 g);
- ``BVP.csv``: 64 Hz photoplethysmogram; ``EDA.csv``: 4 Hz, microsiemens; ``TEMP.csv``: 4 Hz, degC;
- ``HR.csv``: 1 Hz average heart rate over 10 s spans, so it starts 10 s after the session;
- ``IBI.csv``: first row ``start, IBI``; then rows ``offset_s, interval_s``: the time of a beat
  after the start and the interval since the previous beat (gaps where the BVP was unusable);
- ``tags.csv``: button presses (UNIX times); ``info.txt``: the description above.

Mapping (through :mod:`lsmkit.features`, so channels mean what the simulator's mean): IBI ->
the nine beat channels (:func:`~lsmkit.features.beats_to_minutes`; time = start + offset, the
beat ending the interval); ACC -> steps and the nine motion channels (1/64 g -> g, ``axis_mean``
on z); EDA -> ``scl``, ``scl_slope``, ``eda_lead_contact``; TEMP -> the two temperature channels;
HR.csv -> ``heart_rate`` only in minutes where the beats give none (the device's own average as
the fallback). BVP, tags and any other file are left out and listed in ``attrs["skipped"]``.
Each stream is placed by its own start row; files whose starts differ are read and reported.
Numbers are held per stream as float32 and featurised an hour at a time.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .. import features
from ..physiology import simulate_beats
from .tables import read_table

__all__ = ["read", "looks_like", "write_example", "FILES"]

#: The session files: name -> (columns, documented rate in Hz, what it holds).
FILES = {
    "ACC.csv": (3, 32.0, "3-axis acceleration, 1/64 g"),
    "BVP.csv": (1, 64.0, "blood volume pulse"),
    "EDA.csv": (1, 4.0, "electrodermal activity, uS"),
    "HR.csv": (1, 1.0, "average heart rate, bpm"),
    "IBI.csv": (2, None, "inter-beat intervals, s"),
    "TEMP.csv": (1, 4.0, "skin temperature, degC"),
}
_MAPPED = ("ACC.csv", "EDA.csv", "HR.csv", "IBI.csv", "TEMP.csv")
_EARLIEST, _LATEST = 1_262_304_000, 4_102_444_800  # 2010-01-01 and 2100-01-01, UNIX seconds
_ACC_LIMIT = 128  # +-2 g in 1/64 g
_SERIAL = re.compile(r"_(A0[0-9A-Z]{4})(?:\.zip)?$", re.IGNORECASE)  # E4 connect: <start>_<serial>.zip
_CHUNK_ROWS = 1 << 20
_BLOCK_S = 3600  # featurise an hour at a time
_MARGIN_S = 90  # either side: a block starts mid-minute, 60 s reach back to its first minute's start, 30 s more for filters


# ---- the session: a folder or a zip ---------------------------------------------------------------
class _Session:
    """The CSV members of a session folder or zip, by base name, opened as text."""

    def __init__(self, path: Path):
        self.path, self.zip = path, None
        if path.is_dir():
            self.members = {p.name: p for p in sorted(path.iterdir()) if p.is_file()}
        else:
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as error:
                raise ValueError(f"{path.name}: not a readable zip archive ({error}); expected the E4 connect "
                                 f"download of a session") from None
            self.members = {Path(n).name: n for n in self.zip.namelist() if not n.endswith("/")}

    @contextmanager
    def open(self, name: str):
        where = f"{self.path.name}/{name}" if self.zip is None else f"{self.path.name}!{name}"
        try:
            if self.zip is None:
                with open(self.members[name], encoding="utf-8", newline="") as handle:
                    yield handle, where
            else:
                with self.zip.open(self.members[name]) as raw:
                    yield io.TextIOWrapper(raw, encoding="utf-8", newline=""), where
        except (zipfile.BadZipFile, EOFError, UnicodeDecodeError) as error:  # CRC error, truncated member
            raise ValueError(f"{where}: cannot be read ({type(error).__name__}: {error})") from None


def looks_like(path) -> bool:
    """True for a folder or zip holding at least two of the E4 session files (names only)."""
    path = Path(path)
    try:
        if path.is_dir():
            names = {p.name for p in path.iterdir()}
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = {Path(n).name for n in archive.namelist()}
        else:
            return False
    except (OSError, zipfile.BadZipFile):
        return False
    return len(names & set(FILES)) >= 2


# ---- parsing --------------------------------------------------------------------------------------
def _header(handle, where: str, columns: int, rate_expected) -> tuple[float, float | None, int]:
    """The start (UNIX s) and rate rows; returns (start, rate, first data line number)."""
    start_row = handle.readline()
    if not start_row.strip():
        raise ValueError(f"{where}: line 1 is empty; expected the session start as a UNIX timestamp (s)")
    cells = [c.strip() for c in start_row.split(",")]
    if rate_expected is None:  # IBI.csv: "start, IBI"
        if len(cells) != 2 or cells[1].upper() != "IBI":
            raise ValueError(f"{where}: line 1 is {start_row.strip()!r}; expected '<UNIX start>, IBI'")
        cells = cells[:1]
    start = _header_number(cells, where, 1, "the session start as a UNIX timestamp (s)",
                           1 if rate_expected is None else columns)
    if start > 1e11:
        raise ValueError(f"{where}: line 1: start {start:.0f} looks like milliseconds; E4 files give the session "
                         f"start in seconds since 1970 (UTC)")
    if not _EARLIEST <= start <= _LATEST:
        raise ValueError(f"{where}: line 1: start {start:g} is not a UNIX time between 2010 and 2100 (seconds)")
    if rate_expected is None:
        return start, None, 2
    cells = [c.strip() for c in handle.readline().split(",")]
    rate = _header_number(cells, where, 2, "the sample rate in Hz", columns)
    if rate != rate_expected:  # the E4's rates are fixed; anything else is a missing or damaged row
        raise ValueError(f"{where}: line 2: sample rate {rate:g} Hz; the E4 writes this file at "
                         f"{rate_expected:g} Hz")
    return start, rate, 3


def _header_number(cells, where, line, what, columns) -> float:
    try:
        values = [float(c) for c in cells]
    except ValueError:
        raise ValueError(f"{where}: line {line} is {','.join(cells)!r}; expected {what}") from None
    if len(values) != columns or len(set(values)) != 1 or not np.isfinite(values[0]):
        raise ValueError(f"{where}: line {line} is {','.join(cells)!r}; expected {what} "
                         f"{'once' if columns == 1 else f'repeated in all {columns} columns'}")
    return values[0]


def _numbers(handle, where: str, first_line: int, columns: int) -> np.ndarray:
    """The data rows as float32, checked: the right number of cells, all numbers."""
    parts, line = [], first_line
    try:
        reader = pd.read_csv(handle, header=None, dtype=str, chunksize=_CHUNK_ROWS, skip_blank_lines=False,
                             engine="c", na_filter=False)
        for chunk in reader:
            if chunk.shape[1] != columns:  # the first row sets the width: a wider row is extra cells
                extra = chunk.iloc[:, columns:].ne("").any(axis=1) if chunk.shape[1] > columns else chunk.index
                row = int(np.flatnonzero(np.asarray(extra))[0]) if chunk.shape[1] > columns else 0
                _bad_row(where, line + row, chunk.iloc[row], columns)
            values = chunk.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(values).all(axis=1)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                _bad_row(where, line + row, chunk.iloc[row], columns)
            parts.append(values.astype(np.float32 if columns != 2 else np.float64))
            line += len(chunk)
    except pd.errors.ParserError as error:  # a row wider than the first: name its line in the file
        found = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(error))
        at = f"line {line + int(found.group(1)) - 1} has {found.group(2)} cells" if found else str(error)
        raise ValueError(f"{where}: {at}; expected {columns} number{'s' if columns > 1 else ''} per row") from None
    except pd.errors.EmptyDataError:
        pass
    return np.concatenate(parts) if parts else np.zeros((0, columns), np.float32)


def _bad_row(where, line, row, columns):
    cells = ",".join(str(c) for c in row if c != "")
    raise ValueError(f"{where}: line {line} is {cells!r}; expected {columns} number{'s' if columns > 1 else ''} "
                     f"per row")


def _read_stream(session, name):
    """(start s, rate Hz, values, where) of a sampled file, or None when the session lacks it."""
    if name not in session.members:
        return None
    columns, rate_expected, _ = FILES[name]
    with session.open(name) as (handle, where):
        start, rate, first = _header(handle, where, columns, rate_expected)
        values = _numbers(handle, where, first, columns)
    return start, rate, values, where, first


def _read_beats(session):
    if "IBI.csv" not in session.members:
        return None
    with session.open("IBI.csv") as (handle, where):
        start, _, first = _header(handle, where, 2, None)
        rows = _numbers(handle, where, first, 2)
    offset, interval = rows[:, 0], rows[:, 1]
    bad = np.flatnonzero(np.diff(offset) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise ValueError(f"{where}: line {first + i}: beat time {offset[i]:g} s is not after {offset[i - 1]:g} s; "
                         f"expected increasing offsets")
    bad = np.flatnonzero((interval <= 0) | (interval > 60) | (offset < 0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{where}: line {first + i}: offset {offset[i]:g} s, interval {interval[i]:g} s; expected a "
                         f"non-negative offset and an interval between 0 and 60 s")
    return start, offset, interval * 1000.0, where


def _times(start_s: float, rate: float, first: int, n: int) -> np.ndarray:
    """Times of samples ``first .. first + n`` of a stream (datetime64[ns])."""
    ns = np.int64(round(start_s * 1e9)) + np.round((first + np.arange(n)) * (1e9 / rate)).astype(np.int64)
    return ns.astype("datetime64[ns]")


def _in_blocks(start_s, rate, values, featurise) -> pd.DataFrame:
    """``featurise(times, values)`` an hour of samples at a time, with margins so that filters see
    whole minutes; each minute is kept from the block that holds its start."""
    per_block, margin = int(_BLOCK_S * rate), int(_MARGIN_S * rate) + 1
    frames = []
    for a in range(0, max(len(values), 1), per_block):
        lo, hi = max(a - margin, 0), min(a + per_block + margin, len(values))
        frame = featurise(_times(start_s, rate, lo, hi - lo), values[lo:hi])
        first = _times(start_s, rate, a, 1)[0].astype("datetime64[m]") if a else np.datetime64("1677-09-22")
        last = _times(start_s, rate, a + per_block, 1)[0].astype("datetime64[m]")
        keep = (frame.index >= first) & ((frame.index < last) | (a + per_block >= len(values)))
        frames.append(frame[keep])
    return pd.concat(frames) if frames else pd.DataFrame()


# ---- read -----------------------------------------------------------------------------------------
def read(path, *, participant: str | None = None, axis: int = 2, on_out_of_range: str = "nan") -> xr.Dataset:
    """Read an E4 session folder or zip into recordings of one participant.

    Parameters
    ----------
    path : str or path-like
        The session folder, or the zip E4 connect downloads (``<start>_<serial>.zip``).
    participant : str, optional
        The participant id; by default the folder or zip name without its extension.
    axis : {0, 1, 2}, default 2
        The accelerometer axis whose mean is ``axis_mean`` (z, out of the face of the device).
    on_out_of_range : {"nan", "raise"}, default "nan"
        Channels outside their plausible range: set to NaN with a warning, or raise.

    Returns
    -------
    xarray.Dataset
        Recordings (:func:`lsmkit.read_table`) with ``attrs`` ``source``, ``format``
        (``"empatica_e4"``), ``device`` (``"Empatica E4"``, with the serial when the name
        carries one) and ``skipped``.
    """
    path = Path(path)
    session = _Session(path)
    if not set(session.members) & set(_MAPPED):
        raise ValueError(f"{path.name}: holds none of {', '.join(_MAPPED)}; expected an E4 session folder or zip")
    streams, starts = {}, {}
    for name, kind in (("ACC.csv", "accelerometer"), ("EDA.csv", "eda"), ("TEMP.csv", "temperature"),
                       ("HR.csv", "heart_rate")):
        stream = _read_stream(session, name)
        if stream is None:
            continue
        start, rate, values, where, first = stream
        starts[name] = start - (10.0 if name == "HR.csv" else 0.0)
        streams[kind] = _featurise(kind, start, rate, values, where, first, axis, on_out_of_range)
    beats = _read_beats(session)
    if beats is not None:
        start, offset, rr, where = beats
        starts["IBI.csv"] = start
        times = (np.int64(round(start * 1e9)) + np.round(offset * 1e9).astype(np.int64)).astype("datetime64[ns]")
        streams["beats"] = features.beats_to_minutes(times, rr, on_out_of_range=on_out_of_range)
    _check_starts(path, starts)
    try:
        frame = _join(streams)
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from None
    frame.insert(0, "participant", participant or path.name.removesuffix(".zip"))
    rec = read_table(frame.reset_index(), on_out_of_range=on_out_of_range)
    serial = _SERIAL.search(path.name)
    rec.attrs.update(source=path.name, format="empatica_e4",
                     device="Empatica E4" + (f" (serial {serial.group(1).upper()})" if serial else ""),
                     skipped=_skipped(session))
    if rec.attrs["skipped"] != "nothing":
        warnings.warn(f"{path.name}: left out {rec.attrs['skipped']}", UserWarning, stacklevel=2)
    return rec


def _featurise(kind, start, rate, values, where, first, axis, on_out_of_range) -> pd.DataFrame:
    if kind == "accelerometer":
        big = np.flatnonzero(np.abs(values).max(axis=1) > _ACC_LIMIT) if len(values) else []
        if len(big):
            raise ValueError(f"{where}: line {first + big[0]}: {values[big[0]].tolist()} is outside the +-2 g range "
                             f"(+-{_ACC_LIMIT} in 1/64 g)")
        # one call: the featuriser works a chunk of minutes at a time and carries its state across them
        return features.accelerometer_to_minutes(_times(start, rate, 0, len(values)), values / 64.0, rate, axis=axis,
                                                 on_out_of_range=on_out_of_range)
    values = values[:, 0].astype(np.float64)
    if kind == "eda" and (values < 0).any():
        i = int(np.flatnonzero(values < 0)[0])
        raise ValueError(f"{where}: line {first + i}: conductance {values[i]:g} uS is negative")
    function = {"eda": features.eda_to_minutes, "temperature": features.temperature_to_minutes,
                "heart_rate": features.heart_rate_to_minutes}[kind]
    if kind == "heart_rate" and (values < 0).any():
        i = int(np.flatnonzero(values < 0)[0])
        raise ValueError(f"{where}: line {first + i}: heart rate {values[i]:g} bpm is negative")
    return _in_blocks(start, rate, values, lambda t, v: function(t, v, on_out_of_range=on_out_of_range))


def _check_starts(path, starts) -> None:
    """Files of one session share its start (HR.csv 10 s later); report any that do not."""
    if len(set(round(s, 3) for s in starts.values())) > 1:
        listed = ", ".join(f"{n} {pd.Timestamp(s, unit='s')}" for n, s in starts.items())
        warnings.warn(f"{path.name}: the files give different session starts ({listed}); each stream is placed "
                      f"by its own start", UserWarning, stacklevel=3)


def _join(streams) -> pd.DataFrame:
    frames = {k: v for k, v in streams.items() if len(v)}
    if not frames:
        raise ValueError("the session holds no samples in ACC.csv, EDA.csv, HR.csv, IBI.csv or TEMP.csv")
    return features.join_minutes(**frames)


def _skipped(session) -> str:
    left = [n for n in session.members if n not in _MAPPED]
    notes = {"BVP.csv": "BVP.csv (64 Hz pulse wave; its beats are in IBI.csv)",
             "tags.csv": "tags.csv (button presses)", "info.txt": "info.txt (format notes)"}
    return ", ".join(notes.get(n, n) for n in left) or "nothing"  # as the other readers say it


# ---- write_example --------------------------------------------------------------------------------
def write_example(recordings: xr.Dataset, path, *, participant=0, minutes: int | None = None, seed: int = 0) -> Path:
    """Write one participant's recordings as an E4 session: raw streams synthesised from the minutes.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings (e.g. ``lsmkit.simulate(1, days=1)``); ``heart_rate``, ``rmssd``, ``sdnn``,
        ``steps``, ``axis_mean``, ``scl``, ``scl_slope``, ``skin_temperature`` and
        ``skin_temperature_slope`` drive the streams (missing ones fall back to typical values).
    path : str or path-like
        A folder to create, or a ``.zip`` file (name it ``<start>_<serial>.zip`` as E4 connect does).
    participant : int or str, default 0
        Position or id of the participant to write.
    minutes : int, optional
        Write only the first ``minutes`` minutes.
    seed : int, default 0
        Seed of the beat-interval noise.

    Returns
    -------
    pathlib.Path
        ``path``. The session starts at the participant's first minute (UTC). The streams:
        beats from :func:`lsmkit.physiology.simulate_beats` with each minute's mean interval
        ``60000 / heart_rate`` and its SDNN and RMSSD, on the E4's 1/64 s grid (none where
        ``heart_rate`` is NaN); HR.csv the minute's heart rate at 1 Hz from 10 s (carried over
        NaN minutes: the E4 always writes it); ACC a still wrist at ``axis_mean`` bouncing once per
        step (a 2 Hz bout for up to 120 steps, else the whole minute at the cadence), in 1/64 g;
        EDA and TEMP linear ramps with the minute's level and slope (EDA 0 uS, no contact, where
        ``scl`` is NaN; TEMP with 2 decimals as the E4 writes it). BVP is not written. Reading it
        back gives heart_rate within 1 bpm, steps exactly (up to 200 a minute), scl within
        1e-5 uS and skin_temperature within 0.01 degC.
    """
    rec = recordings.isel(participant=participant) if isinstance(participant, int) else \
        recordings.sel(participant=participant)
    if minutes is not None:
        rec = rec.isel(time=slice(0, int(minutes)))
    channel = {str(c): rec["signal"].sel(channel=c).to_numpy().astype(float) for c in rec["channel"].to_numpy()}
    n = rec.sizes["time"]
    get = lambda name, default: channel.get(name, np.full(n, np.nan)) if default is None else \
        np.nan_to_num(channel.get(name, np.full(n, default)), nan=default)
    start = pd.Timestamp(np.asarray(rec["start"]).ravel()[0]).timestamp()
    files = {
        "ACC.csv": _acc_csv(start, get("steps", 0.0), np.clip(get("axis_mean", 0.6), -1, 1)),
        "EDA.csv": _ramp_csv(start, 4, get("scl", None), get("scl_slope", 0.0), "%.6f", carry=False),
        "TEMP.csv": _ramp_csv(start, 4, get("skin_temperature", None), get("skin_temperature_slope", 0.0), "%.2f"),
        "HR.csv": _ramp_csv(start + 10, 1, get("heart_rate", None), np.zeros(n), "%.2f", shift_s=10),
        "IBI.csv": _ibi_csv(start, get("heart_rate", None), get("sdnn", 40.0), get("rmssd", 35.0), seed),
    }
    path = Path(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in files.items():
                archive.writestr(name, text)
    else:
        path.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (path / name).write_text(text)
    return path


def _head(start: float, rate: float, columns: int = 1) -> str:
    return ", ".join([f"{start:.6f}"] * columns) + "\n" + ", ".join([f"{rate:.6f}"] * columns) + "\n"


def _acc_csv(start, steps, up) -> str:
    t = np.arange(32 * 60) / 32.0  # one minute at 32 Hz
    rows = []
    for count, z in zip(np.round(steps).astype(int), up):
        if count > 120:  # the whole minute at the cadence
            bounce = 0.3 * (1 - np.cos(2 * np.pi * count / 60 * t))
        else:  # a bout of `count` steps at 2 Hz in the middle of the minute
            since = t - (30.0 - count / 4.0)
            bounce = np.where((since >= 0) & (since < count / 2.0), 0.3 * (1 - np.cos(4 * np.pi * since)), 0.0)
        gravity = np.array([np.sqrt(1 - z * z), 0.0, z])
        rows.append(np.round(64 * (1 + bounce)[:, None] * gravity).astype(int))
    body = pd.DataFrame(np.concatenate(rows) if rows else np.zeros((0, 3), int)).to_csv(header=False, index=False)
    return _head(start, 32.0, 3) + body


def _ramp_csv(start, rate, level, slope, fmt, carry=True, shift_s=0) -> str:
    """A ramp with each minute's level and slope; NaN minutes carry the last level (or read 0)."""
    level = pd.Series(level).ffill().bfill().fillna(33.0).to_numpy() if carry else np.nan_to_num(level, nan=0.0)
    per_min = int(60 * rate)
    tau = (np.arange(per_min) + 0.0) / per_min  # minutes into the minute
    values = (level[:, None] + slope[:, None] * (tau - tau.mean())).ravel()[int(shift_s * rate):]
    body = "\n".join(fmt % v for v in np.clip(values, 0, None))
    return _head(start, float(rate)) + body + ("\n" if body else "")


def _ibi_csv(start, heart_rate, sdnn, rmssd, seed) -> str:
    """Beat trains through the minutes with a heart rate; a NaN minute ends a train (a gap)."""
    rng = np.random.default_rng(seed)
    trains, train, t = [], [], 0.0  # beat times, ms since the start
    for m, hr in enumerate(heart_rate):
        if not np.isfinite(hr):
            trains.append(train)
            train, t = [], (m + 1) * 60000.0
            continue
        mu = 60000.0 / hr
        sigma = float(np.clip(sdnn[m], 1.0, 0.06 * mu))  # wider would trip the 20 % artefact rule
        rho = float(np.clip(1 - (rmssd[m] / sigma) ** 2 / 2, 0.0, 0.95))
        rr = simulate_beats(mu, sigma, rho, int(60000 / mu) + 3, rng)
        ends = t + np.cumsum(rr - rr.mean() + mu)  # the minute's mean interval exactly
        ends = ends[ends < (m + 1) * 60000.0]
        train.extend(ends.tolist())
        t = ends[-1] if ends.size else t
    rows = []
    for beats in trains + [train]:
        ticks = np.unique(np.round(np.asarray(beats) / 1000.0 * 64)) / 64  # the E4's 1/64 s grid
        rows += [f"{o:.6f},{i:.6f}\n" for o, i in zip(ticks[1:], np.diff(ticks))]  # the first beat has no interval
    return f"{start:.6f}, IBI\n" + "".join(rows)
