"""The streaming half of :mod:`lsmkit.io.apple_health`: expat callbacks that keep the mapped records.

Every ``Record`` of a type in :data:`TYPES` becomes one row of compact arrays (UTC start and end
in seconds, value in the channel's unit, channel, source, line, UTC offset); beat lists become
beat times and intervals. Bad records raise naming the file and line, or are counted
(``on_bad_record="skip"``). The module docstring of :mod:`lsmkit.io.apple_health` gives the rules.
"""

from __future__ import annotations

import datetime
import re
import xml.parsers.expat
import zipfile
import zlib
from array import array
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..channels import get_channel


@dataclass(frozen=True)
class _Type:
    channel: str
    kind: str  # "level": mean over touched minutes, "count": spread and summed, "day": held for the local day
    units: dict  # unit -> (scale, shift): value * scale + shift is in the channel's unit


_BPM = {"count/min": (1.0, 0.0), "count/s": (60.0, 0.0)}
#: The record types read, by HealthKit identifier.
TYPES: dict[str, _Type] = {
    "HKQuantityTypeIdentifierHeartRate": _Type("heart_rate", "level", _BPM),
    "HKQuantityTypeIdentifierRestingHeartRate": _Type("resting_heart_rate", "day", _BPM),
    "HKQuantityTypeIdentifierHeartRateVariabilitySDNN": _Type("sdnn", "level", {"ms": (1.0, 0.0), "s": (1000.0, 0.0)}),
    "HKQuantityTypeIdentifierStepCount": _Type("steps", "count", {"count": (1.0, 0.0)}),
    "HKQuantityTypeIdentifierAppleSleepingWristTemperature": _Type(
        "skin_temperature", "level", {"degC": (1.0, 0.0), "degF": (5 / 9, -160 / 9), "K": (1.0, -273.15)}),
}
_CHANNELS = sorted({t.channel for t in TYPES.values()})
_MAX_SPAN_S = 86400.0  # a sample longer than a day is an error, not something to spread
_BEAT_SLACK_S = 60.0  # beats may lie this far outside their record's start..end
_DATE_RE = re.compile(r"(\d{4}-\d\d-\d\d)[ T](\d\d):(\d\d):(\d\d)(?:[.,]\d+)?\s*(?:(Z)|([+-])(\d\d):?(\d\d))?$")
_CLOCK_RE = re.compile(r"(\d{1,2}):(\d\d):(\d\d(?:[.,]\d+)?)[\s\u202f\u00a0]*([AaPp][Mm])?$")
_EPOCH = datetime.date(1970, 1, 1)
_TYPE_PREFIX = re.compile(r"^HK\w*?TypeIdentifier")
_BLOCK = 1 << 20


def _epoch_day(text: str) -> int:
    return (datetime.date.fromisoformat(text) - _EPOCH).days


class _Parser:
    """Expat callbacks that keep the mapped records as compact arrays (one row per record)."""

    def __init__(self, name, sources, wrist_temperature, on_bad_record, on_out_of_range):
        self.name, self.on_bad, self.on_range = name, on_bad_record, on_out_of_range
        self.keep = None if sources is None else list(sources)
        self.types = {k: t for k, t in TYPES.items() if wrist_temperature or t.channel != "skin_temperature"}
        self.chan_code = {c: i for i, c in enumerate(_CHANNELS)}
        self.ranges = {c: get_channel(c).valid_range for c in _CHANNELS}
        self.cols = {k: array(c) for k, c in (("start", "d"), ("end", "d"), ("value", "d"), ("chan", "b"),
                                              ("src", "h"), ("line", "i"), ("offset", "h"))}
        self.beat_t, self.beat_rr, self.beat_src = array("d"), array("d"), array("h")
        self.source_code: dict[str, int] = {}
        self.devices: dict[str, str] = {}
        self.skipped, self.left_sources, self.offsets = Counter(), Counter(), Counter()
        self.problems: dict[str, list] = {}  # problem -> [count, first line, message]
        self.days: dict[str, int] = {}
        self.depth, self.n_records, self.last_offset, self.export_date = 0, 0, None, None
        self.record = None  # (start, end, offset, source code, line) of the kept record being read
        self.pending: list = []  # its beats: (clock seconds, bpm, line)
        self.p = p = xml.parsers.expat.ParserCreate()
        p.StartElementHandler, p.EndElementHandler = self._start, self._end
        p.EntityDeclHandler = self._entity

    # ---- feeding and messages
    def feed(self, stream) -> None:
        final = False
        try:
            while block := stream.read(_BLOCK):
                self.p.Parse(block, False)
            final = True
            self.p.Parse(b"", True)
        except xml.parsers.expat.ExpatError as err:
            what = xml.parsers.expat.errors.messages[err.code]
            if final or err.code == xml.parsers.expat.errors.codes[xml.parsers.expat.errors.XML_ERROR_NO_ELEMENTS]:
                raise ValueError(f"{self.name} ends at line {err.lineno}, column {err.offset} inside an element "
                                 f"({what}): the file is truncated or not an export; expected it to end with "
                                 f"</HealthData>. Export or unzip it again") from None
            hint = " (is it XML at all?)" if err.lineno == 1 else ""
            raise ValueError(f"{self.name} is not well-formed XML at line {err.lineno}, column {err.offset}: "
                             f"{what}{hint}") from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:
            raise ValueError(f"{self.name}: the zip member is damaged after line {self.p.CurrentLineNumber} "
                             f"({err}); copy or export the zip again") from None

    def _fail(self, problem: str, line: int, message: str) -> None:
        """A bad record: raise naming the line, or count it (on_bad_record="skip", and the warned fallbacks)."""
        if self.on_bad == "raise" and problem not in ("beat times shifted", "no UTC offset"):
            raise ValueError(f"{self.name}, line {line}: {message}")
        entry = self.problems.setdefault(problem, [0, line, message])
        entry[0] += 1

    def notes(self) -> list[str]:
        out = []
        for problem, (count, line, message) in self.problems.items():
            noun = "date(s)" if problem == "no UTC offset" else "record(s)"
            action = ("took the offset of the date before" if problem == "no UTC offset" else
                      "shifted them back" if problem == "beat times shifted" else "left them out")
            out.append(f"{self.name}: {count} {noun} with {problem}, {action}; the first at line {line}: {message}")
        if self.skipped or self.left_sources:
            out.append(f"{self.name}: left out {self.skipped_text()}")
        return out

    def skipped_text(self) -> str:
        parts = [f"{_TYPE_PREFIX.sub('', k)} ({n})" for k, n in self.skipped.most_common()]
        parts += [f"source {s!r} ({n} records)" for s, n in self.left_sources.most_common()]
        return ", ".join(parts)

    def device_text(self, used: str) -> str:
        names = [s for s in self.source_code if f"'{s}'" in used]
        return "; ".join(f"{s} ({self.devices[s]})" if self.devices.get(s) else s for s in names) or "unknown"

    # ---- callbacks
    def _entity(self, name, *args):
        raise ValueError(f"{self.name}, line {self.p.CurrentLineNumber}: declares the entity {name!r}; Apple's "
                         f"exports declare none (refusing entity expansion)")

    def _start(self, tag, attrs):
        depth, self.depth = self.depth, self.depth + 1
        if depth == 0:
            if tag != "HealthData":
                raise ValueError(f"{self.name}, line {self.p.CurrentLineNumber}: the root element is <{tag}>; "
                                 f"expected <HealthData> (is this an Apple Health export.xml?)")
        elif depth == 1:
            if tag == "Record":
                self.n_records += 1
                self._record(attrs, self.p.CurrentLineNumber)
            elif tag == "ExportDate":
                self.export_date = attrs.get("value")
                if self.export_date:
                    self._time(self.export_date, self.p.CurrentLineNumber, "ExportDate value")
            elif tag != "Me":
                self.skipped[tag] += 1
        elif tag == "InstantaneousBeatsPerMinute" and self.record is not None:
            self._beat(attrs, self.p.CurrentLineNumber)

    def _end(self, tag):
        self.depth -= 1
        if self.depth == 1 and self.record is not None:
            if self.pending:
                self._beats()
            self.record, self.pending = None, []

    # ---- records
    def _record(self, a, line) -> None:
        kind = a.get("type")
        if kind is None:
            return self._fail("no type", line, "the Record has no type attribute; expected e.g. "
                                               "type=\"HKQuantityTypeIdentifierHeartRate\"")
        spec = self.types.get(kind)
        if spec is None:
            self.skipped[kind] += 1  # shortened when reported: this is the hot path of a large export
            return None
        source = a.get("sourceName", "")
        if self.keep is not None and source not in self.keep:
            self.left_sources[source] += 1
            return None
        for attr in ("value", "startDate", "endDate"):
            if attr not in a:
                return self._fail(f"no {attr}", line, f"the {kind} Record has no {attr} attribute")
        try:
            value = float(a["value"])
        except ValueError:
            return self._fail("a non-numeric value", line, f"{kind} value={a['value']!r} is not a number")
        unit = a.get("unit")
        if unit not in spec.units:
            return self._fail("an unknown unit", line, f"{kind} has unit={unit!r}; expected one of "
                                                       f"{list(spec.units)}")
        scale, shift = spec.units[unit]
        value = value * scale + shift
        times = [self._time(a[k], line, k) for k in ("startDate", "endDate")]
        if None in times:
            return None
        (start, offset), (end, _) = times
        if not end >= start:
            return self._fail("endDate before startDate", line, f"endDate={a['endDate']!r} is before "
                                                                f"startDate={a['startDate']!r}")
        if end - start > _MAX_SPAN_S and spec.kind != "day":
            return self._fail("a span over a day", line, f"{kind} spans {(end - start) / 3600:.1f} h "
                                                         f"({a['startDate']} to {a['endDate']}); expected at most a day")
        if not self._in_range(spec, value, start, end, line, kind):
            return None
        src = self.source_code.setdefault(source, len(self.source_code))
        if source not in self.devices:
            self.devices[source] = _device(a.get("device", ""))
        for col, v in zip(self.cols.values(), (start, end, value, self.chan_code[spec.channel], src, line, offset)):
            col.append(v)
        self.offsets[offset] += 1
        self.record = (start, end, offset, src, line)
        return None

    def _in_range(self, spec, value, start, end, line, kind) -> bool:
        lo, hi = self.ranges[spec.channel]
        rate = value / max((end - start) / 60.0, 1.0) if spec.kind == "count" else value
        if lo <= rate <= hi and value >= lo:
            return True
        what = f"{value:g} over {(end - start) / 60:.1f} min ({rate:.4g}/min)" if spec.kind == "count" else f"{value:g}"
        message = (f"{kind} value {what} is outside the plausible range of {spec.channel} "
                   f"[{lo:g}, {hi:g}] {get_channel(spec.channel).unit}")
        if self.on_range == "raise":
            raise ValueError(f"{self.name}, line {line}: {message} (on_out_of_range='nan' leaves such records out)")
        entry = self.problems.setdefault(f"{spec.channel} out of range", [0, line, message])
        entry[0] += 1
        return False

    def _time(self, text: str, line: int, what: str):
        """(UTC seconds since the epoch, offset minutes) of an export date, or None (bad, skipped)."""
        if len(text) == 25 and text[10] == " " and text[19] == " " and text[20] in "+-":
            day = self.days.get(text[:10])  # fast path: "2023-01-02 08:15:00 +0100"
            try:
                if day is None:
                    day = self.days[text[:10]] = _epoch_day(text[:10])
                h, m, s = int(text[11:13]), int(text[14:16]), int(text[17:19])
                off = (int(text[21:23]) * 60 + int(text[23:25])) * (1 if text[20] == "+" else -1)
                if h < 24 and m < 60 and s < 61 and text[13] == text[16] == ":":
                    self.last_offset = off
                    return day * 86400 + h * 3600 + m * 60 + s - off * 60, off
            except ValueError:
                pass
        match = _DATE_RE.match(text.strip())
        try:
            day = _epoch_day(match[1]) if match else None
        except ValueError:
            day = None
        if day is None or int(match[2]) > 23 or int(match[3]) > 59 or int(match[4]) > 60:
            return self._fail("an unparsable date", line, f"{what}={text!r} is not a date; expected "
                                                          f"'YYYY-MM-DD hh:mm:ss +hhmm' such as '2023-01-02 08:15:00 +0100'")
        if match[5]:
            off = 0
        elif match[6]:
            off = (int(match[7]) * 60 + int(match[8])) * (1 if match[6] == "+" else -1)
        elif self.last_offset is None:
            raise ValueError(f"{self.name}, line {line}: {what}={text!r} has no UTC offset, nor any date before it; "
                             f"expected e.g. '{text.strip()} +0100'")
        else:
            self._fail("no UTC offset", line, f"{what}={text!r} has no UTC offset; expected e.g. "
                                                    f"'{text.strip()} +0100'")
            off = self.last_offset
        self.last_offset = off
        return day * 86400 + int(match[2]) * 3600 + int(match[3]) * 60 + int(match[4]) - off * 60, off

    # ---- beats
    def _beat(self, a, line) -> None:
        match = _CLOCK_RE.match(a.get("time", "").strip())
        try:
            bpm = float(a.get("bpm", ""))
        except ValueError:
            bpm = float("nan")
        if match is None or not 25 <= bpm <= 240:
            return self._fail("bad beats", line, f"InstantaneousBeatsPerMinute bpm={a.get('bpm')!r} "
                                                 f"time={a.get('time')!r}; expected bpm in [25, 240] and a clock "
                                                 f"time such as '6:14:48.94 PM' or '18:14:48,94'")
        h, m, s = int(match[1]), int(match[2]), float(match[3].replace(",", "."))
        if match[4]:
            h = h % 12 + (12 if match[4].lower() == "pm" else 0)
        if h > 23 or m > 59 or s >= 61:
            return self._fail("bad beats", line, f"InstantaneousBeatsPerMinute time={a['time']!r} is no clock time")
        self.pending.append((h * 3600 + m * 60 + s, bpm, line))
        return None

    def _beats(self) -> None:
        start, end, offset, src, line = self.record
        clock = np.array([b[0] for b in self.pending])
        bpm = np.array([b[1] for b in self.pending])
        middle = (start + end) / 2
        midnight = (start + offset * 60) // 86400 * 86400 - offset * 60  # UTC of local midnight
        t = midnight + clock
        t += 86400 * np.round((middle - t) / 86400)  # the day nearest the record
        inside = (t >= start - _BEAT_SLACK_S) & (t <= end + _BEAT_SLACK_S)
        if not inside.all():  # a time-zone change between measuring and exporting shifts whole hours
            hours = np.round(np.median(middle - t) / 3600)
            shifted = t + hours * 3600
            if hours and ((shifted >= start - _BEAT_SLACK_S) & (shifted <= end + _BEAT_SLACK_S)).all():
                t = shifted
                self._fail("beat times shifted", line, f"the beat times lie {hours:+.0f} h from their record")
            else:
                bad = self.pending[int(np.argmax(~inside))]
                return self._fail("bad beats", bad[2], f"beat time {bad[0]:.2f} s after local midnight is outside "
                                                       f"its record (line {line}, {(end - start):.0f} s long)")
        if (np.diff(t) <= 0).any():
            bad = self.pending[int(np.argmax(np.diff(t) <= 0)) + 1]
            return self._fail("bad beats", bad[2], "beat times do not increase; expected each after the one before")
        self.beat_t.extend(t)
        self.beat_rr.extend(60000.0 / bpm)
        self.beat_src.extend([src] * len(t))
        return None

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.frombuffer(v, dtype=v.typecode) if len(v) else np.array([], dtype=v.typecode)
                for k, v in self.cols.items()}


def _device(text: str) -> str:
    """'<<HKDevice: 0x..>, name:Apple Watch, model:Watch, hardware:Watch6,2, software:10.1>' -> 'Watch Watch6,2'."""
    found = re.findall(r"(?:model|hardware):(.*?)(?=, \w+:|>|$)", text)
    return " ".join(v.strip() for v in found if v.strip())