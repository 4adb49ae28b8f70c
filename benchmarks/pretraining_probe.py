"""Does more masked-autoencoder pretraining make the linear probe better? Probe F1 against training steps.

    python benchmarks/pretraining_probe.py                  # about 25 min on a 2-core CPU (two short runs)
    python benchmarks/pretraining_probe.py --steps 0,20 --participants 24 --draws 2 --runs /tmp/pp
    python benchmarks/pretraining_probe.py --steps 250 --mask-mix sensors=1 --out-dir runs/pp-sensors
    python benchmarks/pretraining_probe.py --steps 0,250,1000 --preset 7M --out-dir runs/pp-7M

Issue 6's target asks the linear probe on the shipped encoder to beat networks trained from
scratch, and ``benchmarks/results/downstream.md`` finds it beats both only on exercise detection at
10 shots: on activity it beats the 1-D CNN but ties the encoder trained from scratch, and the same
probe on an encoder that was never trained, up to 10 labels per class. This benchmark asks whether
pretraining helps the probe at all at this scale, and after how much of it. It trains the shipped
recipe (the ``lsm-2m`` card's training config) for fewer steps (``--steps``; 0 is the
initialisation every run starts from, which is what the runs' seed draws), adds the shipped weights,
and gives each the same linear probe (:class:`lsmkit.probe.LinearProbe`) on the downstream
benchmark's evaluation windows (same cohort, seed and draws, so the same participant splits and
labelled windows as ``downstream.md``, whose ``few_shot`` draws do not depend on the other shots
asked for). The window-statistics control (:class:`lsmkit.probe.WindowStatistics`)
is the reference line. Validation MSE comes from each run's history (the untrained model: none).
Short runs go to ``--runs`` and are resumed. ``--mask-mix`` trains the short runs on another mix of
masking tasks (which task teaches what a probe can use); the shipped row keeps its own. Writes
``pretraining_probe.md`` and ``.json``. ``--train-seed`` repeats the short runs with another
seed (initialisation, simulated training data, masks and validation set), to see how much of a
difference is one run's luck, and ``--preset`` trains them at another model size (the issue's third
suspect).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import pandas as pd
import torch

import _report  # the sibling module: machine info, versions, result files
import lsmkit
from lsmkit import downstream, probe
from lsmkit.model import LSM, PRESETS
from lsmkit.pretrained import PretrainedLSM
from lsmkit.train import TASKS, TrainConfig, train

PROBE_TASKS = ("activity", "exercise")
MSE = "val MSE (mean of tasks)"


def recipe(card: dict, steps: int, mask_mix: dict | None = None, seed: int | None = None,
           preset: str | None = None) -> TrainConfig:
    """The card's training config, shortened to ``steps`` (validated twice along the way), on
    ``mask_mix`` instead of the card's mix, with training seed ``seed`` and model preset ``preset``
    when given."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    config = {k: v for k, v in card["training"]["config"].items() if k in fields}
    for key in ("betas", "block_minutes", "sensor_counts", "patch"):  # JSON lists back to tuples
        if config.get(key) is not None:
            config[key] = tuple(config[key])
    config |= {"steps": steps, "val_every": max(steps // 2, 1)}
    if mask_mix is not None:
        config["mask_mix"] = mask_mix
    if seed is not None:
        config["seed"] = seed
    if preset is not None:
        config["preset"] = preset
    return TrainConfig(**config)


def parse_mix(text: str) -> dict:
    """``"random=0.5,sensors=0.5"`` as a mask mix; TrainConfig checks the task names and weights."""
    mix, usage = {}, f"--mask-mix takes task=weight pairs, e.g. sensors=1; got {text!r}"
    for part in text.split(","):
        task, sep, weight = part.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(usage)
        try:
            mix[task.strip()] = float(weight)
        except ValueError:
            raise argparse.ArgumentTypeError(usage) from None
    return mix


def mix_text(mix: dict) -> str:
    """``{"random": 0.2, "sensors": 0.8}`` as ``"random 0.2, sensors 0.8"``."""
    return ", ".join(f"{task} {weight:g}" for task, weight in mix.items())


def initial(config: TrainConfig, card: dict) -> PretrainedLSM:
    """The weights every run with this config starts from (``train`` seeds torch, then builds the model)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return PretrainedLSM(LSM(config.model_config()).eval(), card)


def probe_f1(method, windows, shots, draws: int, seed: int) -> dict:
    """Mean macro F1 [95% interval over draws] of one method, per task and shots."""
    cells = {}
    for task in PROBE_TASKS:
        table = probe.few_shot({"m": method}, downstream.task_windows(windows, task), shots=shots, draws=draws,
                               rng=seed, progress=False)
        summary = probe.summarise(table)
        for row in summary[summary["metric"] == "macro_f1"].itertuples():
            cells[f"{task} @{row.shots}"] = (row.mean, row.low, row.high)
    return cells


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="0,250,1000", help="short runs of the shipped recipe (0: untrained)")
    parser.add_argument("--mask-mix", type=parse_mix, default=None,
                        help="train the short runs on this mix of masking tasks, e.g. 'sensors=1' "
                             "(default: the recipe's)")
    parser.add_argument("--train-seed", type=int, default=None,
                        help="training seed of the short runs: initialisation, simulated data, masks and "
                             "validation set (default: the recipe's)")
    parser.add_argument("--preset", default=None, choices=list(PRESETS),
                        help="model preset of the short runs, e.g. 7M (default: the recipe's)")
    parser.add_argument("--name", default="lsm-2m", help="the shipped weights to add, and whose recipe to shorten")
    parser.add_argument("--participants", type=int, default=128)
    parser.add_argument("--shots", default="5,10,20")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=Path, default=Path("runs/pretraining_probe"), help="run folders (resumed)")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.perf_counter()
    shots = tuple(int(k) for k in args.shots.split(","))

    shipped = lsmkit.load_pretrained(args.name)
    card = shipped.card
    cohort = downstream.evaluation_cohort(args.participants, 14, seed=args.seed)
    windows = downstream.session_windows(cohort, rng=args.seed)
    del cohort

    mix = "" if args.mask_mix is None else mix_text(args.mask_mix)
    tags = "" if args.train_seed is None else f", training seed {args.train_seed}"  # what the short runs change
    if args.preset is not None:
        tags += f", preset {args.preset}"
    suffix = "".join(f"-{task}{weight:g}" for task, weight in (args.mask_mix or {}).items())  # run folders
    if args.train_seed is not None:
        suffix += f"-seed{args.train_seed}"
    if args.preset is not None:
        suffix += f"-{args.preset}"
    models = []  # (label, steps, validation MSE per task or None, PretrainedLSM)
    for steps in (int(s) for s in args.steps.split(",")):
        config = recipe(card, max(steps, 1), args.mask_mix, args.train_seed, args.preset)
        if steps == 0:
            models.append(("untrained" + tags, 0, None, initial(config, card)))
            continue
        model, normaliser, history = train(config, args.runs / f"steps-{steps}{suffix}", progress=False)
        run_card = card | {"norm_mean": normaliser.mean.tolist(), "norm_std": normaliser.std.tolist()}
        label = f"{steps} steps" + (f", mix {mix}" if mix else "") + tags
        mse = {t: history[-1][f"val_{t}"] for t in TASKS}
        models.append((label, steps, mse, PretrainedLSM(model.eval(), run_card)))
    models.append((f"shipped {args.name}", card["training"]["steps"], card["validation_mse"], shipped))

    short_parameters = models[0][3].model.num_parameters()  # the first short run's; all share the preset
    rows = []
    for label, steps, mse, model in models:
        row = {"encoder": label, "steps": steps,
               MSE: sum(mse[t] for t in TASKS) / len(TASKS) if mse else float("nan")}
        linear = probe.LinearProbe(model)
        row |= probe_f1(linear, windows, shots, args.draws, args.seed)
        rows.append(row)
        print({k: v if not isinstance(v, tuple) else round(v[0], 3) for k, v in row.items()}, flush=True)
    reference = {"encoder": "window statistics (no network)", "steps": 0, MSE: float("nan")}
    rows.append(reference | probe_f1(probe.WindowStatistics(), windows, shots, args.draws, args.seed))

    cells = pd.DataFrame(rows).set_index("encoder")
    cells["steps"] = ["" if label.startswith("window") else f"{s:,}" for label, s in zip(cells.index, cells["steps"])]
    cells[MSE] = ["" if v != v else f"{v:.3f}" for v in cells[MSE]]  # NaN: no validation run
    for col in cells.columns[2:]:
        cells[col] = [f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in cells[col]]
    text = "\n".join([
        f"Linear-probe macro F1 (mean over {args.draws} draws [95% bootstrap interval]) on "
        f"{windows.sizes['window']} windows of {args.participants} evaluation participants (seed {args.seed}), "
        f"against pretraining steps of the `{args.name}` recipe; {card['parameters'] / 1e6:.2f}M parameters"
        + (f"; short runs on the mask mix {mix} (the recipe's: {mix_text(card['training']['config']['mask_mix'])})."
           if mix else ".")
        + (f" Short runs: the {args.preset} preset, {short_parameters / 1e6:.2f}M parameters." if args.preset else ""),
        "",
        f"- probe: `lsmkit.probe.LinearProbe` with its defaults (pool {linear.pool!r}, layers {linear.layers!r}, "
        f"centre {linear.centre})",
        f"- versions: {_report.version_line(('lsmkit', 'torch', 'numpy', 'scikit-learn'))}",
        "",
        _report.markdown(cells),
    ])
    k = shots[0]
    headline = {f"{row['encoder']}: {k}-shot F1, " + " / ".join(PROBE_TASKS):
                " / ".join(f"{row[f'{task} @{k}'][0]:.3f}" for task in PROBE_TASKS) for row in rows}
    _report.write(args.out_dir, "pretraining_probe", text, headline, seconds=time.perf_counter() - started)
    print(text)


if __name__ == "__main__":
    main()
