"""FIT out: a small encoder of FIT messages, and :func:`write_example` (activity files from recordings).

The layout is the FIT protocol's (FIT SDK, "Flexible and Interoperable Data Transfer (FIT)
Protocol"): a 14-byte header (size, protocol version, profile version, data size, ``.FIT``, CRC of
bytes 0-11), then records (a definition message, header bit 6 set, before the first data message
of each layout; data messages with header bit 6 clear; local message numbers 0-15), then the CRC-16
of all bytes before it, little-endian. Field numbers, base types, scales and offsets are the FIT
profile's (``Profile.xlsx``), as decoded by ``fitdecode``.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

#: FIT base types: name -> (base type number, struct code, invalid value).
BASE_TYPES = {
    "enum": (0x00, "B", 0xFF), "sint8": (0x01, "b", 0x7F), "uint8": (0x02, "B", 0xFF),
    "sint16": (0x83, "h", 0x7FFF), "uint16": (0x84, "H", 0xFFFF), "sint32": (0x85, "i", 0x7FFFFFFF),
    "uint32": (0x86, "I", 0xFFFFFFFF), "uint32z": (0x8C, "I", 0), "byte": (0x0D, "B", 0xFF),
}
_CRC_TABLE = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
              0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)
_FIT_EPOCH = pd.Timestamp("1989-12-31", tz="UTC")
# Profile numbers used by write_example: messages, and the sport enum.
FILE_ID, EVENT, SPORT, RECORD, SESSION, ACTIVITY = 0, 21, 12, 20, 18, 34
SPORTS = {"generic": 0, "running": 1, "cycling": 2, "walking": 11, "hiking": 17}
_FOOT = {"running", "walking", "hiking"}


def crc16(data: bytes, crc: int = 0) -> int:
    """The FIT CRC-16 of ``data`` (the SDK's nibble-table algorithm), continuing from ``crc``."""
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = _CRC_TABLE[crc & 0xF]
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _CRC_TABLE[nibble]
    return crc


def encode(messages, *, endian: str = "<", profile_version: int = 2132) -> bytes:
    """FIT bytes (header, definitions, data messages, CRC) for ``messages``.

    Parameters
    ----------
    messages : iterable of (int, dict)
        ``(global message number, {field number: (base type name, value)})``; a value is an
        int (scaled and offset as the profile says), ``None`` (the type's invalid value) or a
        tuple of them (an array field). A definition message is written whenever a layout is new.
    endian : {"<", ">"}
        Little- or big-endian fields (the definition's architecture byte).
    profile_version : int
        Written in header bytes 2-3 (2132 = profile 21.32).
    """
    body, layouts = bytearray(), {}
    for number, fields in messages:
        layout = (number, tuple((f, t, len(v) if isinstance(v, tuple) else 1) for f, (t, v) in fields.items()))
        if layout not in layouts:
            local = len(layouts) % 16
            layouts = {k: v for k, v in layouts.items() if v != local}  # a reused local number is redefined
            layouts[layout] = local
            body += struct.pack(f"{endian}BBBHB", 0x40 | local, 0, endian == ">", number, len(fields))
            for f, t, n in layout[1]:
                code, fmt, _ = BASE_TYPES[t]
                body += struct.pack("BBB", f, n * struct.calcsize(fmt), code)
        body.append(layouts[layout])
        for f, (t, v) in fields.items():
            _, fmt, invalid = BASE_TYPES[t]
            for item in v if isinstance(v, tuple) else (v,):
                body += struct.pack(endian + fmt, invalid if item is None else item)
    header = struct.pack("<BBHI4s", 14, 0x20, profile_version, len(body), b".FIT")
    data = header + struct.pack("<H", crc16(header)) + bytes(body)
    return data + struct.pack("<H", crc16(data))


def fit_time(t) -> int:
    """A UTC time as FIT seconds (since 1989-12-31 00:00 UTC)."""
    return int((pd.Timestamp(t).tz_localize("UTC") if pd.Timestamp(t).tz is None else pd.Timestamp(t))
               .tz_convert("UTC").timestamp() - _FIT_EPOCH.timestamp())


def write_example(recordings, path, *, sport: str = "running", records: str = "second",
                  manufacturer: int = 255, product: int = 0):
    """Write recordings as FIT activity files (one per participant) that :func:`read` reads back.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings (:func:`lsmkit.make_recordings`); ``heart_rate``, ``steps`` and
        ``altitude_std`` are written, every other channel is not (a FIT activity file has no
        place for it).
    path : str or path-like
        The ``.fit`` file for one participant, or a folder (made if needed) that receives
        ``<participant>.fit`` per participant.
    sport : {"running", "walking", "hiking", "cycling", "generic"}
        The ``sport`` and ``session`` sport. Steps become cadence (strides a minute, half the
        step rate) in foot sports only; otherwise they are not written (warned).
    records : {"second", "minute"}
        One ``record`` a second (the minute's heart rate dithered between its two nearest whole
        bpm so their mean is within 1/120 bpm of it; altitudes at +-a few 0.2 m steps around
        100 m whose SD is ``altitude_std`` within about 2 %), or one at second 59 of each
        minute (heart rate rounded to whole bpm, no altitude). Steps come back within 1/64.
        Minutes without any of the three channels are gaps, bracketed by timer stop/start events.
    manufacturer, product : int
        ``file_id`` numbers (255 = "development").

    Returns
    -------
    pathlib.Path or list of pathlib.Path
        The file written, or the files (one participant per file) when ``path`` is a folder.
    """
    if sport not in SPORTS:
        raise ValueError(f"sport must be one of {sorted(SPORTS)}; got {sport!r}")
    if records not in ("second", "minute"):
        raise ValueError(f"records must be 'second' or 'minute'; got {records!r}")
    path = Path(path)
    names = [str(p) for p in recordings["participant"].values]
    if path.suffix.lower() != ".fit":
        path.mkdir(parents=True, exist_ok=True)
        targets = [path / f"{name}.fit" for name in names]
    elif len(names) == 1:
        targets = [path]
    else:
        raise ValueError(f"{len(names)} participants need a folder, not the file {path.name!r} (one file each)")
    for p, target in enumerate(targets):
        part = recordings.isel(participant=p)
        target.write_bytes(encode(_activity(part, sport, records, manufacturer, product)))
    return targets if path.suffix.lower() != ".fit" else targets[0]


def _channel(part, name: str) -> np.ndarray:
    channels = [str(c) for c in part["channel"].values]
    n = part.sizes["time"]
    return part["signal"].values[:, channels.index(name)].astype(float) if name in channels else np.full(n, np.nan)


def _activity(part, sport, records, manufacturer, product):
    """The messages of one participant's activity file."""
    hr, steps, alt_sd = (_channel(part, c) for c in ("heart_rate", "steps", "altitude_std"))
    if sport not in _FOOT and not np.isnan(steps).all():
        warnings.warn(f"steps are not written for sport {sport!r} (FIT cadence is steps only in foot sports)",
                      UserWarning, stacklevel=3)
        steps = np.full_like(steps, np.nan)
    if records == "minute" and not np.isnan(alt_sd).all():
        warnings.warn("altitude_std is not written with records='minute' (one altitude a minute has no spread)",
                      UserWarning, stacklevel=3)
        alt_sd = np.full_like(alt_sd, np.nan)
    start = fit_time(pd.Timestamp(part["start"].values))
    offsets = part["time"].values.astype(int)  # minutes since start (a slice keeps its offsets)
    minutes = np.flatnonzero(~(np.isnan(hr) & np.isnan(steps) & np.isnan(alt_sd)))
    if minutes.size == 0:
        raise ValueError("the recordings hold no heart_rate, steps or altitude_std to write")
    first, last = start + 60 * int(offsets[minutes[0]]), start + 60 * int(offsets[minutes[-1]]) + 59
    offset = _utc_offset(part, first)
    yield FILE_ID, {0: ("enum", 4), 1: ("uint16", manufacturer), 2: ("uint16", product), 4: ("uint32", first)}
    yield SPORT, {0: ("enum", SPORTS[sport]), 1: ("enum", 0)}
    previous = None
    for m in minutes:
        t0 = start + 60 * int(offsets[m])
        if previous is None or t0 != previous + 60:  # a new stretch: (stop and) start the timer
            if previous is not None:
                yield EVENT, {253: ("uint32", previous + 59), 0: ("enum", 0), 1: ("enum", 4)}
            yield EVENT, {253: ("uint32", t0 - 1), 0: ("enum", 0), 1: ("enum", 0)}
        previous = t0
        yield from _minute_records(t0, hr[m], steps[m], alt_sd[m], records)
    yield EVENT, {253: ("uint32", last), 0: ("enum", 0), 1: ("enum", 4)}
    elapsed = (last - first + 1) * 1000
    yield SESSION, {253: ("uint32", last), 2: ("uint32", first), 7: ("uint32", elapsed), 5: ("enum", SPORTS[sport]),
                    6: ("enum", 0)}
    yield ACTIVITY, {253: ("uint32", last), 1: ("uint16", 1), 2: ("enum", 0), 5: ("uint32", last + offset)}


def _utc_offset(part, t: int) -> int:
    zone = str(part["timezone"].values) if "timezone" in part.coords else "UTC"
    moment = _FIT_EPOCH + pd.Timedelta(seconds=t)
    return int(moment.tz_convert(zone).utcoffset().total_seconds())


def _minute_records(t0, hr, steps, alt_sd, records):
    """The records of one minute (see write_example for what they hold)."""
    n = 60 if records == "second" else 1
    if np.isnan(hr):
        beats = [None] * n
    elif n == 1:
        beats = [int(round(hr))]
    else:  # k seconds one bpm up: the mean of the 60 is floor(hr) + k / 60
        low = int(np.floor(hr))
        k = int(round((hr - low) * 60))
        beats = [low + 1] * k + [low] * (60 - k)
    strides = steps / 2.0
    whole = None if np.isnan(steps) else int(np.floor(strides))
    frac = None if whole is None else int(round((strides - whole) * 128))
    if frac == 128:
        whole, frac = whole + 1, 0
    heights = _altitudes(alt_sd, n)
    for s in range(n):
        second = t0 + (s if n == 60 else 59)
        fields = {253: ("uint32", second), 3: ("uint8", beats[s]), 4: ("uint8", whole), 53: ("uint8", frac)}
        if heights is not None:
            fields[78] = ("uint32", int(round((heights[s] + 500) * 5)))  # enhanced_altitude: scale 5, offset 500
        yield RECORD, fields


def _altitudes(sd: float, n: int):
    """60 altitudes (0.2 m steps, the profile's resolution) whose population SD is close to ``sd``."""
    if n != 60 or np.isnan(sd):
        return None
    if sd <= 0:
        return np.full(60, 100.0)
    pairs = np.arange(1, 31)  # k seconds at +a and k at -a: SD = a * sqrt(2k / 60)
    steps = np.maximum(np.round(sd / (0.2 * np.sqrt(2 * pairs / 60))), 1)
    err = np.abs(0.2 * steps * np.sqrt(2 * pairs / 60) - sd)
    k, a = int(pairs[np.argmin(err)]), 0.2 * steps[np.argmin(err)]
    return 100.0 + np.r_[np.full(k, a), np.full(k, -a), np.zeros(60 - 2 * k)]
