"""Seeded train/validation splits and statistics computed on the training rows only.

Every reader splits first and computes means and standard deviations afterwards, on the train
rows, so that nothing about the validation rows leaks into the inputs the model sees.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from workbench.errors import DataError

log = logging.getLogger(__name__)


def check_val_fraction(val_fraction: float, where: str) -> float:
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) \
            or not 0.0 < float(val_fraction) < 1.0:
        raise DataError(
            f"{where}: val_fraction must be a number between 0 and 1 (e.g. 0.2), "
            f"got {val_fraction!r}"
        )
    return float(val_fraction)


def val_count(n: int, val_fraction: float, where: str) -> int:
    """Rows held out: ceil(n * fraction) as scikit-learn does, leaving >= 1 row on each side."""
    if n < 2:
        raise DataError(f"{where}: {n} usable row(s); at least 2 are needed to train and validate")
    return min(max(1, math.ceil(n * val_fraction)), n - 1)


def split_indices(n: int, val_fraction: float, seed: int, where: str,
                  stratify: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and validation row indices.

    With `stratify` (class labels) each class keeps its share in both parts; when a class is
    too small for that (a single row) the split falls back to a plain shuffled one.
    """
    val_fraction = check_val_fraction(val_fraction, where)
    n_val = val_count(n, val_fraction, where)
    rng = np.random.default_rng(seed)
    if stratify is not None:
        classes, counts = np.unique(stratify, return_counts=True)
        if counts.min() >= 2 and n_val >= len(classes) and n - n_val >= len(classes):
            return _stratified(stratify, classes, counts, n_val, rng)
        log.info("%s: a class has fewer than 2 rows; using a plain (unstratified) split", where)
    order = rng.permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _stratified(labels: np.ndarray, classes: np.ndarray, counts: np.ndarray, n_val: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # Largest-remainder allocation: each class gets floor(share), the leftover rows go to the
    # classes with the biggest fractional parts, and no class loses all its train rows.
    share = counts * (n_val / counts.sum())
    per_class = np.floor(share).astype(np.int64)
    rest = n_val - int(per_class.sum())
    if rest > 0:
        tiebreak = rng.random(len(classes))
        order = np.lexsort((tiebreak, -(share - per_class)))
        for k in order:
            if rest == 0:
                break
            if per_class[k] < counts[k] - 1:
                per_class[k] += 1
                rest -= 1
    train, val = [], []
    for cls, k_val in zip(classes, per_class):
        rows = rng.permutation(np.flatnonzero(labels == cls))
        val.append(rows[:k_val])
        train.append(rows[k_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def feature_stats(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and std of a (N, F) train matrix; constant columns get std 1 so that
    they become 0 instead of NaN."""
    mean = x_train.mean(axis=0, dtype=np.float64)
    std = x_train.std(axis=0, dtype=np.float64)
    return mean, np.where(std > 1e-12, std, 1.0)


def channel_stats(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of a (N, C, ...) train array."""
    axes = tuple(i for i in range(x_train.ndim) if i != 1)
    mean = x_train.mean(axis=axes, dtype=np.float64)
    std = x_train.std(axis=axes, dtype=np.float64)
    return mean, np.where(std > 1e-12, std, 1.0)


def apply_channel_stats(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return ((x - mean.reshape(shape)) / std.reshape(shape)).astype(np.float32)
