"""Decoded FIT messages to long rows of LSM channels: the mapping :mod:`lsmkit.io.fit` documents.

:class:`_Scan` holds what one file's messages said (plain lists, times in FIT seconds, each item
with ``where``: its data message number and byte offset); :func:`_file_rows` turns it into long
rows ``(timestamp, channel, value)`` for :func:`lsmkit.read_table`, through :mod:`lsmkit.features`
for altitude and beat intervals, checking ranges and reporting what it drops.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import features
from ..channels import get_channel

FIT_EPOCH_UNIX = 631065600  # 1989-12-31 00:00 UTC in Unix seconds
_FOOT_SPORTS = {"running", "walking", "hiking"}
_FOOT_SUB_SPORTS = {"treadmill", "indoor_running", "indoor_walking"}
_MAX_RECORD_SECONDS = 60


@dataclass
class _Scan:
    """What one file holds, as plain lists (times in FIT seconds); ``where`` names its messages."""

    name: str
    device: str | None = None
    utc_offset: float = np.nan
    sports: list = field(default_factory=list)  # (sport, sub_sport)
    sessions: list = field(default_factory=list)  # (start, end, sport, sub_sport)
    events: list = field(default_factory=list)  # (time, "start" | "stop")
    records: list = field(default_factory=list)  # (time, heart_rate, cadence, altitude, where)
    beats: list = field(default_factory=list)  # (end time in s, interval in ms)
    monitor_hr: list = field(default_factory=list)  # (time, heart_rate, where)
    counters: dict = field(default_factory=dict)  # activity type -> [(time, cumulative steps, where)]
    skipped: Counter = field(default_factory=Counter)
    problems: dict = field(default_factory=dict)  # kind -> [count, first where]
    last_time: int | None = None
    beat_end: float | None = None
    n_messages: int = 0

    def problem(self, kind: str, where: str, count: int = 1) -> None:
        entry = self.problems.setdefault(kind, [0, where])
        entry[0] += count


def _summary(counts: Counter) -> str:
    return ", ".join(f"{name} ({n})" for name, n in sorted(counts.items()))



# ---- one file: lists to long rows (timestamp, channel, value) ------------------------------


def _utc(fit_seconds) -> pd.DatetimeIndex:
    seconds = np.asarray(fit_seconds, dtype=np.float64) + FIT_EPOCH_UNIX
    return pd.DatetimeIndex((seconds * 1e9).astype("int64").astype("datetime64[ns]")).tz_localize("UTC")


def _rows(fit_seconds, channel: str, values) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    keep = ~np.isnan(values)
    return pd.DataFrame({"timestamp": _utc(np.asarray(fit_seconds)[keep]), "channel": channel, "value": values[keep]})


def _minute_rows(minutes: pd.DataFrame) -> pd.DataFrame:
    """A featuriser's per-minute frame (naive UTC index) as long rows."""
    long = minutes.rename_axis("timestamp").reset_index().melt("timestamp", var_name="channel").dropna()
    return long.assign(timestamp=pd.DatetimeIndex(long["timestamp"]).tz_localize("UTC"))


def _in_range(values, channel, label, where, scan, policy, notes) -> np.ndarray:
    """``values`` with those outside the channel's range raised about or set to NaN (reported)."""
    lo, hi = get_channel(channel).valid_range
    with np.errstate(invalid="ignore"):
        bad = (values < lo) | (values > hi)
    if bad.any():
        i = int(np.argmax(bad))
        text = (f"{scan.name}: {label} {values[i]:g} in {where[i]} is outside the plausible range "
                f"[{lo:g}, {hi:g}] {get_channel(channel).unit}")
        if policy == "raise":
            raise ValueError(text + "; pass on_out_of_range='nan' to drop such values")
        notes.append(f"{scan.name}: dropped {int(bad.sum())} {label} value(s) outside [{lo:g}, {hi:g}] "
                     f"(first: {values[i]:g} in {where[i]})")
        values = np.where(bad, np.nan, values)
    return values


def _ordered(scan, items, what):
    """Items ``(time, ..., where)`` sorted by time; repeats of a time keep the first (reported)."""
    times = np.array([item[0] for item in items], dtype=np.int64)
    back = np.flatnonzero(np.diff(times) < 0)
    if back.size:
        i = int(back[0]) + 1
        scan.problem(f"{what} earlier than the one before (sorted by time)", items[i][-1])
    order = np.argsort(times, kind="stable")
    items = [items[i] for i in order]
    repeat = np.flatnonzero(np.diff(times[order]) == 0) + 1
    if repeat.size:
        scan.problem(f"{what} repeating a timestamp dropped (kept the first)", items[int(repeat[0])][-1])
        drop = set(repeat.tolist())
        items = [item for j, item in enumerate(items) if j not in drop]
    return items


def _file_rows(scan: _Scan, policy: str, notes: list) -> pd.DataFrame:
    parts = []
    if scan.records:
        records = _ordered(scan, scan.records, "records")
        t = np.array([r[0] for r in records], dtype=np.int64)
        hr, cadence, altitude = (np.array([np.nan if r[k] is None else r[k] for r in records], float)
                                 for k in (1, 2, 3))
        where = [r[-1] for r in records]
        parts.append(_rows(t, "heart_rate", _in_range(hr, "heart_rate", "heart rate", where, scan, policy, notes)))
        parts.append(_rows(t, "steps", _record_steps(scan, t, cadence, where, policy, notes)))
        if (~np.isnan(altitude)).any():
            ok = ~np.isnan(altitude)
            # "smart recording" writes a record every 1-10 s: ask for half the seconds a minute of
            # records at the file's own median spacing covers (30 at 1 s, 3 at 10 s), at least 2
            spacing = float(np.median(np.diff(t[ok]))) if ok.sum() > 1 else 1.0
            min_seconds = int(np.clip(30 / max(spacing, 1.0), 2, 30))
            parts.append(_minute_rows(features.altitude_to_minutes(_utc(t[ok]), altitude[ok], min_seconds=min_seconds)))
    if scan.monitor_hr:
        items = _ordered(scan, scan.monitor_hr, "monitoring heart rates")
        hr = np.array([i[1] for i in items], float)
        hr = _in_range(hr, "heart_rate", "heart rate", [i[-1] for i in items], scan, policy, notes)
        parts.append(_rows([i[0] for i in items], "heart_rate", hr))
    if scan.counters:
        parts.append(_monitoring_steps(scan, policy, notes))
    if scan.beats:
        beats = np.array(scan.beats)
        lo, hi = features.RR_RANGE_MS
        odd = int(((beats[:, 1] < lo) | (beats[:, 1] > hi)).sum())
        if odd:
            notes.append(f"{scan.name}: {odd} beat interval(s) outside {lo:g}-{hi:g} ms, kept but invalid for the "
                         f"heart channels (lsmkit.features.valid_beats)")
        minutes = features.beats_to_minutes(_utc(beats[:, 0]), beats[:, 1])
        has_hr = any(not p.empty and (p["channel"] == "heart_rate").any() for p in parts)
        parts.append(_minute_rows(minutes.drop(columns="heart_rate") if has_hr else minutes))
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["timestamp", "channel", "value"])


def _sport_at(scan: _Scan, t: np.ndarray) -> list:
    """The (sport, sub_sport) of each record time: of the last session started by then (the first
    session for records before it), else of the one sport message."""
    if scan.sessions:
        sessions = sorted(scan.sessions)
        begins = np.array([s[0] for s in sessions])
        which = np.maximum(np.searchsorted(begins, t, side="right") - 1, 0)
        return [tuple(sessions[i][2:]) for i in which]
    if len(scan.sports) > 1:
        scan.problem("sport messages without sessions (took the first for the whole file)", "the sport messages")
    return [scan.sports[0] if scan.sports else None] * len(t)


def _record_steps(scan, t, cadence, where, policy, notes) -> np.ndarray:
    """Steps counted by each record from its cadence, in foot sports only (module docstring)."""
    has = ~np.isnan(cadence)
    if not has.any():
        return np.full(len(t), np.nan)
    sports = _sport_at(scan, t)
    foot = np.array([s is not None and (s[0] in _FOOT_SPORTS or s[1] in _FOOT_SUB_SPORTS) for s in sports])
    unknown = has & np.array([s is None for s in sports])
    if unknown.any():
        scan.problem("cadences without a sport (not counted as steps)", where[int(np.argmax(unknown))],
                     int(unknown.sum()))
    for i in np.flatnonzero(has & ~foot & ~unknown):
        scan.skipped[f"record.cadence ({sports[i][0]}: not steps)"] += 1
    rate = np.where(foot, 2.0 * cadence, np.nan)  # strides (one foot) a minute -> steps a minute
    rate = _in_range(rate, "steps", "step rate (2 x cadence)", where, scan, policy, notes)
    events = sorted(scan.events)
    starts = np.array([e[0] for e in events if e[1] == "start"], dtype=float)
    stops = np.array([e[0] for e in events if e[1] == "stop"], dtype=float)
    last_start = _latest(starts, t, "right")  # a timer start at the record's second counts
    last_stop = _latest(stops, t, "left")  # a stop at the record's second comes after it
    begin = np.maximum(np.r_[-np.inf, t[:-1]], last_start)
    seconds = np.clip(np.where(np.isinf(begin), 1, t - begin), 1, _MAX_RECORD_SECONDS)
    return np.where(last_stop > last_start, np.nan, rate * seconds / 60.0)


def _latest(times: np.ndarray, t: np.ndarray, side: str) -> np.ndarray:
    pos = np.searchsorted(times, t, side=side) - 1
    return np.where(pos >= 0, times[np.maximum(pos, 0)] if times.size else -np.inf, -np.inf)


def _monitoring_steps(scan, policy, notes) -> pd.DataFrame:
    """Cumulative step counters differenced per activity type, spread over the seconds between them."""
    minute_steps, minute_where = Counter(), {}
    for kind, items in scan.counters.items():
        items = _ordered(scan, items, f"{kind} step counters")
        for (t0, c0, _), (t1, c1, where) in zip(items, items[1:]):
            steps = c1 - c0 if c1 >= c0 else c1  # a decrease: the device reset the counter
            for minute in range(t0 // 60, (t1 - 1) // 60 + 1):
                share = (min(t1, 60 * minute + 60) - max(t0, 60 * minute)) / (t1 - t0)
                minute_steps[minute] += steps * share
                minute_where[minute] = where
    if not minute_steps:
        return pd.DataFrame(columns=["timestamp", "channel", "value"])
    minutes = np.array(sorted(minute_steps))
    values = np.array([minute_steps[m] for m in minutes], dtype=float)
    values = _in_range(values, "steps", "steps in a minute", [minute_where[m] for m in minutes], scan, policy, notes)
    return _rows(minutes * 60, "steps", values)
