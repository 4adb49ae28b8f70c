"""Empatica E4 sessions (lsmkit.io.empatica_e4): known answers on hand-written sessions, and the
round trip through write_example. Malformed sessions are in tests/test_bad_empatica_e4.py."""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pytest

import lsmkit
from lsmkit.io import empatica_e4 as e4
from lsmkit.io.devices import guess_format, read_device

START = 1704067200  # 2024-01-01 00:00:00 UTC


def header(rate, columns=1, start=START):
    return ", ".join([f"{start:.6f}"] * columns) + "\n" + ", ".join([f"{rate:.6f}"] * columns) + "\n"


def session_files(minutes=3, start=START):
    """A still, face-up E4 for ``minutes``: 60 bpm beats in minute 0 only, HR.csv at 72 bpm."""
    n = minutes * 60
    return {
        "ACC.csv": header(32, 3, start) + "0,0,64\n" * (32 * n),
        "EDA.csv": header(4, 1, start) + "2.000000\n" * (4 * n),
        "TEMP.csv": header(4, 1, start) + "33.50\n" * (4 * n),
        "HR.csv": header(1, 1, start + 10) + "72.00\n" * (n - 10),
        "IBI.csv": f"{start:.6f}, IBI\n" + "".join(f"{k:.6f},1.000000\n" for k in range(1, 60)),
        "BVP.csv": header(64, 1, start) + "0.0\n" * 64,
        "tags.csv": f"{start + 30:.6f}\n",
    }


def write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def signal(rec, channel):
    return rec["signal"].isel(participant=0).sel(channel=channel).to_numpy()


@pytest.fixture
def folder(tmp_path):
    return write(tmp_path / "session", session_files())


def test_known_session_gives_known_minutes(folder):
    with pytest.warns(UserWarning, match=r"left out BVP.csv \(64 Hz pulse wave.*tags.csv \(button presses\)"):
        rec = e4.read(folder)
    assert rec.sizes["time"] == 3 and str(rec["participant"].item()) == "session"
    assert np.datetime64(rec["start"].item(), "ns") == np.datetime64("2024-01-01T00:00:00", "ns")
    assert signal(rec, "heart_rate").tolist() == pytest.approx([60.0, 72.0, 72.0])  # beats, then HR.csv
    assert signal(rec, "rmssd")[0] == 0.0 and np.isnan(signal(rec, "rmssd")[1])
    assert signal(rec, "steps").tolist() == [0.0, 0.0, 0.0]
    assert signal(rec, "axis_mean").tolist() == [1.0, 1.0, 1.0]
    assert signal(rec, "scl").tolist() == [2.0, 2.0, 2.0] and signal(rec, "eda_lead_contact").tolist() == [60.0] * 3
    assert signal(rec, "skin_temperature").tolist() == [33.5] * 3
    assert np.isnan(signal(rec, "resting_heart_rate")).all() and np.isnan(signal(rec, "altitude_std")).all()
    assert rec.attrs["format"] == "empatica_e4" and rec.attrs["source"] == "session"
    assert rec.attrs["device"] == "Empatica E4"


def test_zip_download_names_the_serial(tmp_path):
    path = tmp_path / f"{START}_A01B2C.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in session_files().items():
            archive.writestr(name, text)
    assert e4.looks_like(path) and guess_format(path) == "empatica_e4"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = read_device(path)
    assert rec.attrs["device"] == "Empatica E4 (serial A01B2C)" and rec.attrs["source"] == path.name
    assert signal(rec, "heart_rate")[0] == pytest.approx(60.0)


def test_looks_like_checks_names_only(tmp_path, folder):
    assert e4.looks_like(folder)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "ACC.csv").write_text("not even read")
    assert not e4.looks_like(tmp_path / "other")  # one E4 name is not a session
    (tmp_path / "export.xml").write_text("<HealthData/>")
    assert not e4.looks_like(tmp_path / "export.xml")


def test_hr_file_is_placed_ten_seconds_after_start(tmp_path):
    files = session_files(minutes=2)
    files.pop("IBI.csv")
    files["HR.csv"] = header(1, 1, START + 10) + "80.00\n" * 50 + "100.00\n" * 60  # 00:00:10 - 00:01:00, then minute 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = e4.read(write(tmp_path / "s", files))
    assert signal(rec, "heart_rate").tolist() == [80.0, 100.0]


@pytest.fixture(scope="module")
def simulated():
    return lsmkit.simulate(1, days=1, seed=1)


@pytest.mark.parametrize("name", ["1704067200_A0C0DE.zip", "session_folder"])
def test_round_trip_recovers_the_minutes(tmp_path, simulated, name):
    path = e4.write_example(simulated, tmp_path / name, minutes=90)
    rec = e4.read(path)
    orig = simulated["signal"].isel(participant=0, time=slice(0, 90))
    for channel, tolerance in (("heart_rate", 1.0), ("steps", 0.0), ("scl", 1e-5), ("skin_temperature", 0.01)):
        want, got = orig.sel(channel=channel).to_numpy(), signal(rec, channel)[:90]
        assert np.array_equal(np.isnan(want), np.isnan(got)), channel
        assert np.nanmax(np.abs(want - got)) <= tolerance, channel
    assert rec.attrs["skipped"] == "nothing"
    assert rec.attrs["device"] == ("Empatica E4 (serial A0C0DE)" if name.endswith(".zip") else "Empatica E4")


def test_round_trip_with_gaps_and_high_cadence(tmp_path, simulated):
    rec = simulated.isel(time=slice(0, 6)).copy(deep=True)
    rec["signal"].loc[dict(channel="heart_rate", time=2)] = np.nan  # a PPG gap: no beats, HR.csv carries on
    rec["signal"].loc[dict(channel="steps")] = [0, 5, 119, 121, 180, 200]
    rec["signal"].loc[dict(channel="scl", time=4)] = np.nan  # contact lost: EDA reads 0
    back = e4.read(e4.write_example(rec, tmp_path / "s"))
    assert signal(back, "steps").tolist() == [0, 5, 119, 121, 180, 200]
    assert np.isnan(signal(back, "rmssd")[2]) and np.isfinite(signal(back, "heart_rate")[2])
    assert np.isnan(signal(back, "scl")[4]) and signal(back, "eda_lead_contact")[4] == 0.0


def test_long_session_is_featurised_in_blocks_without_seams(tmp_path, simulated):
    path = e4.write_example(simulated, tmp_path / "s", minutes=130)  # crosses two hour-block seams
    steps = signal(e4.read(path), "steps")[:130]
    assert np.array_equal(steps, simulated["signal"].isel(participant=0, time=slice(0, 130)).sel(channel="steps"))


def test_a_session_starting_mid_minute_gives_in_blocks_what_one_pass_gives(tmp_path, simulated, monkeypatch):
    """Hour blocks start mid-minute when the session does: the seam minutes must see all their samples."""
    late = simulated.assign_coords(start=simulated["start"] + np.timedelta64(45, "s"))
    path = e4.write_example(late, tmp_path / "s", minutes=130)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        blocked = e4.read(path)
        monkeypatch.setattr(e4, "_BLOCK_S", 10**6)  # one block for the whole session
        whole = e4.read(path)
    np.testing.assert_allclose(blocked["signal"].values, whole["signal"].values, rtol=1e-6, atol=1e-6, equal_nan=True)
