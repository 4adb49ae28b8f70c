"""Run every benchmark and gather what they measured into one folder: ``python -m benchmarks``.

    python -m benchmarks                              # everything, full size: about 4 hours on 2 cores
    python -m benchmarks --quick                      # everything, small sizes (about 5 min), into runs/bench-quick
    python -m benchmarks --only simulator,pretrained  # some of them
    python -m benchmarks --skip downstream            # all but some

Each benchmark is its own script (``benchmarks/<name>.py``; each one's docstring says what it
measures and how) and runs in its own process, one after another so that none times another's
load; its output goes to ``<out-dir>/logs/<name>.log``. A benchmark that fails is reported and the
others still run (the exit status says so). Then ``<out-dir>/machine.json`` records the machine and
versions, and ``<out-dir>/README.md`` gathers every benchmark's headline numbers from its
``<name>.json``; a benchmark left out of this invocation keeps its earlier results, marked as such.
Full size needs PyPOTS for the SAITS comparisons (``pip install -e ".[peers]"``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import _report  # noqa: E402  (the sibling module, importable once HERE is on the path)


@dataclass(frozen=True)
class Benchmark:
    name: str
    about: str
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()


BENCHMARKS = (
    Benchmark("simulator", "simulator windows/s on one core", (), ("--participants", "16", "--days", "3")),
    Benchmark("loaders", "read_table rows/s; lazily windowing a store larger than memory: windows/s, peak memory",
              (), ("--gigabytes", "0.5", "--rows", "200000")),
    Benchmark("readers", "device readers, featurisers: records/s, peak memory; pretraining from a 5 GB store",
              (), ("--apple-gigabytes", "0.02", "--store-gigabytes", "0.2", "--days", "1", "--session-hours", "1",
                   "--train-steps", "10")),
    Benchmark("pretrained", "impute latency p50/p95 (batch 1) and throughput, next to PyPOTS SAITS",
              (), ("--repeats", "50", "--batch-size", "64")),
    Benchmark("training", "training samples/s and the fraction of the measured float32 matmul rate",
              (), ("--steps", "4")),
    Benchmark("widgets", "MaskExplorer and ForecastExplorer: control change to new figure, p50/p95",
              (), ("--changes", "30")),
    Benchmark("scaling", "scaling-law exponents with intervals; held-out prediction of the largest model",
              (), ("--run-quick", "--n-boot", "20", "--tasks", "random")),
    Benchmark("encoder_quality", "MSE of the model vs classical fills on its own training tasks, held-out people"),
    Benchmark("generative", "MSE of the model vs baselines and SAITS on the four generative tasks",
              (), ("--budget-minutes", "1", "--eval-windows", "32", "--cache", "runs/bench-quick-saits")),
    Benchmark("device_profiles", "issue 18: the model vs baselines on every device profile, calibration shifts, real workouts",
              (), ("--windows", "16", "--profiles", "full,smartwatch,heart_rate_only", "--methods",
                   "linear interpolation,window mean", "--calibration-windows", "8", "--gap-draws", "3", "--n-boot", "20")),
    Benchmark("adapt", "issue 19: adapting the shipped weights on a new user's first days, scored on their other days",
              (), ("--participants", "2", "--steps", "10", "--minutes", "1", "--n-boot", "10")),
    Benchmark("mask_draws", "issue 4's interpolation and extrapolation reductions over several mask draws",
              (), ("--seeds", "0,1", "--eval-windows", "32")),
    Benchmark("patch_layout", "validation MSE and linear-probe F1 of the 2M preset trained with other token shapes",
              (), ("--layouts", "10x5:4,2x26:4", "--probe-participants", "0", "--runs", "runs/bench-quick-patch")),
    Benchmark("pretraining_probe", "linear-probe F1 of the shipped recipe after 0, 250, 1000 and 5000 pretraining steps",
              (), ("--steps", "0,4", "--participants", "24", "--draws", "2", "--shots", "5", "--runs",
                   "runs/bench-quick-pp")),
    Benchmark("downstream", "few-shot macro F1: linear probe vs from-scratch networks",
              (), ("--participants", "24", "--draws", "2", "--shots", "5,10", "--no-networks", "--tasks",
                   "activity,exercise")),
)
NAMES = tuple(b.name for b in BENCHMARKS)


def _names(text: str | None) -> list[str]:
    names = [n for n in (text or "").split(",") if n]
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    return names


def run(benchmark: Benchmark, quick: bool, out_dir: Path) -> dict:
    """Run one benchmark script in its own process; its output goes to ``logs/<name>.log``."""
    args = benchmark.quick if quick else benchmark.full
    where = out_dir.relative_to(ROOT) if out_dir.is_relative_to(ROOT) else out_dir
    command = [sys.executable, f"benchmarks/{benchmark.name}.py", *args, "--out-dir", str(where)]
    log = out_dir / "logs" / f"{benchmark.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log, "w") as f:
        f.write("$ " + " ".join(command) + "\n")
        f.flush()
        done = subprocess.run(command, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                              env=dict(os.environ, TQDM_DISABLE="1"))
    return {"status": "ok" if done.returncode == 0 else f"failed (exit {done.returncode})",
            "seconds": time.perf_counter() - started, "log": str(log.relative_to(out_dir))}


def _headline(out_dir: Path, name: str) -> tuple[dict | None, str | None]:
    path = out_dir / f"{name}.json"
    if not path.exists():
        return None, None
    written = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return json.loads(path.read_text()).get("headline"), written


def _cell(value) -> str:
    return str(value).replace("|", "\\|")  # a bare pipe would split the Markdown cell


def _notes(out_dir: Path, name: str) -> list[str]:
    """The quoted notes (``> ...`` lines) at the top of ``<name>.md``, e.g. which weights it measured."""
    path = out_dir / f"{name}.md"
    if not path.exists():
        return []
    notes = []
    for line in path.read_text().splitlines()[1:]:
        if line.startswith("|") or line.startswith("## "):
            break
        if line.startswith("> "):
            notes.append(line)
    return notes


def summary(out_dir: Path, outcomes: dict, quick: bool, machine: dict) -> str:
    """The README of the results folder: machine, what ran, and every headline number."""
    v = machine["versions"]
    lines = [
        "# lsmkit benchmarks", "",
        f"Written by `python -m benchmarks{' --quick' if quick else ''}` on "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, commit {machine['commit']}.", "",
        f"- machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, {machine['platform']}",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val), "",
        "Each benchmark's own file (`<name>.md`) has its full table and how it was measured; `machine.json` "
        "the machine in full. One-off studies, which this command does not rerun, are in `studies/` "
        "([studies/README.md](studies/README.md)).", "",
        "| benchmark | what it measures | this invocation | minutes |", "|---|---|---|---|",
    ]
    for b in BENCHMARKS:
        outcome = outcomes.get(b.name)
        status = outcome["status"] if outcome else "not run (earlier results kept)"
        minutes = f"{outcome['seconds'] / 60:.1f}" if outcome else ""
        lines.append(f"| [{b.name}]({b.name}.md) | {b.about} | {status} | {minutes} |")
    lines += ["", "## Headline numbers", ""]
    for b in BENCHMARKS:
        headline, written = _headline(out_dir, b.name)
        if headline is None:
            lines += [f"### {b.name}", "", f"no `{b.name}.json` yet: see `{b.name}.md` if present", ""]
            continue
        fresh = b.name in outcomes and outcomes[b.name]["status"] == "ok"
        notes = _notes(out_dir, b.name)
        lines += [f"### {b.name}" + ("" if fresh else f" (an earlier run, written {written})"), "",
                  *notes, *([""] if notes else []), "| | |", "|---|---|", *[f"| {_cell(k)} | {_cell(val)} |" for k, val in headline.items()], ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the pipeline, numbers are rough")
    parser.add_argument("--only", default=None, help=f"comma-separated, from: {', '.join(NAMES)}")
    parser.add_argument("--skip", default=None, help="comma-separated benchmarks to leave out")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="default: benchmarks/results (full size) or runs/bench-quick (--quick)")
    args = parser.parse_args(argv)
    only, skip = _names(args.only), _names(args.skip)
    out_dir = (args.out_dir or (ROOT / "runs" / "bench-quick" if args.quick else HERE / "results")).resolve()
    chosen = [b for b in BENCHMARKS if (not only or b.name in only) and b.name not in skip]

    outcomes = {}
    for i, benchmark in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {benchmark.name}: {benchmark.about} ...", flush=True)
        outcomes[benchmark.name] = run(benchmark, args.quick, out_dir)
        print(f"      {outcomes[benchmark.name]['status']} in {outcomes[benchmark.name]['seconds'] / 60:.1f} min "
              f"(log: {out_dir / outcomes[benchmark.name]['log']})", flush=True)
    machine = _report.machine()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "machine.json").write_text(json.dumps(machine, indent=2) + "\n")
    (out_dir / "README.md").write_text(summary(out_dir, outcomes, args.quick, machine))
    print(f"results: {out_dir / 'README.md'}")
    failed = [name for name, o in outcomes.items() if o["status"] != "ok"]
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (see their logs)")


if __name__ == "__main__":
    main()
