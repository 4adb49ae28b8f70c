"""Regenerate ``data_samples/sweat_workouts.nc``: five real workouts, per minute, in lsmkit's channels.

A one-off regeneration script, not part of the library. It reads the example workout files that
ship inside the ``sweat`` package (sweatpy, version 0.25.0, MIT License, copyright (c) 2020 Aart
Goossens, https://github.com/goldencheetah/sweatpy) and turns them into an lsmkit recordings dataset
(dims ``("participant", "time", "channel")``) written as a small netCDF file.

Regenerate with (from the repository root, in the lsmkit environment)::

    pip download --no-deps -d /tmp/sweat sweat==0.25.0
    pip install fitparse==1.2.0
    python data_samples/make_real_sample.py --wheel /tmp/sweat/sweat-0.25.0-py3-none-any.whl

``--wheel`` reads the files straight out of the downloaded wheel, so sweat itself (whose pins, for
example ``pandas<2``, clash with lsmkit's) need not be installed. Without ``--wheel`` the script
looks for an installed ``sweat`` package instead. FIT files are parsed with ``fitparse`` (MIT),
TCX files with the standard library.

What is converted
-----------------
One "participant" is one workout (the files do not say who recorded them; most come from the
sweatpy author's own devices, so treat them as few people, not five). Duplicates of the same
workout in other formats (the TCX/GPX exports of a FIT file) and the 59-second multisport test file
``6471559601_ACTIVITY.fit`` are skipped.

Each file is first put on a one-second grid (timestamps floored to the second; a second without a
record is missing, so paused timers become gaps). Minutes are whole UTC clock minutes; ``start``
is the first record's minute. A per-minute value needs at least ``MIN_SECONDS`` (30) seconds with
a record, otherwise it is NaN. Raw values outside a channel's plausible range are dropped first.

heart_rate
    mean of the per-second heart rate over the covered seconds of the minute (bpm).
steps
    running only: mean step rate over the minute, ``2 * (cadence + fractional_cadence)``, since
    running cadence in FIT and in Polar's TCX export counts strides (one foot) per minute. (The
    doubling is checked against GPS distance: it gives step lengths of 0.4-1.5 m in this file.)
    Cycling cadence is pedal revolutions, not steps, so cycling minutes are NaN.
altitude_std
    population standard deviation (ddof=0) of the per-second altitude within the minute (m), only
    for devices with a barometric altimeter (Garmin Edge 1000, Forerunner 935). The Polar M400 has
    GPS altitude only, and the indoor ride has none, so theirs are NaN.

All other channels are NaN: none of the files holds beat-to-beat (RR) intervals (no FIT ``hrv``
messages), accelerometer features, EDA or skin temperature (FIT ``temperature`` is the device's
ambient temperature, not skin temperature). GPS position, speed, power and device serial numbers
are deliberately not copied.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import io
import zipfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import lsmkit

SWEAT_VERSION = "0.25.0"
NAME = "sweat_workouts"
MIN_SECONDS = 30  # seconds with a record needed for a per-minute value
OUT = Path(__file__).resolve().parent / f"{NAME}.nc"
DATA_DIR = "sweat/examples/data"


@dataclass(frozen=True)
class Workout:
    """One source file and what sweat's ``examples/index.yml`` says about it."""

    file: str
    sport: str
    device: str
    heart_rate_sensor: str
    barometric_altitude: bool


WORKOUTS = (
    Workout("3173437224.tcx", "running", "Polar M400", "Polar H7 chest strap", False),
    Workout("4078723797.fit", "cycling", "Garmin Edge 1000", "Wahoo Tickr X chest strap", True),
    Workout("4801048867.fit", "cycling", "Garmin Forerunner 935", "not stated (no external sensor listed)", True),
    Workout("2020-06-01-16-52-40.fit", "cycling", "Garmin Edge 1000", "Wahoo Tickr X chest strap", True),
    Workout("6449921903_ACTIVITY.fit", "indoor cycling", "Garmin Forerunner 935",
            "not stated (no external sensor listed)", False),
)


# --- reading the source files --------------------------------------------------------------------

def source_reader(wheel: Path | None):
    """A function ``name -> bytes`` over sweat's example data, and the sweat version found."""
    if wheel is not None:
        archive = zipfile.ZipFile(wheel)
        meta = archive.read(f"sweat-{SWEAT_VERSION}.dist-info/METADATA").decode()
        version = next(line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Version:"))
        return (lambda name: archive.read(f"{DATA_DIR}/{name}")), version
    spec = importlib.util.find_spec("sweat")  # locates the package without importing its dependencies
    if spec is None or spec.origin is None:
        raise SystemExit("sweat is not installed; pass --wheel PATH to a downloaded sweat-0.25.0 wheel")
    data_dir = Path(spec.origin).parent / "examples" / "data"
    return (lambda name: (data_dir / name).read_bytes()), importlib.metadata.version("sweat")


def read_fit(raw: bytes) -> tuple[pd.DataFrame, float, float]:
    """Per-record columns, the UTC offset in minutes, and the device's session average heart rate."""
    import fitparse  # only this script needs it

    fit = fitparse.FitFile(io.BytesIO(raw))
    records = pd.DataFrame([m.get_values() for m in fit.get_messages("record")])
    cadence = records.get("cadence", pd.Series(np.nan, index=records.index)).astype(float)
    frame = pd.DataFrame({
        "time": pd.to_datetime(records["timestamp"]),  # FIT timestamps are UTC
        "heart_rate": records.get("heart_rate", np.nan),
        "cadence": cadence + records.get("fractional_cadence", pd.Series(0.0, index=records.index)).fillna(0.0),
        "altitude": records.get("enhanced_altitude", records.get("altitude", np.nan)),
    })
    activity = next(fit.get_messages("activity")).get_values()
    offset = (activity["local_timestamp"] - activity["timestamp"]).total_seconds() / 60
    sessions = [m.get_values() for m in fit.get_messages("session")]
    weights = np.array([s["total_timer_time"] for s in sessions])
    avg_hr = np.array([s["avg_heart_rate"] for s in sessions], dtype=float)
    return frame, float(offset), float(np.average(avg_hr, weights=weights))


def read_tcx(raw: bytes) -> tuple[pd.DataFrame, float, float]:
    """As :func:`read_fit` for a TCX file (which records no UTC offset: NaN)."""
    ns = {"t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"}
    root = ET.fromstring(raw)

    def value(node, path):
        found = node.find(path, ns)
        return float(found.text) if found is not None else np.nan

    rows = [
        {
            "time": pd.Timestamp(point.find("t:Time", ns).text).tz_convert("UTC").tz_localize(None),
            "heart_rate": value(point, "t:HeartRateBpm/t:Value"),
            "cadence": value(point, "t:Cadence"),
            "altitude": value(point, "t:AltitudeMeters"),
        }
        for point in root.iterfind(".//t:Trackpoint", ns)
    ]
    laps = root.findall(".//t:Lap", ns)
    weights = np.array([value(lap, "t:TotalTimeSeconds") for lap in laps])
    avg_hr = np.array([value(lap, "t:AverageHeartRateBpm/t:Value") for lap in laps])
    return pd.DataFrame(rows), np.nan, float(np.average(avg_hr, weights=weights))


# --- per-second grid to per-minute channels ------------------------------------------------------

def per_second(frame: pd.DataFrame, workout: Workout) -> pd.DataFrame:
    """Canonical per-second quantities, indexed by whole UTC seconds; implausible values dropped."""
    frame = frame.assign(time=frame["time"].dt.floor("s")).drop_duplicates("time").set_index("time")
    out = pd.DataFrame(index=frame.index)
    out["heart_rate"] = frame["heart_rate"].astype(float)
    # Running cadence counts strides (one foot) per minute; a step rate is twice that.
    out["steps"] = 2.0 * frame["cadence"].astype(float) if workout.sport == "running" else np.nan
    out["altitude"] = frame["altitude"].astype(float) if workout.barometric_altitude else np.nan
    for name in ("heart_rate", "steps"):
        lo, hi = lsmkit.get_channel(name).valid_range
        out.loc[~out[name].between(lo, hi), name] = np.nan
    return out


def per_minute(seconds: pd.DataFrame, start: pd.Timestamp, n_minutes: int) -> pd.DataFrame:
    """Per-minute channel values on minutes ``0 .. n_minutes-1`` after ``start``."""
    minute = ((seconds.index - start) // pd.Timedelta(minutes=1)).to_numpy()
    grouped = seconds.groupby(minute)
    enough = grouped.count() >= MIN_SECONDS
    out = pd.DataFrame({
        "heart_rate": grouped["heart_rate"].mean().where(enough["heart_rate"]),
        "steps": grouped["steps"].mean().where(enough["steps"]),
        "altitude_std": grouped["altitude"].std(ddof=0).where(enough["altitude"]),
    })
    return out.reindex(np.arange(n_minutes))


# --- assembling the dataset ----------------------------------------------------------------------

@dataclass(frozen=True)
class Loaded:
    """One workout read and put on the per-second grid."""

    workout: Workout
    sha256: str
    seconds: pd.DataFrame
    utc_offset: float
    device_avg_heart_rate: float

    @property
    def start(self) -> pd.Timestamp:
        return self.seconds.index[0].floor("min")

    @property
    def n_minutes(self) -> int:
        return int((self.seconds.index[-1] - self.start) // pd.Timedelta(minutes=1)) + 1


def load(workout: Workout, read) -> Loaded:
    raw = read(workout.file)
    frame, offset, device_hr = (read_tcx if workout.file.endswith(".tcx") else read_fit)(raw)
    return Loaded(workout, hashlib.sha256(raw).hexdigest(), per_second(frame, workout), offset, device_hr)


def build(wheel: Path | None):
    read, version = source_reader(wheel)
    if version != SWEAT_VERSION:
        raise SystemExit(f"expected sweat {SWEAT_VERSION}, found {version}; the bundled file is pinned to it")
    loaded = sorted((load(w, read) for w in WORKOUTS), key=lambda item: item.start)  # chronological

    n_minutes = max(item.n_minutes for item in loaded)
    signal = np.full((len(loaded), n_minutes, len(lsmkit.CHANNEL_NAMES)), np.nan, dtype=np.float32)  # (P, T, C)
    for p, item in enumerate(loaded):
        minutes = per_minute(item.seconds, item.start, n_minutes)
        for name in minutes:
            signal[p, :, lsmkit.CHANNEL_NAMES.index(name)] = minutes[name].to_numpy(dtype=np.float32)

    def per_participant(values, **attrs):
        return ("participant", np.asarray(values), attrs)

    workouts = [item.workout for item in loaded]
    ds = lsmkit.make_recordings(
        signal,
        participant=[Path(w.file).stem.removesuffix("_ACTIVITY") for w in workouts],
        start=[item.start for item in loaded],
        timezone="UTC",
        sport=per_participant([w.sport for w in workouts], long_name="sport of the workout"),
        device=per_participant([w.device for w in workouts], long_name="recording device"),
        heart_rate_sensor=per_participant([w.heart_rate_sensor for w in workouts],
                                          long_name="heart-rate sensor per sweat's examples/index.yml"),
        utc_offset=per_participant(np.array([i.utc_offset for i in loaded], dtype=np.float32), units="minutes",
                                   long_name="local time minus UTC, from the FIT activity message (NaN: not recorded)"),
        device_avg_heart_rate=per_participant(
            np.array([i.device_avg_heart_rate for i in loaded], dtype=np.float32), units="bpm",
            long_name="average heart rate in the device's own session/lap summary"),
        source_file=per_participant([f"{DATA_DIR}/{w.file}" for w in workouts],
                                    long_name="file inside the sweat 0.25.0 distribution"),
        source_sha256=per_participant([item.sha256 for item in loaded]),
    )
    ds.attrs = {
        "title": "sweat_workouts: five real workouts (heart rate, steps, altitude) per minute",
        "source": f"example data of the Python package sweat {SWEAT_VERSION} (PyPI), {DATA_DIR}/",
        "source_package": "sweat",
        "source_version": SWEAT_VERSION,
        "source_files": ", ".join(w.file for w in workouts),
        "source_url": "https://github.com/goldencheetah/sweatpy",
        "license": "MIT",
        "copyright": "Copyright (c) 2020 Aart Goossens",
        "license_file": f"data_samples/LICENSES/{NAME}.txt",
        "attribution": (
            f"Contains example workout data from sweatpy (PyPI package sweat {SWEAT_VERSION}), "
            "Copyright (c) 2020 Aart Goossens, MIT License, https://github.com/goldencheetah/sweatpy"
        ),
        "conversion": (
            "data_samples/make_real_sample.py: records floored to whole UTC seconds; per UTC minute with "
            f">= {MIN_SECONDS} recorded seconds: heart_rate = mean bpm; steps (running only) = mean of "
            "2 * (cadence + fractional_cadence) strides/min; altitude_std = std (ddof=0) of barometric "
            "altitude in m. Other channels NaN (no RR intervals, accelerometer, EDA or skin temperature in "
            "the files). GPS position, speed, power, ambient temperature and device serials not copied."
        ),
    }
    return ds


def write(ds, path: Path = OUT) -> None:
    # CF readers take units "<unit> since <date>" for a calendar axis, and "minutes since start"
    # (as make_recordings labels it) has no date, so xr.load_dataset would fail to decode it.
    ds = ds.copy()
    ds["time"].attrs = {"units": "minutes", "long_name": "minutes since start"}
    encoding = {"signal": {"zlib": True, "complevel": 9, "shuffle": True}}
    ds.to_netcdf(path, engine="h5netcdf", encoding=encoding)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="path to sweat-0.25.0-py3-none-any.whl (else: installed sweat)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output netCDF file (default {OUT})")
    args = parser.parse_args(argv)
    ds = build(args.wheel)
    write(ds, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, sha256 {digest})")
    print(ds)


if __name__ == "__main__":
    main()
