"""Issue 18's targets: the model on what real devices record, against baselines on identical masks.

    python benchmarks/device_profiles.py                                   # the committed tables
    python benchmarks/device_profiles.py --reference runs/lsm-2m-v1/lsm-2m.json   # with the weights before
    python benchmarks/device_profiles.py --windows 32 --profiles smartwatch,heart_rate_only --out-dir /tmp/q

Three parts, each scored by :func:`lsmkit.evaluate` or the same rule (MSE on z-scored values that are
hidden and truly observed, bootstrap intervals over windows):

1. **Profiles**: held-out windows of simulated participants that no training chunk used (their own
   seed), restricted to every device profile of :data:`lsmkit.DEVICE_PROFILES`, all the paper's
   tasks and sizes (sensor imputation only at sizes that leave one of the profile's channels
   visible), the same masks for every method and profile.
2. **Calibration**: the same windows read by other devices, one random calibration per participant
   (:func:`lsmkit.data.shift_calibration`: heart rate +-10 bpm, skin temperature +-3 degC, EDA x0.3 to
   x3). Each method sees the shifted windows and its fills are mapped back to the reference
   calibration before scoring against the unshifted values, so an ideal calibration-robust method
   scores exactly as without the shift. A channel a window hides entirely (sensor imputation) is
   predicted from the others and so in the reference calibration already: it is not mapped back.
3. **Real recordings**: the bundled real workouts (``lsmkit.load_sample("sweat_workouts")``: heart
   rate, steps, altitude; 1-3 channels), each NaN-padded to one 300-minute window; gaps of 10, 30 and
   60 minutes placed at random inside the recorded span, ``--gap-draws`` placements per recording and
   size, model against linear interpolation, per recording.

Writes ``device_profiles.md``, ``device_profiles.csv`` (tidy, every row of part 1) and
``device_profiles.json`` to ``--out-dir``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import _report  # the sibling module: machine info, versions, result files
import lsmkit
from lsmkit import baselines, masks
from lsmkit.channels import CHANNEL_NAMES, get_channel
from lsmkit.data import shift_calibration, to_windows
from lsmkit.evaluation import TASK_SIZES

MODEL = "lsmkit"
REFERENCE = "lsmkit before"
TASKS = dict(TASK_SIZES)
#: what issue 18 compares with the new weights on all 26 channels (generative.md of the weights before it)
BEFORE = {"random": 0.388, "interpolation": 0.393, "extrapolation": 0.438, "sensors": 0.305}
METHODS = {"window mean": baselines.WindowMean, "nearest": baselines.Nearest, "linear interpolation": baselines.Linear,
           "kNN": baselines.KNN, "MICE": baselines.MICE, "AR (statsmodels)": baselines.AutoRegressive}


def held_out_windows(n_windows: int, participants: int, seed: int):
    """Windows of participants drawn from a seed no training chunk or validation set uses."""
    cohort = lsmkit.simulate(participants, days=7, seed=np.random.SeedSequence([seed, 31]))
    windows = to_windows(cohort, 300, stride=300, max_missing=0.5)
    order = np.random.default_rng([seed, 32]).permutation(windows.sizes["window"])[:n_windows]
    return windows.isel(window=np.sort(order))


class Recalibrated:
    """``method`` as it works on windows read by other devices: it sees ``shifted`` windows, and its
    fills of the channels each window lets it see are mapped back to the reference calibration."""

    def __init__(self, method, shifted):
        self.method, self.shifted = method, shifted
        self.tasks = getattr(method, "tasks", None)

    def impute(self, windows, mask):
        seen = (self.shifted["signal"].notnull() & ~mask).any("time")  # (window, channel)
        filled = self.method.impute(self.shifted.drop_vars(["calibration_scale", "calibration_offset"]), mask)
        scale, offset = self.shifted["calibration_scale"], self.shifted["calibration_offset"]
        back = ((filled["signal"] - offset) / scale).where(seen, filled["signal"])
        out = windows.copy()
        out["signal"] = back.transpose(*windows["signal"].dims).astype(np.float32)
        return out


def summarise(table: pd.DataFrame, reference: str | None) -> pd.DataFrame:
    """Per profile and task: the model's MSE averaged over sizes, the best other method's (SAITS
    included when present), the reduction, and whether the model is below every method at every size."""
    others = [m for m in table["method"].unique() if m not in (MODEL, reference)]
    rows = []
    for (profile, task), part in table.groupby(["profile", "task"], sort=False):
        mean = part.groupby("method")["mse"].mean()
        candidates = mean.reindex(others).dropna()
        if MODEL not in mean or candidates.empty:
            continue
        best = candidates.idxmin()
        sizes = part.pivot_table(index="size", columns="method", values="mse")
        rivals = sizes[[m for m in others if m in sizes]]
        below_all = bool((sizes[MODEL] <= rivals.min(axis=1)).all())
        row = {"profile": profile, "task": task, "sizes": ", ".join(f"{s:g}" for s in sizes.index),
               "lsmkit": mean[MODEL], "best other": best, "best other mse": candidates[best],
               "reduction %": 100 * (1 - mean[MODEL] / candidates[best]), "below every method at every size": below_all}
        if reference and reference in mean:
            row[reference] = mean[reference]
        rows.append(row)
    return pd.DataFrame(rows)


def targets(summary: pd.DataFrame) -> pd.DataFrame:
    """Issue 18's target for each row: 15% below the best other method for profiles of 3 or more
    channels, at or below it at every size for one channel, 25% for all 26 (plus within 3% of the
    weights before, from their generative.md)."""
    n = {name: len(channels) for name, channels in lsmkit.DEVICE_PROFILES.items()}
    out = summary.copy()
    met = []
    for _, row in out.iterrows():
        k = n.get(row["profile"], len(row["profile"].split("+")))
        if k == len(CHANNEL_NAMES):
            ok = row["reduction %"] >= 25 and row["lsmkit"] <= 1.03 * BEFORE.get(row["task"], np.inf)
        elif k >= 3:
            ok = row["reduction %"] >= 15
        elif k == 1:
            ok = row["below every method at every size"]
        else:
            ok = np.nan  # two-channel profiles: the issue sets no target
        met.append(ok)
    out["target met"] = met
    return out


def calibration(model, windows, seed: int, n_boot: int, tasks: dict = TASKS) -> pd.DataFrame:
    """MSE with and without per-participant calibration shifts, identical masks; rise in %."""
    shifted = shift_calibration(windows, rng=np.random.default_rng([seed, 33]))
    table = lsmkit.evaluate({"reference calibration": model, "shifted devices": Recalibrated(model, shifted)},
                            windows, tasks=tasks, rng=seed, n_boot=n_boot, progress=False)
    wide = table.pivot_table(index=["task", "size"], columns="method", values="mse", sort=False)
    per_task = wide.groupby(level="task", sort=False).mean()
    per_task["rise %"] = 100 * (per_task["shifted devices"] / per_task["reference calibration"] - 1)
    per_task["target (< 10%) met"] = per_task["rise %"] < 10
    return per_task


def real_recordings(model, draws: int, seed: int) -> pd.DataFrame:
    """Per real workout and gap size: MSE of the model and of linear interpolation on the same gaps."""
    rec = lsmkit.load_sample("sweat_workouts", form="recordings")
    T = model.minutes
    signal = np.full((rec.sizes["participant"], T, rec.sizes["channel"]), np.nan, dtype=np.float32)
    signal[:, : rec.sizes["time"]] = rec["signal"].transpose("participant", "time", "channel").values[:, :T]
    rng = np.random.default_rng([seed, 34])
    std = np.array([get_channel(c).std for c in rec["channel"].values])
    rows = []
    for p in range(len(signal)):
        seen = np.flatnonzero(~np.isnan(signal[p]).all(axis=1))
        first, last = seen[0], seen[-1]
        channels = [str(c) for c, ok in zip(rec["channel"].values, ~np.isnan(signal[p]).all(axis=0)) if ok]
        for gap in (10, 30, 60):
            if last - first + 1 < gap + 20:
                continue
            starts = rng.integers(first + 10, last - gap - 9, size=draws, endpoint=True)  # gaps inside the span
            batch = lsmkit.make_windows(np.repeat(signal[p : p + 1], draws, axis=0), channels=rec["channel"].values,
                                        participant=[str(rec["participant"].values[p])] * draws,
                                        start=np.repeat(rec["start"].values[p : p + 1], draws))
            hidden = np.zeros(batch["signal"].shape, dtype=bool)
            for i, s in enumerate(starts):
                hidden[i, s : s + gap] = True
            mask = masks.union(batch["signal"].copy(data=hidden))
            scored = (mask & batch["signal"].notnull()).values
            row = {"recording": f"{p}: {rec['sport'].values[p]} ({rec['device'].values[p]})",
                   "channels": ", ".join(channels), "gap (min)": gap, "gaps": draws, "n": int(scored.sum())}
            for name, method in ((MODEL, model), ("linear interpolation", baselines.Linear())):
                filled = method.impute(batch, mask)["signal"].values
                error = np.where(scored, (filled - batch["signal"].values) / std, 0.0)
                row[name] = float((error**2).sum() / max(scored.sum(), 1))
            row["model / linear"] = row[MODEL] / row["linear interpolation"]
            rows.append(row)
    return pd.DataFrame(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="shipped name or card path (default: the shipped model)")
    parser.add_argument("--reference", default=None, help="card of other weights, scored on the same masks")
    parser.add_argument("--reference-label", default=REFERENCE, help="their column's name")
    parser.add_argument("--windows", type=int, default=240)
    parser.add_argument("--participants", type=int, default=12)
    parser.add_argument("--profiles", default=",".join(lsmkit.DEVICE_PROFILES))
    parser.add_argument("--methods", default=",".join(METHODS), help=f"baselines among {', '.join(METHODS)}")
    parser.add_argument("--calibration-windows", type=int, default=120)
    parser.add_argument("--gap-draws", type=int, default=20)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    unknown = sorted(set(args.methods.split(",")) - set(METHODS))
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    profiles = args.profiles.split(",")
    for profile in profiles:
        lsmkit.profile_channels(profile)

    model = lsmkit.load_pretrained(args.model)
    methods = {MODEL: model}
    if args.reference:
        methods[args.reference_label] = lsmkit.load_pretrained(args.reference)
    methods |= {name: METHODS[name]() for name in args.methods.split(",")}
    windows = held_out_windows(args.windows, args.participants, args.seed)

    t0 = time.perf_counter()
    table = lsmkit.evaluate(methods, windows, tasks=TASKS, rng=args.seed, n_boot=args.n_boot, profiles=profiles)
    profile_seconds = time.perf_counter() - t0
    summary = targets(summarise(table, args.reference_label if args.reference else None))
    calib = calibration(model, windows.isel(window=slice(0, args.calibration_windows)), args.seed, args.n_boot)
    real = real_recordings(model, args.gap_draws, args.seed)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    with open(args.out_dir / "device_profiles.csv", "w") as f:
        f.write(f"# benchmarks/device_profiles.py: {len(windows.window)} held-out windows, seed {args.seed}; "
                f"model {model.card['name']}\n")
        table.to_csv(f, index=False)
    card = model.card
    lines = [
        "MSE on z-scored hidden, truly observed values (lower is better); the same masks for every method and profile.",
        "",
        f"- machine: {_report.cpu_model()}, {args.threads} torch threads; versions: {_report.version_line()}",
        f"- model: {card['name']} ({card['parameters'] / 1e6:.2f}M parameters, {card['training']['steps']} steps; "
        f"{'instance' if card['model_config'].get('instance_norm') else 'global'} normalisation, "
        f"{'residual over linear interpolation' if card['model_config'].get('residual') else 'direct'} decoder"
        + ("; one-channel windows' correction scaled by the card's correction_scale" if "correction_scale" in card else "")
        + ")" + (f"; `{args.reference_label}`: {args.reference}" if args.reference else ""),
        f"- data: {windows.sizes['window']} windows of {args.participants} simulated participants that no training "
        f"chunk or validation set used (seed {args.seed}); part 1 took {profile_seconds:.0f} s",
        "- SAITS is not in this run: PyPOTS trained on the same thinned stream for the same wall clock is still to "
        "be done (issue 18, item 8)",
        "",
        "## Profiles: the model against the best other method, MSE averaged over sizes",
        "",
        _report.markdown(summary),
        "",
        "Targets: profiles of 3 or more channels at least 15% below the best other method; one-channel profiles at "
        "or below it at every size; all 26 channels at least 25% below it and within 3% of the weights before "
        f"({', '.join(f'{k} {v}' for k, v in BEFORE.items())}). Two-channel profiles have none.",
        "",
        "## Every size",
        "",
        _report.markdown(table.pivot_table(index=["profile", "task", "size"], columns="method", values="mse",
                                           sort=False)[list(methods)]),
        "",
        f"## Calibration: per-participant device shifts, {calib.index.size} tasks on "
        f"{min(args.calibration_windows, windows.sizes['window'])} windows, all channels",
        "",
        _report.markdown(calib),
        "",
        f"## Real recordings: sweat workouts, {args.gap_draws} gap placements per recording and size",
        "",
        _report.markdown(real) if len(real) else "(no recording long enough)",
    ]
    headline = {f"{r['profile']} {r['task']} reduction %": round(r["reduction %"], 1) for _, r in summary.iterrows()}
    headline |= {f"calibration rise % ({task})": round(v, 1) for task, v in calib["rise %"].items()}
    headline["real workouts: gaps where the model beats linear"] = f"{int((real['model / linear'] < 1).sum())} of {len(real)}"
    _report.write(args.out_dir, "device_profiles", "\n".join(lines), headline, seconds=time.perf_counter() - started,
                  summary=summary.to_dict(orient="records"))
    print("\n".join(lines[:12]))


if __name__ == "__main__":
    main()
