"""Shipped model vs classical baselines on held-out simulated participants, per generative task.

    python benchmarks/encoder_quality.py [--name lsm-2m] [--out-dir benchmarks/results]

Uses the validation windows and task masks of training (``lsmkit.train.validation_set`` and the
same seeds), so the model's numbers match its card. MSE is on values z-scored with the model's
normalisation statistics, over hidden, truly observed values only.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import _report  # the sibling module: machine info, versions, result files
from _heldout import held_out
import lsmkit
from lsmkit.baselines import Linear, Nearest, WindowMean
from lsmkit.metrics import scored_errors
from lsmkit.train import TASKS, task_mask



def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default=None)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.perf_counter()

    model, config, windows, _ = held_out(args.name)
    std = xr.DataArray(model.std, dims="channel", coords={"channel": list(lsmkit.CHANNEL_NAMES)})
    methods = {f"lsmkit {model.card['preset']}": model.impute, **{m.name: m.impute for m in (WindowMean(), Nearest(), Linear())}}
    rows = []
    for t, (task, (kind, size)) in enumerate(TASKS.items()):
        z = ((windows["signal"].values - model.mean) / model.std).astype(np.float32)
        hidden = task_mask(kind, size, z, np.random.default_rng([config.seed, 11, t]))
        mask = windows["signal"].copy(data=hidden)
        for name, method in methods.items():
            errors = scored_errors(method(windows, mask), windows, mask, std=std)
            n = errors["n"].values
            mse = float(np.nansum(errors["mse"].values * n) / n.sum())
            rows.append({"task": f"{task} ({size})", "method": name, "mse": mse, "scored values": int(n.sum())})
    table = pd.DataFrame(rows).pivot(index="task", columns="method", values="mse")
    table = table[list(methods)]
    header = (f"held-out simulated participants: {windows.sizes['window']} windows of {config.val_participants} "
              f"participants (seed {config.seed}); model {model.card['name']}, {model.card['training']['steps']} steps")
    text = header + "\n\nMSE on z-scored hidden, observed values (lower is better)\n\n" + _report.markdown(table, digits=4)
    print(text)
    ours, others = table.iloc[:, 0], table.iloc[:, 1:].min(axis=1)
    headline = {f"{task}: MSE, model vs best baseline": f"{ours[task]:.3f} vs {others[task]:.3f}" for task in table.index}
    _report.write(args.out_dir, "encoder_quality", text, headline, seconds=time.perf_counter() - started)

if __name__ == "__main__":
    main()
