"""Few-shot downstream learning: the shipped encoder's probes vs networks trained from scratch.

    python benchmarks/downstream.py                          # about an hour on a 2-core CPU
    python benchmarks/downstream.py --participants 32 --draws 2 --shots 5,10 --out-dir /tmp/quick

Data: :func:`lsmkit.downstream.evaluation_cohort` (simulated participants no pretraining run saw),
cut by :func:`lsmkit.downstream.session_windows` into 300-minute windows around exercise sessions
plus as many windows without exercise. Tasks: 8-class activity recognition (exercise windows;
walking is about half), exercise detection (binary) and binned age (4 classes).

For every task, method and ``k`` in ``--shots``, each of ``--draws`` draws splits participants
anew (30% held out) and trains on at most ``k`` windows per class (``all``: every training
window); :func:`lsmkit.probe.summarise` gives the mean over draws and a 95% bootstrap interval.
Draw ``d`` at ``k`` holds the same windows for every method, the networks' shorter ``shots`` list
included, so methods are compared pair by pair. Fine-tuning and the scratch encoder train alike
and differ only in their starting weights.
Three controls explain the linear probe's numbers: the same probe with the paper's pooling (mean of
the last layer), on an encoder that was never trained, and on each channel's mean, max and SD over
the window (:class:`lsmkit.probe.WindowStatistics`, no network at all). Fine-tuning and the
from-scratch encoder cost about 30 s per fit on two idle cores, so they run on activity and
exercise at ``--network-shots`` only. Finished (task, method) pairs are appended to
``downstream_draws.csv`` at once, and a rerun skips them, so an interrupted run resumes.
Writes ``downstream_draws.csv`` (one row per fit), ``downstream.csv`` (the summary) and
``downstream.md`` (tables and issue 6's target: at 5 and 10 shots the linear probe's macro-F1
interval lies above both from-scratch baselines', and its mean is above theirs at every k <= 20).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import _report  # the sibling module: machine info, versions, result files
import lsmkit
from lsmkit import downstream, probe
from lsmkit.model import LSM
from lsmkit.pretrained import PretrainedLSM

VERSIONS = ("lsmkit", "torch", "numpy", "scikit-learn")
NETWORKS = ("fine-tune", "scratch encoder")  # the expensive ones
BASELINES = ("scratch encoder", "1-D CNN")  # issue 6's from-scratch baselines


def untrained(model: PretrainedLSM, seed: int) -> PretrainedLSM:
    """The same architecture and statistics with freshly initialised weights."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        return PretrainedLSM(LSM(model.model.config).eval(), model.card)


def parse_shots(text: str) -> tuple:
    return tuple(None if s == "all" else int(s) for s in text.split(","))


def parse_skip(text: str, methods) -> set[tuple[str, str]]:
    """``--skip``'s comma-separated ``task:method`` pairs. Method names hold commas themselves
    (``activity:linear probe, paper pooling``), so a new pair starts only where a task name and a
    colon follow the comma. Unknown tasks or methods are refused by name."""
    tasks = "|".join(map(re.escape, downstream.TASKS))
    pairs = set()
    for pair in re.split(rf",\s*(?=(?:{tasks}):)", text.strip()) if text.strip() else []:
        task, _, method = (part.strip() for part in pair.partition(":"))
        if task not in downstream.TASKS or method not in methods:
            raise ValueError(f"--skip: {pair!r} is not a task:method pair; tasks are {', '.join(downstream.TASKS)} "
                             f"and methods are {'; '.join(methods)}")
        pairs.add((task, method))
    return pairs


def target(summary: pd.DataFrame, task: str) -> dict:
    """Issue 6's target on macro F1 for one task."""
    f1 = summary[(summary["task"] == task) & (summary["metric"] == "macro_f1")].set_index(["method", "shots"])
    row = {"task": task}
    for k in (5, 10):
        if ("linear probe", k) not in f1.index:
            continue
        ours = f1.loc[("linear probe", k)]
        others = [f1.loc[(b, k)] for b in BASELINES if (b, k) in f1.index]
        row[f"{k}-shot: linear above both, intervals apart"] = bool(others) and all(ours["low"] > o["high"] for o in others)
    if "linear probe" not in f1.index.get_level_values("method"):
        return row
    small = [k for k in f1.loc["linear probe"].index if 0 < k <= 20]
    row["linear mean above both at every k <= 20"] = all(
        f1.loc[("linear probe", k), "mean"] > f1.loc[(b, k), "mean"] for k in small for b in BASELINES if (b, k) in f1.index)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=128)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--tasks", default="activity,exercise,age")
    parser.add_argument("--shots", type=parse_shots, default=(1, 2, 5, 10, 20, 50, None))
    parser.add_argument("--network-shots", type=parse_shots, default=(1, 2, 5, 10, 20))
    parser.add_argument("--no-networks", action="store_true", help="leave out fine-tuning and the scratch encoder")
    parser.add_argument("--skip", default="", help="comma-separated task:method pairs to leave out, e.g. "
                        "'exercise:fine-tune,activity:linear probe, paper pooling'")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--out-dir", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    started = time.perf_counter()
    model = lsmkit.load_pretrained()
    methods = probe.default_methods(model)
    # Controls that say why the linear probe scores what it scores: the paper's pooling (mean of the
    # last layer), the pooling lsmkit used before centring (mean and max of every block), and the same
    # probe on an encoder that was never trained.
    paper = probe.LinearProbe(model, pool="mean", layers="last", centre=False)
    uncentred = probe.LinearProbe(model, pool="mean+max", layers="all", centre=False)
    methods |= {"linear probe, paper pooling": paper,
                "linear probe, uncentred mean+max": uncentred,
                "linear probe, untrained encoder": probe.LinearProbe(untrained(model, args.seed)),
                "linear probe, window statistics": probe.WindowStatistics()}
    try:
        skip = parse_skip(args.skip, methods)
    except ValueError as error:
        parser.error(str(error))

    cohort = downstream.evaluation_cohort(args.participants, args.days, seed=args.seed)
    windows = downstream.session_windows(cohort, rng=args.seed)
    del cohort

    args.out_dir.mkdir(parents=True, exist_ok=True)
    draws_path = args.out_dir / "downstream_draws.csv"
    done = pd.read_csv(draws_path, comment="#") if draws_path.exists() else pd.DataFrame(columns=["task", "method"])
    done_pairs = set(zip(done["task"], done["method"]))
    counts = {}
    for task in args.tasks.split(","):
        data = downstream.task_windows(windows, task)
        counts[task] = np.bincount(data["label"].values, minlength=len(downstream.TASKS[task])).tolist()
        for name, method in methods.items():
            network = name in NETWORKS
            if (task, name) in done_pairs | skip or (network and (args.no_networks or task == "age")):
                continue
            shots = args.network_shots if network else args.shots
            t0 = time.perf_counter()
            table = probe.few_shot({name: method}, data, shots=shots, draws=args.draws, rng=args.seed)
            table.insert(0, "task", task)
            table["seconds"] = (time.perf_counter() - t0) / len(table)
            new = not draws_path.exists()
            with open(draws_path, "a") as f:  # one append per finished pair: an interrupted run keeps them
                table.to_csv(f, header=new, index=False, float_format="%.5g")
            print(f"{task:9s} {name:16s} {time.perf_counter() - t0:7.0f} s", flush=True)

    draws = pd.read_csv(draws_path, comment="#")
    summary = pd.concat([probe.summarise(part).assign(task=task)
                         for task, part in draws.groupby("task", sort=False)], ignore_index=True)
    summary = summary[["task", "method", "shots", "metric", "mean", "low", "high", "draws"]]
    summary.to_csv(args.out_dir / "downstream.csv", index=False, float_format="%.4f")

    header = [
        "benchmarks/downstream.py: macro F1 on held-out participants, mean over draws [95% bootstrap interval]",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; torch threads {torch.get_num_threads()}",
        f"versions: {_report.version_line(VERSIONS)}",
        f"data: {args.participants} evaluation participants x {args.days} days (seed {args.seed}), "
        f"{windows.sizes['window']} session and no-exercise windows; windows per class: {counts}",
        f"model: {model.card['name']} ({model.card['parameters'] / 1e6:.2f}M parameters); "
        f"{args.draws} draws; shots = labelled training windows per class (all: every one)",
        f"fitting and scoring took {draws['seconds'].sum() / 60:.0f} min in all ({len(draws)} fits); "
        f"this invocation {time.perf_counter() - started:.0f} s (finished pairs are reused)",
    ]
    f1 = summary[summary["metric"] == "macro_f1"].copy()
    f1["cell"] = [f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in zip(f1["mean"], f1["low"], f1["high"])]
    sections = ["# Downstream few-shot learning", "", *[f"- {line}" for line in header], ""]
    for task, part in f1.groupby("task", sort=False):
        wide = part.pivot(index="shots", columns="method", values="cell")
        wide = wide.loc[sorted(wide.index, key=lambda k: np.inf if k < 0 else k)]
        wide.index = pd.Index(["all" if k < 0 else str(k) for k in wide.index], name="shots")
        wide = wide[[m for m in methods if m in wide.columns]].fillna("")
        sections += [f"## {task}", "", _report.markdown(wide), ""]
    targets = pd.DataFrame([target(summary, t) for t in ("activity", "exercise") if t in set(summary["task"])])
    if len(targets):
        sections += ["## Target (issue 6)", "", _report.markdown(targets.set_index("task")), ""]
    text = "\n".join(sections)
    (args.out_dir / "downstream.md").write_text(text)
    print(text)
    _report.write_json(args.out_dir, "downstream", headline(summary, targets), seconds=time.perf_counter() - started)


def headline(summary: pd.DataFrame, targets: pd.DataFrame) -> dict:
    """Macro F1 of the linear probe and the from-scratch baselines at 5 and 10 shots, and the target."""
    f1 = summary[summary["metric"] == "macro_f1"].set_index(["task", "method", "shots"])["mean"]
    numbers = {f"{task}, {k}-shot macro F1: {method}": round(float(f1[(task, method, k)]), 3)
               for task in ("activity", "exercise") for k in (5, 10) for method in ("linear probe", *BASELINES)
               if (task, method, k) in f1.index}
    for _, row in targets.iterrows():
        measured = all((row["task"], b, k) in f1.index for b in BASELINES for k in (5, 10))
        met = bool(all(v for k, v in row.items() if k != "task" and pd.notna(v)))
        numbers[f"{row['task']}: target met"] = met if measured else "not measured (needs both from-scratch baselines)"
    return numbers


if __name__ == "__main__":
    main()
