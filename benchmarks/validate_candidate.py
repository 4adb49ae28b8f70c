"""Validation MSE of candidate weights against the shipped weights and linear interpolation (an
untrained residual model), on the 128 held-out validation windows of a device-robust training run,
one mask per task and profile, the same masks for all:

    python benchmarks/validate_candidate.py runs/my-run/export/my-lsm.json [more cards]   # about a minute per card
    python benchmarks/validate_candidate.py                                                # the shipped weights alone

A quick check of a training run before the full benchmark (``benchmarks/device_profiles.py --model
<card> --reference lsm-2m``). The shipped weights' history is in benchmarks/results/studies/device_robust_training.md.
"""

import argparse
from pathlib import Path

import numpy as np
import torch

import lsmkit
from lsmkit.model import LSM, get_config
from lsmkit.train import TrainConfig, evaluate_tasks, validation_set

PROFILES = ("smartwatch", "sports_watch", "heart_rate_only", "skin_temperature_only")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cards", nargs="*", type=Path, help="cards of the weights to compare")
    args = parser.parse_args()
    torch.set_num_threads(2)
    config = TrainConfig(preset="2M", val_windows=128, val_profiles=PROFILES)  # the training run's validation windows
    shipped = lsmkit.load_pretrained()
    z = ((validation_set(config)["signal"].values - shipped.mean) / shipped.std).astype(np.float32)
    models = {"linear interpolation": LSM(get_config("2M", residual=True)).eval(),  # untrained residual = linear
              "lsm-2m (shipped)": shipped.model}
    models |= {card.stem: lsmkit.load_pretrained(str(card)).model for card in args.cards}
    scores = {name: evaluate_tasks(model, z, config, "cpu") for name, model in models.items()}
    print("| profile_task | " + " | ".join(scores) + " |")
    print("|---" * (len(scores) + 1) + "|")
    for key in scores["lsm-2m (shipped)"]:
        print(f"| {key} | " + " | ".join(f"{s[key]:.3f}" for s in scores.values()) + " |")


if __name__ == "__main__":
    main()
