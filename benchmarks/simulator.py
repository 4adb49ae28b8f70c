"""Simulator throughput: windows of 300 minutes x 26 channels per second on one CPU core.

    python benchmarks/simulator.py [--participants 64] [--days 7] [--repeats 5] [--out-dir benchmarks/results]

Measures ``lsmkit.simulate`` alone and followed by ``lsmkit.to_windows`` (what training on the fly
needs). Pins itself to one core where the OS allows it; after a warm-up call of each, times the
two in turns and reports the best (and median) of several repeats.
Writes ``simulator.md`` and ``simulator.json`` to ``--out-dir``.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

import _report  # the sibling module: machine info, versions, result files
import lsmkit
from lsmkit.physiology import _entropy_table


def interleaved(functions, repeats: int) -> list[tuple[float, float]]:
    """Best and median seconds of each function, after one warm-up call each, timed in turns
    (A, B, A, B, ...) so that a slow phase of the machine hits both alike."""
    for fn in functions:
        fn()
    times = [[] for _ in functions]
    for _ in range(repeats):
        for fn, spent in zip(functions, times):
            t0 = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - t0)
    return [(min(t), float(np.median(t))) for t in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=64)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.perf_counter()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    _entropy_table()  # one-off set-up (cached for the process), not part of steady-state throughput

    windows = args.participants * args.days * 1440 / 300
    seeds = iter(range(10**6))
    (sim_best, sim_median), (both_best, both_median) = interleaved([
        lambda: lsmkit.simulate(args.participants, args.days, seed=next(seeds)),
        lambda: lsmkit.to_windows(lsmkit.simulate(args.participants, args.days, seed=next(seeds)), 300, max_missing=1.0),
    ], args.repeats)
    lines = [
        f"machine: {_report.cpu_model()}, {os.cpu_count()} cores; one core used",
        f"lsmkit {lsmkit.__version__}, numpy {np.__version__}",
        f"cohort: {args.participants} participants x {args.days} days = {windows:.0f} windows of 300 min x 26 channels",
        f"simulate               : {windows / sim_best:8.0f} windows/s (best of {args.repeats}; median {windows / sim_median:.0f})",
        f"simulate + to_windows  : {windows / both_best:8.0f} windows/s (best of {args.repeats}; median {windows / both_median:.0f})",
    ]
    print("\n".join(lines))
    headline = {"simulate (windows/s, one core)": round(windows / sim_best),
                "simulate + to_windows (windows/s, one core)": round(windows / both_best)}
    _report.write(args.out_dir, "simulator", "```\n" + "\n".join(lines) + "\n```", headline,
                  seconds=time.perf_counter() - started)

if __name__ == "__main__":
    main()
