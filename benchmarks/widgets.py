"""Latency of MaskExplorer and ForecastExplorer: control change to updated figure data.

    python benchmarks/widgets.py [--changes 100] [--seed 0] [--threads 1] [--out-dir benchmarks/results]

Builds both widgets on ``lsmkit.load_sample()`` (223 windows of 300 minutes, 8 participants) with
the shipped model, then makes ``--changes`` scripted control changes on each, drawn at random
from all of its controls (MaskExplorer: window, mask type, size, hidden channels, baseline;
ForecastExplorer: window, horizon, shown channels). Each change is made through
``widget.set(...)``, which times from setting the control to the FigureWidget holding the new
data (model and baseline fills, error readout, figure). Rendering in the browser is not
included. Changes revisit earlier settings only by chance, so most of them run the model.
The target is a 95th percentile under 150 ms. Writes ``widgets.md`` and ``widgets.json`` to ``--out-dir``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
from pathlib import Path

import numpy as np

import _report  # the sibling module: machine info, versions, result files

TARGET_MS = 150


class Counting:
    """The model, counting how many updates had to run it (the rest came from the cache)."""

    def __init__(self, model):
        self.model, self.calls = model, 0
        self.minutes, self.card = model.minutes, model.card

    def impute(self, windows, mask=None):
        self.calls += 1
        return self.model.impute(windows, mask)


def mask_change(explorer, rng) -> dict:
    """One random change of one MaskExplorer control (never a no-op)."""
    from lsmkit.widgets.mask_explorer import TASK_SIZES

    control = rng.choice(["window", "task", "size", "hide", "baseline"])
    if control == "window":
        return {"window": int(rng.choice(np.setdiff1d(np.arange(len(explorer.windows["window"])), [explorer.window.value])))}
    if control == "task":
        return {"task": str(rng.choice([t for t in TASK_SIZES if t != explorer.task.value]))}
    if control == "size":
        sizes = [v for _, v in explorer.size.options if v != explorer.size.value]
        return {"size": sizes[rng.integers(len(sizes))]}
    if control == "hide":
        channels = explorer.hide.options
        return {"hide": tuple(str(c) for c in rng.choice(channels, size=rng.integers(0, 3), replace=False))}
    return {"baseline": str(rng.choice([b for b in explorer.baselines if b != explorer.baseline.value]))}


def forecast_change(explorer, rng) -> dict:
    """One random change of one ForecastExplorer control (never a no-op)."""
    control = rng.choice(["window", "horizon", "channels"])
    if control == "window":
        return {"window": int(rng.choice(np.setdiff1d(np.arange(len(explorer.windows["window"])), [explorer.window.value])))}
    if control == "horizon":
        return {"horizon": int(rng.choice([h for h in range(10, 121, 10) if h != explorer.horizon.value]))}
    channels = explorer.channels.options
    return {"channels": tuple(str(c) for c in rng.choice(channels, size=rng.integers(1, 5), replace=False))}


class GarbageCollection:
    """Milliseconds spent in Python's garbage collector (a full collection can take 100s of ms)."""

    def __init__(self):
        self.ms, self._start = 0.0, 0.0
        gc.callbacks.append(self)

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._start) * 1e3


def run(widget, change, n: int, rng, collector: GarbageCollection) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Times (ms) of ``n`` random changes, the control each changed, and the GC time within each."""
    times, kinds, collecting = [], [], []
    for _ in range(n):
        values = change(widget, rng)
        before = collector.ms
        times.append(widget.set(**values) * 1e3)
        collecting.append(collector.ms - before)
        kinds.append(next(iter(values)))
    return np.array(times), kinds, np.array(collecting)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.perf_counter()

    import ipywidgets
    import plotly
    import torch

    import lsmkit
    from lsmkit.widgets import ForecastExplorer, MaskExplorer

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    windows = lsmkit.load_sample()
    model = Counting(lsmkit.load_pretrained())
    rng = np.random.default_rng(args.seed)
    rows, notes, collector, headline = [], [], GarbageCollection(), {}
    for name, widget, change in [("MaskExplorer", MaskExplorer(windows, model), mask_change),
                                 ("ForecastExplorer", ForecastExplorer(windows, model), forecast_change)]:
        calls = model.calls
        times, kinds, collecting = run(widget, change, args.changes, rng, collector)
        worst = int(np.argmax(times))
        notes.append(f"{name}: slowest change ({kinds[worst]}) {times[worst]:.0f} ms, of which {collecting[worst]:.0f} ms "
                     f"in Python's garbage collector")
        p50, p95 = np.percentile(times, [50, 95])
        by_kind = ", ".join(f"{k} {np.percentile(times[np.array(kinds) == k], 95):.0f}" for k in dict.fromkeys(kinds))
        headline |= {f"{name}: p50 (ms)": round(p50, 1), f"{name}: p95 (ms)": round(p95, 1)}
        rows.append(f"| {name:16s} | {len(times):7d} | {model.calls - calls:10d} | {p50:8.1f} | {p95:8.1f} | "
                    f"{times.max():8.1f} | {'yes' if p95 < TARGET_MS else 'NO':>9s} | {by_kind} |")
        print(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times.max():.1f} ms over {len(times)} changes "
              f"({model.calls - calls} ran the model); p95 by control: {by_kind}")
    load_after = os.getloadavg()

    header = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores; PyTorch on {args.threads} thread(s); "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (other work on the machine inflates these times)",
        f"python {platform.python_version()}, lsmkit {lsmkit.__version__}, numpy {np.__version__}, torch {torch.__version__}, "
        f"plotly {plotly.__version__}, ipywidgets {ipywidgets.__version__}",
        f"data: lsmkit.load_sample() ({windows.sizes['window']} windows x {windows.sizes['time']} min x "
        f"{windows.sizes['channel']} channels); model {model.card['name']}; {args.changes} random changes per widget, seed {args.seed}",
    ]
    table = ["| widget           | changes | model runs | p50 (ms) | p95 (ms) | max (ms) | p95 < 150 | p95 by control (ms) |",
             "|------------------|---------|------------|----------|----------|----------|-----------|---------------------|"]
    report = "\n".join(["```", *header, "", *table, *rows, "", *notes, "```"])
    _report.write(args.out_dir, "widgets", report, headline, seconds=time.perf_counter() - started)
    print(f"wrote {args.out_dir / 'widgets.md'}")

if __name__ == "__main__":
    main()
