"""Recordings out as a Fitbit export: :func:`write_example` (the writer half of :mod:`lsmkit.io.fitbit`, for
tests, teaching notebooks and benchmarks).

The files follow the Google Takeout layout :mod:`lsmkit.io.fitbit` reads (``Takeout/Fitbit/Global Export
Data/heart_rate-*.json``, ``steps-*.json``, ``resting_heart_rate-*.json``, ``Heart Rate Variability/Heart Rate
Variability Details - *.csv`` and ``Your Profile/Profile.csv``), one file per local day, as a folder or a zip.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["write_example"]


def write_example(recordings: xr.Dataset, path, *, participant=None, tz: str | None = None, seed: int = 0) -> Path:
    """Write one participant's recordings as a Fitbit export (Google Takeout layout), a folder or ``.zip``.

    Heart rate becomes integer samples every 5-15 s (at least 4 a minute) whose mean is within 0.125 bpm of
    the minute's value; steps are written per minute (rounded to whole steps); resting heart rate as one
    value a local day (the day's first); RMSSD as the mean of each 5-minute block of the local clock
    (``Heart Rate Variability Details``, written wherever RMSSD is present, not only in sleep). A
    ``Profile.csv`` holds the zone and the participant's name as ``id``. ``read(write_example(rec))``
    gives back steps exactly, heart rate within 0.125 bpm, resting heart rate exactly on the minutes that
    had it (and on the rest of each local day), and RMSSD as the 5-minute block means.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings (:func:`lsmkit.make_recordings`); other channels are not written.
    path : str or path-like
        A folder to create, or a file name ending in ``.zip``.
    participant : str, optional
        Which participant to write; required when there are several (one export is one person).
    tz : str, optional
        Zone of the written wall-clock times; default the participant's ``timezone`` coordinate.
    seed : int, default 0
        Seeds the sample times, jitter and confidences.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from .fitbit import _HRV, _TIME_FORMAT  # here, not at the top: lsmkit.io.fitbit imports this module

    rec = _one(recordings, participant)
    tz = tz or (str(rec["timezone"].values) if "timezone" in rec.coords else "UTC")
    rng = np.random.default_rng(seed)
    utc = pd.DatetimeIndex(rec["start"].values + np.arange(rec.sizes["time"]) * np.timedelta64(1, "m"))
    local = utc.tz_localize("UTC").tz_convert(tz).tz_localize(None)
    value = {c: rec["signal"].sel(channel=c).values.astype(np.float64) if c in rec["channel"] else
             np.full(len(utc), np.nan) for c in ("heart_rate", "steps", "resting_heart_rate", "rmssd")}
    out = {"Your Profile/Profile.csv": "id,full_name,display_name,member_since,timezone\n"
                                       f"{rec['participant'].values},Example Person,Example,2020-01-01,{tz}\n"}
    day = local.normalize()
    t, bpm, conf, sample_day = _samples(local, day, value["heart_rate"], rng)
    hr = [f'{{"dateTime":"{a}","value":{{"bpm":{b},"confidence":{c}}}}}'
          for a, b, c in zip(t.strftime(_TIME_FORMAT), bpm, conf)]
    ok = np.isfinite(value["steps"])
    steps = [f'{{"dateTime":"{a}","value":"{int(round(b))}"}}'
             for a, b in zip(local[ok].strftime(_TIME_FORMAT), value["steps"][ok])]
    for kind, entries, days in (("heart_rate", hr, sample_day), ("steps", steps, day[ok])):
        for d, rows in pd.Series(entries, dtype=object).groupby(np.asarray(days), sort=True):
            out[f"Global Export Data/{kind}-{pd.Timestamp(d):%Y-%m-%d}.json"] = "[" + ",".join(rows) + "]"
    first = pd.Series(value["resting_heart_rate"]).groupby(np.asarray(day)).first().dropna()  # one a local day
    if len(first):
        out[f"Global Export Data/resting_heart_rate-{first.index[0]:%Y-%m-%d}.json"] = json.dumps([
            {"dateTime": f"{d:%m/%d/%y} 00:00:00", "value": {"date": f"{d:%m/%d/%y}", "value": v, "error": 6.8}}
            for d, v in first.items()])
    out.update({f"Heart Rate Variability/{_HRV} - {d:%Y-%m-%d}.csv": text
                for d, text in _hrv_days(utc, tz, value["rmssd"], rng).items()})
    return _write_files(Path(path), {f"Takeout/Fitbit/{k}": v for k, v in out.items()})


def _one(recordings: xr.Dataset, participant) -> xr.Dataset:
    names = [str(p) for p in recordings["participant"].values]
    if participant is None and len(names) != 1:
        raise ValueError(f"a Fitbit export holds one participant; the recordings hold {len(names)} ({names[:5]}); "
                         f"pass participant= one of them")
    if participant is not None and str(participant) not in names:
        raise ValueError(f"participant {participant!r} is not in the recordings; they hold {names[:10]}")
    return recordings.isel(participant=names.index(str(participant)) if participant is not None else 0)


def _samples(local: pd.DatetimeIndex, day: pd.DatetimeIndex, bpm: np.ndarray, rng):
    """Integer-bpm samples 5-15 s apart in each minute with a value, their mean within 0.5/n bpm of it.

    Returns the samples' local times, bpm, confidences and local days.
    """
    k = np.flatnonzero(np.isfinite(bpm))  # minutes with a value
    offsets = np.cumsum(np.column_stack([rng.integers(0, 5, len(k)), rng.integers(5, 16, (len(k), 12))]), axis=1)
    inside = offsets < 60  # (minutes, 13); at least 4 per minute, as 4 + 3 * 15 < 60
    n = inside.sum(axis=1)
    total = np.round(bpm[k] * n).astype(np.int64)
    j = np.arange(offsets.shape[1])[None, :]
    values = total[:, None] // n[:, None] + (j < (total % n)[:, None])  # each minute's samples sum to total
    jitter = rng.integers(0, 3, len(k))[:, None]  # zero-sum: + on the first sample, - on the last
    values = values + jitter * (j == 0) - jitter * (j == n[:, None] - 1)
    minute, second = np.nonzero(inside)
    times = local[k[minute]] + pd.to_timedelta(offsets[minute, second], unit="s")
    return times, values[minute, second], rng.integers(1, 4, len(minute)), day[k[minute]]


def _hrv_days(utc: pd.DatetimeIndex, tz: str, rmssd: np.ndarray, rng) -> dict[pd.Timestamp, str]:
    """{local day: ``Heart Rate Variability Details`` CSV text} of 5-minute means of RMSSD."""
    block = utc.floor("5min")  # blocks in UTC, so the two passes of a repeated hour stay apart
    grouped = pd.Series(rmssd.astype(np.float32)).groupby(np.asarray(block))
    table = pd.DataFrame({"rmssd": grouped.mean(), "coverage": grouped.count() / grouped.size()}).dropna()
    local = pd.DatetimeIndex(table.index).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    lines = [f"{t:%Y-%m-%dT%H:%M:%S},{float(r)!r},{c:.3f},{rng.uniform(300, 900):.1f},{rng.uniform(200, 800):.1f}"
             for t, r, c in zip(local, table["rmssd"], table["coverage"])]
    header = "timestamp,rmssd,coverage,low_frequency,high_frequency\n"
    return {pd.Timestamp(d): header + "\n".join(rows) + "\n" for d, rows in pd.Series(lines, dtype=object).groupby(np.asarray(local.normalize()))}


def _write_files(path: Path, files: dict[str, str]) -> Path:
    if path.suffix.lower() == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, text in files.items():
                z.writestr(name, text)
        return path
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text, encoding="utf-8")
    return path
