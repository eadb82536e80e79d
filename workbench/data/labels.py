"""Targets from user arrays or columns: class ids and names, or regression values."""

from __future__ import annotations

from typing import Literal

import numpy as np

from workbench.errors import DataError

MAX_AUTO_CLASSES = 20  # whole-number targets with at most this many values are taken as classes
MIN_ROWS_PER_CLASS = 10  # beyond that, integer labels are classes only with this many rows per value


def class_name(value: object) -> str:
    """'3' rather than '3.0' for integral numbers, the text itself otherwise."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def infer_task(y: np.ndarray) -> Literal["classification", "regression"]:
    """The task a target suggests when the user did not say (the reader's option task: auto).

    - text and booleans are class labels;
    - whole numbers are class ids when they take at most MAX_AUTO_CLASSES values (0/1, ratings,
      digits; also 0.0/1.0 written by a spreadsheet), or, stored as integers (an .npz y), when
      every value has MIN_ROWS_PER_CLASS rows on average (the labels of a large labelled set);
    - any other number is a quantity: regression. 150 different whole numbers in 300 rows are
      counts or measurements, not 150 classes of two samples each.
    """
    if y.dtype.kind in "USOb":
        return "classification"
    values = np.unique(y)
    if y.dtype.kind not in "iu" and not np.all(np.equal(np.mod(values, 1), 0)):
        return "regression"
    if len(values) <= MAX_AUTO_CLASSES:
        return "classification"
    if y.dtype.kind in "iu" and len(y) >= MIN_ROWS_PER_CLASS * len(values):
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
