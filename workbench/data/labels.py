"""Targets from user arrays or columns: class ids and names, or regression values."""

from __future__ import annotations

from typing import Literal

import numpy as np

from workbench.errors import DataError

MAX_AUTO_CLASSES = 20  # integer targets with at most this many values are taken as classes


def class_name(value: object) -> str:
    """'3' rather than '3.0' for integral numbers, the text itself otherwise."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def infer_task(y: np.ndarray) -> Literal["classification", "regression"]:
    """Text, bool and integer labels are classes; floats are classes only when they are
    whole numbers with few distinct values (e.g. 0.0/1.0 written by a spreadsheet)."""
    if y.dtype.kind in "USObiu":
        return "classification"
    values = np.unique(y)
    if np.all(np.equal(np.mod(values, 1), 0)) and len(values) <= MAX_AUTO_CLASSES:
        return "classification"
    return "regression"


def encode_classes(y: np.ndarray, where: str, what: str,
                   extra: np.ndarray | None = None) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """Class ids 0..K-1 (sorted values) for `y` (and `extra`, e.g. a separate validation set)."""
    values = np.unique(y if extra is None else np.concatenate([y, extra]))
    if len(values) < 2:
        raise DataError(
            f"{where}: {what} has a single value ({class_name(values[0]) if len(values) else 'none'})"
            f" in every row; a classifier needs at least two classes"
        )
    ids = np.searchsorted(values, y).astype(np.int64)
    extra_ids = None if extra is None else np.searchsorted(values, extra).astype(np.int64)
    return ids, [class_name(v) for v in values], extra_ids


def check_regression_target(y: np.ndarray, where: str, what: str) -> np.ndarray:
    if y.dtype.kind not in "biuf":
        raise DataError(f"{where}: {what} holds text, so it cannot be a regression target; "
                        f"use task 'classification'")
    y = y.astype(np.float64)
    if not np.isfinite(y).all():
        bad = int(np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(axis=1))[0])
        raise DataError(f"{where}: {what} has a NaN or infinite value at entry {bad}")
    if np.all(y == y.reshape(len(y), -1)[0]):
        raise DataError(f"{where}: {what} has the same value in every row; there is nothing "
                        f"to learn")
    return y
