"""The ``lsmkit`` command line: thin wrappers over the library.

    lsmkit pretrain --preset 2M --steps 3000 --out runs/2m          # one process
    torchrun --nproc_per_node 2 -m lsmkit pretrain --out runs/2m    # DDP (gloo on CPU, nccl on GPU)
    lsmkit export runs/2m/checkpoint.pt lsmkit/weights/lsm-2m       # safetensors + JSON card
    lsmkit simulate --participants 16 --days 7 --seed 0 cohort.nc   # a cohort to a file
    lsmkit adapt --from lsm-2m --data my_watch.nc --out runs/my-watch --steps 300   # to your recordings
    lsmkit sweep plan --out sweeps/s1 --presets tiny mini --windows 256 1024 --steps 500   # a scaling sweep
    lsmkit sweep run --out sweeps/s1 [--index 3]                    # all runs (or one); rerun to resume
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields
from pathlib import Path

__all__ = ["main"]


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    from .train import TrainConfig

    for f in fields(TrainConfig):
        if f.name == "mask_mix":
            parser.add_argument("--mask-mix", help="task weights, e.g. random=0.4,interpolation=0.2,...")
            continue
        if f.name == "patch":
            parser.add_argument("--patch", type=int, nargs=2, metavar=("MINUTES", "CHANNELS"),
                                help="token shape (default: the preset's, 10 minutes x 5 channels)")
            continue
        default = f.default
        if isinstance(default, bool):  # --instance-norm / --no-instance-norm
            parser.add_argument(f"--{f.name.replace('_', '-')}", action=argparse.BooleanOptionalAction, default=None)
        elif isinstance(default, tuple):
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(default[0]) if default else str, nargs="+")
        else:
            kind = {int: int, float: float, str: str}.get(type(default), str)
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind)


def _pretrain(args) -> int:
    import torch.distributed as dist

    from .train import TrainConfig, train

    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig)
                 if f.name != "mask_mix" and getattr(args, f.name, None) is not None}
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    if args.mask_mix:
        overrides["mask_mix"] = {k: float(v) for k, v in (item.split("=") for item in args.mask_mix.split(","))}
    config = TrainConfig(**overrides)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        import torch

        dist.init_process_group("nccl" if torch.cuda.is_available() and args.device != "cpu" else "gloo")
    try:
        _, _, history = train(config, args.out, resume=not args.fresh, device=args.device)
    finally:
        if distributed:
            dist.destroy_process_group()
    if history and int(os.environ.get("RANK", "0")) == 0:
        print("final validation MSE:", {k: round(v, 4) for k, v in history[-1].items() if k.startswith("val_")})
    return 0


def _export(args) -> int:
    from .pretrained import export_weights
    from .train import load_checkpoint

    card = export_weights(load_checkpoint(args.checkpoint), args.path, notes=args.notes)
    print(f"wrote {card} and {card.with_suffix('.safetensors')}")
    return 0


def _simulate(args) -> int:
    from .io import save
    from .simulator import simulate

    save(simulate(args.participants, args.days, seed=args.seed), args.path)
    print(f"wrote {args.path}")
    return 0


def _adapt(args) -> int:
    from .adaptation import adapt

    data = args.data
    if Path(data).suffix.lower() not in (".nc", ".zarr"):  # a device export: read it first
        from .io import read_device

        options = {}
        for item in args.read or []:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ValueError(f"--read takes KEY=VALUE (a read_device option), got {item!r}")
            options[key.replace("-", "_")] = value
        data = read_device(data, format=args.format, **options)
    card = adapt(args.init, data, args.out, steps=args.steps, held_out=args.held_out, by=args.by,
                 max_missing=args.max_missing, seed=args.seed, until=args.until, progress=not args.no_progress,
                 name=args.name)
    print(f"wrote {card}; load it with lsmkit.load_pretrained({str(card)!r})")
    return 0


def _sweep_arguments(parser: argparse.ArgumentParser) -> None:
    from .sweep import SweepConfig

    parser.add_argument("--out", required=True, help="sweep folder (sweep.json, data/, runs/, results.csv)")
    for f in fields(SweepConfig):
        many = f.name in ("presets", "windows", "steps")
        kind = {"presets": str, "lr": float}.get(f.name, int)
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind, nargs="+" if many else None,
                            help="from sweep.json when --out holds a sweep" + ("" if many else f", else {f.default}"))
    parser.add_argument("--results", help="results table (default: OUT/results.csv)")


def _sweep(args) -> int:
    from dataclasses import asdict

    from . import sweep

    overrides = {f.name: getattr(args, f.name) for f in fields(sweep.SweepConfig) if getattr(args, f.name) is not None}
    if (Path(args.out) / "sweep.json").exists():  # the same command again, or one naming only --out
        config = sweep.SweepConfig(**{**asdict(sweep.load_config(args.out)), **overrides})
    elif {"presets", "windows", "steps"} <= set(overrides):
        config = sweep.SweepConfig(**overrides)
    else:
        raise ValueError(f"no sweep in {args.out!r} yet: give --presets, --windows and --steps")
    if args.action == "plan":
        sweep.prepare(config, args.out)
        print(sweep.plan(config).to_string(index=False))
        print(f"wrote {Path(args.out) / 'runs.csv'}; run them with: lsmkit sweep run --out {args.out} [--index i]")
    elif args.index is not None:
        sweep.run_one(config, args.out, args.index, results=args.results, device=args.device,
                      progress=not args.no_progress)
    else:
        table = sweep.run_sweep(config, args.out, results=args.results, device=args.device,
                                progress=not args.no_progress)
        print(f"results: {table} ({len(sweep.read_results(table))} rows)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lsmkit", description="lsmkit command line")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pretrain", help="pretrain (or resume) a masked autoencoder")
    _train_arguments(p)
    p.add_argument("--out", required=True, help="run folder (checkpoint.pt is written and resumed here)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint in --out")
    p.set_defaults(run=_pretrain)

    p = sub.add_parser("export", help="export a checkpoint as safetensors + JSON card")
    p.add_argument("checkpoint")
    p.add_argument("path", help="output path without suffix, e.g. lsmkit/weights/lsm-2m")
    p.add_argument("--notes", default="")
    p.set_defaults(run=_export)

    p = sub.add_parser("simulate", help="simulate a cohort and save it (.nc or .zarr)")
    p.add_argument("path")
    p.add_argument("--participants", type=int, default=8)
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_simulate)

    p = sub.add_parser("adapt", help="continue pretraining from shipped weights on your own recordings")
    p.add_argument("--from", dest="init", default="lsm-2m", help="shipped name or card path (default: lsm-2m)")
    p.add_argument("--data", required=True,
                   help="recordings or windows (.nc/.zarr), or a device export (see lsmkit.read_device)")
    p.add_argument("--format", default=None, help="the device export's format (default: guessed)")
    p.add_argument("--read", action="append", metavar="KEY=VALUE",
                   help="an option of the export's reader, e.g. --read tz=Europe/Berlin --read on_out_of_range=nan")
    p.add_argument("--out", required=True, help="run folder (stores, checkpoint.pt, the exported card)")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--held-out", type=float, default=0.25, help="share of days (or participants) for validation")
    p.add_argument("--by", choices=("day", "participant"), default="day")
    p.add_argument("--max-missing", type=float, default=0.5,
                   help="largest missing share of a window (raise it for exports that sample every few minutes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--until", type=int, default=None, help="stop after this step; rerun to resume")
    p.add_argument("--name", default="adapted", help="the exported card's name")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_adapt)

    p = sub.add_parser("sweep", help="a scaling sweep: presets x training-set sizes x steps")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("plan", help="write sweep.json and runs.csv and print the run list")
    _sweep_arguments(q)
    q = actions.add_parser("run", help="run every unfinished run, each in its own process, or one with --index")
    _sweep_arguments(q)
    q.add_argument("--index", type=int, help="run only this run (0-based, see runs.csv), in this process")
    q.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    q.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(run=_sweep)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
