"""Validation MSE of the device-robust candidate against the shipped weights and linear interpolation
(an untrained residual model), on the training run's held-out windows, the same masks for all three:

    python benchmarks/validate_candidate.py      # about a minute on 2 cores

Written up in benchmarks/results/candidates/README.md.
"""

from pathlib import Path

import numpy as np
import torch

import lsmkit
from lsmkit.model import LSM, get_config
from lsmkit.train import TrainConfig, evaluate_tasks, validation_set

CARD = Path(__file__).parent / "results" / "candidates" / "lsm-2m-devices.json"
PROFILES = ("smartwatch", "sports_watch", "heart_rate_only", "skin_temperature_only")


def main():
    torch.set_num_threads(2)
    config = TrainConfig(preset="2M", val_windows=128, val_profiles=PROFILES)  # the run's validation windows
    shipped, candidate = lsmkit.load_pretrained(), lsmkit.load_pretrained(str(CARD))
    z = ((validation_set(config)["signal"].values - shipped.mean) / shipped.std).astype(np.float32)
    linear = LSM(get_config("2M", residual=True)).eval()  # an untrained residual model is linear interpolation
    models = {"linear interpolation": linear, "lsm-2m (shipped)": shipped.model, "lsm-2m-devices": candidate.model}
    scores = {name: evaluate_tasks(model, z, config, "cpu") for name, model in models.items()}
    print("| profile_task | " + " | ".join(scores) + " |")
    print("|---" * (len(scores) + 1) + "|")
    for key in scores["lsm-2m-devices"]:
        print(f"| {key} | " + " | ".join(f"{s[key]:.3f}" for s in scores.values()) + " |")


if __name__ == "__main__":
    main()
