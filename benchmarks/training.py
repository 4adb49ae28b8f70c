"""Training throughput (samples/s) in float32 and under bfloat16 autocast, and the fractions of this
machine's float32 and bfloat16 matmul rates it uses.

    python benchmarks/training.py [--preset 2M] [--batch-size 32] [--steps 20] [--threads 2] [--compile] [--out-dir DIR]

Measures (1) the machine's float32 and bfloat16 matmul rates with torch (large square matrices,
best of several), (2) training steps of the chosen preset on simulated windows for each task, in
float32 and under ``torch.autocast("cpu", dtype=torch.bfloat16)`` (what ``TrainConfig(bf16=True)``
runs where the CPU multiplies bfloat16 in hardware), counting the step's FLOPs with torch's FLOP
counter, and reports samples/s and achieved FLOP/s as a fraction of both rates of (1). All of it is
measured in the same run, on the same threads. Where the CPU has no bfloat16 instructions
(``lsmkit.train.cpu_has_bf16``), the bfloat16 rate is measured on a smaller matrix and the bfloat16
steps are skipped: they are emulated, hundreds of times slower. Writes ``training.md`` and ``training.json``
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
from lsmkit.train import Normaliser, TrainConfig, WindowStream, cpu_has_bf16, task_mask


def matmul_rate(n=2048, repeats=10, dtype=torch.float32) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
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
    parser.add_argument("--compile", action="store_true", help="also time float32 steps under torch.compile")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)

    peak = matmul_rate()
    hardware_bf16 = cpu_has_bf16()
    peak_bf16 = matmul_rate(2048 if hardware_bf16 else 256, 10 if hardware_bf16 else 2, torch.bfloat16)
    config = TrainConfig(preset=args.preset, batch_size=args.batch_size)
    windows = WindowStream(config).chunk(0)
    z = Normaliser.fit(windows)(windows[: args.batch_size]).astype(np.float32)
    model = LSM(get_config(args.preset))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    lines = [f"machine: {_report.cpu_model()}, torch {torch.__version__}, {args.threads} threads, "
             f"CPU capability {torch.backends.cpu.get_cpu_capability()}, bfloat16 in hardware: {hardware_bf16}",
             f"float32 matmul (2048^2): {peak / 1e9:.1f} GFLOP/s; bfloat16 matmul "
             f"({2048 if hardware_bf16 else 256}^2): {peak_bf16 / 1e9:.1f} GFLOP/s",
             f"preset {args.preset} ({model.num_parameters() / 1e6:.2f}M parameters), batch {args.batch_size}"]
    headline = {"float32 matmul (GFLOP/s)": round(peak / 1e9, 1), "bfloat16 matmul (GFLOP/s)": round(peak_bf16 / 1e9, 1)}
    mix = config.mask_mix
    precisions = ["float32", "bfloat16"] if hardware_bf16 else ["float32"]
    if args.compile:
        precisions.append("float32 compiled")
    for precision in precisions:
        achieved, total_time, total_weight = 0.0, 0.0, 0.0
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16")
        step_model = model
        if precision == "float32 compiled":
            step_model, t0 = torch.compile(model), time.perf_counter()
            for task, size in (("random", 0.8), ("interpolation", 60), ("extrapolation", 60), ("sensors", 6)):
                h = torch.from_numpy(task_mask(task, size, z, np.random.default_rng(0)))
                step_model(torch.from_numpy(z), h)[0].backward()  # compile every task's shapes first
            lines.append(f"torch.compile: {time.perf_counter() - t0:.0f} s to compile the four tasks' steps")
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
                with autocast:
                    loss, _ = step_model(x, h)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                times.append(time.perf_counter() - t0)
            step = float(np.median(times))
            total_time += mix[task] * step
            total_weight += mix[task]
            achieved += mix[task] * flops
            lines.append(f"  {precision} {task:13s}: {args.batch_size / step:6.1f} samples/s, {flops / step / 1e9:5.1f} "
                         f"GFLOP/s = {flops / step / peak:.0%} of the float32, {flops / step / peak_bf16:.0%} of the "
                         f"bfloat16 matmul rate")
        rate = args.batch_size * total_weight / total_time
        fraction = achieved / total_time / peak
        lines.append(f"{precision}, default mask mix: {rate:.1f} samples/s, {fraction:.0%} of the float32 and "
                     f"{achieved / total_time / peak_bf16:.0%} of the bfloat16 matmul rate")
        label = {"float32": "", "bfloat16": ", bf16 autocast", "float32 compiled": ", torch.compile"}[precision]
        headline |= {f"training {args.preset}{label}, default mask mix (samples/s)": round(rate, 1),
                     f"fraction of the float32 matmul rate{label}": round(fraction, 3)}
    if not hardware_bf16:
        lines.append("bfloat16 steps skipped: this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX), so "
                     "autocast would be emulated; TrainConfig(bf16=True) warns and trains in float32 here")
    print("\n".join(lines))
    _report.write(args.out_dir, "training", "```\n" + "\n".join(lines) + "\n```", headline,
                  seconds=time.perf_counter() - started)


if __name__ == "__main__":
    main()
