"""Fitbit account export in: the per-day JSON and CSV files of a Fitbit data export, as a folder or a zip.

Layout
------
Fitbit's account archive (fitbit.com, Settings, Data export, "Export your account archive": Fitbit help
article 1133, https://help.fitbit.com/articles/en_US/Help_article/1133.htm) and its Google Takeout successor
hold one folder per topic. Files are found by their base names anywhere in the tree, so both layouts read::

    <Name>/user-site-export/heart_rate-2019-01-01.json             first account archives (2019)
    <Name>/Physical Activity/heart_rate-2021-03-01.json            later account archives
    <Name>/Sleep/Heart Rate Variability Details - 2021-03-01.csv
    Takeout/Fitbit/Global Export Data/heart_rate-2021-03-01.json   Google Takeout
    Takeout/Fitbit/Heart Rate Variability/Heart Rate Variability Details - 2021-03-01.csv
    Takeout/Fitbit/Your Profile/Profile.csv

The date in a file name is the first day of the entries in it (the export's own README: "YYYY-MM-DD is the
starting date for the entries in the file"); a file whose first entry is on another day is read as its
entries say, with a warning. What is read (fields as in real exports and in the Fitbit Web API reference
at https://dev.fitbit.com/build/reference/web-api/, which serves the same data):

- ``heart_rate-*.json``: ``[{"dateTime": "03/01/21 00:00:07", "value": {"bpm": 62, "confidence": 2}}]``,
  one sample every 5-15 s while worn (intraday heart rate, Web API "Get Heart Rate Intraday"; the 5-15 s
  spacing per MyDataHelps' "Fitbit Daily Data Export Format"). ``heart_rate`` is the mean of a minute's
  samples. Samples with ``confidence`` below ``min_confidence`` (default 1: Fitbit's 0 means no confidence
  in the reading) are dropped and counted; samples without ``confidence`` are kept and counted.
- ``steps-*.json``: ``[{"dateTime": "03/01/21 00:01:00", "value": "0"}]``, steps per minute (Web API
  "Get Activity Intraday", resource ``steps``) -> ``steps``.
- ``resting_heart_rate-*.json``: one entry a day, ``{"dateTime": "03/01/21 00:00:00", "value": {"date":
  "03/01/21", "value": 58.2, "error": 6.9}}`` -> ``resting_heart_rate``, held over every minute of that local
  day within the recording. A ``value`` of 0 or null (no estimate that day) is skipped and counted.
- ``Heart Rate Variability Details - *.csv``: ``timestamp,rmssd,coverage,low_frequency,high_frequency``
  with ``2021-03-01T01:05:00`` times, one row per 5 minutes of the main sleep (Web API "Get HRV Intraday
  by Date") -> ``rmssd``, each value held over the 5 minutes from its timestamp (Fitbit's window) until the
  next row. Rows with an empty ``rmssd`` are left out.
- ``Profile.csv`` (``Your Profile/``, or ``user-profile/`` in old archives): its ``timezone`` (an IANA
  name) is the default ``tz`` and its ``id`` the default participant name. ``Devices.csv``, if present,
  names the device (``device_type``).

Left out and counted in ``attrs["skipped"]`` (reported with a warning): ``altitude-*.json``, whose
per-minute value is the elevation *gained* in that minute (in the account's units; Fitbit counts a floor
per about 10 ft / 3 m climbed: Web API resources ``elevation``/``floors``), not barometric altitude
samples, so it cannot give ``altitude_std`` (the spread of altitude within a minute); wrist,
computed and device temperature files (``Temperature/``, ``wrist_temperature-*``), which hold values
relative to the personal baseline or nightly summaries (Web API "Temperature (Skin)": ``nightlyRelative``),
not an absolute per-minute skin temperature; and every other file (calories, distance, sleep, zones, ...),
counted by type.

Real files and public parsers checked for these layouts: the dataespresso.com tutorial "Making sense of
Fitbit's JSON export" (2019: ``user-profile/``, ``user-site-export/``), danlsn/fitport's README (the
``user-site-export`` file types), GGIRread's ``R/readFitbit.R`` (``%m/%d/%y %H:%M:%S`` read in the local
zone), ashrobertsdragon/fitbit2oscar (``Takeout/Fitbit/Your Profile/Profile.csv``, column ``timezone``) and
LifeSnaps' pylifesnaps (the topic folders, ``Heart Rate Variability Details`` among them).

Time convention
---------------
The ``dateTime`` strings are ``MM/DD/YY HH:MM:SS`` wall-clock times without a zone, in the zone the account
was set to (Fitbit's "floating" local time: Web API developer guide, "Time Zones"; GGIRread's
``readFitbit`` reads the same strings as local times). They are read as local times in ``tz`` (default:
the Profile's ``timezone``, which is the setting at export time; travel shifts are not undone) and
converted to UTC by :func:`lsmkit.read_table`, whose ``ambiguous``/``nonexistent`` rules apply to the
hours clocks repeat or skip. Some users report heart-rate files in UTC: one zone applies to all files
read together, so such files would be read from a folder of their own with ``tz="UTC"``.

Memory stays bounded: one file is parsed at a time and heart-rate samples are reduced to minutes at once.

:func:`write_example`, which writes recordings in this layout, lives in :mod:`lsmkit.io._fitbit_write` and is
re-exported here.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import warnings
import zipfile
import zoneinfo
from collections import Counter
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import xarray as xr

from ..channels import get_channel
from ._fitbit_write import write_example
from .tables import read_table

__all__ = ["read", "looks_like", "write_example"]

_DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
_JSON_NAME = re.compile(rf"^(?P<kind>[a-z][a-z0-9_]*)-{_DATE}\.json$")  # heart_rate-2021-03-01.json
_CSV_NAME = re.compile(rf"^(?P<kind>[A-Za-z][A-Za-z0-9 ()]*?) - {_DATE}(?: \(\d+\))?\.csv$")
_HRV = "Heart Rate Variability Details"
_READ = ("heart_rate", "steps", "resting_heart_rate", _HRV)
_WHY = {
    "altitude": "elevation gained per minute, not barometric altitude",
    "temperature": "relative to the personal baseline, not absolute skin temperature",
}
# Daily and intraday types of real exports: enough to recognise an export by its file names.
_KNOWN = {"heart_rate", "steps", "resting_heart_rate", "altitude", "calories", "distance", "sleep",
          "time_in_heart_rate_zones", "sedentary_minutes", "lightly_active_minutes", "moderately_active_minutes",
          "very_active_minutes", "exercise", "weight", "wrist_temperature", "demographic_vo2_max"}
_TIME_FORMAT = "%m/%d/%y %H:%M:%S"
_OFFSET = re.compile(r"(?:[zZ]|[+-]\d\d:?\d\d)$")


def looks_like(path) -> bool:
    """Whether ``path`` (a folder or zip) holds files named like a Fitbit export's (names only, no reading)."""
    path = Path(path)
    if path.is_dir():
        return any(_kind(f)[0] in _KNOWN or _kind(f)[0] == _HRV for _, _, files in os.walk(path) for f in files)
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return any(_kind(PurePosixPath(n).name)[0] in (*_KNOWN, _HRV) for n in z.namelist())
    return False


def _kind(name: str) -> tuple[str | None, str | None]:
    """(type, date in the name) of a file name, (None, None) when it is not named like an export file."""
    match = _JSON_NAME.match(name) or _CSV_NAME.match(name)
    return (match["kind"], match["date"]) if match else (None, None)


# ---- reading ---------------------------------------------------------------------------------


def read(path, *, tz: str | None = None, name: str | None = None, min_confidence: int = 1,
         ambiguous: str = "infer", nonexistent: str = "raise", on_duplicates: str = "raise",
         on_out_of_range: str = "raise") -> xr.Dataset:
    """Read a Fitbit export (folder or zip) into recordings of one participant.

    Parameters
    ----------
    path : str or path-like
        The export folder (any level above the topic folders) or a zip of it.
    tz : str, optional
        IANA zone of the wall-clock times; default the ``timezone`` of the export's ``Profile.csv``.
    name : str, optional
        Participant name; default the Profile's ``id``, else the folder's or zip's name.
    min_confidence : int, default 1
        Heart-rate samples with a lower ``confidence`` (Fitbit: 0 to 3) are dropped and counted.
    ambiguous, nonexistent, on_duplicates : str
        As in :func:`lsmkit.read_table`: times in the repeated and the skipped hour of a DST change, and
        minutes found twice (in two files, or two samples with the same time in one file).
    on_out_of_range : {"raise", "nan"}
        Values outside a channel's physical range: raise naming the file and entry, or leave them out
        (raw heart-rate samples) or set them to NaN (per-minute values), with a warning.

    Returns
    -------
    xarray.Dataset
        Recordings (:func:`lsmkit.read_table`) with ``attrs["format"] = "fitbit"``, ``source``, ``device``
        and ``skipped`` (what was left out, by file type and reason).

    Raises
    ------
    ValueError
        The path holds no Fitbit files, no time zone is known, or a file cannot be read faithfully; the
        message names the file, the entry (0-based position in the JSON list) or CSV line, and the value.
    """
    if not isinstance(min_confidence, int) or isinstance(min_confidence, bool):
        raise TypeError(f"min_confidence must be an int (Fitbit confidence 0-3), got {min_confidence!r}")
    for option, given, choices in (("on_out_of_range", on_out_of_range, ("raise", "nan")),
                                   ("on_duplicates", on_duplicates, ("raise", "mean", "first", "last"))):
        if given not in choices:  # checked before any file is read (read_table checks the others)
            raise ValueError(f"{option} must be one of {', '.join(map(repr, choices))}; got {given!r}")
    notes: list[str] = []
    try:
        with _open(Path(path)) as (names, locate):
            return _read(names, locate, Path(path), tz, name, min_confidence, ambiguous, nonexistent,
                         on_duplicates, on_out_of_range, notes)
    finally:  # what was dropped before an error still counts
        for note in notes:
            warnings.warn(note, UserWarning, stacklevel=2)


def _read(names, locate, path, tz, name, min_conf, ambiguous, nonexistent, on_dup, on_range, notes):
    files, meta, others = _catalogue(names, path)
    profile = _csv_rows("Profile.csv", _load(locate, meta["Profile.csv"]))[:1] if "Profile.csv" in meta else []
    profile = {k: v.strip() for k, v in (profile[0] if profile else {}).items() if k and v and v.strip() != "null"}
    tz = _zone(tz, profile, notes)
    name = name or profile.get("id") or path.name.removesuffix(".zip").removesuffix(".ZIP")
    rows = _Rows()
    skipped: Counter = Counter()
    for (kind, date, base), key in sorted(files.items()):
        if kind in _READ:
            _READERS[kind](base, date, _load(locate, key), rows, min_conf, on_dup, on_range, skipped, notes)
        else:
            skipped[_skip_label(kind)] += 1
    skipped.update(others)
    if not rows.t:
        raise ValueError(f"{path.name}: no heart_rate, steps, resting_heart_rate or {_HRV} entries to read "
                         f"(found {dict(skipped) or 'no files'})")
    ds = read_table(rows.frame(name), tz=tz, ambiguous=ambiguous, nonexistent=nonexistent,
                    on_duplicates=on_dup, on_out_of_range=on_range)
    ds = _hold(ds, tz)
    ds.attrs.update(source=path.name, format="fitbit", device=_device(locate, meta.get("Devices.csv")),
                    skipped="; ".join(f"{k}: {n}" for k, n in sorted(skipped.items()) if n) or "nothing")
    if ds.attrs["skipped"] != "nothing":
        notes.append(f"{path.name}: left out {ds.attrs['skipped']}")
    return ds


def _skip_label(kind: str) -> str:
    if kind == "altitude":
        return f"altitude files ({_WHY['altitude']})"
    if "temperature" in kind.lower():
        return f"{kind} files ({_WHY['temperature']})"
    return f"{kind} files (no LSM channel)"


@contextlib.contextmanager
def _open(path: Path):
    """The export's member names and a function opening one member (a folder's files or a zip's) as binary."""
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {str(path)!r}")
    if path.is_dir():
        yield sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()), lambda key: open(path / key, "rb")
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            yield [i.filename for i in z.infolist() if not i.is_dir()], z.open
    else:
        raise ValueError(f"{path.name} is neither a folder nor a zip file; expected a Fitbit export (folder or zip)")


def _load(locate, key: str) -> bytes:
    """One member's bytes: the only point where a file is read, one at a time."""
    try:
        with locate(key) as f:
            return f.read()
    except (zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"could not read {key} from the zip (truncated or corrupt?): {err}") from None


def _catalogue(names, path):
    """{(type, date, base name): key} of files to read or skip, and a Counter of files of no known kind."""
    files, meta, seen, others = {}, {}, {}, Counter()
    for key in names:
        base = PurePosixPath(key.replace(os.sep, "/")).name
        kind, date = _kind(base)
        if kind in _READ or base in ("Profile.csv", "Devices.csv"):  # others (.DS_Store, READMEs) may repeat
            if base in seen:
                raise ValueError(f"{path.name} holds {base} twice ({seen[base]} and {key}); expected one export of "
                                 f"one participant (read each export on its own)")
            seen[base] = key
        if base in ("Profile.csv", "Devices.csv"):
            meta[base] = key
        elif kind is not None:
            files[(kind, date, base)] = key
        else:
            others["other files"] += 1
    if not any(k[0] in _READ for k in files):
        raise ValueError(f"{path.name} holds no Fitbit data files (heart_rate-YYYY-MM-DD.json, steps-*.json, "
                         f"resting_heart_rate-*.json, '{_HRV} - *.csv'); is it a Fitbit export?")
    return files, meta, others


def _csv_rows(base: str, raw: bytes) -> list[dict]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{base} is not UTF-8 text: {err}") from None
    return list(csv.DictReader(io.StringIO(text)))


def _device(locate, key) -> str:
    types = [r.get("device_type", "").strip() for r in _csv_rows("Devices.csv", _load(locate, key))] if key else []
    types = [t for t in dict.fromkeys(types) if t]
    return f"Fitbit {' / '.join(types)}" if types else "Fitbit (device not named in the export)"


def _zone(tz, profile: dict, notes: list) -> str:
    given = profile.get("timezone")
    if tz is None and given is None:
        raise ValueError("the export has no Profile.csv with a timezone, and its times carry no zone: pass tz= "
                         "the IANA zone they were recorded in, e.g. tz='Europe/Berlin'")
    if tz is not None and given is not None and tz != given:
        notes.append(f"tz={tz!r} overrides the timezone {given!r} of the export's Profile.csv")
    zone = tz if tz is not None else given
    try:
        zoneinfo.ZoneInfo(str(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        where = "tz=" if tz is not None else "Profile.csv timezone"
        raise ValueError(f"unknown time zone {zone!r} ({where}); expected an IANA name such as 'Europe/Berlin'") from None
    return zone


class _Rows:
    """Long rows collected file by file, each labelled (file, "entry N" or "line N") for read_table's messages."""

    def __init__(self):
        self.t, self.v, self.ch, self.files, self.keys, self.names = [], [], [], [], [], []

    def add(self, channel: str, base: str, t: np.ndarray, v: np.ndarray, where: np.ndarray, line=False) -> None:
        if len(t):
            self.names.append(base)
            self.t.append(t), self.v.append(v), self.keys.append(2 * np.asarray(where, dtype=np.int64) + line)
            self.ch.append(np.full(len(t), channel, dtype=object))
            self.files.append(np.full(len(t), len(self.names) - 1))

    def frame(self, name: str) -> pd.DataFrame:
        keys, codes = np.unique(np.concatenate(self.keys), return_inverse=True)  # few distinct labels: cheap
        labels = [f"{'line' if k % 2 else 'entry'} {k // 2}" for k in keys]
        index = pd.MultiIndex(levels=[self.names, labels], codes=[np.concatenate(self.files), codes],
                              names=["file", "where"])
        return pd.DataFrame({"timestamp": np.concatenate(self.t), "participant": name,
                             "channel": np.concatenate(self.ch), "value": np.concatenate(self.v)}, index=index)


def _entries(base: str, raw: bytes) -> list:
    if not raw.strip():
        raise ValueError(f"{base} is empty ({len(raw)} bytes); expected a JSON list of entries")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise ValueError(f"{base} is not UTF-8 text: {err}") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{base} is not valid JSON (truncated?): {err.msg} at line {err.lineno} column "
                         f"{err.colno}") from None
    if not isinstance(data, list):
        raise ValueError(f"{base}: expected a JSON list of entries, found a {type(data).__name__}")
    return data


def _field(base: str, i: int, entry, key: str):
    if not isinstance(entry, dict):
        raise ValueError(f"{base}: entry {i} is a {type(entry).__name__} ({entry!r:.60}); expected an object "
                         f"with 'dateTime' and 'value'")
    if key not in entry:
        raise ValueError(f"{base}: entry {i} has no {key!r} ({entry!r:.80}); expected 'dateTime' and 'value'")
    return entry[key]


def _times(base: str, date: str, stamps: list, notes: list) -> np.ndarray:
    """Naive local datetime64[ns] of Fitbit's 'MM/DD/YY HH:MM:SS' strings, checked against the file's date."""
    if not stamps:
        return np.zeros(0, dtype="datetime64[ns]")
    text = pd.Series([s if isinstance(s, str) else None for s in stamps], dtype=object)
    t = pd.to_datetime(text, format=_TIME_FORMAT, errors="coerce")
    if t.isna().all() and text.notna().all() and not text.str.contains(_OFFSET).any():
        t = pd.to_datetime(text, format="ISO8601", errors="coerce")  # whole file in ISO: accepted, reported
        if not t.isna().any():
            notes.append(f"{base}: times are ISO 8601 ({text[0]!r}) rather than Fitbit's 'MM/DD/YY HH:MM:SS'; "
                         f"read as local wall-clock times")
    bad = t.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        zone = " (it has a UTC offset; the reader expects zone-less local times)" if isinstance(
            stamps[i], str) and _OFFSET.search(stamps[i]) else ""
        raise ValueError(f"{base}: entry {i} has dateTime {stamps[i]!r}{zone}; expected Fitbit's local time "
                         f"'MM/DD/YY HH:MM:SS' such as '03/01/21 00:00:07'")
    t = t.to_numpy(dtype="datetime64[ns]")
    if len(t) and str(t[0].astype("datetime64[D]")) != date:
        notes.append(f"{base}: its name says {date} but its first entry (entry 0) is on "
                     f"{t[0].astype('datetime64[D]')}; read as the entries say")
    return t


def _number(base, i, what, v, allow_none=False):
    if v is None and allow_none:
        return np.nan
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
        raise ValueError(f"{base}: entry {i} has {what} {v!r}; expected a number")
    return float(v)


def _runs(t: np.ndarray) -> np.ndarray:
    """Run number per sample, starting a new run where time steps back (the hour repeated at fall-back)."""
    return np.concatenate([[0], np.cumsum(t[1:] < t[:-1])]) if len(t) else np.zeros(0, dtype=np.int64)


def _heart_rate(base, date, raw, rows, min_conf, on_dup, on_range, skipped, notes):
    entries = _entries(base, raw)
    stamps, bpm, conf = [], np.empty(len(entries)), np.full(len(entries), np.nan)
    for i, e in enumerate(entries):
        stamps.append(_field(base, i, e, "dateTime"))
        value = _field(base, i, e, "value")
        if not isinstance(value, dict) or "bpm" not in value:
            raise ValueError(f"{base}: entry {i} has value {value!r:.60}; expected {{'bpm': ..., 'confidence': ...}}")
        bpm[i] = _number(base, i, "bpm", value["bpm"])
        c = value.get("confidence")
        if c is not None and (isinstance(c, bool) or not isinstance(c, int)):
            raise ValueError(f"{base}: entry {i} has confidence {c!r}; expected an integer 0-3")
        conf[i] = np.nan if c is None else c
    t = _times(base, date, stamps, notes)
    lo, hi = get_channel("heart_rate").valid_range
    out = (bpm < lo) | (bpm > hi)
    if out.any() and on_range == "raise":
        i = int(np.argmax(out))
        raise ValueError(f"{base}: entry {i} has bpm {bpm[i]:g}, outside the physical range [{lo:g}, {hi:g}] bpm "
                         f"({int(out.sum())} such sample(s) in the file); pass on_out_of_range='nan' to leave them out")
    low = conf < min_conf  # NaN (no confidence) compares False: kept
    for mask, what, dropped in ((out, "heart_rate samples outside the physical range", True),
                                (low, f"heart_rate samples with confidence below {min_conf}", True),
                                (np.isnan(conf), "heart_rate samples without confidence (kept)", False)):
        if mask.any():
            skipped[what] += int(mask.sum()) if dropped else 0
            notes.append(f"{base}: {int(mask.sum())} {what} (first: entry {int(np.argmax(mask))})")
    keep = np.flatnonzero(~out & ~low)
    t, bpm, run = t[keep], bpm[keep], _runs(t)[keep]
    same = (t[1:] == t[:-1]) & (run[1:] == run[:-1])
    if same.any():
        j = int(np.argmax(same))
        if on_dup == "raise":
            raise ValueError(f"{base}: entries {keep[j]} and {keep[j + 1]} share the time {stamps[keep[j]]!r}; "
                             f"pass on_duplicates='mean', 'first' or 'last' to merge them")
        notes.append(f"{base}: {int(same.sum())} heart_rate sample(s) share a time with the one before (first: entry "
                     f"{keep[j + 1]}); all are averaged into their minute")
    minute = t.astype("datetime64[m]")
    starts = np.flatnonzero(np.concatenate([[True], (minute[1:] != minute[:-1]) | (run[1:] != run[:-1])])) \
        if len(t) else np.zeros(0, dtype=np.int64)
    means = np.add.reduceat(bpm, starts) / np.diff(np.append(starts, len(t))) if len(t) else bpm
    rows.add("heart_rate", base, minute[starts].astype("datetime64[ns]"), means, keep[starts])


def _steps(base, date, raw, rows, min_conf, on_dup, on_range, skipped, notes):
    entries = _entries(base, raw)
    stamps, steps = [], np.empty(len(entries))
    for i, e in enumerate(entries):
        stamps.append(_field(base, i, e, "dateTime"))
        v = _field(base, i, e, "value")
        text = str(v).strip() if isinstance(v, (str, int)) and not isinstance(v, bool) else ""
        if not (text.isascii() and text.isdigit()):  # Fitbit writes counts as text: "0", "12"
            kind = "negative" if re.fullmatch(r"-\d+", text) else "not a whole number"
            raise ValueError(f"{base}: entry {i} has steps {v!r} ({kind}); expected a count of steps such as '12'")
        steps[i] = int(text)
    rows.add("steps", base, _times(base, date, stamps, notes), steps, np.arange(len(entries)))


def _resting(base, date, raw, rows, min_conf, on_dup, on_range, skipped, notes):
    entries = _entries(base, raw)
    stamps, rhr = [], np.empty(len(entries))
    for i, e in enumerate(entries):
        stamps.append(_field(base, i, e, "dateTime"))
        value = _field(base, i, e, "value")
        if not isinstance(value, dict) or "value" not in value:
            raise ValueError(f"{base}: entry {i} has value {value!r:.60}; expected {{'date': ..., 'value': ...}}")
        rhr[i] = _number(base, i, "resting heart rate", value["value"], allow_none=True)
    t = _times(base, date, stamps, notes)
    none = np.isnan(rhr) | (rhr == 0)
    if none.any():
        skipped["resting_heart_rate days without an estimate (0 or null)"] += int(none.sum())
        notes.append(f"{base}: {int(none.sum())} day(s) without a resting heart-rate estimate (value 0 or null) left "
                     f"out (first: entry {int(np.argmax(none))})")
    rows.add("resting_heart_rate", base, t[~none], rhr[~none], np.flatnonzero(~none))


def _hrv(base, date, raw, rows, min_conf, on_dup, on_range, skipped, notes):
    table = _csv_rows(base, raw)
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig", "replace"))), [])
    missing = [c for c in ("timestamp", "rmssd") if c not in header]
    if missing:
        raise ValueError(f"{base} line 1: no column(s) {missing} in the header; expected "
                         f"timestamp,rmssd,coverage,low_frequency,high_frequency")
    stamps, rmssd, lines = [], [], []
    for n, row in enumerate(table, start=2):  # the header is line 1
        text = (row.get("rmssd") or "").strip()
        if not text:
            skipped[f"{_HRV} rows without rmssd"] += 1
            continue
        try:
            rmssd.append(float(text))
        except ValueError:
            raise ValueError(f"{base} line {n}: rmssd {text!r} is not a number; expected milliseconds") from None
        stamp = (row.get("timestamp") or "").strip()
        if _OFFSET.search(stamp) or pd.to_datetime(stamp, format="ISO8601", errors="coerce") is pd.NaT:
            raise ValueError(f"{base} line {n}: timestamp {stamp!r}; expected a local time such as "
                             f"'2021-03-01T01:05:00' (ISO 8601 without a zone)")
        stamps.append(stamp), lines.append(n)
    t = pd.to_datetime(pd.Series(stamps, dtype=object), format="ISO8601").to_numpy(dtype="datetime64[ns]")
    rows.add("rmssd", base, t, np.array(rmssd), np.array(lines, dtype=np.int64), line=True)


_READERS = {"heart_rate": _heart_rate, "steps": _steps, "resting_heart_rate": _resting, _HRV: _hrv}


def _hold(ds: xr.Dataset, tz: str) -> xr.Dataset:
    """Spread the daily resting heart rate over its local day and each 5-minute RMSSD over its 5 minutes."""
    j = list(ds["channel"].values).index("rmssd")
    seen = np.flatnonzero(~np.isnan(ds["signal"].values[0, :, j]))
    extra = seen[-1] + 5 - ds.sizes["time"] if len(seen) else 0
    if extra > 0:  # the last RMSSD still holds for 4 minutes: lengthen the grid
        ds = ds.pad(time=(0, extra)).assign_coords(time=np.arange(ds.sizes["time"] + extra, dtype=ds["time"].dtype))
    signal = ds["signal"].values  # (1, T, C), written in place
    signal[0, :, j] = pd.Series(signal[0, :, j]).ffill(limit=4).to_numpy()
    times = pd.DatetimeIndex(ds["start"].values[0] + np.arange(ds.sizes["time"]) * np.timedelta64(1, "m"))
    local_day = times.tz_localize("UTC").tz_convert(tz).tz_localize(None).normalize()
    k = list(ds["channel"].values).index("resting_heart_rate")
    signal[0, :, k] = pd.Series(signal[0, :, k]).groupby(local_day).transform("first").to_numpy()
    return ds
