"""Apple Health exports in: ``export.xml``, or the ``export.zip`` around it, as recordings.

The format
----------
The Health app's "Export All Health Data" writes ``export.zip`` holding
``apple_health_export/export.xml`` (and ``export_cda.xml``, clinical documents, ignored here). The
XML opens with its own DTD, which is the layout's documentation: a ``HealthData`` root holding
``ExportDate``, ``Me``, then ``Record``, ``Correlation``, ``Workout`` and ``ActivitySummary``
elements. A ``Record`` has ``type``, ``sourceName``, ``sourceVersion``, ``device``, ``unit``,
``creationDate``, ``startDate``, ``endDate`` and ``value`` attributes; dates read
``"2023-01-02 08:15:00 +0100"``, each with its own UTC offset. Apple Watch HRV records
(``HKQuantityTypeIdentifierHeartRateVariabilitySDNN``) may hold a ``HeartRateVariabilityMetadataList``
of ``InstantaneousBeatsPerMinute bpm=".." time=".."`` children (the DTD's note: "Heart Rate
Variability records captured by Apple Watch may include an associated list of instantaneous
beats-per-minute readings"); ``time`` is a local clock time without a date, in the phone's
locale (``"6:14:48.94 PM"``, ``"08:33:44,67"``, ``"3:10:01.12\\u202fAM"``). The DTD names no
``HeartbeatSeriesMetadataList``; beat lists are read inside any kept ``Record``. Sources: the DTD
in every export (seen in public exports and fixtures on GitHub), Apple's HealthKit identifiers
(developer.apple.com/documentation/healthkit/hkquantitytypeidentifier: ``heartRate``,
``restingHeartRate``, ``heartRateVariabilitySDNN``, ``stepCount``, ``appleSleepingWristTemperature``).

What becomes which channel
--------------------------
* ``HeartRate`` (count/min; count/s is multiplied by 60) -> ``heart_rate``: each sample is the
  watch's own estimate, held over the minutes its startDate..endDate touches (usually one),
  averaged per minute. Not :func:`lsmkit.features.heart_rate_to_minutes`, whose 30-seconds rule
  is for raw streams and would drop samples taken every few minutes.
* ``RestingHeartRate`` (count/min) -> ``resting_heart_rate``, held over all 1440 minutes of the
  local day of its startDate (in that date's own offset): Apple's estimate for the day.
* ``HeartRateVariabilitySDNN`` (ms; s x 1000) -> ``sdnn`` over the minutes the record touches.
  Apple measures it over about a minute of beats a few times a day, so most minutes have none.
* Beat lists -> :func:`lsmkit.features.beats_to_minutes` with intervals 60000 / bpm ending at each
  beat. Its ``sdnn`` and ``heart_rate`` fill only minutes without an SDNN or HeartRate record;
  its other channels (``rmssd``, ``rr_*``) are taken as they are. Beat times are placed on the day
  nearest the record; times that fall outside the record by a whole number of hours (a time-zone
  change between measuring and exporting) are shifted back, with a warning.
* ``StepCount`` (count) -> ``steps``: each interval's count spread uniformly over the seconds it
  covers, summed per minute. Apple writes no zero-step samples, so minutes without one are NaN.
* ``AppleSleepingWristTemperature`` (degC; degF and K converted) -> ``skin_temperature``: one
  environment-corrected value for the whole night (Apple's documentation), held over the
  record's startDate..endDate. Not a per-minute skin temperature: ``wrist_temperature=False``
  leaves it out.
* Everything else (types, Workout, ActivitySummary, Correlation) is counted per kind in
  ``attrs["skipped"]`` and one warning.

Several sources (Apple Watch and iPhone both count steps) are never summed: for each channel and
minute the value of the first source in priority order that has one is kept. Priority is the
order of ``sources=`` when given, else watches first (``Watch`` in the source name or device
model), then iPhones, then the rest, each by record count. Exact duplicate records (same type,
source, dates and value) are dropped. The recordings' ``timezone`` is the most common offset of
the kept records as a fixed-offset IANA name (``+0100`` -> ``Etc/GMT-1``; ``UTC`` for offsets that
are not whole hours, with a warning), unless ``tz=`` names the zone; all times are converted
to UTC with their own offsets either way (as :func:`lsmkit.read_table` does for aware times).

Parsing uses the standard library's expat, streamed in 1 MiB blocks from the file or the zip
member (never extracted), so memory grows with the kept values, not with the file; errors name
the file and the line.
"""

from __future__ import annotations

import warnings
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ._apple_health_parser import TYPES, _Parser
from ._apple_health_write import write_example
from .tables import read_table

__all__ = ["read", "looks_like", "write_example", "TYPES"]


def looks_like(path) -> bool:
    """Whether ``path`` names an Apple Health export: ``export.xml`` (or an XML file whose first
    2 KiB hold ``<HealthData``), a zip holding ``apple_health_export/``, or a folder holding either."""
    path = Path(path)
    if path.is_dir():
        return any((path / p).is_file() for p in ("export.xml", "apple_health_export/export.xml"))
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                return any(n.startswith("apple_health_export/") for n in zf.namelist())
        except (zipfile.BadZipFile, OSError):
            return False
    if path.suffix.lower() == ".xml":
        if path.name.lower() == "export.xml":
            return True
        with open(path, "rb") as f:
            return b"<HealthData" in f.read(2048)
    return False


def read(path, *, participant: str | None = None, sources=None, tz: str | None = None,
         wrist_temperature: bool = True, on_bad_record: str = "raise", on_out_of_range: str = "raise",
         all_channels: bool = True) -> xr.Dataset:
    """Read an Apple Health export into one participant's per-minute recordings.

    Parameters
    ----------
    path : str or path-like
        ``export.xml``, ``export.zip`` (read as a stream, not extracted) or a folder holding either.
    participant : str, optional
        The participant's name; the file's stem by default (the export names nobody).
    sources : list of str, optional
        The ``sourceName`` values to keep, in priority order (module docstring); the others are
        counted in ``attrs["skipped"]``. By default every source is kept, watches first.
    tz : str, optional
        IANA zone to record in the ``timezone`` coordinate (say ``"Europe/Berlin"``); it changes no
        time, as every date carries its own offset.
    wrist_temperature : bool, default True
        Hold each night's sleeping wrist temperature over its night as ``skin_temperature``.
    on_bad_record : {"raise", "skip"}, default "raise"
        A record that cannot be read (no type, value or date, a non-numeric value, an unknown
        unit, endDate before startDate, bad beat times): raise naming the line, or leave it out
        and count it in one warning per problem.
    on_out_of_range : {"raise", "nan"}, default "raise"
        A value outside its channel's plausible range (heart rate 0 or 400, over 300 steps a
        minute): raise naming the line, or leave the record out with a warning.
    all_channels : bool, default True
        Return all 26 channels (those not read all-NaN), as :func:`lsmkit.read_table`.

    Returns
    -------
    xarray.Dataset
        Recordings (:func:`lsmkit.read_table`) with ``attrs``: ``source``, ``format``
        (``"apple_health"``), ``device``, ``sources`` (who gave which channel), ``skipped``,
        ``export_date``.

    Raises
    ------
    ValueError
        The file is not an export (not XML, wrong root, truncated, no ``export.xml`` in the
        zip), holds no readable record, or a record is bad; the message names file and line.
    """
    for name, given, options in (("on_bad_record", on_bad_record, ("raise", "skip")),
                                 ("on_out_of_range", on_out_of_range, ("raise", "nan"))):
        if given not in options:
            raise ValueError(f"{name} must be one of {options}; got {given!r}")
    if sources is not None and (isinstance(sources, str) or not all(isinstance(s, str) for s in sources)):
        raise TypeError(f"sources must be a list of sourceName strings, got {sources!r}")
    notes: list[str] = []
    try:
        return _read(Path(path), participant, sources, tz, wrist_temperature, on_bad_record, on_out_of_range,
                     all_channels, notes)
    finally:  # also when reading fails: what was left out before the error still counts
        for note in notes:
            warnings.warn(note, UserWarning, stacklevel=2)


def _read(path, participant, sources, tz, wrist_temperature, on_bad_record, on_out_of_range, all_channels, notes):
    parser = _Parser(path.name, sources, wrist_temperature, on_bad_record, on_out_of_range)
    try:
        with _open(path) as (stream, name):
            parser.name = name
            parser.feed(stream)
    finally:
        notes.extend(parser.notes())
    data = parser.arrays()
    if not len(data["value"]) and not len(parser.beat_t):
        found = f"{parser.n_records} Record elements" if parser.n_records else "no Record elements"
        raise ValueError(f"{parser.name} holds {found} of the types lsmkit reads ({', '.join(TYPES)}); "
                         f"skipped: {parser.skipped_text() or 'nothing'}")
    frame, used = _minutes(data, parser, notes)
    zone = tz or _zone_name(parser.offsets, parser.name, notes)
    frame["participant"] = participant or path.stem
    ds = read_table(frame, channel="channel", value="value", tz=zone, on_out_of_range=on_out_of_range,
                    all_channels=all_channels)
    ds.attrs.update(source=path.name, format="apple_health", device=parser.device_text(used),
                    sources=used, skipped=parser.skipped_text() or "nothing", export_date=parser.export_date or "")
    return ds


class _open:
    """The export's XML as a binary stream and its name for messages (file, zip member or folder)."""

    def __init__(self, path: Path):
        self.path, self.zip = path, None

    def __enter__(self):
        path = self.path
        if path.is_dir():
            for p in (path / "export.xml", path / "apple_health_export" / "export.xml"):
                if p.is_file():
                    self.stream = open(p, "rb")
                    return self.stream, str(p)
            raise ValueError(f"folder {str(path)!r} holds no export.xml nor apple_health_export/export.xml")
        if not path.is_file():
            raise FileNotFoundError(f"no such file or folder: {str(path)!r}")
        with open(path, "rb") as f:
            zipped = f.read(4) == b"PK\x03\x04"
        if not zipped:
            self.stream = open(path, "rb")
            return self.stream, path.name
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as err:
            raise ValueError(f"{path.name} is not a readable zip ({err}); is it truncated? Re-export or "
                             f"copy it again") from None
        member = _member(self.zip.namelist(), path.name)
        self.stream = self.zip.open(member)
        return self.stream, f"{path.name}:{member}"

    def __exit__(self, *exc):
        self.stream.close()
        if self.zip is not None:
            self.zip.close()


def _member(names: list[str], zip_name: str) -> str:
    xmls = [n for n in names if n.lower().endswith(".xml") and not n.lower().endswith("_cda.xml")]
    for n in xmls:
        if n.lower().rsplit("/", 1)[-1] == "export.xml":
            return n
    top = [n for n in xmls if n.count("/") <= 1]  # a localised name beside export_cda.xml
    if len(top) == 1:
        return top[0]
    raise ValueError(f"{zip_name} holds no apple_health_export/export.xml; expected an Apple Health export "
                     f"zip, found {names[:8]}{' ...' if len(names) > 8 else ''}")


def _zone_name(offsets: Counter, name: str, notes: list[str]) -> str:
    if not offsets:
        return "UTC"
    offset = offsets.most_common(1)[0][0]
    others = "" if len(offsets) == 1 else (f" ({len(offsets)} offsets seen: " + ", ".join(
        f"{o // 60:+03d}{abs(o) % 60:02d} x{n}" for o, n in offsets.most_common(4)) + ")")
    if offset % 60 or not -12 * 60 <= offset <= 14 * 60:
        notes.append(f"{name}: the most common UTC offset {offset // 60:+03d}{abs(offset) % 60:02d} has no fixed-offset "
                     f"IANA name; timezone set to 'UTC'{others}. Pass tz= to name the zone (times are right either way)")
        return "UTC"
    zone = "UTC" if offset == 0 else f"Etc/GMT{-offset // 60:+d}"
    if others:
        notes.append(f"{name}: timezone named {zone!r} after the most common offset{others}; pass tz= (say "
                     f"'Europe/Berlin') to name the real zone. Times are converted with each record's own offset")
    return zone



# ---- records -> per-minute values ----------------------------------------------------------------


def _minutes(data: dict, parser: _Parser, notes: list[str]) -> tuple[pd.DataFrame, str]:
    """The long per-minute frame (timestamp, channel, value) of the kept records, and who gave which channel."""
    data = _drop_duplicates(data, parser.name, notes)
    ranks = _ranks(parser, data["src"])
    names = list(parser.source_code)
    kinds = {t.channel: t.kind for t in TYPES.values()}
    merged, used = {}, []
    for channel, code in parser.chan_code.items():
        sel = data["chan"] == code
        if sel.any():
            per_source = _per_source(kinds[channel], *(data[k][sel] for k in ("start", "end", "value", "src", "offset")))
            merged[channel] = _merge(channel, per_source, ranks, names, used, notes, parser.name)
    for channel, per_source in _beat_minutes(parser).items():
        if channel in ("heart_rate", "sdnn") and channel in merged:  # the watch's own values win
            per_source = per_source[~per_source["minute"].isin(merged[channel]["minute"])]
            if per_source.empty:
                continue
            extra = _merge(channel, per_source, ranks, names, used, notes, parser.name, "from beats ")
            merged[channel] = pd.concat([merged[channel], extra], ignore_index=True)
        else:
            merged[channel] = _merge(channel, per_source, ranks, names, used, notes, parser.name, "from beats ")
    frames = [pd.DataFrame({"minute": f["minute"].to_numpy(), "channel": c, "value": f["value"].to_numpy()})
              for c, f in merged.items()]
    frame = pd.concat(frames, ignore_index=True)
    stamps = pd.to_datetime(frame.pop("minute").to_numpy() * 60, unit="s", utc=True)
    frame.insert(0, "timestamp", stamps)
    by_text: dict[str, list[str]] = {}
    for channel, text in used:  # "rmssd, rr_p80 from beats: 'Apple Watch' (8 min)"
        by_text.setdefault(text, []).append(channel)
    return frame, "; ".join(f"{', '.join(chs)}{text}" for text, chs in by_text.items())


def _drop_duplicates(data: dict, name: str, notes: list[str]) -> dict:
    """Records repeated exactly (same channel, source, dates and value) count once."""
    if len(data["value"]) < 2:
        return data
    keys = [data[k] for k in ("value", "end", "start", "src", "chan")]
    order = np.lexsort(keys)
    same = np.logical_and.reduce([np.diff(k[order]) == 0 for k in keys])
    repeated = np.zeros(len(order), dtype=bool)
    repeated[order[1:][same]] = True
    if not repeated.any():
        return data
    notes.append(f"{name}: dropped {int(repeated.sum())} exact duplicate record(s) (same type, source, dates and "
                 f"value), the first at line {int(data['line'][repeated].min())}")
    return {k: v[~repeated] for k, v in data.items()}


def _ranks(parser: _Parser, src: np.ndarray) -> np.ndarray:
    """Priority of each source code (0 first): sources= order, else watches, iPhones, others, by record count."""
    names = list(parser.source_code)
    counts = np.bincount(src, minlength=len(names)) if len(src) else np.zeros(len(names), dtype=int)

    def key(i):
        name = names[i]
        if parser.keep is not None:
            return (parser.keep.index(name),)
        watch = "watch" in name.lower() or parser.devices.get(name, "").startswith("Watch")
        group = 0 if watch else 1 if "iphone" in name.lower() or "iPhone" in parser.devices.get(name, "") else 2
        return group, -counts[i], name

    ranks = np.empty(len(names), dtype=int)
    ranks[sorted(range(len(names)), key=key)] = np.arange(len(names))
    return ranks


def _per_source(kind: str, start, end, value, src, offset) -> pd.DataFrame:
    """(src, minute, value) per source and UTC minute (minutes since the epoch) that a record reaches."""
    if kind == "day":  # the 1440 minutes of the local day of startDate, in its own offset
        first = ((start + offset * 60) // 86400 * 86400 - offset * 60) // 60
        n = np.full(len(start), 1440)
    else:  # the minutes startDate..endDate touches (endDate on a minute boundary does not reach into it)
        first = np.floor(start / 60)
        n = (np.where(end > start, np.ceil(end / 60) - 1, first) - first + 1).astype(int)
    rows = np.repeat(np.arange(len(start)), n)
    minute = first[rows] + (np.arange(rows.size) - np.repeat(np.cumsum(n) - n, n))  # (records,) -> (minutes,)
    values = value[rows]
    if kind == "count":  # the count spread uniformly over the seconds the interval covers
        span = (end - start)[rows]
        covered = np.minimum(end[rows], minute * 60 + 60) - np.maximum(start[rows], minute * 60)
        values = values * np.where(span > 0, covered / np.where(span > 0, span, 1.0), 1.0)
    frame = pd.DataFrame({"src": src[rows], "minute": minute.astype(np.int64), "value": values})
    return frame.groupby(["src", "minute"], sort=False)["value"].agg("sum" if kind == "count" else "mean").reset_index()


def _beat_minutes(parser: _Parser) -> dict[str, pd.DataFrame]:
    """Per-minute heart channels from the beat lists, per source, through features.beats_to_minutes."""
    from .. import features

    if not len(parser.beat_t):
        return {}
    t, rr, src = (np.frombuffer(a, dtype=a.typecode) for a in (parser.beat_t, parser.beat_rr, parser.beat_src))
    out: dict[str, list] = {}
    for code in np.unique(src):
        sel = np.flatnonzero(src == code)
        ns = np.round(t[sel] * 1e9).astype(np.int64)
        ns, first = np.unique(ns, return_index=True)  # sorted; a beat listed twice counts once
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # implausible minutes are NaN, as documented
            minutes = features.beats_to_minutes(ns.astype("datetime64[ns]"), rr[sel][first])
        minute = minutes.index.asi8 // (60 * 10**9)
        for channel in minutes.columns:
            ok = minutes[channel].notna().to_numpy()
            if ok.any():
                out.setdefault(channel, []).append(
                    pd.DataFrame({"src": code, "minute": minute[ok], "value": minutes[channel].to_numpy()[ok]}))
    return {c: pd.concat(f, ignore_index=True) for c, f in out.items()}


def _merge(channel, frame, ranks, names, used, notes, name, how="") -> pd.DataFrame:
    """One value per minute: the first source in priority order that has one (never a sum of sources)."""
    frame = frame.assign(rank=ranks[frame["src"].to_numpy()]).sort_values(["minute", "rank"], kind="stable")
    first = ~frame["minute"].duplicated().to_numpy()
    kept = frame[first].groupby("src").size()
    parts = [f"{names[s]!r} ({kept.get(s, 0)} min)" for s in sorted(kept.index, key=lambda s: ranks[s])]
    used.append((channel, f" {how}".rstrip() + ": " + ", ".join(parts)))
    if (~first).any():
        lost = frame[~first].groupby("src").size()
        notes.append(f"{name}: {channel} {how}from {len(kept) + len(set(lost.index) - set(kept.index))} sources, "
                     f"never summed: kept {', '.join(parts)}; left out " + ", ".join(
                         f"{lost[s]} min of {names[s]!r}" for s in lost.index) + " covered by a source before it")
    return frame[first][["minute", "value"]]
