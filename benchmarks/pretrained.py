"""Pretrained-model latency and throughput, next to PyPOTS SAITS on the same windows in the same run.

    python benchmarks/pretrained.py [--name lsm-2m] [--repeats 200] [--batch-size 256] [--no-saits]

Times ``model.impute(windows, mask)`` end to end (xarray in, xarray out, normalisation included):
a single 300 x 26 window with an hour hidden, after a few warm-up calls (p50 and p95 over
``--repeats`` calls, one PyTorch thread), then windows/s on a batch of ``--batch-size`` windows of
the bundled sample, on one thread and on all of PyTorch's threads (the headline gives the latter).

SAITS (``pip install -e ".[peers]"``) is timed on the same windows, masks and threads through the
same ``impute`` interface that benchmarks/generative.py scores it with (PyPOTS's ``predict``
inside). Its shape is that benchmark's; untrained weights time the same as trained ones.
Writes ``pretrained.md`` and ``pretrained.json`` to ``--out-dir``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch

import _report  # the sibling module: machine info, versions, result files
import lsmkit
from lsmkit import masks


def latency_ms(method, window, mask, repeats: int) -> np.ndarray:
    for _ in range(5):  # warm-up: first calls allocate and pick kernels
        method.impute(window, mask)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        method.impute(window, mask)
        times.append(time.perf_counter() - t0)
    return np.array(times) * 1e3


def throughput(method, batch, mask, repeats: int = 3) -> float:
    method.impute(batch, mask)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        method.impute(batch, mask)
        best = min(best, time.perf_counter() - t0)
    return batch.sizes["window"] / best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default=None)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--no-saits", action="store_true", help="leave SAITS out")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.perf_counter()
    threads = torch.get_num_threads()

    model = lsmkit.load_pretrained(args.name)
    methods = {f"lsmkit {model.card['name']}": model}
    if not args.no_saits:
        from generative import SAITSImputer  # the sibling script's wrapper: both benchmarks time one thing

        mean, std = (np.asarray(model.card[k], dtype=np.float32) for k in ("norm_mean", "norm_std"))
        try:
            saits = SAITSImputer(mean, std, model.card["window_minutes"], seed=0)
            methods[f"SAITS (PyPOTS, {saits.parameters() / 1e6:.2f}M parameters)"] = saits
        except ImportError:
            print("PyPOTS is not installed: SAITS left out (pip install -e '.[peers]')")

    windows = lsmkit.load_sample()
    batch = windows.isel(window=slice(0, args.batch_size))
    one = windows.isel(window=[0])
    one_mask, batch_mask = masks.interpolation(one, 60, rng=0), masks.interpolation(batch, 60, rng=0)

    rows, headline = [], {}
    for name, method in methods.items():
        torch.set_num_threads(1)
        times = latency_ms(method, one, one_mask, args.repeats)
        single = throughput(method, batch, batch_mask)
        torch.set_num_threads(threads)
        parallel = throughput(method, batch, batch_mask)
        p50, p95 = np.percentile(times, [50, 95])
        rows.append(f"| {name} | {p50:.1f} | {p95:.1f} | {single:.0f} | {parallel:.0f} |")
        short = name.split(" (")[0]
        headline |= {f"{short}: latency p50 (ms, batch 1)": round(p50, 1),
                     f"{short}: latency p95 (ms, batch 1)": round(p95, 1),
                     f"{short}: throughput (windows/s, {threads} threads)": round(parallel)}

    lines = [
        f"machine: {_report.cpu_model()}, torch {torch.__version__}; model {model.card['name']} "
        f"({model.card['parameters'] / 1e6:.2f}M parameters)",
        f"task: impute 300 x 26 windows of lsmkit.load_sample() with 60 minutes hidden; latency over {args.repeats} "
        f"calls on 1 thread after 5 warm-up calls; throughput on {batch.sizes['window']} windows, best of 3",
        "",
        f"| method | p50 (ms, batch 1) | p95 (ms, batch 1) | windows/s (1 thread) | windows/s ({threads} threads) |",
        "|---|---|---|---|---|",
        *rows,
    ]
    print("\n".join(lines))
    _report.write(args.out_dir, "pretrained", "\n".join(lines), headline, seconds=time.perf_counter() - started)


if __name__ == "__main__":
    main()
