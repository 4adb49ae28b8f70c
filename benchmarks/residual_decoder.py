"""Study: does a residual decoder learn corrections to linear interpolation? (issue 18)

Trains the ``tiny`` preset from scratch for a few hundred steps, once per model option, on the
same stream, seed and validation windows, and prints the validation MSE (z-units, all 26 channels)
of each task. Linear interpolation is what an untrained residual model predicts, so a residual run
that does not fall below its step-0 numbers has learned nothing.

    python benchmarks/residual_decoder.py --steps 800 --mix random    # about 2 min per variant on one core

Results and their history: ``benchmarks/results/studies/residual_decoder.md``.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from lsmkit.train import TrainConfig, train

VARIANTS = {"plain": {}, "residual": {"residual": True}, "instance_norm": {"instance_norm": True},
            "residual + instance_norm": {"residual": True, "instance_norm": True}}
MIXES = {"random": {"random": 1.0},
         "all": {"random": 0.4, "interpolation": 0.2, "extrapolation": 0.2, "sensors": 0.2}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--mix", choices=list(MIXES), default="random")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"tiny preset, {args.steps} steps, batch 32, lr 1e-3, mask mix {MIXES[args.mix]}, seed 0, "
          f"128 validation windows\n")
    print("| variant | step | random | interpolation | extrapolation | sensors | train s |")
    print("|---|---|---|---|---|---|---|")
    for name in args.variants:
        config = TrainConfig(preset="tiny", steps=args.steps, batch_size=32, lr=1e-3, val_every=args.steps // 4,
                             val_windows=128, checkpoint_every=args.steps, normalise="registry",
                             mask_mix=MIXES[args.mix], **VARIANTS[name])
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            _, _, history = train(config, out, progress=False)
        seconds = time.perf_counter() - t0
        for row in history:
            print(f"| {name} | {row['step']} | " + " | ".join(f"{row[f'val_{t}']:.3f}" for t in
                  ("random", "interpolation", "extrapolation", "sensors")) + f" | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
