"""Loader throughput and bounded-memory streaming of a store larger than memory.

    python benchmarks/loaders.py [--gigabytes 5] [--rows 2000000] [--workdir DIR] [--out-dir benchmarks/results]

1. ``lsmkit.read_table`` rows/s on a generated wide table (naive local times in Europe/Berlin,
   8 channels, 20 participants) as a DataFrame and as a CSV file, and on the same data as a
   long table (one row per value).
2. Writes a zarr store of at least ``--gigabytes`` GB of *uncompressed* float32 recordings
   (participants x one year of minutes x 26 channels, synthetic values, off-wrist gaps and
   missing days), one participant at a time; then opens it lazily with ``lsmkit.open_dataset``,
   cuts 300-minute windows with ``lsmkit.to_windows`` and iterates over all of them with
   ``lsmkit.io.iter_batches``, computing each window's mean heart rate.

Every phase runs in its own process, so each reports its own peak resident memory (ru_maxrss).
The streaming phase must stay under 1 GB whatever the store's size. The store lives in a
temporary directory that is deleted at the end.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import _report  # the sibling module: machine info, versions, result files

MINUTES_PER_YEAR = 365 * 1440
WIDE_COLUMNS = 8  # channels in the generated wide table


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---- phase 1: read_table ----------------------------------------------------------------------


def wide_table(rows: int, participants: int = 20, seed: int = 0):
    """A realistic export: naive local times (Europe/Berlin) per minute, rounded values."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    per = rows // participants
    local = pd.date_range("2024-03-01", periods=per, freq="min", tz="UTC").tz_convert("Europe/Berlin").tz_localize(None)
    n = per * participants
    return pd.DataFrame(
        {
            "timestamp": np.tile(local.values, participants),
            "participant": np.repeat([f"p{i:03d}" for i in range(participants)], per),
            "bpm": rng.normal(70, 8, n).round(1),
            "steps": rng.poisson(5, n),
            "skin_temp": rng.normal(33, 1, n).round(2),
            "rmssd": rng.gamma(4, 10, n).round(1),
            "eda": rng.gamma(2, 1, n).round(2),
            "altitude_std": rng.gamma(1, 0.3, n).round(2),
            "log_energy": rng.normal(-4, 1, n).round(3),
            "sleep_coefficient": rng.uniform(0, 100, n).round(1),
        }
    )


def phase_frame(rows: int) -> dict:
    import lsmkit

    table = wide_table(rows)
    t0 = time.perf_counter()
    ds = lsmkit.read_table(table, tz="Europe/Berlin")
    seconds = time.perf_counter() - t0
    return {"phase": "read_table(DataFrame, wide)", "rows": len(table), "seconds": seconds,
            "rate": f"{len(table) / seconds:,.0f} rows/s", "peak_rss_mb": peak_rss_mb(), "shape": dict(ds.sizes)}


def phase_long(rows: int) -> dict:
    import lsmkit

    wide = wide_table(rows // WIDE_COLUMNS)
    table = wide.melt(id_vars=["timestamp", "participant"], var_name="channel", value_name="value")
    del wide
    t0 = time.perf_counter()
    ds = lsmkit.read_table(table, tz="Europe/Berlin")
    seconds = time.perf_counter() - t0
    return {"phase": "read_table(DataFrame, long)", "rows": len(table), "seconds": seconds,
            "rate": f"{len(table) / seconds:,.0f} rows/s", "peak_rss_mb": peak_rss_mb(), "shape": dict(ds.sizes)}


def phase_csv(rows: int, workdir: str) -> dict:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    import lsmkit

    path = Path(workdir) / "export.csv"
    table = wide_table(rows)
    table["timestamp"] = table["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    pacsv.write_csv(pa.Table.from_pandas(table, preserve_index=False), path)
    del table
    megabytes = path.stat().st_size / 1e6
    t0 = time.perf_counter()
    ds = lsmkit.read_table(path, tz="Europe/Berlin")
    seconds = time.perf_counter() - t0
    path.unlink()
    return {"phase": f"read_table(CSV, wide, {megabytes:.0f} MB)", "rows": rows, "seconds": seconds,
            "rate": f"{rows / seconds:,.0f} rows/s", "peak_rss_mb": peak_rss_mb(), "shape": dict(ds.sizes)}


# ---- phase 2: a store larger than memory --------------------------------------------------------


def synthetic_year(rng: np.random.Generator, n_channels: int) -> np.ndarray:
    """One participant-year of plausible-looking minutes, float32 (T, C), with gaps."""
    import lsmkit

    t = np.arange(MINUTES_PER_YEAR, dtype=np.float32)
    means = np.array([c.mean for c in lsmkit.CHANNELS], dtype=np.float32)[:n_channels]
    stds = np.array([c.std for c in lsmkit.CHANNELS], dtype=np.float32)[:n_channels]
    values = rng.standard_normal((MINUTES_PER_YEAR, n_channels), dtype=np.float32)
    values *= 0.3 * stds
    values += means
    values[:, 0] += 10 * np.sin(2 * np.pi * t / 1440)  # heart rate follows the day
    day = np.arange(MINUTES_PER_YEAR) // 1440
    off = (np.arange(MINUTES_PER_YEAR) % 1440 - rng.integers(0, 1320, 365)[day]).astype(np.int64)
    values[(off >= 0) & (off < 120)] = np.nan  # two hours off the wrist every day
    values[rng.random(365)[day] < 0.05] = np.nan  # and a forgotten watch on 5% of days
    return values


def phase_write(path: str, participants: int, seed: int = 0) -> dict:
    import warnings

    import dask.array as da
    import xarray as xr

    import lsmkit
    from lsmkit.io import RECORDING_CHUNKS

    n_channels = len(lsmkit.CHANNEL_NAMES)
    chunk = RECORDING_CHUNKS["time"]
    # Coordinates from a one-minute cohort; the full-size signal stays lazy and is never computed
    # (compute=False writes metadata only), then each participant's region is filled in turn.
    small = lsmkit.make_recordings(
        np.zeros((participants, 1, n_channels), np.float32),
        participant=[f"p{i:04d}" for i in range(participants)],
        start=np.full(participants, np.datetime64("2024-01-01T00:00")),
        timezone="Europe/Berlin",
    )
    lazy = da.full((participants, MINUTES_PER_YEAR, n_channels), np.nan, dtype=np.float32,
                   chunks=(1, chunk, n_channels))
    template = xr.Dataset(
        {"signal": (small["signal"].dims, lazy)},
        coords={k: v for k, v in small.coords.items() if k != "time"},
    ).assign_coords(time=("time", np.arange(MINUTES_PER_YEAR, dtype=np.int32), small["time"].attrs))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        template.to_zarr(path, compute=False, mode="w-", encoding={"signal": {"chunks": (1, chunk, n_channels)}})
    rng = np.random.default_rng(seed)
    for p in range(participants):  # one participant-year (55 MB) in memory at a time
        block = xr.Dataset({"signal": (("participant", "time", "channel"), synthetic_year(rng, n_channels)[None])})
        block.to_zarr(path, region={"participant": slice(p, p + 1), "time": slice(None), "channel": slice(None)})
    seconds = time.perf_counter() - t0
    raw = participants * MINUTES_PER_YEAR * n_channels * 4
    disk = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    return {"phase": f"write zarr ({participants} participants x 1 year x {n_channels} ch)", "rows": None,
            "seconds": seconds, "rate": f"{raw / seconds / 1e6:,.0f} MB/s", "peak_rss_mb": peak_rss_mb(),
            "uncompressed_gb": raw / 1e9, "on_disk_gb": disk / 1e9}


def phase_stream(path: str, batch_size: int) -> dict:
    import lsmkit
    from lsmkit.io import iter_batches, open_dataset

    t0 = time.perf_counter()
    recordings = open_dataset(path)
    windows = lsmkit.to_windows(recordings, minutes=300)
    t_cut = time.perf_counter() - t0
    hr = windows["signal"].get_index("channel").get_loc("heart_rate")
    mean_hr = np.empty(windows.sizes["window"], dtype=np.float64)
    done = 0
    t1 = time.perf_counter()
    for batch in iter_batches(windows, batch_size=batch_size):
        values = batch["signal"].values[:, :, hr]  # (B, T)
        with np.errstate(invalid="ignore"):
            mean_hr[done : done + len(values)] = np.nanmean(values, axis=1)
        done += len(values)
    t_iter = time.perf_counter() - t1
    seconds = time.perf_counter() - t0
    return {"phase": f"open_dataset + to_windows(300) + iter_batches({batch_size})", "rows": None,
            "seconds": seconds, "rate": f"{done / seconds:,.0f} windows/s", "peak_rss_mb": peak_rss_mb(),
            "windows": done, "candidate_windows": recordings.sizes["participant"] * (recordings.sizes["time"] // 300),
            "to_windows_s": t_cut, "iterate_s": t_iter, "iterate_rate": done / t_iter,
            "mean_hr": float(np.nanmean(mean_hr))}


# ---- driver -----------------------------------------------------------------------------------


def in_process(fn, *args) -> dict:
    """Run one phase in a fresh process so that its peak memory is its own."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def table(results: list[dict]) -> str:
    lines = [f"| {'phase':<58} | {'seconds':>8} | {'throughput':>20} | {'peak RSS (MB)':>13} |",
             f"|{'-' * 60}|{'-' * 10}|{'-' * 22}|{'-' * 15}|"]
    for r in results:
        lines.append(f"| {r['phase']:<58} | {r['seconds']:>8.1f} | {r['rate']:>20} | {r['peak_rss_mb']:>13.0f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gigabytes", type=float, default=5.0, help="uncompressed size of the zarr store (GB, 1e9)")
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows of the wide table for read_table")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--workdir", default=None, help="where to put the temporary store (default: the system tmp)")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results",
                        help="where loaders.md and loaders.json go")
    args = parser.parse_args()
    started = time.perf_counter()

    import dask
    import pandas as pd
    import xarray as xr
    import zarr

    import lsmkit

    participants = math.ceil(args.gigabytes * 1e9 / (MINUTES_PER_YEAR * len(lsmkit.CHANNEL_NAMES) * 4))
    workdir = tempfile.mkdtemp(prefix="lsmkit-bench-", dir=args.workdir)
    results = []
    try:
        results.append(in_process(phase_frame, args.rows))
        results.append(in_process(phase_csv, args.rows, workdir))
        results.append(in_process(phase_long, args.rows))
        store = os.path.join(workdir, "recordings.zarr")
        results.append(in_process(phase_write, store, participants))
        results.append(in_process(phase_stream, store, args.batch_size))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    write, stream = results[3], results[4]
    header = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM",
        f"lsmkit {lsmkit.__version__}, numpy {np.__version__}, pandas {pd.__version__}, xarray {xr.__version__}, "
        f"dask {dask.__version__}, zarr {zarr.__version__}",
        f"store: {write['uncompressed_gb']:.2f} GB uncompressed float32, {write['on_disk_gb']:.2f} GB on disk; "
        f"{stream['windows']} of {stream['candidate_windows']} candidate windows kept (max_missing=0.5); "
        f"mean HR over windows {stream['mean_hr']:.1f} bpm",
        f"streaming: to_windows {stream['to_windows_s']:.1f} s (two passes over the store for the missingness "
        f"summary), iteration {stream['iterate_s']:.1f} s = {stream['iterate_rate']:,.0f} windows/s",
    ]
    verdict = "OK" if stream["peak_rss_mb"] < 1024 else "OVER"
    footer = f"peak RSS while streaming: {stream['peak_rss_mb']:.0f} MB (limit 1024 MB: {verdict})"
    report = "\n".join(header + ["", table(results), "", footer])
    print(report)
    headline = {f"{r['phase']} (rows/s)": round(r["rows"] / r["seconds"])
                for r in results if r["rows"]}
    headline |= {f"lazy windowing of a {write['uncompressed_gb']:.1f} GB store (windows/s)": round(stream["iterate_rate"]),
                 "peak memory while lazily windowing (MB)": round(stream["peak_rss_mb"])}
    _report.write(args.out_dir, "loaders", "```\n" + report + "\n```", headline,
                  seconds=time.perf_counter() - started, phases=results)
    if verdict != "OK":
        raise SystemExit(1)


if __name__ == "__main__":
    main()
