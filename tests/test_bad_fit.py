"""A catalogue of malformed FIT input: each named case ends in a clear error or a reported fallback.

Files are built with ``lsmkit.io.fit.encode`` (tests/test_fit.py's builders) and then cut, corrupted
or filled with implausible values. An error is a ``ValueError`` naming the file and the byte offset
or the data message (``data message N (record) at byte B``); a fallback is a ``UserWarning`` naming
the same, and the values it does not report changing are kept. Normal behaviour is in
tests/test_fit.py.
"""

from __future__ import annotations

import re
import struct
import warnings

import fitdecode
import numpy as np
import pytest
from test_fit import T0, activity, channel, file_id, hrv, record, session, sport, timer

from lsmkit.io import fit
from lsmkit.io._fit_encode import crc16

GOOD = fit.encode(list(activity()))


def offsets(data: bytes, kind) -> list[int]:
    """Byte offsets of the frames of ``kind`` (a fitdecode frame class) in ``data``."""
    with fitdecode.FitReader(data, keep_raw_chunks=True, check_crc=fitdecode.CrcCheck.DISABLED) as reader:
        return [frame.chunk.offset for frame in reader if isinstance(frame, kind)]


def first_record(data: bytes = GOOD) -> int:
    with fitdecode.FitReader(data, keep_raw_chunks=True) as reader:
        return next(f.chunk.offset for f in reader if isinstance(f, fitdecode.FitDataMessage) and f.name == "record")


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1:]


def refresh_crcs(data: bytes) -> bytes:
    """``data`` with both CRCs recomputed (for changes that must not be caught as corruption)."""
    head = data[:12] + struct.pack("<H", crc16(data[:12]))
    body = head + data[14:-2]
    return body + struct.pack("<H", crc16(body))


def messages(*items):
    return fit.encode(list(items))


def running(*records, extra=()):
    return messages(file_id(), sport(1), timer(T0), *records, *extra)


def minute(hr=lambda s: 70, cadence=lambda s: 80, t=lambda s: T0 + s):
    return [record(t(s), hr(s), cadence(s)) for s in range(60)]


def definition_offset(data=GOOD) -> int:
    return offsets(data, fitdecode.FitDefinitionMessage)[0]


def with_local_message_undefined(data=GOOD) -> bytes:
    at = first_record(data)
    return refresh_crcs(data[:at] + bytes([data[at] | 0x0F]) + data[at + 1:])  # local message 15: never defined


def with_bad_field_size(data=GOOD) -> bytes:
    """The record definition declares heart_rate (uint16) in 3 bytes, not a multiple of 2."""
    recs = messages(file_id(), (20, {253: ("uint32", T0), 3: ("uint16", 60)}))
    at = recs.index(bytes([3, 2, 0x84]))
    broken = recs[:at] + bytes([3, 3, 0x84]) + recs[at + 3:]
    size = struct.unpack("<I", broken[4:8])[0] + 1
    return refresh_crcs(broken[:4] + struct.pack("<I", size) + broken[8:-2] + b"\x00" + broken[-2:])


# (name, file bytes or None for "build in the test", read options, expected error pattern)
ERRORS = [
    ("zero-length file", b"", {}, r"bad\.fit is empty \(0 bytes\)"),
    ("cut in the header", GOOD[:7], {}, r"bad\.fit: file cut short in the header \(7 bytes"),
    ("cut in the header CRC", GOOD[:13], {}, r"bad\.fit: file cut short in the header \(13 bytes, the header says 14"),
    ("wrong signature", GOOD[:8] + b".FTT" + GOOD[12:], {}, r"bad\.fit is not a FIT file: bytes 8-11 are b'\.FTT'"),
    ("CSV renamed .fit", b"timestamp,heart_rate\n2024-01-01 00:00,60\n", {}, r"bad\.fit is not a FIT file"),
    ("header size 20", bytes([20]) + GOOD[1:], {}, r"bad\.fit: header size byte 0 is 20, expected 12 or 14"),
    ("bad header CRC", GOOD[:12] + b"\x00\x01" + GOOD[14:], {}, r"bad\.fit: the header CRC \(bytes 12-13\) does not"),
    ("bad file CRC", GOOD[:-2] + bytes([GOOD[-2] ^ 1, GOOD[-1]]), {},
     rf"bad\.fit: the file CRC \(at byte {len(GOOD) - 2}\) does not match"),
    ("flipped byte in a record", flip(GOOD, first_record() + 3), {}, r"bad\.fit: the file CRC .* does not match"),
    ("header only, no CRC", GOOD[:12] + struct.pack("<H", crc16(GOOD[:12])), {}, r"cut short at byte 14 \(after 0"),
    ("cut in the first definition", GOOD[:definition_offset() + 4], {},
     r"bad\.fit: file cut short at byte \d+ \(after 0"),
    ("cut in a data message", GOOD[:first_record() + 3], {}, r"bad\.fit: file cut short at byte \d+ \(after 3 data"),
    ("cut before the file CRC", GOOD[:-2], {}, rf"bad\.fit: file cut short at byte {len(GOOD) - 2} .*expected 2 more"),
    ("data size larger than the file", refresh_crcs(GOOD[:4] + struct.pack("<I", len(GOOD)) + GOOD[8:]), {},
     r"bad\.fit: file cut short at byte"),
    ("data message of an undefined local message", with_local_message_undefined(), {},
     r"bad\.fit: not a readable FIT file after 3 data messages: .*local message 15 not defined"),
    ("field size not a multiple of its type", with_bad_field_size(), {},
     r"bad\.fit: not a readable FIT file.*field size 3"),
    ("heart rate 300 (a uint16 field)", None, {},
     r"bad\.fit: heart rate 300 in data message 9 \(record\) at byte \d+ is outside"),
    ("heart rate 0", running(*minute(hr=lambda s: 0 if s == 2 else 70)), {},
     r"bad\.fit: heart rate 0 in data message 6 \(record\) at byte \d+ is outside the plausible range \[25, 240\]"),
    ("step rate 400 (cadence 200)", running(*minute(cadence=lambda s: 200 if s == 7 else 80)), {},
     r"bad\.fit: step rate \(2 x cadence\) 400 in data message 11 \(record\) at byte \d+ is outside"),
    ("monitoring steps 10,000 in a minute", messages(
        file_id(32), (55, {253: ("uint32", T0), 5: ("enum", 6), 3: ("uint32", 0)}),
        (55, {253: ("uint32", T0 + 60), 5: ("enum", 6), 3: ("uint32", 10000)})), {},
     r"bad\.fit: steps in a minute 10000 in data message 3 \(monitoring\) at byte \d+ is outside"),
    ("only a file_id", messages(file_id()), {}, r"bad\.fit: no FIT file holds heart rate, steps, altitude or beat"),
    ("bad participant option", GOOD, {"participant": "person"}, r"participant must be one of 'folder', 'file'"),
    ("bad on_truncated option", GOOD, {"on_truncated": "skip"}, r"on_truncated must be one of 'raise', 'keep'"),
    ("unknown time zone", GOOD, {"tz": "Mars/Olympus"}, r"unknown time zone 'Mars/Olympus'"),
]


@pytest.mark.parametrize("name, data, options, pattern", ERRORS, ids=[case[0] for case in ERRORS])
def test_error(tmp_path, name, data, options, pattern):
    if data is None:  # heart rate 300 does not fit uint8: write the field as uint16
        data = running(*[record(T0 + s, 300 if s == 5 else 70, 80, hr_type="uint16") for s in range(60)])
    path = tmp_path / "bad.fit"
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match=pattern):
            fit.read(path, **options)


def read_warns(tmp_path, data, pattern, **options):
    """Read ``data`` as odd.fit; one of the warnings must match ``pattern`` (others are expected too)."""
    path = tmp_path / "odd.fit"
    path.write_bytes(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = fit.read(path, **options)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any(re.search(pattern, m) for m in messages), messages
    return ds


def test_bad_header_crc_read_on_request(tmp_path):
    ds = read_warns(tmp_path, GOOD[:12] + b"\x00\x01" + GOOD[14:], r"odd\.fit: the header CRC", on_bad_crc="warn")
    assert channel(ds, "heart_rate").tolist() == [60.0, 61.0]


def test_bad_file_crc_read_on_request(tmp_path):
    data = GOOD[:-2] + bytes([GOOD[-2] ^ 1, GOOD[-1]])
    ds = read_warns(tmp_path, data, r"odd\.fit: the file CRC \(at byte \d+\)", on_bad_crc="warn")
    assert channel(ds, "heart_rate").tolist() == [60.0, 61.0]


def test_cut_short_kept_on_request(tmp_path):
    cut = first_record() + 60 * 20  # inside the second minute's records
    ds = read_warns(tmp_path, GOOD[:cut], r"odd\.fit: 1 file cut short; kept the messages before the cut \(first: byte",
                    on_truncated="keep")
    assert channel(ds, "heart_rate")[0] == 60.0


def test_unknown_message_numbers_are_counted(tmp_path):
    data = running(*minute(), extra=[(65280, {0: ("uint8", 1)}), (65280, {0: ("uint8", 2)})])
    ds = read_warns(tmp_path, data, r"odd\.fit: left out \(not LSM channels\): .*unknown_65280 \(2\)")
    assert "unknown_65280 (2)" in ds.attrs["skipped"] and channel(ds, "heart_rate")[0] == 70.0


def test_records_without_timestamps_are_dropped(tmp_path):
    untimed = (20, {3: ("uint8", 200), 4: ("uint8", 80)})
    data = running(*minute()[:30], untimed, *minute()[30:])
    ds = read_warns(tmp_path, data, r"1 records without a \(UTC\) timestamp dropped \(first: data message 34")
    assert channel(ds, "heart_rate")[0] == 70.0  # the untimed 200 bpm is not averaged in


def test_relative_timestamps_are_not_dates(tmp_path):
    data = running(*minute(), record(1000, 90, 80))  # 1000 s after power-on
    ds = read_warns(tmp_path, data, r"records without a \(UTC\) timestamp dropped \(first: data message 64")
    assert ds.sizes["time"] == 1


def test_timestamps_going_backwards_are_sorted(tmp_path):
    order = list(range(30, 60)) + list(range(30))
    data = running(*[record(T0 + s, 60 + s % 2, 80) for s in order])
    ds = read_warns(tmp_path, data, r"1 records earlier than the one before \(sorted by time\) \(first: data message 34 ")
    assert channel(ds, "heart_rate")[0] == 60.5


def test_duplicate_timestamps_keep_the_first(tmp_path):
    data = running(*minute(), record(T0 + 10, 200, 80))
    ds = read_warns(tmp_path, data, r"records repeating a timestamp dropped \(kept the first\) \(first: data message 64 ")
    assert channel(ds, "heart_rate")[0] == 70.0


def test_out_of_range_heart_rate_dropped_on_request(tmp_path):
    data = running(*minute(hr=lambda s: 0 if s < 3 else 80))
    ds = read_warns(tmp_path, data, r"odd\.fit: dropped 3 heart rate value\(s\) outside \[25, 240\] \(first: 0 in data "
                    r"message 4 \(record\)", on_out_of_range="nan")
    assert channel(ds, "heart_rate")[0] == 80.0


def test_cadence_without_a_sport(tmp_path):
    data = messages(file_id(), *minute())
    ds = read_warns(tmp_path, data, r"60 cadences without a sport \(not counted as steps\) \(first: data message 2")
    assert np.isnan(channel(ds, "steps")).all() and channel(ds, "heart_rate")[0] == 70.0


def test_several_sports_without_sessions(tmp_path):
    data = messages(file_id(), sport(1), sport(2), *minute())
    ds = read_warns(tmp_path, data, r"sport messages without sessions \(took the first for the whole file\)")
    assert channel(ds, "steps")[0] == pytest.approx(160.0, abs=1e-4)


def test_hrv_intervals_out_of_range(tmp_path):
    data = messages(file_id(), *[m for s in range(60) for m in (record(T0 + s), hrv(3.0 if s % 2 else 0.1))])
    ds = read_warns(tmp_path, data, r"odd\.fit: 60 beat interval\(s\) outside 250-2400 ms, kept but invalid")
    assert np.isnan(channel(ds, "heart_rate")).all() and channel(ds, "rr_percent_valid")[0] == 0.0


def test_hrv_zero_and_invalid_intervals(tmp_path):
    data = messages(file_id(), *[m for s in range(60) for m in (record(T0 + s), hrv(0.0, None, 1.0))])
    ds = read_warns(tmp_path, data, r"120 beat intervals of 0 s or the invalid value dropped \(first: data message 3 \(")
    assert channel(ds, "rr_median")[0] == pytest.approx(1000.0)


def test_hrv_before_any_timestamp(tmp_path):
    data = messages(file_id(), hrv(1.0, 1.0), *minute())
    ds = read_warns(tmp_path, data, r"1 beat intervals before any timestamp dropped \(first: data message 2 \(hrv\)")
    assert np.isnan(channel(ds, "rr_median")).all()


def test_monitoring_without_a_full_timestamp(tmp_path):
    untimed = (55, {26: ("uint16", 5), 27: ("uint8", 70)})  # a 16-bit timestamp before any full one
    data = messages(file_id(32), untimed, (55, {253: ("uint32", T0), 27: ("uint8", 80)}))
    ds = read_warns(tmp_path, data, r"1 monitoring messages without a timestamp dropped \(first: data message 2")
    assert channel(ds, "heart_rate").tolist() == [80.0]


def test_monitoring_cycles_of_other_activities_are_not_steps(tmp_path):
    data = messages(file_id(32), *[(55, {253: ("uint32", T0 + 60 * k), 5: ("enum", 2), 3: ("uint32", 100 * k),
                                         27: ("uint8", 70)}) for k in range(3)])
    ds = read_warns(tmp_path, data, r"monitoring\.cycles \(cycling: not steps\) \(3\)")
    assert np.isnan(channel(ds, "steps")).all()


def test_empty_folder(tmp_path):
    with pytest.raises(ValueError, match=r"folder '.*' holds no \.fit files \(found nothing\)"):
        fit.read(tmp_path)


def test_folder_of_non_fit_files(tmp_path):
    (tmp_path / "hr.csv").write_text("timestamp,heart_rate\n")
    with pytest.raises(ValueError, match=r"holds no \.fit files \(found \['hr\.csv'\]\)"):
        fit.read(tmp_path)


def test_folder_with_one_broken_file_names_it(tmp_path):
    (tmp_path / "good.fit").write_bytes(GOOD)
    (tmp_path / "broken.fit").write_bytes(GOOD[:100])
    with pytest.raises(ValueError, match=r"broken\.fit: file cut short at byte"):
        fit.read(tmp_path)


def test_folder_file_without_data_is_left_out(tmp_path):
    (tmp_path / "a.fit").write_bytes(GOOD)
    (tmp_path / "b.fit").write_bytes(messages(file_id(), session(T0, T0 + 59)))
    with pytest.warns(UserWarning, match=r"b\.fit: no heart rate, steps, altitude or beat intervals \(2 messages"):
        ds = fit.read(tmp_path, participant="file")
    assert ds["participant"].values.tolist() == ["a"]
