"""Scaling sweeps: pretraining runs over a grid of presets x training-set sizes x steps, each
logging validation loss on the four generative tasks along its training into one results table.

    lsmkit sweep plan --out sweeps/s1 --presets tiny mini 2M --windows 256 1024 4096 --steps 500 2000
    lsmkit sweep run --out sweeps/s1                  # every run, one subprocess each; rerun to resume
    lsmkit sweep run --out sweeps/s1 --index 3        # run 3 alone (what one cluster job runs)

    run_sweep(SweepConfig(presets=("tiny", "mini"), windows=(256, 1024), steps=(500,)), "sweeps/s1")
    final = per_run(read_results("sweeps/s1"), "final")
    lsmkit.scaling.fit_power_law(final["flops"], final["loss_random"], groups=final["run"])

A sweep folder holds ``sweep.json`` (its config; another config is refused), ``runs.csv`` (the run
list), ``data/windows-<n>.nc``, ``runs/<run>/checkpoint.pt`` and ``results.csv``. Decisions:

- Data size is a number of *distinct* windows: non-overlapping windows of simulated participants
  (``days`` each) from ``SeedSequence([seed, 20])``, other people than the validation set's
  ``[seed, 9]`` (:func:`lsmkit.train.validation_set`); they are renamed ``train-P...``. The set of
  ``n`` is the first ``n`` windows of that stream, so it depends on ``n`` and the seed alone and
  smaller sets are prefixes of larger ones. Each is saved once (temporary name, then rename).
- Every run z-scores with the registry's default statistics (``TrainConfig(normalise="registry")``),
  not its own training set's: statistics of a few dozen windows are off by up to several times
  for some channels, which would change the scale of the validation loss from run to run.
- A run is evaluated every ``ceil(steps / evals)`` steps and at its end, by train's own validation
  (MSE on z-scored hidden, observed values). It trains in segments, ``train(..., until=s)`` to each
  evaluation step ``s``, whose checkpoint holds the evaluation; the row is appended right after.
- The table is wide, one row per evaluation, columns :data:`COLUMNS` (:func:`long_form` gives the
  tidy task/loss form). ``hours = windows * minutes / 60`` (distinct data; data *seen* is
  ``samples``); ``parameters`` counts encoder and decoder; ``flops = training_flops * step``
  counts forward *and* backward with the encoder on every token (a close upper bound: random
  masks hide values, not whole tokens).
- Each row is one ``os.write`` of one line to a file opened with ``O_APPEND`` under an exclusive
  ``flock``, then ``fsync``; the
  header is hard-linked into place. A killed sweep thus leaves no partial row; :func:`read_results`
  still drops, with a warning, a last line without newline, lines with the wrong number of fields
  and repeated ``(run, step)`` rows, which only a machine crash or two processes on one run make.
- A rerun skips runs whose rows are all present, resumes the others from their checkpoints (exactly,
  see :mod:`lsmkit.train`) and appends only the missing ``(run, step)`` rows.

Across machines every run is its own process, ``lsmkit sweep run --out DIR --index i``, so existing
launchers spread them: a Slurm job array (``--index $SLURM_ARRAY_TASK_ID``), GNU parallel
(``parallel lsmkit sweep run --out DIR --index {} ::: $(seq 0 N)``) or dask.distributed
(``client.map(subprocess.run, commands)``). Plan first, then start each index once. Safe on a local
POSIX filesystem: concurrent appenders (each holds an exclusive ``flock`` while it appends),
renames, hard links. Without locks (Windows, which has no ``fcntl``, and filesystems that refuse
``flock``, the latter with a warning) rows are appended unlocked: fine for one process per table,
the normal case there; concurrent appenders may interleave, so give each its own table as below.
Not safe on NFS: appends are not atomic there (each
client computes the end of file), so writers on several machines may overwrite each other's rows:
give each its own table, ``--results DIR/results-$i.csv``; ``read_results(DIR)`` reads all
``results*.csv``. Checkpoints record their training set's absolute path: mount DIR alike everywhere.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import subprocess
import sys
import warnings
from dataclasses import asdict, dataclass, fields
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import scaling
from .data import to_windows
from .simulator import simulate

try:
    import fcntl
except ImportError:  # Windows: no flock, tables are appended unlocked (see the module docstring)
    fcntl = None

__all__ = ["SweepConfig", "Run", "COLUMNS", "TASKS", "runs", "eval_steps", "plan", "prepare", "load_config",
           "training_set", "run_one", "run_sweep", "append_row", "read_results", "per_run", "long_form"]

TASKS = ("random", "interpolation", "extrapolation", "sensors")
COLUMNS = ("run", "preset", "parameters", "windows", "hours", "steps", "step", "samples", "flops", "seed",
           "batch_size", "lr", "train_loss", *(f"loss_{t}" for t in TASKS))


@dataclass(frozen=True)
class SweepConfig:
    """A grid of runs, every preset x training-set size (``windows``) x ``steps``, and what they share.

    Parameters
    ----------
    presets : tuple of str
        Model presets (:data:`lsmkit.model.PRESETS`), distinct.
    windows : tuple of int
        Training-set sizes in distinct windows, distinct, each at least ``batch_size``.
    steps : tuple of int
        Training lengths in steps, distinct.
    batch_size : int, default 32
        Windows per batch.
    lr : float, default 1e-3
        Peak learning rate, positive and finite.
    seed : int, default 0
        Seed of the training sets and of every run.
    evals : int, default 4
        Each run is evaluated at most this many times (:func:`eval_steps`).
    minutes : int, default 300
        Window length.
    days : int, default 2
        Days simulated per training participant.
    val_participants : int, default 8
        Participants of the held-out validation set.
    val_windows : int, default 256
        Windows of the held-out validation set, at most.

    Raises
    ------
    ValueError
        If a grid axis is empty or repeats a value, a count is not a positive integer (``seed`` a
        non-negative one), ``lr`` is not positive and finite, a training set is smaller than a
        batch, or a preset is unknown or its patch length does not divide ``minutes``.

    Examples
    --------
    >>> config = SweepConfig(presets=("tiny", "mini"), windows=(256, 1024), steps=(500,))
    >>> table = run_sweep(config, "sweeps/s1")
    """

    presets: tuple[str, ...]
    windows: tuple[int, ...]
    steps: tuple[int, ...]
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    evals: int = 4
    minutes: int = 300
    days: int = 2
    val_participants: int = 8
    val_windows: int = 256

    def __post_init__(self):
        for name in ("presets", "windows", "steps"):
            values = getattr(self, name)
            values = (values,) if isinstance(values, (str, int)) else tuple(values)
            repeated = sorted({str(v) for v in values if values.count(v) > 1})
            if not values or repeated:
                raise ValueError(f"{name} must list one or more distinct values, got {values!r}")
            if name != "presets":
                _check_integers(name, values, 1)
                values = tuple(int(v) for v in values)
            object.__setattr__(self, name, values)
        for name in ("batch_size", "evals", "minutes", "days", "val_participants", "val_windows"):
            _check_integers(name, [getattr(self, name)], 1)
        _check_integers("seed", [self.seed], 0)
        if not (isinstance(self.lr, (int, float)) and np.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be positive and finite, got {self.lr!r}")
        if min(self.windows) < self.batch_size:
            raise ValueError(f"every training set must hold a batch: windows {min(self.windows)} < batch_size "
                             f"{self.batch_size}")
        for preset in self.presets:  # unknown presets (listing the valid ones), minutes vs patch length
            _train_config(self, Run(0, "check", preset, min(self.windows), max(self.steps)), None)


def _check_integers(name: str, values, low: int) -> None:
    for v in values:
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low:
            raise ValueError(f"{name} must be {'positive' if low else 'non-negative'} integers, got {v!r}")


@dataclass(frozen=True)
class Run:
    """One run of the grid: its position, name (``<preset>_w<windows>_s<steps>``) and size.

    Parameters
    ----------
    index : int
        Position in the grid (:func:`runs`).
    name : str
        ``<preset>_w<windows>_s<steps>``.
    preset : str
        Model preset.
    windows : int
        Training-set size in distinct windows.
    steps : int
        Training steps.
    """

    index: int
    name: str
    preset: str
    windows: int
    steps: int


def runs(config: SweepConfig) -> list[Run]:
    """The grid in run order: presets, then training-set sizes, then steps (the last varies fastest).

    Parameters
    ----------
    config : SweepConfig
        The sweep.

    Returns
    -------
    list of Run
        The runs, ``index`` counting from 0.
    """
    grid = product(config.presets, config.windows, config.steps)
    return [Run(i, f"{p}_w{w}_s{s}", p, w, s) for i, (p, w, s) in enumerate(grid)]


def eval_steps(steps: int, evals: int) -> list[int]:
    """Steps at which a run of ``steps`` is evaluated: every ``ceil(steps / evals)`` and the last.

    Parameters
    ----------
    steps : int
        The run's training steps.
    evals : int
        Evaluations at most.

    Returns
    -------
    list of int
        The evaluation steps, ascending, ending with ``steps``.
    """
    every = math.ceil(steps / evals)
    return list(range(every, steps, every)) + [steps]


def plan(config: SweepConfig) -> pd.DataFrame:
    """The run list of a sweep.

    Parameters
    ----------
    config : SweepConfig
        The sweep.

    Returns
    -------
    pandas.DataFrame
        One row per run, columns index, run, preset, parameters, windows, hours, steps, evals
        (the evaluation steps) and flops (total).
    """
    import torch

    from .model import LSM, get_config

    with torch.device("meta"):  # counts parameters without allocating them
        sizes = {p: LSM(get_config(p)).num_parameters() for p in config.presets}
    return pd.DataFrame([{"index": r.index, "run": r.name, "preset": r.preset, "parameters": sizes[r.preset],
                          "windows": r.windows, "hours": r.windows * config.minutes / 60, "steps": r.steps,
                          "evals": " ".join(map(str, eval_steps(r.steps, config.evals))),
                          "flops": float(_step_flops(config, r.preset) * r.steps)} for r in runs(config)])


def load_config(out) -> SweepConfig:
    """The config of the sweep in folder ``out`` (its ``sweep.json``).

    Parameters
    ----------
    out : str or path-like
        The sweep folder.

    Returns
    -------
    SweepConfig
        The sweep's config.

    Raises
    ------
    FileNotFoundError
        If ``out`` holds no ``sweep.json``.
    """
    path = Path(out) / "sweep.json"
    if not path.exists():
        raise FileNotFoundError(f"no sweep in {str(out)!r} ({path} is missing): plan one with presets, windows, steps")
    return SweepConfig(**json.loads(path.read_text()))


def prepare(config: SweepConfig, out) -> Path:
    """Create the sweep folder with ``sweep.json`` and ``runs.csv``, or check that it holds ``config``.

    Parameters
    ----------
    config : SweepConfig
        The sweep.
    out : str or path-like
        The sweep folder.

    Returns
    -------
    pathlib.Path
        The sweep folder.

    Raises
    ------
    ValueError
        If ``out`` holds another sweep.
    """
    out = Path(out)
    if not (out / "sweep.json").exists():
        out.mkdir(parents=True, exist_ok=True)
        _write_atomic(out / "runs.csv", plan(config).to_csv(index=False))
        _write_atomic(out / "sweep.json", json.dumps(asdict(config), indent=1))
    existing = load_config(out)
    changed = [f"{f.name} {getattr(existing, f.name)!r} -> {getattr(config, f.name)!r}" for f in fields(config)
               if getattr(existing, f.name) != getattr(config, f.name)]
    if changed:
        raise ValueError(f"{out} holds another sweep ({'; '.join(changed)}); use another folder")
    return out


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)  # readers see the old file or the new one, never half


# ---- training sets ------------------------------------------------------------------------------
def training_set(n: int, *, seed: int = 0, minutes: int = 300, days: int = 2):
    """The first ``n`` distinct windows of the training stream (see the module docstring).

    Parameters
    ----------
    n : int
        Number of windows.
    seed : int, default 0
        The stream's seed.
    minutes : int, default 300
        Window length.
    days : int, default 2
        Days simulated per participant.

    Returns
    -------
    xarray.Dataset
        The window batch; participants are renamed ``train-P...``.
    """
    participants = math.ceil(n / max(1, days * 1440 // minutes // 2))  # about half the windows survive
    while True:  # participants are simulated independently: more of them never changes the first ones
        cohort = simulate(participants, days, seed=np.random.SeedSequence([seed, 20]))
        windows = to_windows(cohort, minutes, stride=minutes)  # participant by participant, in time order
        if windows.sizes["window"] >= n:
            break
        participants *= 2
    windows = windows.isel(window=slice(0, n))
    return windows.assign_coords(participant=("window", ["train-" + p for p in windows["participant"].values]))


def _stored_training_set(config: SweepConfig, n: int, out: Path) -> Path:
    from .io import save

    path = out / "data" / f"windows-{n}.nc"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".windows-{n}.{os.getpid()}.tmp.nc")
        save(training_set(n, seed=config.seed, minutes=config.minutes, days=config.days), tmp, overwrite=True)
        os.replace(tmp, path)  # concurrent writers write the same bytes; the last rename wins
    return path


# ---- runs ---------------------------------------------------------------------------------------
def _train_config(config: SweepConfig, run: Run, windows: Path | None):
    from .train import TrainConfig

    return TrainConfig(preset=run.preset, steps=run.steps, batch_size=config.batch_size, lr=config.lr,
                       minutes=config.minutes, windows=None if windows is None else str(windows.resolve()),
                       val_participants=config.val_participants, val_windows=config.val_windows,
                       val_every=math.ceil(run.steps / config.evals), normalise="registry", seed=config.seed)


def _step_flops(config: SweepConfig, preset: str) -> int:
    return scaling.training_flops(preset, batch_size=config.batch_size, minutes=config.minutes)


def _row(config: SweepConfig, run: Run, parameters: int, entry: dict) -> dict:
    step = int(entry["step"])
    return {"run": run.name, "preset": run.preset, "parameters": parameters, "windows": run.windows,
            "hours": run.windows * config.minutes / 60, "steps": run.steps, "step": step,
            "samples": step * config.batch_size, "flops": float(_step_flops(config, run.preset) * step),
            "seed": config.seed, "batch_size": config.batch_size, "lr": config.lr,
            "train_loss": entry["train_loss"], **{f"loss_{t}": entry[f"val_{t}"] for t in TASKS}}


def _done(table: Path) -> dict[str, set[int]]:
    """Steps already in the table, by run."""
    if not table.exists():
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # notes on damaged lines are for people reading results
        rows = read_results(table)
    return {run: set(steps) for run, steps in rows.groupby("run")["step"]}


def run_one(config: SweepConfig, out, index: int, *, results=None, device: str | None = None,
            progress: bool = True) -> int:
    """Train run ``index`` in this process, resuming it, and append its missing rows.

    Parameters
    ----------
    config : SweepConfig
        The sweep.
    out : str or path-like
        The sweep folder (created, or checked to hold ``config``).
    index : int
        The run, a position in :func:`runs`.
    results : str or path-like, optional
        The results table; defaults to ``out/results.csv``.
    device : str, optional
        Torch device, as for :func:`lsmkit.train.train`.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    int
        How many rows were missing (and have been appended).

    Raises
    ------
    ValueError
        If ``index`` is out of range or ``out`` holds another sweep.
    """
    from .train import train

    out = prepare(config, out)
    grid = runs(config)
    if not 0 <= index < len(grid):
        raise ValueError(f"index {index} is out of range: the sweep has {len(grid)} runs, 0 to {len(grid) - 1}")
    run, table = grid[index], Path(results or out / "results.csv")
    done = _done(table).get(run.name, set())
    todo = [s for s in eval_steps(run.steps, config.evals) if s not in done]
    if todo:
        train_config = _train_config(config, run, _stored_training_set(config, run.windows, out))
    for s in todo:
        if s in done:
            continue
        model, _, history = train(train_config, out / "runs" / run.name, until=s, device=device, progress=progress)
        for entry in history:  # the checkpoint's history: a resumed run may already be past s
            if entry["step"] in todo and entry["step"] not in done:
                append_row(table, _row(config, run, model.num_parameters(), entry))
                done.add(entry["step"])
    return len(todo)


def run_sweep(config: SweepConfig, out, *, results=None, device: str | None = None, progress: bool = True) -> Path:
    """Run every unfinished run, one after another, each in its own ``lsmkit sweep run`` process.

    Parameters
    ----------
    config : SweepConfig
        The sweep.
    out : str or path-like
        The sweep folder (created, or checked to hold ``config``).
    results : str or path-like, optional
        The results table; defaults to ``out/results.csv``.
    device : str, optional
        Torch device, passed to each run.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    pathlib.Path
        The results table.

    Raises
    ------
    RuntimeError
        If a run fails: the sweep stops with an error naming it; its finished rows stay, and
        running again resumes.
    """
    out = prepare(config, out)
    table = Path(results or out / "results.csv")
    done = _done(table)
    for run in tqdm(runs(config), desc="sweep", unit="run", disable=not progress):
        if set(eval_steps(run.steps, config.evals)) <= done.get(run.name, set()):
            continue
        command = [sys.executable, "-m", "lsmkit", "sweep", "run", "--out", str(out), "--index", str(run.index),
                   "--results", str(table), *(["--device", device] if device else []),
                   *([] if progress else ["--no-progress"])]
        status = subprocess.run(command).returncode
        if status:
            raise RuntimeError(f"run {run.index} ({run.name}) failed with exit status {status}; its finished "
                               f"rows are kept in {table}: fix the cause and run again to resume")
    return table


# ---- the results table --------------------------------------------------------------------------
def _create_table(path: Path) -> None:
    """Write the header to a temporary file and hard-link it into place: never a headerless table."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(",".join(COLUMNS) + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process created it first
    finally:
        tmp.unlink()


_NO_LOCK_ERRNOS = {errno.ENOLCK, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}
_warned_no_lock = False


def _lock(fd: int, path: Path) -> None:
    """Take an exclusive ``flock`` on ``fd`` where the platform and filesystem have one; else go on
    unlocked (see the module docstring), warning once when the filesystem refuses locks."""
    global _warned_no_lock
    if fcntl is None:
        return  # Windows: one process per table is the normal case
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as error:
        if error.errno not in _NO_LOCK_ERRNOS:
            raise
        if not _warned_no_lock:
            _warned_no_lock = True
            warnings.warn(f"{path}: the filesystem does not support flock ({error.strerror}); appending "
                          f"unlocked, so concurrent appenders may interleave their rows: give each writer its "
                          f"own table (--results DIR/results-$i.csv, see lsmkit.sweep)", stacklevel=4)


def append_row(path, row: dict) -> None:
    """Append one row to a results table.

    One ``os.write`` of one line on an ``O_APPEND`` file under an exclusive ``flock`` (where the
    platform and filesystem have one, see the module docstring), then ``fsync``.

    Parameters
    ----------
    path : str or path-like
        The results table; created with its header if missing.
    row : dict
        A value for every column of :data:`COLUMNS`.

    Raises
    ------
    OSError
        On a short write (disk full?): the table's last line is then partial and will be ignored.
    """
    path = Path(path)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow([row[c] for c in COLUMNS])  # floats as repr: exact round trip
    data = text.getvalue().encode()
    _create_table(path)
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        # The lock orders the check below against other appenders' writes: without it a reader of
        # the last byte can land inside a line another process is writing (i_size grows page by
        # page) and cut that line in two.
        _lock(fd, path)
        size = os.fstat(fd).st_size
        if os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a line cut by a crash: end it so that ours stays whole (the reader drops it)
        if os.write(fd, data) != len(data):
            raise OSError(f"short write to {path} (disk full?): its last line is partial and will be ignored")
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_table(path: Path) -> pd.DataFrame:
    whole, _, partial = path.read_bytes().rpartition(b"\n")
    if partial:
        warnings.warn(f"{path}: ignoring a partial last line ({len(partial)} bytes without newline)", stacklevel=3)
    lines = list(csv.reader(io.StringIO(whole.decode())))
    if not lines or lines[0] != list(COLUMNS):
        raise ValueError(f"{path} is not a sweep results table: header {lines[0] if lines else None}, "
                         f"expected {list(COLUMNS)}")
    table = pd.DataFrame([r for r in lines[1:] if len(r) == len(COLUMNS)], columns=list(COLUMNS))
    numeric = [c for c in COLUMNS if c not in ("run", "preset")]
    table[numeric] = table[numeric].apply(pd.to_numeric, errors="coerce")
    table = table.dropna(subset=numeric)
    if len(table) < len(lines) - 1:
        warnings.warn(f"{path}: ignoring {len(lines) - 1 - len(table)} damaged line(s)", stacklevel=3)
    return table


def read_results(path) -> pd.DataFrame:
    """Read a sweep's results.

    Damaged lines and repeated ``(run, step)`` rows are left out with a warning (see the module
    docstring).

    Parameters
    ----------
    path : str, path-like or list of those
        A results CSV, a sweep folder (all its ``results*.csv``) or a list of those.

    Returns
    -------
    pandas.DataFrame
        One row per evaluation, columns :data:`COLUMNS`, sorted by parameters, windows, steps and
        step.

    Raises
    ------
    FileNotFoundError
        If there is no results table.
    ValueError
        If a file is not a sweep results table (wrong header).
    """
    paths = [Path(p) for p in ([path] if isinstance(path, (str, os.PathLike)) else path)]
    paths = [q for p in paths for q in (sorted(p.glob("results*.csv")) if p.is_dir() else [p])]
    if not paths:
        raise FileNotFoundError(f"no results*.csv in {path!r}")
    table = pd.concat([_read_table(p) for p in paths], ignore_index=True)
    repeated = table.duplicated(["run", "step"])
    if repeated.any():
        warnings.warn(f"ignoring {int(repeated.sum())} repeated (run, step) row(s)", stacklevel=2)
    integers = ("parameters", "windows", "steps", "step", "samples", "seed", "batch_size")
    table = table[~repeated].astype(dict.fromkeys(integers, "int64"))
    return table.sort_values(["parameters", "windows", "steps", "step"], kind="stable").reset_index(drop=True)


def per_run(results: pd.DataFrame, pick: str = "final", task: str = "random") -> pd.DataFrame:
    """One row per run, ready for :mod:`lsmkit.scaling` fits.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table (:func:`read_results`).
    pick : {"final", "best"}, default "final"
        ``"final"`` keeps each run's last evaluation (unfinished runs drop out), ``"best"`` the one
        with the lowest ``loss_<task>``.
    task : str, default "random"
        The task of :data:`TASKS` whose loss ``pick="best"`` minimises.

    Returns
    -------
    pandas.DataFrame
        One row per run.

    Raises
    ------
    ValueError
        If ``task`` or ``pick`` is unknown.

    Examples
    --------
    >>> final = per_run(read_results("sweeps/s1"), "final")
    >>> lsmkit.scaling.fit_power_law(final["flops"], final["loss_random"], groups=final["run"])
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    if pick == "final":
        return results[results["step"] == results["steps"]].reset_index(drop=True)
    if pick == "best":
        return results.loc[results.groupby("run", sort=False)[f"loss_{task}"].idxmin()].reset_index(drop=True)
    raise ValueError(f"unknown pick {pick!r}; expected 'final' or 'best'")


def long_form(results: pd.DataFrame) -> pd.DataFrame:
    """The tidy form: one row per evaluation and task, with columns ``task`` and ``loss``.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table (:func:`read_results`), columns ``loss_<task>`` for each of :data:`TASKS`.

    Returns
    -------
    pandas.DataFrame
        The table with the ``loss_<task>`` columns melted into ``task`` and ``loss``.
    """
    keys = [c for c in results.columns if not c.startswith("loss_")]
    tidy = results.melt(id_vars=keys, value_vars=[f"loss_{t}" for t in TASKS], var_name="task", value_name="loss")
    return tidy.assign(task=tidy["task"].str.removeprefix("loss_"))
