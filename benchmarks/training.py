"""Training throughput (samples/s) and the fraction of this machine's float32 matmul rate it uses.

    python benchmarks/training.py [--preset 2M] [--batch-size 32] [--steps 20] [--threads 2] [--out-dir DIR]

Measures (1) the machine's float32 matmul rate with torch (large square matrices, best of several),
(2) training steps of the chosen preset on simulated windows for each task, counting the step's
FLOPs with torch's FLOP counter, and reports samples/s and achieved FLOP/s as a fraction of (1).
Both are measured in the same run, on the same threads. Writes ``training.md`` and ``training.json``
to ``--out-dir``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

import _report  # the sibling module: machine info, versions, result files
from lsmkit.model import LSM, get_config
from lsmkit.train import Normaliser, TrainConfig, WindowStream, task_mask


def matmul_rate(n=2048, repeats=10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="2M")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)

    peak = matmul_rate()
    config = TrainConfig(preset=args.preset, batch_size=args.batch_size)
    windows = WindowStream(config).chunk(0)
    z = Normaliser.fit(windows)(windows[: args.batch_size]).astype(np.float32)
    model = LSM(get_config(args.preset))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    lines = [f"machine: {_report.cpu_model()}, torch {torch.__version__}, {args.threads} threads",
             f"float32 matmul (2048^2): {peak / 1e9:.1f} GFLOP/s",
             f"preset {args.preset} ({model.num_parameters() / 1e6:.2f}M parameters), batch {args.batch_size}"]
    headline = {"float32 matmul (GFLOP/s)": round(peak / 1e9, 1)}
    achieved = 0.0
    mix = config.mask_mix
    total_time, total_weight = 0.0, 0.0
    for task, size in (("random", 0.8), ("interpolation", 60), ("extrapolation", 60), ("sensors", 6)):
        x = torch.from_numpy(z)
        h = torch.from_numpy(task_mask(task, size, z, np.random.default_rng(0)))
        # The counter has no formula for CPU's fused attention kernel: count on the plain one.
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            loss, _ = model(x, h)
            loss.backward()
        flops = counter.get_total_flops()
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            loss, _ = model(x, h)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - t0)
        step = float(np.median(times))
        total_time += mix[task] * step
        total_weight += mix[task]
        achieved += mix[task] * flops
        lines.append(f"  {task:13s}: {args.batch_size / step:6.1f} samples/s, {flops / step / 1e9:5.1f} GFLOP/s "
                     f"= {flops / step / peak:.0%} of the matmul rate")
    rate = args.batch_size * total_weight / total_time
    fraction = achieved / total_time / peak
    lines.append(f"default mask mix: {rate:.1f} samples/s, {fraction:.0%} of the matmul rate")
    print("\n".join(lines))
    headline |= {f"training {args.preset}, default mask mix (samples/s)": round(rate, 1),
                 "fraction of the matmul rate": round(fraction, 3)}
    _report.write(args.out_dir, "training", "```\n" + "\n".join(lines) + "\n```", headline,
                  seconds=time.perf_counter() - started)


if __name__ == "__main__":
    main()
