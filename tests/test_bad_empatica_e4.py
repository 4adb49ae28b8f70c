"""A catalogue of malformed Empatica E4 sessions: each named case ends in an error that names the
file and the line (or the archive), or in a documented fallback reported with a warning."""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pytest

from lsmkit.io import empatica_e4 as e4
from test_empatica_e4 import START, header, session_files, write


def with_file(name, text):
    return lambda files: {**files, name: text}


def with_line(name, line, text):
    """``name`` with file line ``line`` (1-based) replaced by ``text``."""
    def change(files):
        lines = files[name].splitlines(keepends=True)
        lines[line - 1] = text + "\n"
        return {**files, name: "".join(lines)}
    return change


def without(*names):
    return lambda files: {k: v for k, v in files.items() if k not in names}


# case -> (change to the good session, error message pattern)
ERRORS = {
    "empty folder": (lambda files: {}, r"session: holds none of ACC.csv, EDA.csv"),
    "only BVP": (lambda files: {"BVP.csv": files["BVP.csv"]}, r"holds none of"),
    "empty ACC": (with_file("ACC.csv", ""), r"session/ACC.csv: line 1 is empty"),
    "empty IBI": (with_file("IBI.csv", ""), r"session/IBI.csv: line 1 is empty"),
    "missing start row": (with_file("EDA.csv", "4.000000\n2.0\n2.0\n"), r"EDA.csv: line 1: start 4 is not a UNIX time"),
    "missing rate row": (with_file("EDA.csv", f"{START}\n2.0\n2.0\n"), r"EDA.csv: line 2: sample rate 2 Hz; .* 4 Hz"),
    "zero rate": (with_line("TEMP.csv", 2, "0.000000"), r"TEMP.csv: line 2: sample rate 0 Hz"),
    "negative rate": (with_line("HR.csv", 2, "-1.0"), r"HR.csv: line 2: sample rate -1 Hz"),
    "rate not a number": (with_line("EDA.csv", 2, "four"), r"EDA.csv: line 2 is 'four'; expected the sample rate"),
    "wrong HR rate": (with_line("HR.csv", 2, "2.000000"), r"HR.csv: line 2: sample rate 2 Hz; the E4 writes .* 1 Hz"),
    "start not a number": (with_line("TEMP.csv", 1, "yesterday"), r"TEMP.csv: line 1 is 'yesterday'"),
    "start NaN": (with_line("TEMP.csv", 1, "nan"), r"TEMP.csv: line 1 is 'nan'"),
    "start in milliseconds": (with_line("EDA.csv", 1, f"{START * 1000}.000"), r"EDA.csv: line 1: .* looks like milliseconds"),
    "start before 2010": (with_line("EDA.csv", 1, "86400.0"), r"EDA.csv: line 1: start 86400 is not a UNIX time"),
    "ACC starts differ by column": (with_line("ACC.csv", 1, f"{START}, {START}, {START + 5}"),
                                    r"ACC.csv: line 1 is .*repeated in all 3 columns"),
    "ACC header two columns": (with_line("ACC.csv", 2, "32.0, 32.0"), r"ACC.csv: line 2 is '32.0,32.0'"),
    "ACC row two columns": (with_line("ACC.csv", 10, "0,64"), r"ACC.csv: line 10 is '0,64'; expected 3 numbers"),
    "ACC row four columns": (with_line("ACC.csv", 12, "0,0,64,1"), r"ACC.csv: line 12 has 4 cells; expected 3"),
    "ACC first row four columns": (with_line("ACC.csv", 3, "0,0,64,1"), r"ACC.csv: line 3 is '0,0,64,1'"),
    "ACC non-numeric cell": (with_line("ACC.csv", 7, "0,x,64"), r"ACC.csv: line 7 is '0,x,64'"),
    "ACC beyond 2 g": (with_line("ACC.csv", 9, "0,0,500"), r"ACC.csv: line 9: \[0.0, 0.0, 500.0\] is outside the \+-2 g"),
    "EDA negative": (with_line("EDA.csv", 5, "-0.300000"), r"EDA.csv: line 5: conductance -0.3 uS is negative"),
    "EDA blank line": (with_line("EDA.csv", 6, ""), r"EDA.csv: line 6 is ''; expected 1 number"),
    "EDA text": (with_line("EDA.csv", 8, "NaN"), r"EDA.csv: line 8 is 'NaN'"),
    "TEMP inf": (with_line("TEMP.csv", 4, "inf"), r"TEMP.csv: line 4 is 'inf'"),
    "HR negative": (with_line("HR.csv", 3, "-72.0"), r"HR.csv: line 3: heart rate -72 bpm is negative"),
    "IBI header without IBI": (with_line("IBI.csv", 1, f"{START}.000000"), r"IBI.csv: line 1 is .*expected '<UNIX start>, IBI'"),
    "IBI offsets go back": (with_line("IBI.csv", 5, "2.000000,1.000000"), r"IBI.csv: line 5: beat time 2 s is not after 3 s"),
    "IBI repeated offset": (with_line("IBI.csv", 5, "3.000000,1.000000"), r"IBI.csv: line 5: beat time 3 s is not after 3 s"),
    "IBI negative interval": (with_line("IBI.csv", 4, "3.000000,-1.000000"), r"IBI.csv: line 4: offset 3 s, interval -1 s"),
    "IBI absurd interval": (with_line("IBI.csv", 4, "3.000000,120.0"), r"IBI.csv: line 4: .*interval 120 s"),
    "IBI one column": (with_line("IBI.csv", 3, "2.000000"), r"IBI.csv: line 3 is '2.000000'; expected 2 numbers"),
    "IBI three columns": (with_line("IBI.csv", 6, "5.0,1.0,7"), r"IBI.csv: line 6 has 3 cells; expected 2"),
    "all files empty of samples": (lambda files: {n: t.split("\n")[0] + "\n" + (t.split("\n")[1] + "\n" if n != "IBI.csv"
                                                                               else "") for n, t in files.items()},
                                   r"session: the session holds no samples"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_malformed_session_raises_naming_file_and_line(tmp_path, case):
    change, message = ERRORS[case]
    folder = write(tmp_path / "session", change(session_files()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=message):
            e4.read(folder)


def test_non_utf8_member_names_the_file(tmp_path):
    folder = write(tmp_path / "session", session_files())
    (folder / "EDA.csv").write_bytes(header(4).encode() + b"2.0\n\xff\xfe\n")
    with pytest.raises(ValueError, match=r"session/EDA.csv: cannot be read \(UnicodeDecodeError"):
        e4.read(folder)


def test_truncated_zip(tmp_path):
    path = tmp_path / f"{START}_A01B2C.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in session_files().items():
            archive.writestr(name, text)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # a broken-off download
    with pytest.raises(ValueError, match=rf"{path.name}: not a readable zip archive"):
        e4.read(path)


def test_corrupt_zip_member(tmp_path):
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("EDA.csv", session_files()["EDA.csv"])
    data = bytearray(path.read_bytes())
    at = data.index(b"2.000000\n" * 4) + 5
    data[at:at + 1] = b"7"  # stored bytes changed: the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"s.zip!EDA.csv: cannot be read \(BadZipFile"):
        e4.read(path)


# ---- documented fallbacks -------------------------------------------------------------------------
def test_files_with_different_starts_are_read_and_reported(tmp_path):
    files = without("BVP.csv", "tags.csv")(session_files())
    files["TEMP.csv"] = header(4, 1, START + 3600) + "33.5\n" * 240
    with pytest.warns(UserWarning, match=r"different session starts .*TEMP.csv 2024-01-01 01:00:00"):
        rec = e4.read(write(tmp_path / "session", files))
    temperature = rec["signal"].isel(participant=0).sel(channel="skin_temperature").to_numpy()
    assert rec.sizes["time"] == 61 and temperature[60] == 33.5 and np.isnan(temperature[0])


def test_absurd_temperature_becomes_nan_with_a_warning_or_raises(tmp_path):
    files = without("BVP.csv", "tags.csv")(session_files())
    files["TEMP.csv"] = header(4) + "33.5\n" * 240 + "95.0\n" * 480
    folder = write(tmp_path / "session", files)
    with pytest.warns(UserWarning, match=r"temperature_to_minutes: set to NaN .*skin_temperature \(2\)"):
        rec = e4.read(folder)
    assert np.isnan(rec["signal"].isel(participant=0).sel(channel="skin_temperature").to_numpy()[1:]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"skin_temperature = 95 in the minute 2024-01-01 00:01:00"):
            e4.read(folder, on_out_of_range="raise")


def test_missing_files_give_absent_channels(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = e4.read(write(tmp_path / "session", without("ACC.csv", "IBI.csv")(session_files())))
    signal = rec["signal"].isel(participant=0)
    assert np.isnan(signal.sel(channel="steps")).all() and np.isnan(signal.sel(channel="rmssd")).all()
    assert signal.sel(channel="heart_rate").to_numpy().tolist() == [72.0, 72.0, 72.0]
