"""Pretrained-model latency: imputing one 300 x 26 window on one CPU thread, and batch throughput.

    python benchmarks/pretrained.py [--name lsm-2m] [--repeats 200]

Times ``model.impute(window, mask)`` end to end (xarray in, xarray out, normalisation included) for a
single window with an hour hidden, after a few warm-up calls; prints p50 and p95, then windows/s for
batches of 256.
"""

import argparse
import platform
import time

import numpy as np
import torch

import lsmkit
from lsmkit import masks


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default=None)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)

    model = lsmkit.load_pretrained(args.name)
    windows = lsmkit.load_sample()
    one = windows.isel(window=[0])
    mask = masks.interpolation(one, 60, rng=0)
    for _ in range(5):
        model.impute(one, mask)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        model.impute(one, mask)
        times.append(time.perf_counter() - t0)
    times = np.array(times) * 1e3

    batch = windows.isel(window=slice(0, 256))
    batch_mask = masks.interpolation(batch, 60, rng=0)
    model.impute(batch, batch_mask)
    t0 = time.perf_counter()
    model.impute(batch, batch_mask)
    throughput = batch.sizes["window"] / (time.perf_counter() - t0)

    print(f"machine: {platform.machine()}, torch {torch.__version__}, 1 thread; model {model.card['name']} "
          f"({model.card['parameters'] / 1e6:.2f}M parameters)")
    print(f"impute one 300x26 window (60 min hidden): p50 {np.percentile(times, 50):.1f} ms, "
          f"p95 {np.percentile(times, 95):.1f} ms over {args.repeats} calls")
    print(f"impute batches of {batch.sizes['window']}: {throughput:.0f} windows/s")


if __name__ == "__main__":
    main()
