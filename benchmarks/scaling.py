"""Scaling laws fitted to a sweep: exponents with run-bootstrap intervals, and held-out prediction.

    python benchmarks/scaling.py                              # fit the committed CPU sweep (sample cpu_sweep)
    python benchmarks/scaling.py --sweep runs/sweep-cpu       # fit a sweep of your own (its folder or table)
    python benchmarks/scaling.py --run-quick                  # run a small sweep first (minutes), then fit it

For every task of the table: the compute law ``L = a C^b + c`` on the compute frontier, the data and
parameter laws ``L = a x^b`` on each run's final evaluation (:func:`lsmkit.scaling_plots.scaling_points`),
and the joint law ``L(N, D) = E + A/N^alpha + B/D^beta`` on every evaluation, with 95% intervals from
bootstrapping runs. Held out: the joint law fitted without the largest model predicts that model's
evaluations; the mean absolute error in percent says how far the law extrapolates.
The committed sweep took hours on this 2-core machine (see data_samples/README.md for its command),
so the default refits it; ``--run-quick`` measures a sweep end to end at a size that fits a coffee
break. Writes ``scaling.md``, ``scaling.csv`` (every fitted parameter) and ``scaling.json``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import _report  # the sibling module: machine info, versions, result files
import lsmkit
from lsmkit import scaling, sweep
from lsmkit.masks import patch_grid
from lsmkit.scaling_plots import scaling_points

QUICK = sweep.SweepConfig(presets=("micro", "tiny", "mini"), windows=(32, 128), steps=(60,), batch_size=16, evals=4,
                          val_participants=2, val_windows=64)
TOKENS = int(np.prod(patch_grid(300, len(lsmkit.CHANNEL_NAMES))))  # tokens per 300-minute window, as in notebook 04


def fits(results: pd.DataFrame, task: str, n_boot: int, seed: int) -> tuple[pd.DataFrame, float]:
    """Every law's parameters for one task (tidy), and the held-out error of the joint law in percent."""
    rows = []
    frontier = scaling_points(results, task, "compute")
    laws = {"compute": scaling.fit_power_law(frontier["x"], frontier["loss"], floor=True, groups=frontier["run"],
                                             n_boot=n_boot, rng=seed)}
    for axis in ("data", "parameters"):
        points = scaling_points(results, task, axis)
        laws[axis] = scaling.fit_power_law(points["x"], points["loss"], floor=False, groups=points["run"],
                                           n_boot=n_boot, rng=seed)
    evaluations = results.assign(tokens=results["samples"] * TOKENS, loss=results[f"loss_{task}"])
    laws["joint"] = scaling.fit_chinchilla(evaluations["parameters"], evaluations["tokens"], evaluations["loss"],
                                           groups=evaluations["run"], n_boot=n_boot, rng=seed)
    for law, fit in laws.items():
        for _, p in fit.to_frame().iterrows():
            rows.append({"task": task, "law": law, "parameter": p["parameter"], "estimate": p["estimate"],
                         "low": p["lower"], "high": p["upper"]})
    largest = evaluations["parameters"] == evaluations["parameters"].max()
    kept, held = evaluations[~largest], evaluations[largest]
    if kept["parameters"].nunique() < 3:  # the joint law needs three model sizes besides the held-out one
        return pd.DataFrame(rows), float("nan")
    held_out = scaling.fit_chinchilla(kept["parameters"], kept["tokens"], kept["loss"], n_boot=0)  # a point estimate
    predicted = held_out.predict(held["parameters"], held["tokens"])["estimate"].to_numpy()
    return pd.DataFrame(rows), float(np.mean(np.abs(predicted / held["loss"].to_numpy() - 1)) * 100)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--sweep", type=Path, default=None, help="a sweep folder or results table (default: cpu_sweep)")
    source.add_argument("--run-quick", nargs="?", const="", default=None, metavar="DIR",
                        help="run a small sweep (3 presets x 2 sizes), then fit it; into a fresh temporary folder, "
                             "or into DIR (resumed if there: then its time is not reported)")
    parser.add_argument("--tasks", default=None, help="comma-separated tasks (default: every loss column)")
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.perf_counter()

    if args.run_quick is not None:
        with tempfile.TemporaryDirectory(prefix="lsmkit-quick-sweep-") as scratch:
            folder = Path(args.run_quick or scratch)
            resumed = (folder / "results.csv").exists()
            sweep.run_sweep(QUICK, folder, progress=False)
            results = sweep.read_results(folder)
        origin = f"a sweep {'resumed' if resumed else 'run now'} ({QUICK})"
        sweep_seconds = None if resumed else time.perf_counter() - started
    elif args.sweep is not None:
        results, origin, sweep_seconds = sweep.read_results(args.sweep), f"the sweep in {args.sweep}", None
    else:
        results, origin, sweep_seconds = lsmkit.load_sample("cpu_sweep"), "the committed sample cpu_sweep", None
    tasks = args.tasks.split(",") if args.tasks else [c.removeprefix("loss_") for c in results.columns
                                                        if c.startswith("loss_")]

    tables, held_out = [], {}
    for task in tasks:
        table, held_out[task] = fits(results, task, args.n_boot, args.seed)
        tables.append(table)
    params = pd.concat(tables, ignore_index=True)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    params.to_csv(args.out_dir / "scaling.csv", index=False, float_format="%.5g")

    def cell(task, law, name):
        p = params[(params["task"] == task) & (params["law"] == law) & (params["parameter"] == name)].iloc[0]
        return f"{p['estimate']:.3f} [{p['low']:.3f}, {p['high']:.3f}]"

    summary = pd.DataFrame([{
        "task": task,
        "compute exponent b": cell(task, "compute", "b"),
        "data exponent b": cell(task, "data", "b"),
        "parameter exponent b": cell(task, "parameters", "b"),
        "joint alpha (N)": cell(task, "joint", "alpha"),
        "joint beta (D)": cell(task, "joint", "beta"),
        "largest model held out: mean abs. error %": f"{held_out[task]:.1f}",
    } for task in tasks]).set_index("task")
    lines = [
        f"- data: {origin}: {results['run'].nunique()} runs, {len(results)} evaluations, "
        f"{results['parameters'].min():.3g} to {results['parameters'].max():.3g} parameters, "
        f"{results['flops'].min():.2g} to {results['flops'].max():.2g} FLOPs",
        f"- fits: {args.n_boot} bootstrap draws over runs, seed {args.seed}; 95% intervals in brackets",
        *([f"- the sweep took {sweep_seconds / 60:.1f} min"] if sweep_seconds else []),
        "",
        _report.markdown(summary),
    ]
    text = "\n".join(lines)
    print(text)
    headline = {f"{task}: compute exponent b": round(float(params.query(
        "task == @task and law == 'compute' and parameter == 'b'")["estimate"].iloc[0]), 3) for task in tasks}
    headline |= {f"{task}: held-out largest model, mean abs. error %": round(held_out[task], 1) for task in tasks
                 if np.isfinite(held_out[task])}  # needs four model sizes
    if sweep_seconds:
        headline["quick sweep (min)"] = round(sweep_seconds / 60, 1)
    _report.write(args.out_dir, "scaling", text, headline, seconds=time.perf_counter() - started)


if __name__ == "__main__":
    main()
