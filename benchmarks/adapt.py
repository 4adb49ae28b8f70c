"""Issue 19's adapt target: a few CPU-minutes of adapting on a new user's first days, scored on their other days.

    python benchmarks/adapt.py                                 # the committed table (about 15 min on 2 cores)
    python benchmarks/adapt.py --steps 20 --participants 2     # a quick look

New simulated participants (a seed no training chunk, validation or benchmark set uses) wear one
device: their recordings are restricted to ``--profile`` and read through one random calibration per
participant (:func:`lsmkit.data.shift_calibration`: heart rate +-10 bpm, skin temperature +-3 degC,
EDA x0.3 to x3). :func:`lsmkit.adapt` continues the weights ``--init`` on their first ``--adapt-days``
days (its own validation holds out the last of them) for at most ``--minutes`` of wall clock and
``--steps`` steps. Their remaining days, cut into 300-minute windows, score the weights before and
after adapting and the classical baselines with :func:`lsmkit.evaluate`: identical masks for every
method, all the paper's tasks and sizes (sensor imputation at the sizes the profile allows),
bootstrap intervals over windows.

The target (issue 19): the adapted model's MSE, averaged over sizes, at least 10% below the weights
before adapting on every task, and below linear interpolation on every task. Writes ``adapt.md``
and ``adapt.json`` to ``--out-dir``; also prints adapt samples/s (the issue's benchmark number).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import _report  # the sibling module: machine info, versions, result files
import lsmkit
from lsmkit import baselines
from lsmkit.data import shift_calibration, to_windows

METHODS = {"linear interpolation": baselines.Linear, "nearest": baselines.Nearest, "window mean": baselines.WindowMean}


def new_user(participants: int, days: int, profile: str, seed: int):
    """Recordings of new participants on one device, in that device's calibration."""
    cohort = lsmkit.simulate(participants, days, seed=np.random.SeedSequence([seed, 51]))
    shifted = shift_calibration(cohort, np.random.default_rng([seed, 52]))
    return lsmkit.restrict(shifted.drop_vars(["calibration_scale", "calibration_offset"]), profile)


def summary(table: pd.DataFrame, before: str, after: str) -> pd.DataFrame:
    """Per task: MSE averaged over sizes of the weights before and after adapting and of linear
    interpolation, the reduction, and whether both targets hold."""
    mean = table.groupby(["task", "method"])["mse"].mean().unstack()
    out = pd.DataFrame({"before": mean[before], "adapted": mean[after], "linear": mean["linear interpolation"]})
    out["reduction %"] = 100 * (1 - out["adapted"] / out["before"])
    out["target met"] = (out["reduction %"] >= 10) & (out["adapted"] < out["linear"])
    return out.reset_index()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init", default="lsm-2m", help="weights to adapt (shipped name or card path)")
    parser.add_argument("--profile", default="smartwatch")
    parser.add_argument("--participants", type=int, default=4)
    parser.add_argument("--adapt-days", type=int, default=3)
    parser.add_argument("--eval-days", type=int, default=4)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--minutes", type=float, default=10.0, help="wall-clock limit of adapting")
    parser.add_argument("--recipe", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="TrainConfig fields overriding lsmkit.ADAPT_RECIPE, e.g. lr=4e-4 calibration=0")
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default="benchmarks/results")
    args = parser.parse_args()
    torch.set_num_threads(2)
    t_start = time.perf_counter()
    recordings = new_user(args.participants, args.adapt_days + args.eval_days, args.profile, args.seed)
    cut = args.adapt_days * 1440
    first, rest = recordings.isel(time=slice(0, cut)), recordings.isel(time=slice(cut, None))
    rest = rest.assign_coords(time=rest["time"] - cut, start=("participant", rest["start"].values +
                                                              np.timedelta64(cut, "m"), rest["start"].attrs))
    windows = to_windows(rest, 300, stride=300)

    with tempfile.TemporaryDirectory() as run:
        # A short run measures the step rate: ten steps to set it up (stores, first validation),
        # then twenty more after resuming. The run then gets as many steps as fit the wall-clock
        # limit, with its whole learning-rate schedule.
        recipe = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.recipe)}
        for until in (10, 30):
            probe = time.perf_counter()
            lsmkit.adapt(args.init, first, Path(run) / "probe", steps=args.steps, seed=args.seed, until=until,
                         progress=False, **recipe)
        per_step = (time.perf_counter() - probe) / 20
        steps = int(min(args.steps, max(10, args.minutes * 60 * 0.9 / per_step)))
        t0 = time.perf_counter()
        card = lsmkit.adapt(args.init, first, Path(run) / "adapt", steps=steps, seed=args.seed, progress=True,
                            **recipe)
        adapt_seconds = time.perf_counter() - t0
        adapted = lsmkit.load_pretrained(str(card))
        batch = adapted.card["training"]["config"]["batch_size"]
        methods = {"before": lsmkit.load_pretrained(args.init), "adapted": adapted,
                   **{name: cls() for name, cls in METHODS.items()}}
        table = lsmkit.evaluate(methods, windows, rng=args.seed, n_boot=args.n_boot, progress=True,
                                profiles=[args.profile])
    result = summary(table, "before", "adapted")
    used = adapted.card["training"]["config"]
    samples_per_s = steps * batch / adapt_seconds
    steps_note = f"{steps} steps" + (f" (what fits {args.minutes:g} minutes)" if steps < args.steps else "")
    text = "\n".join([
        f"- machine: {_report.cpu_model()}, 2 torch threads; versions: {_report.version_line()}",
        f"- users: {args.participants} new simulated participants, profile `{args.profile}` "
        f"({', '.join(lsmkit.profile_channels(args.profile))}), one calibration shift each",
        f"- adapting `{args.init}` on their first {args.adapt_days} days: {steps_note}, batch {batch}, "
        f"peak lr {used['lr']:g}, calibration {used['calibration']:g}, channel dropout {used['channel_dropout']:g}"
        f"{' (set: ' + ' '.join(args.recipe) + ')' if args.recipe else ''}, "
        f"{adapt_seconds / 60:.1f} min, {samples_per_s:.1f} samples/s",
        f"- scored on their other {args.eval_days} days: {windows.sizes['window']} windows of 300 minutes, "
        f"identical masks for every method, bootstrap over windows ({args.n_boot} resamples)",
        "", "## MSE averaged over sizes (z-scored hidden, observed values; lower is better)", "",
        _report.markdown(result), "", "## Every task and size", "",
        _report.markdown(table.drop(columns=["mae", "n"], errors="ignore")),
    ])
    print(text)
    headline = {f"{row.task} reduction %": round(float(row["reduction %"]), 1) for _, row in result.iterrows()}
    headline.update({"adapt samples/s": round(samples_per_s, 1), "all targets met": bool(result["target met"].all())})
    _report.write(Path(args.out_dir), "adapt", text, headline, time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
