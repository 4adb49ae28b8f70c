"""Downstream probes: what do pretrained embeddings buy when labels are few?

The paper's second claim is that pretraining makes downstream tasks sample-efficient. Every
method here has the same three steps, so one call can compare them fairly:

==================================================  ==============================================
``X = method.features(windows)``                    computed once per dataset (frozen embeddings,
                                                    or the z-scored signal for the methods that
                                                    train their own network)
``method.fit(X[train], y[train], n_classes, rng)``
``method.predict(X[test])``                         class indices
==================================================  ==============================================

=========================================  =====================================================
``LinearProbe(model)``                     standardised logistic regression on pooled frozen
                                           embeddings (max and min of every block's tokens,
                                           centred on the average window, by default; the
                                           paper's probe is ``pool="mean", layers="last",
                                           centre=False``)
``ConvProbe(model)``                       a small temporal convolution over frozen token
                                           embeddings
``FineTune(model)``                        the pretrained encoder and a linear head, all trained
``FineTune(model, pretrained=False)``      the same architecture from random initialisation:
                                           the supervised baseline the paper compares with
``CNN()``                                  a small 1-D CNN over the minutes, from scratch
``WindowStatistics()``                     the linear probe's regression on each channel's mean,
                                           max and SD over the window: no network (a control)
=========================================  =====================================================

:func:`evaluate` fits methods on a participant-disjoint split and returns accuracy, macro F1 and
balanced accuracy with bootstrap intervals over test *participants* (windows of one person, and
overlapping windows, are not independent). :func:`few_shot` repeats that with ``k`` labelled
windows per class (each draw a new participant split and a new sample of ``k``), and
:func:`summarise` turns its draws into means with percentile-bootstrap intervals over draws: they
show how much the result moves from draw to draw, and with few draws (5) they are narrower than
a Student-t interval would be.
Every network trains with class-balanced cross-entropy for a fixed number of steps, whatever
``k`` is, so the budget is the same for every point of a curve.

Shapes: ``W`` windows, ``T`` minutes, ``C`` channels, ``N`` tokens, ``Nt`` token rows in time,
``G`` channel groups, ``D`` width, ``K`` classes.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import xarray as xr
from torch import nn

from .channels import CHANNEL_NAMES, get_channel
from .data import validate_windows
from .metrics import CLASSIFICATION_METRICS, classification_scores
from .pretrained import _check_flag, _pool_statistics

__all__ = ["LinearProbe", "WindowStatistics", "ConvProbe", "FineTune", "CNN", "default_methods", "labels",
           "split_participants", "sample_shots", "evaluate", "few_shot", "summarise", "project"]

SHOTS: tuple = (1, 2, 5, 10, 20, 50, None)  # None: every labelled training window


# ---- labels and splits -------------------------------------------------------------------------
def labels(windows: xr.Dataset, label: str = "label") -> tuple[np.ndarray, tuple[str, ...]]:
    """Class indices and class names of a per-window label variable.

    CF categorical labels (``flag_meanings``, as :func:`lsmkit.downstream.task_windows` makes)
    keep their category order; booleans become ``("False", "True")``; anything else is sorted.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch.
    label : str, default "label"
        The name of a per-window variable (dims ``("window",)``).

    Returns
    -------
    y : numpy.ndarray
        Class indices (W,).
    names : tuple of str
        Class names, in index order.

    Raises
    ------
    ValueError
        If the variable is absent or not per-window, holds codes outside its ``flag_values``, or
        has missing values.
    """
    validate_windows(windows)
    if label not in windows:
        raise ValueError(f"windows have no {label!r} variable; variables: {sorted(windows.data_vars)}")
    var = windows[label]
    if var.dims != ("window",):
        raise ValueError(f"{label!r} must be a per-window label with dims ('window',), got {var.dims}")
    values = var.values
    if "flag_meanings" in var.attrs:
        names = tuple(var.attrs["flag_meanings"].split())
        codes = list(np.asarray(var.attrs.get("flag_values", np.arange(len(names)))).tolist())
        lookup = {c: i for i, c in enumerate(codes)}
        unknown = set(np.unique(values).tolist()) - set(lookup)
        if unknown:
            raise ValueError(f"{label!r} holds codes {sorted(unknown)} outside its flag_values {codes}")
        return np.array([lookup[v] for v in values.tolist()], dtype=np.int64), names
    if values.dtype == bool:
        return values.astype(np.int64), ("False", "True")
    if values.dtype.kind in "fO" and pd.isna(values).any():
        raise ValueError(f"{label!r} has missing values in {int(pd.isna(values).sum())} windows, e.g. windows "
                         f"{np.flatnonzero(pd.isna(values))[:5].tolist()}; drop those windows first")
    names, y = np.unique(values.astype(str) if values.dtype.kind == "O" else values, return_inverse=True)
    return y.astype(np.int64), tuple(str(n) for n in names)


def split_participants(windows: xr.Dataset, y=None, *, test_fraction: float = 0.3, rng=None,
                       tries: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Window indices ``(train, test)`` with no participant on both sides.

    Participants are shuffled and moved to the test side until it holds ``test_fraction`` of the
    windows.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch with a ``participant`` coordinate; at least 2 participants.
    y : array-like, optional
        Labels, one per window. With them, the split is redrawn (up to ``tries`` times) until every
        class with windows from at least two participants appears on both sides.
    test_fraction : float, default 0.3
        Share of the windows on the test side, in (0, 1).
    rng : int or numpy.random.Generator, optional
        Source of the shuffles.
    tries : int, default 100
        Draws at most, with ``y``.

    Returns
    -------
    train, test : numpy.ndarray
        Window indices of either side.

    Raises
    ------
    ValueError
        If ``test_fraction`` or ``tries`` is out of range, ``y`` has the wrong length, there are fewer
        than 2 participants, or no split in ``tries`` tries puts every class on both sides.
    """
    validate_windows(windows)
    if not (_is_real(test_fraction) and 0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    _check_count("tries", tries)
    rng = np.random.default_rng(rng)
    people = np.asarray(windows["participant"].values).astype(str)
    if y is not None and len(y) != len(people):
        raise ValueError(f"y must give one label per window: expected {len(people)}, got {len(y)}")
    unique, which = np.unique(people, return_inverse=True)
    if len(unique) < 2:
        raise ValueError(f"a participant-disjoint split needs at least 2 participants, got {len(unique)}")
    need = set()
    if y is not None:
        y = np.asarray(y)
        need = {c for c in np.unique(y) if len(np.unique(which[y == c])) >= 2}
    counts = np.bincount(which)
    for _ in range(tries):
        order = rng.permutation(len(unique))
        cum = np.cumsum(counts[order])
        n_test = int(np.clip(np.searchsorted(cum, test_fraction * len(people)) + 1, 1, len(unique) - 1))
        is_test = np.isin(which, order[:n_test])
        train, test = np.flatnonzero(~is_test), np.flatnonzero(is_test)
        if y is None or (need <= set(y[train]) and need <= set(y[test])):
            return train, test
    raise ValueError(f"no participant split in {tries} tries puts every class on both sides; "
                     "use more participants or fewer classes")


def sample_shots(y, k: int | None, rng=None) -> np.ndarray:
    """Positions of at most ``k`` items of each class in ``y`` (all of them for ``k=None``).

    Parameters
    ----------
    y : array-like
        Labels.
    k : int or None
        Items per class at most, a positive integer; None for all.
    rng : int or numpy.random.Generator, optional
        Source of the sample.

    Returns
    -------
    numpy.ndarray
        The positions, sorted.

    Raises
    ------
    ValueError
        If ``k`` is neither a positive integer nor None.
    """
    y = np.asarray(y)
    if k is None:
        return np.arange(len(y))
    if not _is_whole(k) or k < 1:
        raise ValueError(f"shots must be a positive integer or None (all), got {k!r}")
    rng = np.random.default_rng(rng)
    picked = [rng.permutation(np.flatnonzero(y == c))[: int(k)] for c in np.unique(y)]
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_whole(value) -> bool:
    """A whole number (an int, or a float such as 3.0); not a bool, NaN, inf or a string."""
    return _is_real(value) and math.isfinite(value) and int(value) == value


def _check_count(name: str, value) -> None:
    if not (_is_whole(value) and value >= 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_positive(name: str, value) -> None:
    if not (_is_real(value) and 0 < value < np.inf):
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def _check_training(fitted, X, y, n_classes: int) -> np.ndarray:
    """``y`` as class indices, or an error naming what does not fit ``X`` and ``n_classes``."""
    y = np.asarray(y)
    if y.dtype == bool:  # False/True are classes 0 and 1, as labels() reads them
        y = y.astype(np.int64)
    if y.dtype == object and all(isinstance(v, numbers.Real) for v in y.flat):
        y = y.astype(np.float64)  # a pandas object column of ints: judged by its values below
    _check_count("n_classes", n_classes)
    if len(X) != len(y):
        raise ValueError(f"{type(fitted).__name__}.fit needs one label per row: X has {len(X)} rows, y has {len(y)}")
    if len(y) == 0:
        raise ValueError(f"{type(fitted).__name__}.fit got no training windows (X and y are empty)")
    if y.dtype.kind not in "iuf" or (y != np.round(y)).any() or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"y must hold class indices in [0, {n_classes}) (n_classes={n_classes}); got "
                         f"{y.dtype} values {(pd.unique(y.ravel()) if y.dtype == object else np.unique(y))[:5].tolist()}")
    return y.astype(np.int64)


# ---- shared network training -------------------------------------------------------------------
def _zscore(windows: xr.Dataset) -> np.ndarray:
    """Canonical-order (W, T, 26) float32 z-scored with the registry's statistics, NaN where missing."""
    validate_windows(windows)
    signal = windows["signal"].reindex(channel=list(CHANNEL_NAMES)).values.astype(np.float32)
    mean = np.array([get_channel(c).mean for c in CHANNEL_NAMES], dtype=np.float32)
    std = np.array([get_channel(c).std for c in CHANNEL_NAMES], dtype=np.float32)
    return (signal - mean) / std


def _seed(rng) -> int:
    return int(np.random.default_rng(rng).integers(2**31))


class _Network:
    """Fit/predict for methods that train a torch network on features: fixed steps of AdamW on
    class-balanced cross-entropy. Subclasses provide ``build(X, n_classes)`` and ``param_groups``."""

    steps: int
    batch_size: int
    lr: float
    weight_decay: float = 1e-4

    def param_groups(self, net: nn.Module) -> list[dict]:
        return [{"params": net.parameters(), "lr": self.lr}]

    def fit(self, X: np.ndarray, y: np.ndarray, n_classes: int, rng=None):
        """Fit the network to labelled features.

        Parameters
        ----------
        X : numpy.ndarray
            Features of the training windows, from :meth:`features`.
        y : array-like
            Class index of each row of ``X``, in ``[0, n_classes)``.
        n_classes : int
            Number of classes K.
        rng : int or numpy.random.Generator, optional
            Seed of the training.

        Returns
        -------
        self : object
            The fitted method.

        Raises
        ------
        ValueError
            If ``y`` does not give one class index in ``[0, n_classes)`` per row of ``X``, or ``X``
            is empty.
        """
        y = _check_training(self, X, y, n_classes)
        seed = _seed(rng)
        with torch.random.fork_rng(devices=[]):  # seeded initialisation without touching global state
            torch.default_generator.manual_seed(seed)  # the CPU generator only: fork_rng restores just that
            self.net_ = self.build(X, n_classes).cpu()
        counts = np.bincount(y, minlength=n_classes).astype(np.float32)
        weight = torch.from_numpy(np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0))
        loss_fn = nn.CrossEntropyLoss(weight=weight.float())
        opt = torch.optim.AdamW(self.param_groups(self.net_), weight_decay=self.weight_decay)
        order = np.random.default_rng(seed)
        self.net_.train()
        for _ in range(self.steps):
            idx = order.choice(len(y), size=min(self.batch_size, len(y)), replace=False)
            logits = self.net_(torch.from_numpy(X[idx]))
            loss = loss_fn(logits, torch.from_numpy(y[idx]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(self.net_.parameters(), 1.0)
            opt.step()
        self.net_.eval()
        return self

    @torch.inference_mode()
    def predict(self, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Predict the class of each row of ``X``.

        Parameters
        ----------
        X : numpy.ndarray
            Features, from :meth:`features`.
        batch_size : int, default 256
            Rows per forward pass.

        Returns
        -------
        numpy.ndarray
            Class indices (W,).

        Raises
        ------
        RuntimeError
            If the method is not fitted.
        """
        if not hasattr(self, "net_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")
        if len(X) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([self.net_(torch.from_numpy(X[i : i + batch_size])).argmax(-1).numpy()
                               for i in range(0, len(X), batch_size)])


def _masked_mean(x: torch.Tensor, present: torch.Tensor, dim: int) -> torch.Tensor:
    """Mean of ``x`` over ``dim`` where ``present`` (same shape without the last axis of x)."""
    w = present.float().unsqueeze(-1)
    return (x * w).sum(dim) / w.sum(dim).clamp(min=1)


def _pretrained(model):
    if model is None:
        from .pretrained import load_pretrained

        return load_pretrained()
    if not callable(getattr(model, "embed", None)):
        hint = f"; for a named checkpoint pass lsmkit.load_pretrained({model!r})" if isinstance(model, str) else ""
        raise TypeError(f"model must be a pretrained model (lsmkit.load_pretrained()), got {model!r}{hint}")
    return model


def _check_network(steps, batch_size, lr, width=1) -> None:
    """Refuse settings that would train nothing (steps=0 leaves the random initialisation) or crash later."""
    _check_count("steps", steps)
    _check_count("batch_size", batch_size)
    _check_positive("lr", lr)
    _check_count("width", width)


# ---- frozen-encoder probes ---------------------------------------------------------------------
class LinearProbe:
    """Standardised multinomial logistic regression on pooled frozen embeddings.

    The features are ``model.embed(windows, pool, layers, centre)``: by default the maximum and the
    minimum over tokens of every encoder block, each token taken relative to the average window's
    token at the same place. Without ``centre`` the position code every window shares sets the
    pooled values, and a mean over a 300-minute window dilutes a short exercise bout: on
    ``benchmarks/downstream.py``'s windows, 5-shot activity macro F1 is 0.29 with the mean and
    maximum of uncentred tokens and 0.46 with these defaults. The paper's probe is
    ``pool="mean", layers="last", centre=False``. Classes are weighted to balance them.

    Parameters
    ----------
    model : lsmkit.pretrained.PretrainedLSM, optional
        The frozen encoder; default: the shipped one.
    pool : str, default "max+min"
        Token pooling of :meth:`lsmkit.pretrained.PretrainedLSM.embed`; ``"none"`` is refused.
    layers : {"last", "all"}, default "all"
        Which encoder blocks are pooled.
    centre : bool, default True
        Take each token relative to the average window's.
    C : float, default 1.0
        Inverse L2 strength, positive.

    Raises
    ------
    ValueError
        If ``pool``, ``layers``, ``centre`` or ``C`` is not an accepted value.
    TypeError
        If ``model`` is not a pretrained model.

    Examples
    --------
    >>> probe = LinearProbe(lsmkit.load_pretrained())
    >>> table = evaluate(probe, windows, rng=0)
    """

    name = "linear probe"

    def __init__(self, model=None, *, pool: str = "max+min", layers: str = "all", centre: bool = True,
                 C: float = 1.0):
        try:
            pooled = _pool_statistics(pool) != ()  # "none" keeps every token
        except ValueError:
            pooled = False
        if not pooled:
            raise ValueError(f"pool must be 'mean', 'max', 'min' or several of them joined by '+' (e.g. "
                             f"'max+min'): a linear probe needs pooled embeddings; got {pool!r}")
        if layers not in ("last", "all"):
            raise ValueError(f"layers must be 'last' or 'all', got {layers!r}")
        _check_flag("centre", centre)
        _check_positive("C", C)
        self.model, self.pool, self.layers = _pretrained(model), pool, layers
        self.centre, self.C = bool(centre), float(C)

    def features(self, windows: xr.Dataset) -> np.ndarray:
        """Pooled frozen embeddings of each window.

        Parameters
        ----------
        windows : xarray.Dataset
            A window batch.

        Returns
        -------
        numpy.ndarray
            Features (W, F).
        """
        embeddings = self.model.embed(windows, pool=self.pool, layers=self.layers, centre=self.centre)
        return embeddings.values  # (W, features)

    def fit(self, X: np.ndarray, y: np.ndarray, n_classes: int, rng=None):
        """Fit the logistic regression to labelled features.

        Parameters
        ----------
        X : numpy.ndarray
            Features of the training windows, from :meth:`features`.
        y : array-like
            Class index of each row of ``X``, in ``[0, n_classes)``.
        n_classes : int
            Number of classes K.
        rng : int or numpy.random.Generator, optional
            Unused: the fit is deterministic.

        Returns
        -------
        self : object
            The fitted method.

        Raises
        ------
        ValueError
            If ``y`` does not give one class index in ``[0, n_classes)`` per row of ``X``, or ``X``
            is empty.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        y = _check_training(self, X, y, n_classes)
        self.classes_ = np.unique(y)
        if len(self.classes_) == 1:  # nothing to separate: predict the one class seen
            self.pipeline_ = None
            return self
        self.pipeline_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, class_weight="balanced",
                                                                             max_iter=2000))
        self.pipeline_.fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predict the class of each row of ``X``.

        Parameters
        ----------
        X : numpy.ndarray
            Features, from :meth:`features`.

        Returns
        -------
        numpy.ndarray
            Class indices (W,).

        Raises
        ------
        RuntimeError
            If the method is not fitted.
        """
        if not hasattr(self, "classes_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")
        if self.pipeline_ is None:
            return np.full(len(X), self.classes_[0])
        return self.pipeline_.predict(X)


class WindowStatistics(LinearProbe):
    """The same logistic regression on per-channel window statistics, with no network at all.

    Features: the mean, maximum and standard deviation over the window of each channel's z-scored
    signal (78 for the 26 channels; 0 for a channel with no data). It is the control that says
    whether an encoder's embeddings carry more than a few summary numbers do.

    Parameters
    ----------
    C : float, default 1.0
        Inverse L2 strength, positive.

    Raises
    ------
    ValueError
        If ``C`` is not a positive number.
    """

    name = "window statistics"

    def __init__(self, *, C: float = 1.0):
        _check_positive("C", C)
        self.model, self.pool, self.layers, self.centre, self.C = None, None, None, None, float(C)

    def features(self, windows: xr.Dataset) -> np.ndarray:
        """Mean, maximum and SD over the window of each channel's z-scored signal (registry statistics).

        Parameters
        ----------
        windows : xarray.Dataset
            A window batch.

        Returns
        -------
        numpy.ndarray
            Features (W, 3C): the means, then the maxima, then the SDs; 0 for a channel with no data.
        """
        z = _zscore(windows)  # (W, T, C), NaN where missing
        has = ~np.isnan(z).all(axis=1)  # (W, C)
        filled = np.where(has[:, None, :], z, 0.0)  # all-missing channels: 0, without warnings
        stats = [np.nanmean(filled, axis=1), np.nanmax(filled, axis=1), np.nanstd(filled, axis=1)]
        return np.concatenate(stats, axis=1).astype(np.float32)  # (W, 3C)


class _ConvHead(nn.Module):
    def __init__(self, d_in: int, width: int, n_classes: int):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(d_in, width, 3, padding=1), nn.GELU(),
                                  nn.Conv1d(width, width, 3, padding=1), nn.GELU())
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        present = x[..., -1] > 0  # (B, Nt): the last feature flags token rows that hold data
        h = self.conv(x.transpose(1, 2)).transpose(1, 2)  # (B, Nt, D+1) -> (B, Nt, width)
        return self.head(_masked_mean(h, present, 1))


class ConvProbe(_Network):
    """A small temporal convolution over frozen token embeddings (averaged over channel groups).

    Two convolutions over the token rows in time, then a linear head on their mean over the rows
    that hold data; trained as every network here (fixed steps of AdamW on class-balanced
    cross-entropy).

    Parameters
    ----------
    model : lsmkit.pretrained.PretrainedLSM, optional
        The frozen encoder; default: the shipped one.
    width : int, default 64
        Channels of the convolutions.
    steps : int, default 300
        Training steps.
    batch_size : int, default 32
        Windows per step.
    lr : float, default 1e-3
        Learning rate.

    Raises
    ------
    ValueError
        If ``steps``, ``batch_size`` or ``width`` is not a positive integer or ``lr`` is not
        positive.
    TypeError
        If ``model`` is not a pretrained model.
    """

    name = "conv probe"

    def __init__(self, model=None, *, width: int = 64, steps: int = 300, batch_size: int = 32, lr: float = 1e-3):
        _check_network(steps, batch_size, lr, width)
        self.model, self.width, self.steps, self.batch_size, self.lr = _pretrained(model), width, steps, batch_size, lr

    def features(self, windows: xr.Dataset) -> np.ndarray:
        """Frozen token embeddings, averaged over channel groups, with a flag of the rows that hold data.

        Parameters
        ----------
        windows : xarray.Dataset
            A window batch.

        Returns
        -------
        numpy.ndarray
            Features (W, Nt, D+1): the mean over the groups with data (0 for none), then the flag.
        """
        tokens = self.model.embed(windows, pool="none").values  # (W, N, D), NaN for tokens without data
        W, N, D = tokens.shape
        groups = self.model.model.n_groups
        rows = tokens.reshape(W, N // groups, groups, D)  # (W, N, D) -> (W, Nt, G, D)
        present = ~np.isnan(rows[..., 0])  # (W, Nt, G)
        mean = np.nansum(rows, axis=2) / np.maximum(present.sum(axis=2), 1)[..., None]  # (W, Nt, D)
        flag = present.any(axis=2)[..., None].astype(np.float32)  # (W, Nt, 1)
        return np.concatenate([np.nan_to_num(mean), flag], axis=-1).astype(np.float32)  # (W, Nt, D+1)

    def build(self, X: np.ndarray, n_classes: int) -> nn.Module:
        """Build the untrained network: the convolutional head.

        Parameters
        ----------
        X : numpy.ndarray
            The training features, from :meth:`features` (they give the input sizes).
        n_classes : int
            Number of classes K.

        Returns
        -------
        torch.nn.Module
            The network, mapping a batch of features to logits (B, K).
        """
        return _ConvHead(X.shape[-1], self.width, n_classes)


# ---- networks trained on the signal ------------------------------------------------------------
class _EncoderClassifier(nn.Module):
    """An LSM encoder with a linear head on the mean of its visible tokens."""

    def __init__(self, encoder: nn.Module, n_classes: int):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.config.width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inputs = self.encoder.prepare(x)  # patches, what is present, and the weights' instance statistics
        latent, _, key_mask = self.encoder.forward_encoder(inputs["values"], inputs["present"],
                                                           stats=inputs.get("stats"))  # (B, 1+K, D)
        return self.head(_masked_mean(latent[:, 1:], key_mask[:, 1:], 1))


class FineTune(_Network):
    """The encoder with a linear head, every weight trained on the labels.

    ``pretrained=True`` starts from ``model``'s weights; ``pretrained=False`` starts the same
    architecture from random weights: the supervised from-scratch baseline. Both read the signal
    z-scored with the model's statistics and train alike, so they differ only in where they start.
    The encoder learns at ``lr``, the head at ten times that. (An earlier default of ``lr=1e-4``
    for fine-tuning scored 0.21 macro F1 at 5 shots on activity, against 0.26 at ``5e-4``.)

    Parameters
    ----------
    model : lsmkit.pretrained.PretrainedLSM, optional
        The encoder (and its statistics); default: the shipped one.
    pretrained : bool, default True
        Start from ``model``'s weights, or (False) from random weights.
    steps : int, default 100
        Training steps.
    batch_size : int, default 16
        Windows per step.
    lr : float, default 5e-4
        Learning rate of the encoder.

    Raises
    ------
    ValueError
        If ``pretrained`` is not True or False, ``steps`` or ``batch_size`` is not a positive
        integer, or ``lr`` is not positive.
    TypeError
        If ``model`` is not a pretrained model.
    """

    def __init__(self, model=None, *, pretrained: bool = True, steps: int = 100, batch_size: int = 16,
                 lr: float = 5e-4):
        if not isinstance(pretrained, (bool, np.bool_)):
            raise ValueError(f"pretrained must be True (fine-tune) or False (from scratch), got {pretrained!r}")
        _check_network(steps, batch_size, lr)
        self.model, self.pretrained = _pretrained(model), bool(pretrained)
        self.steps, self.batch_size, self.lr = steps, batch_size, lr
        self.name = "fine-tune" if pretrained else "scratch encoder"

    def features(self, windows: xr.Dataset) -> np.ndarray:
        """The signal z-scored with the model's statistics, in the model's channel order.

        Parameters
        ----------
        windows : xarray.Dataset
            A window batch.

        Returns
        -------
        numpy.ndarray
            Windows (W, T, C), NaN where missing.
        """
        # the wrapper's own channel order and window-length check, then its z-scoring: (W, T, C)
        return (self.model._signal(windows) - self.model.mean) / self.model.std

    def build(self, X: np.ndarray, n_classes: int) -> nn.Module:
        """Build the untrained network: the encoder with a linear head on the mean of its visible tokens.

        The encoder is a copy of the model's (``pretrained=True``) or the same architecture with
        random weights.

        Parameters
        ----------
        X : numpy.ndarray
            The training features, from :meth:`features` (they give the input sizes).
        n_classes : int
            Number of classes K.

        Returns
        -------
        torch.nn.Module
            The network, mapping a batch of features to logits (B, K).
        """
        if self.pretrained:
            encoder = copy.deepcopy(self.model.model).cpu()  # probes train on the CPU
        else:
            encoder = type(self.model.model)(self.model.model.config)
        encoder.requires_grad_(True)
        return _EncoderClassifier(encoder, n_classes)

    def param_groups(self, net: nn.Module) -> list[dict]:
        """The optimiser's parameter groups: the encoder at ``lr``, the head at ten times that.

        Parameters
        ----------
        net : torch.nn.Module
            The network from :meth:`build`.

        Returns
        -------
        list of dict
            AdamW parameter groups.
        """
        return [{"params": net.encoder.parameters(), "lr": self.lr},
                {"params": net.head.parameters(), "lr": 10 * self.lr}]


class _CNNNet(nn.Module):
    def __init__(self, n_channels: int, width: int, n_classes: int):
        super().__init__()
        layers, d = [], 2 * n_channels  # values and which of them are present
        for out in (width, 2 * width, 2 * width):
            layers += [nn.Conv1d(d, out, 5, stride=2, padding=2), nn.BatchNorm1d(out), nn.GELU()]
            d = out
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(d, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        present = ~torch.isnan(x)
        h = torch.cat([torch.nan_to_num(x), present.float()], dim=-1).transpose(1, 2)  # (B, T, 2C) -> (B, 2C, T)
        return self.head(self.body(h).mean(-1))  # (B, D, T/8) -> (B, D) -> (B, K)


class CNN(_Network):
    """A small 1-D CNN over the z-scored minutes (registry statistics), trained from scratch.

    Three strided convolutions over the values and which of them are present, then a linear head
    on their mean over time.

    Parameters
    ----------
    width : int, default 32
        Channels of the first convolution (the others have twice as many).
    steps : int, default 300
        Training steps.
    batch_size : int, default 32
        Windows per step.
    lr : float, default 2e-3
        Learning rate.

    Raises
    ------
    ValueError
        If ``steps``, ``batch_size`` or ``width`` is not a positive integer or ``lr`` is not
        positive.
    """

    name = "1-D CNN"

    def __init__(self, *, width: int = 32, steps: int = 300, batch_size: int = 32, lr: float = 2e-3):
        _check_network(steps, batch_size, lr, width)
        self.width, self.steps, self.batch_size, self.lr = width, steps, batch_size, lr

    def features(self, windows: xr.Dataset) -> np.ndarray:
        """The signal z-scored with the registry's statistics, all 26 channels in canonical order.

        Parameters
        ----------
        windows : xarray.Dataset
            A window batch.

        Returns
        -------
        numpy.ndarray
            Windows (W, T, C), NaN where missing.
        """
        return _zscore(windows)

    def build(self, X: np.ndarray, n_classes: int) -> nn.Module:
        """Build the untrained network: the 1-D CNN.

        Parameters
        ----------
        X : numpy.ndarray
            The training features, from :meth:`features` (they give the input sizes).
        n_classes : int
            Number of classes K.

        Returns
        -------
        torch.nn.Module
            The network, mapping a batch of features to logits (B, K).
        """
        return _CNNNet(X.shape[-1], self.width, n_classes)


def default_methods(model=None, *, fine_tune: bool = True) -> dict:
    """The paper's comparison: linear probe, conv probe, (fine-tuning,) and both from-scratch baselines.

    Parameters
    ----------
    model : lsmkit.pretrained.PretrainedLSM, optional
        The pretrained model; default: the shipped one.
    fine_tune : bool, default True
        Include :class:`FineTune` from the pretrained weights (the slowest method).

    Returns
    -------
    dict
        ``{name: method}`` for :func:`evaluate` and :func:`few_shot`.
    """
    model = _pretrained(model)
    methods = [LinearProbe(model), ConvProbe(model)]
    if fine_tune:
        methods.append(FineTune(model))
    methods += [FineTune(model, pretrained=False), CNN()]
    return {m.name: m for m in methods}


# ---- evaluation --------------------------------------------------------------------------------
def _methods(methods) -> dict:
    if isinstance(methods, Mapping):
        methods = dict(methods)
    elif hasattr(methods, "features"):
        methods = {methods.name: methods}
    elif isinstance(methods, (str, bytes)) or not isinstance(methods, Iterable):
        raise TypeError(f"methods must be a method (e.g. LinearProbe()), a list of them or a {{name: method}} "
                        f"dict, got {methods!r}; default_methods() gives the paper's comparison")
    else:
        methods = list(methods)
        names = [getattr(m, "name", type(m).__name__) for m in methods]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"methods {repeated} share a name; pass a {{name: method}} dict to tell them apart")
        methods = dict(zip(names, methods))
    if not methods:
        raise ValueError("no methods to evaluate: pass at least one (default_methods() gives the paper's)")
    for name, m in methods.items():
        missing = [a for a in ("features", "fit", "predict") if not callable(getattr(m, a, None))]
        if missing:
            raise TypeError(f"method {name!r} lacks {', '.join(missing)} (see lsmkit.probe)")
    return methods


def _check_bootstrap(n_boot, level) -> None:
    if not (_is_whole(n_boot) and n_boot >= 0):
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if not (_is_real(level) and 0 < level < 1):
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")


def _task_labels(windows: xr.Dataset, label: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """:func:`labels`, refusing labels that leave nothing to classify."""
    y, names = labels(windows, label)
    present = np.unique(y)
    if len(present) == 0:
        raise ValueError(f"no windows to classify: the window batch with label {label!r} is empty")
    if len(present) == 1:
        raise ValueError(f"{label!r} has a single class ({names[present[0]]!r}) in these {len(y)} windows; "
                         "a classifier needs at least 2")
    return y, names


def _bootstrap_scores(y_true, y_pred, people, n_classes, draws, level) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each score over test participants resampled with replacement
    (``draws``: ``(n_boot, n_people)`` participant indices, shared by every method); NaN without draws."""
    if len(draws) == 0:
        return {m: (np.nan, np.nan) for m in CLASSIFICATION_METRICS}
    _, person = np.unique(people, return_inverse=True)
    rows = [np.flatnonzero(person == p) for p in range(person.max() + 1)]
    scores = []
    for sample in draws:
        idx = np.concatenate([rows[p] for p in sample])
        scores.append([classification_scores(y_true[idx], y_pred[idx], n_classes)[m] for m in CLASSIFICATION_METRICS])
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(np.array(scores), [tail, 100 - tail], axis=0)
    return {m: (lo, hi) for m, lo, hi in zip(CLASSIFICATION_METRICS, low, high)}


def evaluate(methods, windows: xr.Dataset, label: str = "label", *, test_fraction: float = 0.3,
             n_boot: int = 1000, level: float = 0.95, rng=None, progress: bool = False) -> pd.DataFrame:
    """Fit every method on one participant-disjoint split and score it on the held-out side.

    Every method gets the same split, the same training seed and the same bootstrap samples, so
    its scores do not depend on which other methods are listed.

    Parameters
    ----------
    methods : method, list of methods or dict
        One method, a list, or a ``{name: method}`` dict (e.g. :func:`default_methods`).
    windows : xarray.Dataset
        A labelled window batch.
    label : str, default "label"
        The per-window label variable (see :func:`labels`); a single class is refused.
    test_fraction : float, default 0.3
        Share of the windows held out (see :func:`split_participants`).
    n_boot : int, default 1000
        Bootstrap samples over test participants; 0 gives NaN intervals.
    level : float, default 0.95
        Coverage of the intervals.
    rng : int or numpy.random.Generator, optional
        Source of the split, the training seed and the bootstrap samples.
    progress : bool, default False
        Show a progress bar over methods.

    Returns
    -------
    pandas.DataFrame
        One row per method and metric: ``method, metric, value, low, high, n_train, n_test``
        (interval: percentile bootstrap over test participants at ``level``).

    Raises
    ------
    ValueError
        If the label has a single class or none, the methods share a name or are none, or an option
        is out of range.
    TypeError
        If ``methods`` is not a method, a list of them or a dict, or a method lacks ``features``,
        ``fit`` or ``predict``.

    Examples
    --------
    >>> table = evaluate(default_methods(model), windows, rng=0)
    """
    methods = _methods(methods)
    _check_bootstrap(n_boot, level)
    y, names = _task_labels(windows, label)
    n_boot = int(n_boot)
    rng = np.random.default_rng(rng)
    train, test = split_participants(windows, y, test_fraction=test_fraction, rng=rng)
    seed = int(rng.integers(2**31))
    people = np.asarray(windows["participant"].values).astype(str)[test]
    n_people = len(np.unique(people))
    draws = rng.integers(n_people, size=(n_boot, n_people))
    rows = []
    for name, method in _progress(methods.items(), progress, "methods"):
        X = method.features(windows)
        method.fit(X[train], y[train], len(names), rng=seed)
        pred = method.predict(X[test])
        scores = classification_scores(y[test], pred, len(names))
        intervals = _bootstrap_scores(y[test], pred, people, len(names), draws, level)
        rows += [{"method": name, "metric": m, "value": scores[m], "low": intervals[m][0], "high": intervals[m][1],
                  "n_train": len(train), "n_test": len(test)} for m in CLASSIFICATION_METRICS]
    return pd.DataFrame(rows)


def few_shot(methods, windows: xr.Dataset, label: str = "label", *, shots: Sequence = SHOTS, draws: int = 5,
             test_fraction: float = 0.3, rng=None, progress: bool = True) -> pd.DataFrame:
    """Scores with ``k`` labelled training windows per class, for every ``k`` in ``shots``.

    Each draw splits participants anew and samples at most ``k`` windows of each class from the
    training side; every method sees the same split and sample. A draw's split and samples depend
    only on ``rng`` and the draw's number, not on the other ``shots`` or methods asked for, so
    separate calls (say, cheap probes at every ``k`` and expensive networks at small ``k`` only)
    compare methods on the same windows; within a draw the samples are nested (the 10-shot sample
    holds the 5-shot one). A class with fewer than ``k`` training windows contributes all of them.
    Features are computed once per method.

    Parameters
    ----------
    methods : method, list of methods or dict
        One method, a list, or a ``{name: method}`` dict (e.g. :func:`default_methods`).
    windows : xarray.Dataset
        A labelled window batch.
    label : str, default "label"
        The per-window label variable (see :func:`labels`); a single class is refused.
    shots : sequence of int or None, default (1, 2, 5, 10, 20, 50, None)
        Labelled training windows per class; ``None``: all of them.
    draws : int, default 5
        Participant splits and samples per ``k``.
    test_fraction : float, default 0.3
        Share of the windows held out (see :func:`split_participants`).
    rng : int or numpy.random.Generator, optional
        Source of the splits, samples and training seeds.
    progress : bool, default True
        Show a progress bar per method.

    Returns
    -------
    pandas.DataFrame
        One row per method, shots and draw with ``n_train, n_test`` and the scores of
        :data:`lsmkit.metrics.CLASSIFICATION_METRICS`; ``shots`` is ``-1`` for "all".

    Raises
    ------
    ValueError
        If the label has a single class or none, ``shots`` is empty or holds something other than
        positive integers and None, ``draws`` is not a positive integer, or the methods are invalid.
    TypeError
        If ``shots`` is not a sequence or ``methods`` is not a method, list or dict of them.

    See Also
    --------
    summarise : Means over draws with intervals.

    Examples
    --------
    >>> table = few_shot(LinearProbe(model), windows, shots=(1, 5, None), rng=0)
    >>> summary = summarise(table)
    """
    methods = _methods(methods)
    _check_count("draws", draws)
    if isinstance(shots, (str, bytes)) or not isinstance(shots, Iterable):
        raise TypeError(f"shots must be a sequence of shot counts such as (1, 5, None), got {shots!r}")
    shots = list(shots)
    if not shots:
        raise ValueError("shots is empty: give at least one number of labelled windows per class (None: all)")
    for k in shots:
        if k is not None and not (_is_whole(k) and k >= 1):
            raise ValueError(f"shots must be positive integers or None (all), got {k!r} in {shots}")
    y, names = _task_labels(windows, label)
    root = int(np.random.default_rng(rng).integers(2**63))
    plan = []  # (draw, k, train, test, seed): the same for every method
    for d in range(int(draws)):
        # one stream per draw and purpose: [root, d, 1] for every k gives the same per-class order,
        # hence nested samples; None ("all") is coded 0 in the training seed's stream
        split = np.random.default_rng([root, d, 0])
        train, test = split_participants(windows, y, test_fraction=test_fraction, rng=split)
        for k in shots:
            picked = train[sample_shots(y[train], k, np.random.default_rng([root, d, 1]))]
            seed = int(np.random.default_rng([root, d, 2, 0 if k is None else k]).integers(2**31))
            plan.append((d, k, picked, test, seed))
    rows = []
    for name, method in methods.items():
        X = method.features(windows)
        for d, k, train, test, seed in _progress(plan, progress, name):
            method.fit(X[train], y[train], len(names), rng=seed)
            scores = classification_scores(y[test], method.predict(X[test]), len(names))
            rows.append({"method": name, "shots": -1 if k is None else int(k), "draw": d,
                         "n_train": len(train), "n_test": len(test), **scores})
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame, *, n_boot: int = 2000, level: float = 0.95, rng=0) -> pd.DataFrame:
    """Mean of each score over draws with a percentile-bootstrap interval (draws resampled).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`few_shot`'s table (with a ``task`` column too, as the benchmark writes it: then each
        task is summarised on its own).
    n_boot : int, default 2000
        Bootstrap samples; 0 gives NaN ``low`` and ``high``.
    level : float, default 0.95
        Coverage of the intervals.
    rng : int or numpy.random.Generator, default 0
        Source of the bootstrap samples.

    Returns
    -------
    pandas.DataFrame
        Columns ``[task,] method, shots, metric, mean, low, high, draws``.

    Raises
    ------
    ValueError
        If ``table`` is not :func:`few_shot`'s (columns method, shots and scores), is empty, or has
        non-numeric or missing scores, or ``n_boot`` or ``level`` is out of range.
    """
    metrics = [m for m in CLASSIFICATION_METRICS if m in table]
    if not metrics or not {"method", "shots"} <= set(table.columns):
        raise ValueError("expected few_shot's table (columns method, shots and scores)")
    if len(table) == 0:
        raise ValueError("the table is empty: nothing to summarise (did few_shot get any shots or methods?)")
    for m in metrics:
        if not pd.api.types.is_numeric_dtype(table[m]) or pd.api.types.is_bool_dtype(table[m]):
            raise ValueError(f"score column {m!r} must hold numbers, got {table[m].dtype} values")
        if table[m].isna().any():
            raise ValueError(f"score column {m!r} has missing values in rows "
                             f"{table.index[table[m].isna()][:5].tolist()}; drop or rescore those draws first")
    _check_bootstrap(n_boot, level)
    keys = ["task", "method", "shots"] if "task" in table else ["method", "shots"]
    rng, tail, rows = np.random.default_rng(rng), 100 * (1 - level) / 2, []
    for key, group in table.groupby(keys, sort=False):
        for m in metrics:
            v = group[m].to_numpy()
            boot = v[rng.integers(len(v), size=(int(n_boot), len(v)))].mean(axis=1)
            low, high = np.percentile(boot, [tail, 100 - tail]) if n_boot else (np.nan, np.nan)
            rows.append({**dict(zip(keys, key)), "metric": m, "mean": v.mean(), "low": low, "high": high,
                         "draws": len(v)})
    return pd.DataFrame(rows)


# ---- embeddings in two dimensions --------------------------------------------------------------
def project(embeddings, method: str = "pca", *, rng=None) -> np.ndarray:
    """A two-dimensional projection of embeddings, for plotting.

    Parameters
    ----------
    embeddings : array-like
        Embeddings (W, D), finite, with at least 3 windows and 2 features.
    method : {"pca", "umap"}, default "pca"
        ``"pca"`` (standardised) or ``"umap"`` (needs the optional ``umap-learn`` package).
    rng : int or numpy.random.Generator, optional
        Seed of UMAP.

    Returns
    -------
    numpy.ndarray
        The projection (W, 2).

    Raises
    ------
    ValueError
        If ``method`` is unknown or ``embeddings`` is not a finite (window, feature) array of
        numbers with at least 3 windows and 2 features.
    ImportError
        If ``method="umap"`` and ``umap-learn`` is not installed.
    """
    if method not in ("pca", "umap"):
        raise ValueError(f"method must be 'pca' or 'umap', got {method!r}")
    try:
        X = np.asarray(embeddings, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"embeddings must be a (window, feature) array of numbers: {err}") from None
    if X.ndim != 2 or len(X) < 3 or X.shape[1] < 2:
        raise ValueError(f"embeddings must be (window, feature) with at least 3 windows and 2 features, "
                         f"got shape {X.shape}")
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if bad.size:
        raise ValueError(f"embeddings must be finite; {bad.size} windows hold NaN or inf, e.g. rows "
                         f"{bad[:5].tolist()}; drop those windows first")
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
    if method == "pca":
        u, s, _ = np.linalg.svd(X, full_matrices=False)
        out = u[:, :2] * s[:2]
        return out * np.sign(out[np.abs(out).argmax(0), [0, 1]])  # a deterministic sign per axis
    try:  # method == "umap"
        import umap
    except ImportError as err:
        raise ImportError("method='umap' needs the umap-learn package: pip install umap-learn") from err
    return umap.UMAP(n_components=2, random_state=_seed(rng)).fit_transform(X)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(list(items), desc=desc, leave=False)
