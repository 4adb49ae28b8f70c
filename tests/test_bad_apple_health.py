"""A catalogue of malformed Apple Health exports: each named case ends in an error naming the file and
the line (or the zip member), or in a documented fallback reported with a warning.

tests/test_apple_health.py holds the reader's normal behaviour. Every export here is written by hand:
line 1 the XML declaration, 2 ``<HealthData>``, 3 ``ExportDate``, records from line 4.
"""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pytest

from lsmkit.io import apple_health as ah

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n <ExportDate value="2024-01-02 09:00:00 +0100"/>\n'
T0 = "2024-01-01 08:00:00 +0100"


def rec(kind="HeartRate", value="60", start=T0, end=None, unit="count/min", source="Apple Watch", body="", drop=()):
    attrs = {"type": f"HKQuantityTypeIdentifier{kind}", "sourceName": source, "unit": unit, "startDate": start,
             "endDate": end or start, "value": value}
    text = " ".join(f'{k}="{v}"' for k, v in attrs.items() if k not in drop)
    return f" <Record {text}/>\n" if not body else f" <Record {text}>\n{body} </Record>\n"


def doc(*records) -> str:
    return HEAD + "".join(records) + "</HealthData>\n"


def beats(*pairs) -> str:
    items = "".join(f'   <InstantaneousBeatsPerMinute bpm="{b}" time="{t}"/>\n' for b, t in pairs)
    return f"  <HeartRateVariabilityMetadataList>\n{items}  </HeartRateVariabilityMetadataList>\n"


def sdnn(body, start="2024-01-01 08:00:00 +0100", end="2024-01-01 08:01:00 +0100"):
    return rec("HeartRateVariabilitySDNN", "40", start, end, unit="ms", body=body)


GOOD = doc(rec(), rec(value="61", start="2024-01-01 08:01:00 +0100"))


def zipped(members: dict[str, str | bytes]):
    def make(tmp_path):
        path = tmp_path / "export.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in members.items():
                zf.writestr(name, text)
        return path
    return make


def truncated_zip(tmp_path):
    path = zipped({"apple_health_export/export.xml": GOOD * 50})(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def damaged_member(tmp_path):
    path = zipped({"apple_health_export/export.xml": doc(*[rec(value=str(60 + i % 40)) for i in range(3000)])})(tmp_path)
    data = bytearray(path.read_bytes())
    data[400:420] = b"\x00" * 20  # inside the deflated stream
    path.write_bytes(bytes(data))
    return path


def write(tmp_path, source, name="bad.xml"):
    if callable(source):
        return source(tmp_path)
    path = tmp_path / name
    path.write_bytes(source if isinstance(source, bytes) else source.encode("utf-8"))
    return path


# ---- errors: (source, read options, exception, regex) -------------------------------------------------

ERRORS = [
    # not an export at all
    pytest.param("", {}, ValueError, r"bad\.xml ends at line 1, column 0 .*truncated", id="empty-file"),
    pytest.param("timestamp,heart_rate\n2024-01-01,60\n", {}, ValueError, r"bad\.xml is not well-formed XML at line 1.*XML at all",
                 id="not-xml-csv"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", {}, ValueError, r"bad\.xml is not well-formed XML at line 1", id="not-xml-binary"),
    pytest.param('<?xml version="1.0"?>\n<svg><Record/></svg>\n', {}, ValueError,
                 r"bad\.xml, line 2: the root element is <svg>; expected <HealthData>", id="wrong-root"),
    pytest.param(HEAD + "</HealthData>\n", {}, ValueError, r"bad\.xml holds no Record elements", id="empty-export"),
    pytest.param(doc(rec("ActiveEnergyBurned", "3", unit="Cal"), rec("BodyMass", "70", unit="kg")), {}, ValueError,
                 r"bad\.xml holds 2 Record elements .*skipped: ActiveEnergyBurned \(1\), BodyMass \(1\)",
                 id="no-mappable-types"),
    pytest.param(GOOD, {"sources": ["Garmin"]}, ValueError, r"skipped: source 'Apple Watch' \(2 records\)",
                 id="sources-keep-nothing"),
    # truncated
    pytest.param(GOOD[: GOOD.index('value="61"') + 3], {}, ValueError, r"bad\.xml ends at line 5, column \d+ .*truncated",
                 id="truncated-mid-attribute"),
    pytest.param(GOOD[: GOOD.index("<Record", 100) + 4], {}, ValueError, r"bad\.xml ends at line 4.*truncated",
                 id="truncated-mid-element"),
    pytest.param(GOOD[: GOOD.index("</HealthData>")], {}, ValueError, r"bad\.xml ends at line 6.*</HealthData>",
                 id="truncated-before-root-end"),
    pytest.param(HEAD + rec() + " <Record type=\"x\" value=\"1\"\n", {}, ValueError, r"ends at line 5", id="truncated-open-tag"),
    pytest.param(GOOD.replace("<Record", "<Record <", 1), {}, ValueError, r"not well-formed XML at line 4, column \d+",
                 id="broken-tag"),
    pytest.param(GOOD.encode("utf-8").replace(b"Apple Watch", b"Apple\xff Watch", 1), {}, ValueError,
                 r"not well-formed XML at line 4.*invalid token", id="invalid-utf8-byte"),
    pytest.param('<?xml version="1.0"?>\n<!DOCTYPE HealthData [<!ENTITY a "aaaa">]>\n<HealthData/>\n', {}, ValueError,
                 r"bad\.xml, line 2: declares the entity 'a'", id="entity-declaration"),
    # zips
    pytest.param(truncated_zip, {}, ValueError, r"export\.zip is not a readable zip.*truncated", id="truncated-zip"),
    pytest.param(zipped({"apple_health_export/export_cda.xml": "<x/>", "notes.txt": "hi"}), {}, ValueError,
                 r"export\.zip holds no apple_health_export/export\.xml.*export_cda\.xml", id="zip-without-export-xml"),
    pytest.param(zipped({"apple_health_export/export.xml": "<svg/>"}), {}, ValueError,
                 r"export\.zip:apple_health_export/export\.xml, line 1: the root element is <svg>", id="zip-wrong-root"),
    pytest.param(damaged_member, {}, ValueError, r"export\.zip:apple_health_export/export\.xml.*(damaged|not well-formed)",
                 id="zip-damaged-member"),
    # bad records (on_bad_record="raise", the default)
    pytest.param(doc(rec(drop=("type",))), {}, ValueError, r"bad\.xml, line 4: the Record has no type attribute",
                 id="record-without-type"),
    pytest.param(doc(rec(drop=("value",))), {}, ValueError, r"line 4: the HKQuantityTypeIdentifierHeartRate Record has no value",
                 id="record-without-value"),
    pytest.param(doc(rec(drop=("startDate",))), {}, ValueError, r"line 4: .* has no startDate", id="record-without-startdate"),
    pytest.param(doc(rec(), rec(value="sixty")), {}, ValueError, r"line 5: .*value='sixty' is not a number",
                 id="non-numeric-value"),
    pytest.param(doc(rec(start="01/02/2024 08:00")), {}, ValueError,
                 r"line 4: startDate='01/02/2024 08:00' is not a date; expected 'YYYY-MM-DD hh:mm:ss \+hhmm'",
                 id="unparsable-date"),
    pytest.param(doc(rec(start="2024-02-30 08:00:00 +0100")), {}, ValueError, r"line 4: startDate='2024-02-30", id="impossible-date"),
    pytest.param(doc(rec(start="2024-01-01 25:00:00 +0100")), {}, ValueError, r"line 4: startDate='2024-01-01 25:00", id="hour-25"),
    pytest.param('<?xml version="1.0"?>\n<HealthData>\n' + rec(start="2024-01-01 08:00:00") + "</HealthData>\n", {},
                 ValueError, r"line 3: startDate='2024-01-01 08:00:00' has no UTC offset, nor any date before it",
                 id="date-without-offset-first"),
    pytest.param(doc(rec("StepCount", "10", "2024-01-01 08:05:00 +0100", "2024-01-01 08:00:00 +0100", unit="count")), {},
                 ValueError, r"line 4: endDate='2024-01-01 08:00:00 \+0100' is before startDate", id="end-before-start"),
    pytest.param(doc(rec("StepCount", "10", "2024-01-01 08:00:00 +0100", "2024-01-03 08:00:00 +0100", unit="count")), {},
                 ValueError, r"line 4: .*StepCount spans 48\.0 h", id="span-over-a-day"),
    pytest.param(doc(rec(unit="count/h")), {}, ValueError, r"line 4: .*HeartRate has unit='count/h'; expected one of \['count/min', 'count/s'\]",
                 id="unknown-unit"),
    pytest.param(doc(rec(drop=("unit",))), {}, ValueError, r"line 4: .*has unit=None", id="missing-unit"),
    pytest.param(doc(rec(), rec(value="0")), {}, ValueError,
                 r"line 5: .*HeartRate value 0 is outside the plausible range of heart_rate \[25, 240\] bpm", id="heart-rate-0"),
    pytest.param(doc(rec(value="400")), {}, ValueError, r"line 4: .*value 400 is outside", id="heart-rate-400"),
    pytest.param(doc(rec(value="nan")), {}, ValueError, r"line 4: .*value nan is outside", id="heart-rate-nan"),
    pytest.param(doc(rec("StepCount", "5000", "2024-01-01 08:00:00 +0100", "2024-01-01 08:05:00 +0100", unit="count")), {},
                 ValueError, r"line 4: .*5000 over 5\.0 min \(1000/min\) is outside .*steps \[0, 300\]", id="steps-too-fast"),
    pytest.param(doc(rec("StepCount", "-3", unit="count")), {}, ValueError, r"line 4: .*value -3 over", id="negative-steps"),
    pytest.param(doc(rec("AppleSleepingWristTemperature", "-0.35", unit="degC")), {}, ValueError,
                 r"line 4: .*-0\.35 is outside the plausible range of skin_temperature", id="wrist-temperature-deviation"),
    # heartbeat lists
    pytest.param(doc(sdnn(beats((60, "8:00:01.00 AM"), (61, "eight o'clock")))), {}, ValueError,
                 r"bad\.xml, line 7: InstantaneousBeatsPerMinute bpm='61' time=\"eight o'clock\"", id="beat-bad-time"),
    pytest.param(doc(sdnn(beats((60, "8:00:01.00 AM"), (0, "8:00:02.00 AM")))), {}, ValueError,
                 r"line 7: InstantaneousBeatsPerMinute bpm='0'.*expected bpm in \[25, 240\]", id="beat-bpm-0"),
    pytest.param(doc(sdnn(beats((60, "8:00:02.00 AM"), (60, "8:00:01.00 AM")))), {}, ValueError,
                 r"line 7: beat times do not increase", id="beat-times-backwards"),
    pytest.param(doc(sdnn(beats((60, "8:00:01.00 AM"), (60, "8:30:01.00 AM")))), {}, ValueError,
                 r"line 7: beat time .* is outside its record \(line 4", id="beat-outside-record"),
    pytest.param(doc(sdnn(beats((60, "8:61:01.00 AM")))), {}, ValueError, r"line 6: .*time='8:61:01.00 AM' is no clock time",
                 id="beat-minute-61"),
    # options
    pytest.param(GOOD, {"on_bad_record": "ignore"}, ValueError, r"on_bad_record must be one of \('raise', 'skip'\)",
                 id="bad-option"),
    pytest.param(GOOD, {"sources": "Apple Watch"}, TypeError, r"sources must be a list of sourceName strings",
                 id="sources-as-string"),
    pytest.param(GOOD, {"tz": "Mars/Olympus"}, ValueError, r"unknown time zone 'Mars/Olympus'", id="unknown-tz"),
]


@pytest.mark.parametrize("source, options, error, match", ERRORS)
def test_malformed_exports_raise_naming_file_and_line(tmp_path, source, options, error, match):
    path = write(tmp_path, source)
    with pytest.raises(error, match=match), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # what was left out before the error is still reported
        ah.read(path, **options)


def test_no_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no such file or folder: .*missing\.xml"):
        ah.read(tmp_path / "missing.xml")


def test_folder_without_export(tmp_path):
    with pytest.raises(ValueError, match=r"folder .* holds no export\.xml"):
        ah.read(tmp_path)


# ---- fallbacks: (source, options, warning regex, expected heart_rate minutes) ----------------------------

FALLBACKS = [
    pytest.param(doc(rec(), rec(value="sixty", start="2024-01-01 08:01:00 +0100"), rec(value="62", start="2024-01-01 08:02:00 +0100")),
                 {"on_bad_record": "skip"}, r"1 record\(s\) with a non-numeric value, left them out; the first at line 5",
                 [60, np.nan, 62], id="skip-non-numeric"),
    pytest.param(doc(rec(), rec(value="400", start="2024-01-01 08:01:00 +0100")), {"on_out_of_range": "nan"},
                 r"1 record\(s\) with heart_rate out of range, left them out; the first at line 5", [60], id="nan-out-of-range"),
    pytest.param(doc(rec(), rec(value="61", start="2024-01-01 08:01:00")), {},
                 r"2 date\(s\) with no UTC offset, took the offset of the date before; the first at line 5",
                 [60, 61], id="date-without-offset-takes-previous"),
    pytest.param(doc(rec(), rec(), rec(value="61", start="2024-01-01 08:01:00 +0100")), {},
                 r"dropped 1 exact duplicate record\(s\) .*line 5", [60, 61], id="exact-duplicates"),
    pytest.param(doc(rec(), rec(value="70", source="iPhone"), rec(value="61", start="2024-01-01 08:01:00 +0100")), {},
                 r"heart_rate from 2 sources, never summed: kept 'Apple Watch' \(2 min\); left out 1 min of 'iPhone'",
                 [60, 61], id="two-sources-same-minute"),
    pytest.param(doc(rec(start="2024-01-01T08:00:00+01:00"), rec(value="61", start="2024-01-01 07:01:00Z")), {},
                 r"2 offsets seen", [60, 61], id="iso-dates-with-t-and-z"),
    pytest.param("\ufeff" + GOOD, {}, None, [60, 61], id="utf8-bom"),
    pytest.param(GOOD.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"), {}, None, [60, 61], id="utf16-with-bom"),
    pytest.param(GOOD.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace("Apple Watch", "Montre d\u2019Anna")
                 .encode("utf-8").replace("\u2019".encode("utf-8"), b"\xe9"), {}, None, [60, 61], id="latin-1-declared"),
    pytest.param(doc(rec(start="2024-01-01 08:00:00 +0530"), rec(value="61", start="2024-01-01 08:01:00 +0530")), {},
                 r"offset \+0530 has no fixed-offset IANA name; timezone set to 'UTC'", [60, 61], id="half-hour-offset"),
    pytest.param(doc(rec(), sdnn(beats((60, "8:00:01.00 AM"), (0, "8:00:02.00 AM")),
                                 start="2024-01-01 08:01:00 +0100", end="2024-01-01 08:02:00 +0100")),
                 {"on_bad_record": "skip"}, r"with bad beats, left them out; the first at line 8", [60], id="skip-bad-beats"),
]


@pytest.mark.parametrize("source, options, warning, expected", FALLBACKS)
def test_fallbacks_are_reported_and_keep_the_rest(tmp_path, source, options, warning, expected):
    path = write(tmp_path, source)
    if warning is None:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            out = ah.read(path, **options)
    else:
        with pytest.warns(UserWarning, match=warning):
            out = ah.read(path, **options)
    hr = out["signal"].isel(participant=0).sel(channel="heart_rate").values
    np.testing.assert_array_equal(hr[: len(expected)], expected)
