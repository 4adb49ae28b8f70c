"""Recordings out as an Apple Health export: :func:`write_example` (the writer half of
:mod:`lsmkit.io.apple_health`, for tests, teaching notebooks and benchmarks).

The file follows the layout :mod:`lsmkit.io.apple_health` reads (a short DTD, ``ExportDate``,
``Me``, then ``Record`` elements grouped by type, as Apple writes them), from a watch and a phone
source. It is written as a stream, one type at a time, so large files cost little memory.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import validate_recordings

__all__ = ["write_example"]

_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 (written by lsmkit.io.apple_health.write_example) -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate value CDATA #REQUIRED>
<!ELEMENT Me EMPTY>
<!ATTLIST Me HKCharacteristicTypeIdentifierDateOfBirth CDATA #REQUIRED>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED sourceName CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED device CDATA #IMPLIED creationDate CDATA #IMPLIED startDate CDATA #REQUIRED
  endDate CDATA #REQUIRED>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry key CDATA #REQUIRED value CDATA #REQUIRED>
<!-- Note: Heart Rate Variability records captured by Apple Watch may include an associated list of instantaneous beats-per-minute readings. -->
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute bpm CDATA #REQUIRED time CDATA #REQUIRED>
]>
<HealthData locale="en_US">
 <ExportDate value="{export_date}"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth=""/>
"""
_WATCH = ("Apple Watch", "10.1", "&lt;&lt;HKDevice: 0x281f3c0a0&gt;, name:Apple Watch, manufacturer:Apple Inc., "
          "model:Watch, hardware:Watch6,2, software:10.1&gt;")
_PHONE = ("iPhone", "17.1", "&lt;&lt;HKDevice: 0x281f3c1e0&gt;, name:iPhone, manufacturer:Apple Inc., "
          "model:iPhone, hardware:iPhone14,2, software:17.1&gt;")
_EXTRA_TYPES = (("ActiveEnergyBurned", "Cal"), ("BasalEnergyBurned", "Cal"), ("DistanceWalkingRunning", "km"),
                ("AppleStandTime", "min"))
_BATCH = 4096


def write_example(recordings, path, *, participant=None, hr_every: int = 5, sdnn_every: int = 180,
                  beats: bool = True, phone: bool = True, extra_records_per_minute: int = 0, seed: int = 0) -> Path:
    """Write one participant's recordings as an Apple Health ``export.xml`` or ``export.zip``.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings (:func:`lsmkit.make_recordings`), e.g.
        ``lsmkit.restrict(lsmkit.simulate(1, 2), "smartwatch")``.
    path : str or path-like
        ``*.zip`` writes ``apple_health_export/export.xml`` (and a stub ``export_cda.xml``) inside
        a zip, anything else the XML itself.
    participant : str, optional
        Which participant (an export holds one person); needed when there are several.
    hr_every : int, default 5
        A HeartRate sample every this many minutes (where ``heart_rate`` is observed).
    sdnn_every : int, default 180
        An SDNN record every this many minutes (2 minutes past), with a beat list when ``beats``.
    beats : bool, default True
        Give each SDNN record beats at the minute's ``heart_rate`` (integer bpm, alternating by
        the minute's ``rmssd`` / 2 when observed), as an Apple Watch does.
    phone : bool, default True
        Also write the phone's StepCount: one interval per run of minutes with watch steps, its
        count rounded; the reader prefers the watch in those minutes, so it never shows.
    extra_records_per_minute : int, default 0
        Unmapped records (active and basal energy, distance, stand time) per minute, which the
        reader skips: real exports are mostly such records. For sizing benchmark files.
    seed : int, default 0
        Seed of the extra records' values.

    Returns
    -------
    pathlib.Path
        ``path``. Reading it back with :func:`lsmkit.io.apple_health.read` gives per minute:
        ``heart_rate`` every ``hr_every`` minutes and ``sdnn`` at its minutes exactly (written
        with 9 significant digits, float32-exact); ``steps`` exactly where positive (Apple
        writes no zero-step samples, so zero minutes come back NaN); ``resting_heart_rate`` as
        each local day's mean held over the day; ``skin_temperature`` as the mean of the
        night's observed minutes (00:00-06:00 local) held over them; ``heart_rate`` from beats
        at SDNN minutes within 1 bpm (integer bpm).
    """
    validate_recordings(recordings)
    one = _participant(recordings, participant)
    signal = one["signal"].transpose("time", "channel")
    channels = [str(c) for c in one["channel"].values]
    col = {c: signal.values[:, i].astype(np.float64) for i, c in enumerate(channels)}
    minute0 = pd.Timestamp(one["start"].values).value // (60 * 10**9)
    stamps = _Stamps(minute0, signal.sizes["time"], str(one["timezone"].values) if "timezone" in one.coords else "UTC")
    path = Path(path)
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            with zf.open("apple_health_export/export.xml", "w") as raw, io.TextIOWrapper(raw, "utf-8") as f:
                _write(f, col, stamps, hr_every, sdnn_every, beats, phone, extra_records_per_minute, seed)
            zf.writestr("apple_health_export/export_cda.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument/>\n')
    else:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            _write(f, col, stamps, hr_every, sdnn_every, beats, phone, extra_records_per_minute, seed)
    return path


def _participant(recordings, participant):
    names = [str(p) for p in recordings["participant"].values]
    if participant is None:
        if len(names) != 1:
            raise ValueError(f"an Apple Health export holds one person; pick one of {names} with participant=")
        participant = names[0]
    if str(participant) not in names:
        raise ValueError(f"participant {participant!r} is not in the recordings; expected one of {names}")
    return recordings.isel(participant=names.index(str(participant)))


class _Stamps:
    """Apple's local date strings ("2023-01-02 08:15:00 +0100") of each minute of the recording."""

    def __init__(self, minute0: int, n: int, zone: str):
        utc = pd.to_datetime((minute0 + np.arange(n)) * 60, unit="s", utc=True)
        offset = ((utc.tz_convert(zone).tz_localize(None) - utc.tz_localize(None)) // pd.Timedelta(minutes=1))
        self.offset = np.asarray(offset, dtype=np.int64)
        self.local = minute0 + np.arange(n) + self.offset  # local minutes since the epoch
        self.dates: dict[int, str] = {}

    def day(self, i) -> np.ndarray:
        return self.local[i] // 1440

    def __call__(self, i: int, second: float = 0.0) -> str:
        local, off = int(self.local[i]), int(self.offset[i])
        date = self.dates.get(local // 1440)
        if date is None:
            date = self.dates[local // 1440] = str(np.datetime64(local // 1440, "D"))
        sign = "+" if off >= 0 else "-"
        return (f"{date} {local % 1440 // 60:02d}:{local % 60:02d}:{int(second):02d} "
                f"{sign}{abs(off) // 60:02d}{abs(off) % 60:02d}")

    def clock(self, i: int, second: float) -> str:
        """The beat list's local clock time, en_US style: '6:14:48.94 PM'."""
        local = int(self.local[i]) % 1440
        h = local // 60
        return f"{h % 12 or 12}:{local % 60:02d}:{second:05.2f} {'PM' if h >= 12 else 'AM'}"


def _record(kind, source, unit, value, start, end, body=""):
    name, version, device = source
    attrs = (f' <Record type="HKQuantityTypeIdentifier{kind}" sourceName="{name}" sourceVersion="{version}" '
             f'device="{device}" unit="{unit}" creationDate="{end}" startDate="{start}" endDate="{end}" '
             f'value="{value}"')
    return f"{attrs}/>\n" if not body else f"{attrs}>\n{body} </Record>\n"


def _num(value) -> str:
    return f"{value:.9g}"  # 9 significant digits give a float32 back exactly


def _write(f, col, stamps, hr_every, sdnn_every, beats, phone, extra, seed):
    n = len(stamps.local)
    f.write(_HEADER.format(export_date=stamps(n - 1)))
    lines: list[str] = []

    def emit(line):
        lines.append(line)
        if len(lines) >= _BATCH:
            f.write("".join(lines))
            lines.clear()

    nan = np.full(n, np.nan)
    hr, steps, sdnn = col.get("heart_rate", nan), col.get("steps", nan), col.get("sdnn", nan)
    for i in np.flatnonzero(~np.isnan(hr) & (np.arange(n) % hr_every == 0)):
        emit(_record("HeartRate", _WATCH, "count/min", _num(hr[i]), stamps(i), stamps(i)))
    for i in np.flatnonzero(steps > 0):
        emit(_record("StepCount", _WATCH, "count", _num(steps[i]), stamps(i), stamps(i + 1) if i + 1 < n else
                     stamps(i, 59)))
    if phone:
        for first, last in _runs(steps > 0):
            emit(_record("StepCount", _PHONE, "count", f"{round(np.sum(steps[first:last + 1])):d}", stamps(first),
                         stamps(last + 1) if last + 1 < n else stamps(last, 59)))
    rmssd = col.get("rmssd", nan)
    for i in np.flatnonzero(~np.isnan(sdnn) & (np.arange(n) % sdnn_every == 2 % sdnn_every)):
        body = _beat_list(stamps, i, hr[i], rmssd[i]) if beats and not np.isnan(hr[i]) else ""
        emit(_record("HeartRateVariabilitySDNN", _WATCH, "ms", _num(sdnn[i]), stamps(i),
                     stamps(i + 1) if i + 1 < n else stamps(i, 59), body))
    _daily(emit, stamps, col.get("resting_heart_rate", nan), "RestingHeartRate", "count/min", np.arange(n))
    night = np.flatnonzero(stamps.local % 1440 < 360)
    _daily(emit, stamps, col.get("skin_temperature", nan), "AppleSleepingWristTemperature", "degC", night, 60)
    rng = np.random.default_rng(seed)
    for k in range(extra):
        kind, unit = _EXTRA_TYPES[k % len(_EXTRA_TYPES)]
        values = rng.gamma(2.0, 0.5, n)
        for i in range(n):
            emit(_record(kind, _WATCH, unit, f"{values[i]:.4g}", stamps(i), stamps(i, 59)))
    lines.append("</HealthData>\n")
    f.write("".join(lines))


def _runs(mask: np.ndarray):
    """(first, last) index of each run of True."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1)


def _daily(emit, stamps, values, kind, unit, minutes, min_observed: int = 1):
    """One record per local day over ``minutes``: the mean of its observed values, dated first..last minute."""
    minutes = minutes[~np.isnan(values[minutes])]
    if not minutes.size:
        return
    days = stamps.day(minutes)
    for day in np.unique(days):
        sel = minutes[days == day]
        if sel.size >= min_observed:
            last = int(sel[-1])
            end = stamps(last + 1) if last + 1 < len(stamps.local) else stamps(last, 59)
            emit(_record(kind, _WATCH, unit, _num(np.float32(values[sel].mean())), stamps(int(sel[0])), end))


def _beat_list(stamps, i: int, bpm: float, rmssd: float) -> str:
    """About a minute of beats at ``bpm``, alternating by ``rmssd`` / 2, as InstantaneousBeatsPerMinute."""
    base = 60000.0 / bpm
    step = 0.0 if np.isnan(rmssd) else min(rmssd / 2, 0.1 * base)
    out, t, k = [], 0.0, 0
    while True:
        rr = base + (step if k % 2 else -step)
        t += rr / 1000
        if t >= 59.99:
            break
        out.append(f'  <InstantaneousBeatsPerMinute bpm="{round(60000 / rr)}" time="{stamps.clock(i, t)}"/>\n')
        k += 1
    return "  <HeartRateVariabilityMetadataList>\n" + "".join(out) + "  </HeartRateVariabilityMetadataList>\n"
