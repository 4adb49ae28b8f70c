"""FIT files in: Garmin (and Wahoo, Coros, Suunto, ...) activity and monitoring files as recordings.

FIT ("Flexible and Interoperable Data Transfer") is Garmin's binary format, documented in the FIT
SDK: the protocol ("Flexible and Interoperable Data Transfer (FIT) Protocol", D00001275: a 12- or
14-byte header with ``.FIT`` at bytes 8-11 and a CRC-16 of bytes 0-11, definition and data messages,
little- or big-endian fields, a CRC-16 of the whole file at its end), the file types ("FIT File
Types": activity, monitoring) and the profile (``Profile.xlsx``: message and field numbers, scales,
units). Files are decoded with ``fitdecode`` (MIT), which follows the SDK profile; this module only
maps the decoded messages to LSM channels:

``record`` (activity files, mesg 20)
    ``heart_rate`` (bpm) -> ``heart_rate``, the mean of the minute's records. ``cadence`` +
    ``fractional_cadence`` -> ``steps`` only in foot sports (running, walking, hiking; treadmill):
    the profile counts running cadence in strides (one foot) a minute, so the step rate is
    ``2 * cadence``; each record counts ``rate * seconds / 60`` steps for the seconds since the
    previous record or timer start (at least 1, at most 60; none while the timer is stopped), and
    minutes are summed. Cycling cadence is pedal rpm, not steps, and is skipped (reported). The
    sport comes from the ``session`` messages (by time, so multisport files work), else the
    ``sport`` message; cadence without a sport is skipped with a warning.
    ``enhanced_altitude`` (else ``altitude``, m) -> ``altitude_std`` via
    :func:`lsmkit.features.altitude_to_minutes`. ``temperature`` is the device's own sensor
    (ambient air warmed by the wrist), not skin temperature, and is skipped (reported).
``hrv`` (mesg 78)
    up to five beat intervals (s) per message, untimed: they are chained end to end from the
    timestamp of the message before the first of them, and re-anchored at the latest timestamp
    when the chain falls more than 5 s behind it (lost beats), so beat times are good to a few
    seconds. They become the heart channels through :func:`lsmkit.features.beats_to_minutes`
    (its ``heart_rate`` is used only when the file's records have none). Intervals of 0 s or
    the invalid value are dropped (reported).
``monitoring`` (monitoring files, mesg 55)
    ``heart_rate`` -> ``heart_rate`` (mean per minute). Steps are cumulative counters per
    ``activity_type`` (walking and running, the profile's ``steps`` subfield of ``cycles``):
    successive values are differenced per type (a decrease means the device reset the counter,
    and the new value counts from zero); each increment is spread evenly over the seconds since
    the type's previous value, and minutes are summed. The first value of each type only sets
    the baseline. ``timestamp_16`` is resolved against the latest full timestamp, as the
    profile describes. The counters include the steps of workouts, so where one participant's
    monitoring file counts steps in a minute, activity files' steps of that minute are dropped.

Times are UTC seconds since 1989-12-31 00:00 (the FIT epoch). The local offset is
``local_timestamp - timestamp`` of the ``activity`` (or ``monitoring_info``) message; a
participant whose files share one whole-hour offset gets the zone ``Etc/GMT-<h>``, else UTC
(``tz=`` overrides), and ``utc_offset`` (minutes) is kept per participant. The device is
``file_id``'s manufacturer and product. Every other message type and field is counted in
``attrs["skipped"]`` and a warning.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ._fit_encode import encode, write_example
from ._fit_rows import FIT_EPOCH_UNIX, _file_rows, _Scan, _summary
from .tables import read_table

__all__ = ["read", "looks_like", "write_example", "encode", "FIT_EPOCH_UNIX"]

_MIN_ABSOLUTE = 0x10000000  # smaller date_time values count seconds since power-on, not a date
_BEAT_RESYNC_S = 5.0
_TIMER_STOPS = {"stop", "stop_all", "stop_disable", "stop_disable_all"}
# Fields this reader maps (or uses for timing); every other field with a value is reported.
_USED = {
    "record": {"timestamp", "heart_rate", "cadence", "fractional_cadence", "altitude", "enhanced_altitude"},
    "monitoring": {"timestamp", "timestamp_16", "heart_rate", "cycles", "steps", "activity_type"},
    "hrv": {"time"},
}
_METADATA = {"file_id", "device_info", "sport", "session", "activity", "event", "monitoring_info", "file_creator"}


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def looks_like(path) -> bool:
    """A ``.fit`` file, or a folder holding one (by name only)."""
    path = Path(path)
    if path.is_dir():
        return next(_fit_files(path), None) is not None
    return path.suffix.lower() == ".fit"


def read(path, *, participant: str = "folder", tz=None, on_out_of_range: str = "raise",
         on_truncated: str = "raise", on_bad_crc: str = "raise", on_duplicates: str = "mean") -> xr.Dataset:
    """Read a FIT file, or a folder of them, into recordings of per-minute LSM channels.

    Parameters
    ----------
    path : str or path-like
        A ``.fit`` file, or a folder searched recursively for ``*.fit`` (any case), such as a
        watch's ``GARMIN`` folder; files are read in path order.
    participant : {"folder", "file"}, default "folder"
        ``"folder"``: all files are one participant (one person's device), named after the
        folder (after the file's stem for a single file); ``"file"``: each file is a participant
        named after its stem (a collection of workouts from several people). Participants come
        in path order. In one participant, the values of overlapping files are merged per
        second and channel by ``on_duplicates`` and per minute as usual, except steps: a
        monitoring file's all-day counter already counts the steps of a workout, so in a minute
        where a monitoring file counts steps, an activity file's steps are dropped (warned,
        counted), as they would be counted twice.
    tz : str or mapping, optional
        IANA zone (or ``{participant: zone}``) recorded in the ``timezone`` coordinate; left out,
        it comes from the files' local offset (module docstring). Times are UTC either way.
    on_out_of_range : {"raise", "nan"}, default "raise"
        A heart rate or step rate outside its channel's range (say 0 or 300 bpm): raise naming
        the file, message and byte offset, or drop it with a warning that counts them.
    on_truncated : {"raise", "keep"}, default "raise"
        A file cut short (a battery that died while recording): raise, or keep the messages read
        before the cut, with a warning.
    on_bad_crc : {"raise", "warn"}, default "raise"
        A header or file CRC that does not match: raise, or read on with a warning.
    on_duplicates : str, default "mean"
        Passed to :func:`lsmkit.read_table` for the same second and channel in two files of one
        participant (records with equal timestamps within a file keep the first, reported).

    Returns
    -------
    xarray.Dataset
        Recordings (:func:`lsmkit.read_table`) with a per-participant ``utc_offset`` (minutes)
        and ``attrs`` ``source``, ``format`` (``"fit"``), ``device`` and ``skipped``.

    Raises
    ------
    ValueError
        A file that is empty, not FIT, cut short or corrupt (naming the file and byte offset),
        a value out of range (naming the message), a folder without ``.fit`` files, or no data.
    """
    for name, value, options in (("participant", participant, ("folder", "file")),
                                 ("on_out_of_range", on_out_of_range, ("raise", "nan")),
                                 ("on_truncated", on_truncated, ("raise", "keep")),
                                 ("on_bad_crc", on_bad_crc, ("raise", "warn"))):
        if value not in options:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    path = Path(path)
    files = sorted(_fit_files(path)) if path.is_dir() else [path]
    if not files:
        found = sorted(p.name for p in path.iterdir())[:5]
        raise ValueError(f"folder {str(path)!r} holds no .fit files (found {found or 'nothing'}); "
                         f"expected FIT activity or monitoring files")
    group = path.name if path.is_dir() else path.stem
    # One file at a time: a scan's message lists are dropped once its rows are made, so a bulk
    # export of thousands of files holds only their rows (and a few counts per file) at once.
    frames, offsets, notes, scan_notes = [], {}, [], []
    skipped, devices = Counter(), {}
    for f in files:
        scan = _scan(f, on_truncated, on_bad_crc)
        owner = f.stem if participant == "file" else group
        frame = _file_rows(scan, on_out_of_range, notes)
        scan_notes.extend(_scan_notes(scan))
        skipped += scan.skipped
        devices.setdefault(scan.device or "unknown device", None)
        if frame.empty:
            notes.append(f"{scan.name}: no heart rate, steps, altitude or beat intervals ({scan.n_messages} "
                         f"messages: {_summary(scan.skipped) or 'none'}); left out")
            continue
        frames.append(frame.assign(participant=owner, monitoring=bool(scan.counters), file=scan.name))
        offsets.setdefault(owner, []).append(scan.utc_offset)
    notes.extend(scan_notes)
    try:
        if not frames:
            raise ValueError(f"{path.name}: no FIT file holds heart rate, steps, altitude or beat intervals "
                             f"(record, hrv or monitoring messages); expected an activity or monitoring file")
        rows = _steps_counted_once(pd.concat(frames, ignore_index=True), notes)
        zones = tz if tz is not None else {p: _zone(p, o, notes) for p, o in offsets.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # read_table's notes name a DataFrame; ours name files
            ds = read_table(rows, channel="channel", value="value", tz=zones, on_duplicates=on_duplicates)
    finally:
        for note in notes:
            warnings.warn(note, UserWarning, stacklevel=2)
    first_offset = [offsets[str(p)][0] for p in ds["participant"].values]
    ds["utc_offset"] = ("participant", np.asarray(first_offset, dtype=np.float32),
                        {"units": "minutes", "long_name": "local time minus UTC in the (first) file"})
    ds.attrs.update(source=path.name, format="fit", skipped=_summary(skipped) or "nothing",
                    device="; ".join(devices))
    return ds


def _steps_counted_once(rows: pd.DataFrame, notes: list) -> pd.DataFrame:
    """Long rows without the activity files' steps in minutes a monitoring file of the same
    participant counts steps in (its all-day counter includes the workout); the dropped are noted."""
    steps = (rows["channel"] == "steps") & rows["value"].notna()
    minute = rows["timestamp"].dt.floor("min")
    counted = pd.MultiIndex.from_frame(pd.DataFrame({"p": rows["participant"], "m": minute})[steps & rows["monitoring"]])
    if counted.empty:
        return rows.drop(columns=["monitoring", "file"])
    keys = pd.MultiIndex.from_arrays([rows["participant"], minute])
    twice = (steps & ~rows["monitoring"]).to_numpy() & keys.isin(counted)
    if twice.any():
        names = ", ".join(dict.fromkeys(rows.loc[twice, "file"]))
        notes.append(f"{names}: steps of {int(twice.sum())} record(s) dropped: a monitoring file counts steps in "
                     f"the same minutes, and its all-day counter already includes the workout's")
    return rows.loc[~twice].drop(columns=["monitoring", "file"])


def _fit_files(folder: Path):
    return (p for p in folder.rglob("*") if p.suffix.lower() == ".fit" and p.is_file())


def _zone(owner: str, offsets: list, notes: list) -> str:
    known = {o for o in offsets if not np.isnan(o)}
    if len(known) == 1 and next(iter(known)) % 60 == 0:
        hours = int(next(iter(known)) // 60)
        return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"  # the Etc zones count west as positive
    if known:
        notes.append(f"{owner}: local offsets {sorted(known)} minutes (not one whole-hour offset); timezone "
                     f"left as UTC, the first file's offset kept in utc_offset (pass tz= to name the zone)")
    return "UTC"


# ---- one file: bytes to lists ---------------------------------------------------------------


def _scan(path: Path, on_truncated: str, on_bad_crc: str) -> _Scan:
    import fitdecode  # the runtime dependency that decodes the FIT profile

    _check_header(path)
    scan = _Scan(path.name)
    try:
        with fitdecode.FitReader(path, check_crc=fitdecode.CrcCheck.READONLY, keep_raw_chunks=True,
                                 error_handling=fitdecode.ErrorHandling.RAISE) as reader:
            for frame in reader:
                if isinstance(frame, fitdecode.FitDataMessage):
                    scan.n_messages += 1
                    _take(scan, frame, f"data message {scan.n_messages} ({frame.name}) at byte {frame.chunk.offset}")
                elif isinstance(frame, (fitdecode.FitHeader, fitdecode.FitCRC)):
                    _check_crc(path.name, frame, on_bad_crc)
    except fitdecode.FitEOFError as err:
        after = f"after {scan.n_messages} data messages"
        if on_truncated == "raise" or scan.n_messages == 0:
            raise ValueError(f"{path.name}: file cut short at byte {err.offset} ({after}): expected {err.expected} "
                             f"more bytes, got {err.got}; pass on_truncated='keep' to keep what was read") from None
        scan.problem("file cut short; kept the messages before the cut", f"byte {err.offset} ({after})")
    except fitdecode.FitError as err:  # a malformed definition or data message
        raise ValueError(f"{path.name}: not a readable FIT file after {scan.n_messages} data messages: {err}") from None
    return scan


def _check_header(path: Path) -> None:
    with open(path, "rb") as f:
        head = f.read(14)
    if not head:
        raise ValueError(f"{path.name} is empty (0 bytes); expected a FIT file starting with a 12- or 14-byte header")
    if len(head) >= 12 and head[8:12] != b".FIT":
        raise ValueError(f"{path.name} is not a FIT file: bytes 8-11 are {head[8:12]!r}, expected b'.FIT'")
    if head[0] not in (12, 14):
        raise ValueError(f"{path.name}: header size byte 0 is {head[0]}, expected 12 or 14")
    if len(head) < head[0]:
        raise ValueError(f"{path.name}: file cut short in the header ({len(head)} bytes, the header says "
                         f"{head[0]}); expected a 12- or 14-byte FIT header")


def _check_crc(name: str, frame, policy: str) -> None:
    import fitdecode

    header = isinstance(frame, fitdecode.FitHeader)
    good = frame.crc_matched if header else frame.matched
    if good is False:
        what = "header CRC (bytes 12-13)" if header else f"file CRC (at byte {frame.chunk.offset})"
        message = f"{name}: the {what} does not match the bytes it covers: the file is corrupt"
        if policy == "raise":
            raise ValueError(message + "; pass on_bad_crc='warn' to read it anyway")
        warnings.warn(message + "; read anyway (on_bad_crc='warn')", UserWarning, stacklevel=5)


def _raw(frame, name):
    """A field's raw (unscaled) value, or None when absent or invalid."""
    if not frame.has_field(name):
        return None
    return frame.get_field(name).raw_value


def _take(scan: _Scan, frame, where: str) -> None:
    """Note one data message in ``scan``."""
    name = frame.name
    stamp = _raw(frame, "timestamp")
    if stamp is not None and stamp >= _MIN_ABSOLUTE:
        scan.last_time = stamp
    if name in _USED:
        for f in frame.fields:
            if f.value is not None and f.name not in _USED[name]:
                scan.skipped[f"{name}.{f.name}" + (" (device, not skin)" if f.name == "temperature" else "")] += 1
    if name == "record":
        _take_record(scan, frame, stamp, where)
    elif name == "hrv":
        _take_beats(scan, frame, where)
    elif name == "monitoring":
        _take_monitoring(scan, frame, stamp, where)
    elif name in _METADATA:
        _take_metadata(scan, frame, stamp)
    else:
        scan.skipped[name] += 1


def _take_record(scan, frame, stamp, where):
    if stamp is None or stamp < _MIN_ABSOLUTE:
        scan.problem("records without a (UTC) timestamp dropped", where)
        return
    cadence = frame.get_value("cadence", fallback=None)
    if cadence is not None:
        cadence += frame.get_value("fractional_cadence", fallback=None) or 0.0
    altitude = frame.get_value("enhanced_altitude", fallback=None)
    altitude = frame.get_value("altitude", fallback=None) if altitude is None else altitude
    scan.records.append((stamp, frame.get_value("heart_rate", fallback=None), cadence, altitude, where))


def _take_beats(scan, frame, where):
    anchor = scan.last_time
    if anchor is None:
        scan.problem("beat intervals before any timestamp dropped", where)
        return
    for seconds in np.atleast_1d(frame.get_value("time", fallback=None) or ()):
        if seconds is None or not 0 < seconds < 65.535:  # 0xFFFF scaled is the invalid value
            scan.problem("beat intervals of 0 s or the invalid value dropped", where)
            continue
        if scan.beat_end is None or scan.beat_end < anchor - _BEAT_RESYNC_S:
            scan.beat_end = float(anchor)  # first beats, or the chain lost beats: restart at the clock
        scan.beat_end += float(seconds)
        scan.beats.append((scan.beat_end, 1000.0 * float(seconds)))


def _take_monitoring(scan, frame, stamp, where):
    short = _raw(frame, "timestamp_16")
    if (stamp is None or stamp < _MIN_ABSOLUTE) and short is not None and scan.last_time is not None:
        stamp = scan.last_time + ((short - scan.last_time) & 0xFFFF)  # the profile's rollover rule
    if stamp is None or stamp < _MIN_ABSOLUTE:
        scan.problem("monitoring messages without a timestamp dropped", where)
        return
    heart = frame.get_value("heart_rate", fallback=None)
    if heart is not None:
        scan.monitor_hr.append((stamp, heart, where))
    kind = frame.get_value("activity_type", fallback=None)
    if frame.has_field("steps") and frame.get_value("steps") is not None:
        scan.counters.setdefault(kind, []).append((stamp, frame.get_value("steps"), where))
    elif frame.has_field("cycles") and frame.get_value("cycles") is not None:
        scan.skipped[f"monitoring.cycles ({kind or 'no activity type'}: not steps)"] += 1


def _take_metadata(scan, frame, stamp):
    name = frame.name
    if name == "file_id" and scan.device is None:
        maker = frame.get_value("manufacturer", fallback=None)
        product = frame.get_value("garmin_product", fallback=None) or frame.get_value("product", fallback=None)
        scan.device = " ".join(str(v) for v in (maker, product) if v is not None) or None
    elif name in ("activity", "monitoring_info") and np.isnan(scan.utc_offset):
        local = _raw(frame, "local_timestamp")
        if local is not None and stamp is not None:
            scan.utc_offset = (local - stamp) / 60.0
    elif name == "sport":
        scan.sports.append((frame.get_value("sport", fallback=None), frame.get_value("sub_sport", fallback=None)))
    elif name == "session":
        start, elapsed = _raw(frame, "start_time"), frame.get_value("total_elapsed_time", fallback=None)
        end = start + elapsed if start is not None and elapsed is not None else stamp
        if start is not None and end is not None:
            scan.sessions.append((start, end, frame.get_value("sport", fallback=None),
                                  frame.get_value("sub_sport", fallback=None)))
    elif name == "event" and frame.get_value("event", fallback=None) == "timer" and stamp is not None:
        kind = frame.get_value("event_type", fallback=None)
        if kind == "start" or kind in _TIMER_STOPS:
            scan.events.append((stamp, "start" if kind == "start" else "stop"))


def _scan_notes(scan: _Scan) -> list[str]:
    notes = [f"{scan.name}: {n} {kind} (first: {where})" for kind, (n, where) in scan.problems.items()]
    if scan.skipped:
        notes.append(f"{scan.name}: left out (not LSM channels): {_summary(scan.skipped)}")
    return notes
