"""Device readers, featurisers and streaming pretraining: throughput and peak memory (issue 19).

    python benchmarks/readers.py [--apple-gigabytes 1] [--apple-days 365] [--days 7] [--session-hours 24]
                                 [--store-gigabytes 5] [--train-steps 200] [--batch-size 32] [--no-zip] [--keep]
                                 [--workdir DIR] [--out-dir benchmarks/results]

1. ``lsmkit.read_device`` on an Apple Health ``export.xml`` of about ``--apple-gigabytes`` GB,
   written by ``lsmkit.io.apple_health.write_example`` from a smartwatch's simulated
   ``--apple-days`` days (a HeartRate sample every minute, plus as many unmapped records a minute,
   energy, distance, stand time, as it takes to reach the size: real exports are mostly such
   records), and on the same export as ``export.zip`` (read from the zip, never extracted; left
   out with ``--no-zip``): records/s, MB/s of XML, peak RSS, next to the RSS of a bare
   ``import lsmkit``.
2. The other readers on their ``write_example`` outputs: a Fitbit export folder of ``--days`` days
   (JSON entries and CSV rows/s), one FIT activity of ``--session-hours`` hours at one record a
   second (records/s) and one Empatica E4 session of as many hours (CSV samples/s).
3. ``lsmkit.features`` on ``--days`` days of synthetic raw streams: a 32 Hz tri-axial
   accelerometer (still periods and walking bouts) through ``accelerometer_to_minutes``, and beat
   intervals (an AR(1) process around 800 ms) through ``beats_to_minutes``: samples/s, minutes/s,
   and how far the peak RSS rises over what the process held with the inputs made (the
   accelerometer works an hour of samples at a time, so a few MB whatever ``--days``).
4. Pretraining from a window store of at least ``--store-gigabytes`` GB of *uncompressed*
   float32 300-minute, 26-channel windows (synthetic values with off-wrist gaps, zarr, written
   one block at a time): first the batches alone (``lsmkit.train.WindowStream``, no model), then
   ``lsmkit.train.train`` of the tiny preset, batch ``--batch-size`` (32, the shipped recipe's),
   for ``--train-steps`` steps (200: four blocks of ``lsmkit.train.STORE_BLOCK`` windows); then the
   same run from a store of two blocks. The batches alone must peak at most 1 GB, and the large
   store must add at most 256 MB (four blocks; two runs differ by about 100 MB) to training's peak
   over the small one, whatever its size (the exit status says so): the model's own activations
   grow with the batch (about 1.7 GB at batch 256) and are the same with any store.

Every phase runs in its own process, so each reports its own peak resident memory (VmHWM, else
ru_maxrss); generating the inputs is never timed, and the featurisers' peaks leave it out (their
inputs held in memory are included: the "input MB" column). The files live in a temporary directory
that is deleted at the end (``--keep`` keeps it). Writes ``readers.md`` and ``readers.json``.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import _report  # the sibling module: machine info, versions, result files

WINDOW_MINUTES = 300
ACC_HZ = 32
LIMIT_MB = 1024  # the bound on the peak RSS of streaming pretraining's batches from a store
GROWTH_MB = 256  # and on what a large store adds to training's peak: four blocks (runs differ by ~100 MB)
VERSIONS = ("lsmkit", "numpy", "pandas", "xarray", "dask", "zarr", "scipy", "torch", "fitdecode")


def _status_mb(field: str) -> float:
    """A memory field of Linux's /proc/self/status (kB) in MB; NaN where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def peak_rss_mb() -> float:
    """This process's peak resident memory: Linux's VmHWM, which starts afresh at exec (ru_maxrss
    does not: a spawned child would start at its parent's size), else ru_maxrss."""
    peak = _status_mb("VmHWM")
    return peak if not math.isnan(peak) else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float:
    """This process's resident memory now (Linux's VmRSS; NaN elsewhere)."""
    return _status_mb("VmRSS")


def reset_peak() -> None:
    """Start this process's peak memory afresh (Linux 4.0+), so that a phase's peak leaves out making its
    inputs; elsewhere the peak includes them."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def size_mb(path) -> float:
    path = Path(path)
    files = [f for f in path.rglob("*") if f.is_file()] if path.is_dir() else [path]
    return sum(f.stat().st_size for f in files) / 1e6


def count_in(path, pattern: bytes, block: int = 1 << 24) -> int:
    """Occurrences of ``pattern`` in a file, read in 16 MiB blocks (a match may span two)."""
    found, tail = 0, b""
    with open(path, "rb") as f:
        while chunk := f.read(block):
            found += (tail + chunk).count(pattern)
            tail = chunk[-(len(pattern) - 1):]  # too short to hold a whole match: none is counted twice
    return found


def read_phase(label: str, path, count: int, unit: str, megabytes: float | None = None) -> dict:
    """``lsmkit.read_device(path)``, timed, in this (fresh) process; its warnings are counted, not shown."""
    import lsmkit

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recordings = lsmkit.read_device(path)
    seconds, peak = time.perf_counter() - t0, peak_rss_mb()
    megabytes = size_mb(path) if megabytes is None else megabytes
    observed = int(np.isfinite(recordings["signal"].values).any(axis=-1).sum())
    return {"phase": label, "megabytes": megabytes, "count": count, "unit": unit, "seconds": seconds,
            "rate": f"{count / seconds:,.0f} {unit}/s", "mb_per_s": megabytes / seconds,
            "peak_rss_mb": peak, "minutes_with_values": observed, "warnings": len(caught)}


# ---- phase 0: the cost of importing lsmkit --------------------------------------------------------


def phase_import(module: str) -> dict:
    import importlib

    t0 = time.perf_counter()
    importlib.import_module(module)
    return {"phase": f"import {module}", "megabytes": None, "count": None, "unit": "", "seconds":
            time.perf_counter() - t0, "rate": "", "peak_rss_mb": peak_rss_mb()}


# ---- phase 1: Apple Health ------------------------------------------------------------------------


def _apple_bytes_per_minute(workdir: str) -> tuple[float, float]:
    """Bytes a minute of a one-day export without extra records, and bytes of one extra record a minute."""
    import lsmkit
    from lsmkit.io import apple_health

    day = lsmkit.restrict(lsmkit.simulate(1, 1, seed=1), "smartwatch")
    sizes = []
    for extra in (0, 1):
        path = apple_health.write_example(day, Path(workdir) / f"calibrate{extra}.xml", hr_every=1,
                                          extra_records_per_minute=extra)
        sizes.append(path.stat().st_size)
        path.unlink()
    return sizes[0] / 1440, (sizes[1] - sizes[0]) / 1440


def phase_write_apple(workdir: str, gigabytes: float, max_days: int, zipped: bool) -> dict:
    """Write export.xml (and export.zip) of at least about ``gigabytes``: all ``max_days`` days with
    extra records a minute (rounded up), or fewer days without any where even that would be too large."""
    import lsmkit
    from lsmkit.io import apple_health

    base, per_extra = _apple_bytes_per_minute(workdir)
    target = gigabytes * 1e9
    if target >= base * max_days * 1440:
        days, extra = max_days, max(0, math.ceil((target / (max_days * 1440) - base) / per_extra))
    else:
        days, extra = max(1, math.ceil(target / (base * 1440))), 0
    recordings = lsmkit.restrict(lsmkit.simulate(1, days), "smartwatch")
    out = {"days": days, "extra_records_per_minute": extra}
    for name in ("export.xml", "export.zip") if zipped else ("export.xml",):
        t0 = time.perf_counter()
        path = apple_health.write_example(recordings, Path(workdir) / name, hr_every=1,
                                          extra_records_per_minute=extra)
        out[f"{name}_write_s"] = time.perf_counter() - t0
        out[f"{name}_mb"] = size_mb(path)
    out["records"] = count_in(Path(workdir) / "export.xml", b"<Record ")
    out["peak_rss_mb"] = peak_rss_mb()
    return out


# ---- phase 2: the other readers -------------------------------------------------------------------


def phase_write_others(workdir: str, days: int, hours: int) -> dict:
    """A Fitbit export of ``days`` days, a FIT activity and an E4 session of ``hours`` hours; what each holds."""
    import lsmkit
    from lsmkit.io import empatica_e4, fit, fitbit

    work = Path(workdir)
    fitbit.write_example(lsmkit.restrict(lsmkit.simulate(1, days, seed=2), "smartwatch"), work / "fitbit")
    entries = sum(count_in(f, b'"dateTime"') for f in (work / "fitbit").rglob("*.json"))
    entries += sum(count_in(f, b"\n") - 1 for f in (work / "fitbit").rglob("*.csv") if f.name != "Profile.csv")
    session = lsmkit.simulate(1, math.ceil(hours / 24), seed=3).isel(time=slice(0, hours * 60))
    fit.write_example(lsmkit.restrict(session, "smartwatch"), work / "activity.fit", records="second")
    empatica_e4.write_example(session, work / "e4")
    header = {"IBI.csv": 1}  # the others: start time, then rate
    samples = sum(count_in(f, b"\n") - header.get(f.name, 2) for f in (work / "e4").glob("*.csv"))
    return {"fitbit_entries": entries, "fit_records": _fit_records(work / "activity.fit"), "e4_samples": samples}


def _fit_records(path) -> int:
    import fitdecode

    with fitdecode.FitReader(path) as reader:
        return sum(1 for frame in reader if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record")


# ---- phase 3: featurisers -------------------------------------------------------------------------


def accelerometer(days: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``days`` of a 32 Hz wrist accelerometer in g: still (gravity on z, sensor noise) but for walking
    bouts of 3-20 minutes (1.8 steps/s bounces of 0.3 g, with sway)."""
    rng = np.random.default_rng(seed)
    n_min = days * 1440
    starts = np.flatnonzero(rng.random(n_min) < 0.01)
    edges = np.zeros(n_min + 21, np.int32)
    np.add.at(edges, starts, 1)
    np.add.at(edges, starts + rng.integers(3, 21, starts.size), -1)
    walking = np.repeat(np.cumsum(edges)[:n_min] > 0, 60 * ACC_HZ)
    n = walking.size
    t = np.arange(n, dtype=np.float32) / ACC_HZ
    xyz = rng.standard_normal((n, 3), dtype=np.float32)
    xyz *= 0.005
    xyz += np.array([0.05, 0.1, 0.99], np.float32)
    bounce = (0.3 * np.sin(2 * np.pi * 1.8 * t) + 0.1 * np.sin(2 * np.pi * 3.6 * t)).astype(np.float32)
    xyz[walking, 2] += bounce[walking]
    xyz[walking, 0] += 0.15 * np.sin(2 * np.pi * 0.9 * t[walking])
    xyz[walking] += 0.05 * rng.standard_normal((int(walking.sum()), 3), dtype=np.float32)
    times = np.datetime64("2024-01-01", "ns") + np.arange(n) * np.timedelta64(10**9 // ACC_HZ, "ns")  # 31.25 ms exactly
    return times, xyz


def beats(days: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``days`` of beat intervals (ms): AR(1) (coefficient 0.9, SD 57 ms) around 800 ms, plus the day's rhythm."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(days * 86400 / 0.8)
    rr = 800 + lfilter([1.0], [1.0, -0.9], rng.normal(0.0, 25.0, n))
    clock = np.cumsum(rr)
    rr += 60 * np.sin(2 * np.pi * clock / 86_400_000)  # slower at night
    rr = np.clip(rr, 400, 1500)
    times = np.datetime64("2024-01-01", "ns") + np.round(np.cumsum(rr) * 1e6).astype(np.int64).astype("timedelta64[ns]")
    return times, rr


def phase_features(kind: str, days: int) -> dict:
    from lsmkit import features

    times, values = accelerometer(days) if kind == "accelerometer" else beats(days)
    inputs_mb = (times.nbytes + values.nbytes) / 1e6
    fn = features.accelerometer_to_minutes if kind == "accelerometer" else features.beats_to_minutes
    held = rss_mb()  # lsmkit imported, the inputs made
    reset_peak()  # the peak is the featuriser's, with its inputs held
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        minutes = fn(times, values, ACC_HZ) if kind == "accelerometer" else fn(times, values)
    seconds, peak = time.perf_counter() - t0, peak_rss_mb()
    unit = "samples" if kind == "accelerometer" else "beats"
    return {"phase": f"{fn.__name__} ({days} d{', 32 Hz x 3' if kind == 'accelerometer' else ''})",
            "megabytes": inputs_mb, "count": len(times), "unit": unit, "seconds": seconds,
            "rate": f"{len(times) / seconds:,.0f} {unit}/s", "minutes_per_s": len(minutes) / seconds,
            "minutes": len(minutes), "minutes_with_values": int(minutes.notna().any(axis=1).sum()),
            "peak_rss_mb": peak, "peak_over_held_mb": peak - held, "warnings": len(caught)}


# ---- phase 4: pretraining from a store larger than memory ---------------------------------------


def synthetic_windows(rng: np.random.Generator, n: int, n_channels: int) -> np.ndarray:
    """``n`` windows of plausible-looking minutes, float32 (n, 300, C), each with an off-wrist gap."""
    import lsmkit

    means = np.array([c.mean for c in lsmkit.CHANNELS], dtype=np.float32)[:n_channels]
    stds = np.array([c.std for c in lsmkit.CHANNELS], dtype=np.float32)[:n_channels]
    values = rng.standard_normal((n, WINDOW_MINUTES, n_channels), dtype=np.float32)
    values *= 0.3 * stds
    values += means
    start = rng.integers(0, WINDOW_MINUTES, n)[:, None]
    minute = np.arange(WINDOW_MINUTES)[None, :]
    values[(minute >= start) & (minute < start + rng.integers(0, 90, n)[:, None])] = np.nan
    return values


def phase_write_store(path: str, gigabytes: float | None = None, blocks: int | None = None, seed: int = 0) -> dict:
    """A zarr window store of ``gigabytes`` (uncompressed) or of ``blocks`` blocks of windows, written
    as loaders.py writes its recordings: a lazy template's metadata, then one block at a time into
    its region."""
    import dask.array as da
    import xarray as xr

    import lsmkit
    from lsmkit.io import WINDOW_CHUNKS
    from lsmkit.train import STORE_BLOCK

    n_channels, chunk, per = len(lsmkit.CHANNEL_NAMES), WINDOW_CHUNKS["window"], 100  # windows a participant
    n_windows = blocks * STORE_BLOCK if blocks else math.ceil(gigabytes * 1e9 / (WINDOW_MINUTES * n_channels * 4))
    w = np.arange(n_windows)
    small = lsmkit.make_windows(np.zeros((n_windows, 1, n_channels), np.float32),
                                participant=[f"p{i:05d}" for i in w // per],
                                start=np.datetime64("2024-01-01T00:00", "ns")
                                + (w % per) * np.timedelta64(WINDOW_MINUTES, "m"))
    lazy = da.full((n_windows, WINDOW_MINUTES, n_channels), np.nan, dtype=np.float32,
                   chunks=(chunk, WINDOW_MINUTES, n_channels))
    template = xr.Dataset({"signal": (small["signal"].dims, lazy)},
                          coords={k: v for k, v in small.coords.items() if k != "time"}).assign_coords(
        time=("time", np.arange(WINDOW_MINUTES, dtype=np.int32), small["time"].attrs))
    del small
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        template.to_zarr(path, compute=False, mode="w-",
                         encoding={"signal": {"chunks": (chunk, WINDOW_MINUTES, n_channels)}})
        for lo in range(0, n_windows, STORE_BLOCK):  # one block (64 MB) in memory at a time
            hi = min(lo + STORE_BLOCK, n_windows)
            block = xr.Dataset({"signal": (("window", "time", "channel"), synthetic_windows(rng, hi - lo, n_channels))})
            block.to_zarr(path, region={"window": slice(lo, hi), "time": slice(None), "channel": slice(None)})
    seconds = time.perf_counter() - t0
    raw = n_windows * WINDOW_MINUTES * n_channels * 4
    return {"phase": f"write zarr window store ({n_windows} windows)", "megabytes": raw / 1e6, "count": n_windows,
            "unit": "windows", "seconds": seconds, "rate": f"{raw / seconds / 1e6:,.0f} MB/s",
            "peak_rss_mb": peak_rss_mb(), "uncompressed_gb": raw / 1e9, "on_disk_gb": size_mb(path) / 1e3}


def _config(path: str, steps: int, batch_size: int):
    from lsmkit.train import TrainConfig

    return TrainConfig(preset="tiny", windows=path, steps=steps, batch_size=batch_size, val_every=steps,
                       checkpoint_every=steps, val_windows=16, val_participants=1)


def phase_stream(path: str, steps: int, batch_size: int) -> dict:
    """What pretraining reads, without the model: the normaliser's first block, then ``steps`` batches."""
    from lsmkit.train import Normaliser, WindowStream

    t0 = time.perf_counter()
    stream = WindowStream(_config(path, steps, batch_size))
    Normaliser.fit(stream.chunk(0))
    position = (0, 0)
    for _ in range(steps):
        batch, position = stream.next(position)
    seconds = time.perf_counter() - t0
    windows = steps * batch_size
    return {"phase": f"stream {steps} batches of {batch_size} from the store (no model)", "megabytes": None,
            "count": windows, "unit": "windows", "seconds": seconds, "rate": f"{windows / seconds:,.0f} windows/s",
            "peak_rss_mb": peak_rss_mb(), "blocks": position[0] + 1}


def phase_train(path: str, steps: int, batch_size: int, out_dir: str, label: str) -> dict:
    from lsmkit.train import STORE_BLOCK, load_checkpoint, train

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, history = train(_config(path, steps, batch_size), out_dir, resume=False, progress=False)
    seconds = time.perf_counter() - t0
    blocks = load_checkpoint(Path(out_dir) / "checkpoint.pt")["position"][0] + 1
    return {"phase": f"train tiny, batch {batch_size}, {steps} steps, {label} ({blocks} blocks of {STORE_BLOCK})",
            "megabytes": None, "count": steps, "unit": "steps", "seconds": seconds,
            "rate": f"{steps / seconds:,.2f} steps/s", "peak_rss_mb": peak_rss_mb(), "blocks": blocks,
            "loop_samples_per_s": history[-1]["samples_per_s"], "train_loss": history[-1]["train_loss"]}


# ---- driver -----------------------------------------------------------------------------------


def in_process(fn, *args) -> dict:
    """Run one phase in a fresh process so that its peak memory is its own."""
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        return pool.apply(fn, args)
    finally:
        pool.close()  # the worker exits by itself: terminating it would leak its semaphores (tqdm's lock)
        pool.join()


def table(results: list[dict]) -> str:
    lines = [f"| {'phase':<70} | {'input MB':>9} | {'seconds':>8} | {'throughput':>22} | {'peak RSS (MB)':>13} |",
             f"|{'-' * 72}|{'-' * 11}|{'-' * 10}|{'-' * 24}|{'-' * 15}|"]
    for r in results:
        mb = "" if r["megabytes"] is None else f"{r['megabytes']:,.{0 if r['megabytes'] >= 10 else 1}f}"
        lines.append(f"| {r['phase']:<70} | {mb:>9} | {r['seconds']:>8.1f} | {r['rate']:>22} | "
                     f"{r['peak_rss_mb']:>13.0f} |")
    return "\n".join(lines)


def run_phases(args, work: Path) -> tuple[dict[str, dict], dict, dict]:
    """Every phase, each in its own process: results by key, and what the Apple and other inputs hold.
    This process never imports lsmkit, so that each child's memory is its own."""
    r: dict[str, dict] = {}
    r["import"] = in_process(phase_import, "lsmkit")
    r["import train"] = in_process(phase_import, "lsmkit.train")
    apple = in_process(phase_write_apple, str(work), args.apple_gigabytes, args.apple_days, not args.no_zip)
    what = f"{apple['days']} d, {apple['extra_records_per_minute']} extra records/min"
    r["xml"] = in_process(read_phase, f"read_device: Apple Health export.xml ({what})", str(work / "export.xml"),
                          apple["records"], "records")
    if not args.no_zip:
        r["zip"] = in_process(read_phase, f"read_device: the same, export.zip ({apple['export.zip_mb']:,.0f} MB)",
                              str(work / "export.zip"), apple["records"], "records", apple["export.xml_mb"])
    for name in ("export.xml", "export.zip"):
        (work / name).unlink(missing_ok=True)  # room for the store
    others = in_process(phase_write_others, str(work), args.days, args.session_hours)
    r["fitbit"] = in_process(read_phase, f"read_device: Fitbit export folder ({args.days} d)", str(work / "fitbit"),
                             others["fitbit_entries"], "entries")
    r["fit"] = in_process(read_phase, f"read_device: FIT activity ({args.session_hours} h, 1 record/s)",
                          str(work / "activity.fit"), others["fit_records"], "records")
    r["e4"] = in_process(read_phase, f"read_device: Empatica E4 session ({args.session_hours} h)", str(work / "e4"),
                         others["e4_samples"], "samples")
    r["accelerometer"] = in_process(phase_features, "accelerometer", args.days)
    r["beats"] = in_process(phase_features, "beats", args.days)
    store = str(work / "windows.zarr")
    r["write store"] = in_process(phase_write_store, store, args.store_gigabytes)
    r["stream"] = in_process(phase_stream, store, args.train_steps, args.batch_size)
    r["train"] = in_process(phase_train, store, args.train_steps, args.batch_size, str(work / "run"),
                            f"{r['write store']['uncompressed_gb']:.1f} GB store")
    # The same run from a store of two blocks: what the model itself costs (the activations of its
    # batches), so that the difference is what the large store adds.
    reference = str(work / "reference.zarr")
    small = in_process(phase_write_store, reference, None, 2)
    r["reference"] = in_process(phase_train, reference, args.train_steps, args.batch_size, str(work / "reference"),
                                f"{small['count']}-window store")
    return r, apple, others


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apple-gigabytes", type=float, default=1.0, help="size of the Apple Health export.xml (GB)")
    parser.add_argument("--apple-days", type=int, default=365, help="days the Apple Health export covers (at most)")
    parser.add_argument("--days", type=int, default=7, help="days of the Fitbit export and of the featurised streams")
    parser.add_argument("--session-hours", type=int, default=24, help="hours of the FIT activity and the E4 session")
    parser.add_argument("--store-gigabytes", type=float, default=5.0, help="uncompressed size of the window store (GB)")
    parser.add_argument("--train-steps", type=int, default=200, help="pretraining steps (a block of 2048 windows "
                                                                      "is 64 batches of 32)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--no-zip", action="store_true", help="leave out export.zip")
    parser.add_argument("--keep", action="store_true", help="keep the generated files (their folder is printed)")
    parser.add_argument("--workdir", default=None, help="where to put the temporary files (default: the system tmp)")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results",
                        help="where readers.md and readers.json go")
    args = parser.parse_args()
    started = time.perf_counter()
    workdir = tempfile.mkdtemp(prefix="lsmkit-bench-readers-", dir=args.workdir)
    try:
        r, apple, others = run_phases(args, Path(workdir))
    finally:
        if args.keep:
            print(f"kept the generated files in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    bare, xml, write, stream, trained, reference = (r[k] for k in ("import", "xml", "write store", "stream", "train",
                                                                    "reference"))
    growth = trained["peak_rss_mb"] - reference["peak_rss_mb"]
    header = [
        f"machine: {_report.cpu_model()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM",
        "versions: " + _report.version_line(VERSIONS),
        f"Apple Health: {apple['export.xml_mb']:,.0f} MB export.xml, {apple['records']:,} Record elements, written "
        f"in {apple['export.xml_write_s']:.0f} s" + ("" if args.no_zip else f" (export.zip in "
                                                      f"{apple['export.zip_write_s']:.0f} s)")
        + f"; read at {xml['mb_per_s']:,.1f} MB/s into {xml['minutes_with_values']:,} minutes with values, peak RSS "
        f"{xml['peak_rss_mb'] - bare['peak_rss_mb']:,.0f} MB above a bare import",
        f"other inputs: Fitbit {others['fitbit_entries']:,} JSON entries and CSV rows; FIT {others['fit_records']:,} "
        f"records; E4 {others['e4_samples']:,} CSV samples (ACC, EDA, TEMP, HR, IBI; no BVP)",
        "featurisers: " + "; ".join(f"{f['phase'].split(' ')[0]} {f['minutes_per_s']:,.0f} minutes/s "
                                    f"({f['minutes_with_values']:,} of {f['minutes']:,} minutes with values, peak RSS "
                                    f"{f['peak_over_held_mb']:+,.0f} MB over the inputs held)"
                                    for f in (r["accelerometer"], r["beats"])),
        f"store: {write['uncompressed_gb']:.2f} GB uncompressed float32, {write['on_disk_gb']:.2f} GB on disk; "
        f"pretraining read {trained['blocks']} blocks, training loop {trained['loop_samples_per_s']:,.0f} samples/s, "
        f"last loss {trained['train_loss']:.3f}",
    ]
    # The data path is bounded (1 GB), and a large store adds no more than a few blocks to training.
    verdict = "OK" if stream["peak_rss_mb"] <= LIMIT_MB and growth <= GROWTH_MB else "OVER"
    footer = [
        f"peak RSS streaming pretraining's batches from the {write['uncompressed_gb']:.1f} GB store: "
        f"{stream['peak_rss_mb']:.0f} MB (limit {LIMIT_MB} MB)",
        f"peak RSS pretraining from it: {trained['peak_rss_mb']:.0f} MB, from a two-block store: "
        f"{reference['peak_rss_mb']:.0f} MB (the model at batch {args.batch_size}); the large store adds "
        f"{growth:+.0f} MB (limit +{GROWTH_MB} MB): {verdict}",
    ]
    results = list(r.values())
    report = "\n".join(header + ["", table(results), ""] + footer)
    print(report)
    headline = {"peak memory of a bare import lsmkit (MB)": round(bare["peak_rss_mb"]),
                f"Apple Health export.xml of {apple['export.xml_mb'] / 1e3:.2f} GB (records/s)":
                    round(xml["count"] / xml["seconds"]),
                "Apple Health export.xml (MB/s)": round(xml["mb_per_s"], 1),
                "peak memory reading export.xml (MB)": round(xml["peak_rss_mb"])}
    if "zip" in r:
        headline |= {"Apple Health export.zip (records/s)": round(r["zip"]["count"] / r["zip"]["seconds"]),
                     "peak memory reading export.zip (MB)": round(r["zip"]["peak_rss_mb"])}
    for key in ("fitbit", "fit", "e4", "accelerometer", "beats"):
        phase = r[key]["phase"].removeprefix("read_device: ")
        headline[f"{phase} ({r[key]['unit']}/s)"] = round(r[key]["count"] / r[key]["seconds"])
    headline["what accelerometer_to_minutes adds to the memory its inputs hold (MB)"] = round(
        r["accelerometer"]["peak_over_held_mb"])
    headline |= {f"pretraining from a {write['uncompressed_gb']:.1f} GB store (steps/s)":
                     round(trained["count"] / trained["seconds"], 2),
                 "peak memory streaming its batches (MB)": round(stream["peak_rss_mb"]),
                 "peak memory pretraining from it (MB)": round(trained["peak_rss_mb"]),
                 "what the large store adds to pretraining's peak memory (MB)": round(growth)}
    _report.write(args.out_dir, "readers", "```\n" + report + "\n```", headline,
                  seconds=time.perf_counter() - started, phases=r, apple=apple, inputs=others)
    if verdict != "OK":
        raise SystemExit(1)


if __name__ == "__main__":
    main()
