"""Which token shape should the shipped model use? The 2M preset trained with each patch layout.

    python benchmarks/patch_layout.py                 # about 45 min of training on 2 cores, then probes
    python benchmarks/patch_layout.py --layouts 10x5:4,2x26:4 --probe-participants 0 --runs /tmp/pl

The paper cuts the (minutes x channels) image into 10 x 5 patches. On our simulated data the
model lost sensor imputation to SAITS, whose tokens are single minutes of every channel, and the
linear probe lost to 78 per-channel summary numbers. This trains the 2M preset once per layout
(``MINUTESxCHANNELS:STEPS``; the steps are chosen so that each run takes about 10 minutes on the
2-core CPU: smaller tokens cost more per step) with the shipped model's recipe otherwise, then
reports each run's validation MSE on the four generative tasks (the held-out windows and masks of
``lsmkit.train``) and, unless ``--probe-participants 0``, the linear probe's few-shot macro F1 on
activity recognition and exercise detection (``lsmkit.downstream``'s evaluation cohort).

``--cards`` adds models trained for the full budget (default: the shipped ``lsm-2m``; also card
paths, e.g. a retraining with another patch), scored the same way from their cards and weights: a
layout that wins at 10 minutes need not win at 51.

Runs live in ``--runs`` and resume (or are reused when finished), so a rerun only re-scores.
Training minutes are summed from each run's history (samples over samples/s between validations).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import _report  # the sibling module: machine info, versions, result files
import lsmkit
from lsmkit import downstream, masks, probe
from lsmkit.pretrained import PretrainedLSM
from lsmkit.train import TASKS, TrainConfig, train

MIX = {"random": 0.2, "interpolation": 0.2, "extrapolation": 0.3, "sensors": 0.3}  # the shipped recipe's


def parse_layouts(text: str) -> list[tuple[tuple[int, int], int]]:
    """``"10x5:1000,2x26:1000"`` -> ``[((10, 5), 1000), ((2, 26), 1000)]``."""
    layouts = []
    for item in text.split(","):
        shape, steps = item.split(":")
        minutes, channels = shape.split("x")
        layouts.append(((int(minutes), int(channels)), int(steps)))
    return layouts


def config(patch: tuple[int, int], steps: int, batch_size: int) -> TrainConfig:
    return TrainConfig(preset="2M", patch=patch, steps=steps, batch_size=batch_size, lr=1e-3, mask_mix=MIX,
                       val_every=max(steps // 2, 1), checkpoint_every=100)


def tokens(patch, minutes: int) -> int:
    """Tokens per window: the (time x channel) grid of patches, channels padded as the model does."""
    return int(np.prod(masks.patch_grid(minutes, len(lsmkit.CHANNEL_NAMES), patch)))


def training_minutes(history: list[dict], batch_size: int) -> float:
    """Wall clock of the training steps, from the samples/s the history records between validations."""
    seconds, last = 0.0, 0
    for row in history:
        seconds += (row["step"] - last) * batch_size / row["samples_per_s"]
        last = row["step"]
    return seconds / 60


def probe_scores(model, windows, draws: int, seed: int) -> dict:
    """The linear probe's mean macro F1 at 5 and 10 shots, per downstream task."""
    scores = {}
    for task in ("activity", "exercise"):
        table = probe.few_shot({"linear probe": probe.LinearProbe(model)}, downstream.task_windows(windows, task),
                               shots=(5, 10), draws=draws, rng=seed, progress=False)
        summary = probe.summarise(table)
        for row in summary[summary["metric"] == "macro_f1"].itertuples():
            scores[f"{task} F1 @{row.shots}"] = row.mean
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layouts", default="10x5:1000,2x26:1000,5x26:2800",
                        help="MINUTESxCHANNELS:STEPS, comma-separated")
    parser.add_argument("--cards", default="lsm-2m", help="full-budget models (names or card paths), comma-separated")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--runs", type=Path, default=Path("runs/patch_layout"), help="run folders (resumed)")
    parser.add_argument("--probe-participants", type=int, default=128, help="0: no probes")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.perf_counter()

    windows = None
    if args.probe_participants:
        cohort = downstream.evaluation_cohort(args.probe_participants, 14, seed=args.seed)
        windows = downstream.session_windows(cohort, rng=args.seed)

    def score(row: dict, model) -> dict:
        row["mean"] = sum(row[task] for task in TASKS) / len(TASKS)
        if windows is not None:
            row |= probe_scores(model, windows, args.draws, args.seed)
        print(row, flush=True)
        return row

    rows = []
    for patch, steps in parse_layouts(args.layouts) if args.layouts else []:
        cfg = config(patch, steps, args.batch_size)
        model, normaliser, history = train(cfg, args.runs / f"{patch[0]}x{patch[1]}-{steps}", progress=False)
        card = {"norm_mean": normaliser.mean.tolist(), "norm_std": normaliser.std.tolist(),
                "window_minutes": cfg.minutes, "channels": list(lsmkit.CHANNEL_NAMES), "preset": cfg.preset}
        rows.append(score({"run": "10-minute ablation", "patch": f"{patch[0]} min x {patch[1]} ch",
                           "tokens": tokens(patch, cfg.minutes), "steps": steps,
                           "train minutes": training_minutes(history, cfg.batch_size),
                           **{task: history[-1][f"val_{task}"] for task in TASKS}},
                          PretrainedLSM(model.eval(), card)))
    for path in args.cards.split(",") if args.cards else []:
        model = lsmkit.load_pretrained(path)
        card, net = model.card, model.model
        rows.append(score({"run": f"full budget: {card['name']}", "patch": f"{card['patch_minutes']} min x "
                           f"{card['patch_channels']} ch", "tokens": tokens(net.config.patch, card["window_minutes"]),
                           "steps": card["training"]["steps"],
                           "train minutes": training_minutes(card["training"]["history"],
                                                            card["training"]["config"]["batch_size"]),
                           **card["validation_mse"]}, model))
    table = pd.DataFrame(rows)
    sizes = ", ".join(f"{task} {size}" for task, (_, size) in TASKS.items())
    text = (f"2M preset, batch {args.batch_size}, lr 1e-3, mask mix {MIX}; seed 0\n\n"
            f"Validation MSE on z-scored hidden, observed values of held-out participants ({sizes}); "
            f"lower is better. Probe columns: linear probe macro F1, mean over {args.draws} draws "
            f"({args.probe_participants} evaluation participants). Train minutes count every minute a run "
            f"took, other work on the machine included.\n\n" + _report.markdown(table))
    print(text)
    headline = {f"{r.run}, {r.patch}: mean validation MSE": round(r.mean, 3) for r in table.itertuples()}
    _report.write(args.out_dir, "patch_layout", text, headline, seconds=time.perf_counter() - started)


if __name__ == "__main__":
    main()
