"""From whole arrays to a DataBundle: split, statistics on train, tensors.

Readers for the built-in and user sets parse their files into one `x` array (N, ...) and one
`y` array (N,) or (N, k) and hand them here, so that splitting and normalisation behave the
same for every source.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.splits import apply_channel_stats, channel_stats, feature_stats, split_indices
from workbench.errors import DataError

Norm = Literal["feature", "channel", "global", "none"]


def check_finite(x: np.ndarray, where: str, what: str = "inputs") -> None:
    """NaN or infinity in numeric data: name the first row instead of training on NaN loss."""
    if np.issubdtype(x.dtype, np.floating):
        finite = np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise DataError(
                f"{where}: {what} contain NaN or infinite values in {len(bad)} row(s), first at "
                f"entry {int(bad[0])}; remove or replace them"
            )


def _check_class_ids(y: np.ndarray, where: str) -> None:
    """Class ids are whole numbers from 0: a cast to int64 would silently turn 0.5 into class 0."""
    if y.dtype.kind == "f":
        with np.errstate(invalid="ignore"):  # NaN and inf are caught as not whole
            bad = y[~np.isfinite(y) | (np.mod(y, 1) != 0) | (y < 0)]
    elif y.dtype.kind == "i":
        bad = y[y < 0]
    else:
        return
    if bad.size:
        raise DataError(f"{where}: class labels must be whole numbers from 0, got {bad.flat[0].item()!r}; "
                        f"use task 'regression' for a quantity")


def normalise(x_train: np.ndarray, x_val: np.ndarray, norm: Norm
              ) -> tuple[np.ndarray, np.ndarray, dict[str, list[float]] | None]:
    """Standardise both parts with statistics of the train part only."""
    x_train = x_train.astype(np.float32, copy=False)
    x_val = x_val.astype(np.float32, copy=False)
    if norm == "none":
        return x_train, x_val, None
    if norm == "channel" and x_train.ndim >= 3:
        mean, std = channel_stats(x_train)
        return (apply_channel_stats(x_train, mean, std), apply_channel_stats(x_val, mean, std),
                {"mean": mean.tolist(), "std": std.tolist()})
    if norm == "global" or (norm == "channel" and x_train.ndim < 3):
        mean = np.array([x_train.mean(dtype=np.float64)])
        std = np.array([x_train.std(dtype=np.float64)])
        std = np.where(std > 1e-12, std, 1.0)
        return (((x_train - mean[0]) / std[0]).astype(np.float32),
                ((x_val - mean[0]) / std[0]).astype(np.float32),
                {"mean": mean.tolist(), "std": std.tolist()})
    # Per feature: flatten the sample axes, keep one mean/std per element.
    flat_tr = x_train.reshape(len(x_train), -1)
    mean, std = feature_stats(flat_tr)
    out_tr = ((flat_tr - mean) / std).astype(np.float32).reshape(x_train.shape)
    out_va = ((x_val.reshape(len(x_val), -1) - mean) / std).astype(np.float32).reshape(x_val.shape)
    return out_tr, out_va, {"mean": mean.tolist(), "std": std.tolist()}


def assemble(
    x: np.ndarray,
    y: np.ndarray,
    *,
    spec: DatasetSpec,
    where: str,
    task: Literal["classification", "regression"],
    class_names: list[str] | None = None,
    norm: Norm = "feature",
    description: str = "",
    val: tuple[np.ndarray, np.ndarray] | None = None,
    encoding: dict[str, Any] | None = None,
) -> DataBundle:
    """Split (unless `val` is given), normalise on train, and wrap in datasets.

    Classification `y` must already be class ids 0..K-1; regression `y` is (N,) or (N, k)
    and is standardised per column on train (stored as target_mean / target_std).
    """
    from workbench.data.datasets import tensor_dataset  # torch: only when data is loaded

    if val is None:
        stratify = y if task == "classification" else None
        tr, va = split_indices(len(x), spec.val_fraction, spec.seed, where, stratify=stratify)
        x_tr, y_tr, x_va, y_va = x[tr], y[tr], x[va], y[va]
    else:
        x_tr, y_tr = x, y
        x_va, y_va = val
    x_tr, x_va, stats = normalise(np.asarray(x_tr), np.asarray(x_va), norm)

    if task == "classification":
        _check_class_ids(np.asarray(y_tr), where)
        _check_class_ids(np.asarray(y_va), where)
        y_tr = np.asarray(y_tr).astype(np.int64)
        y_va = np.asarray(y_va).astype(np.int64)
        if class_names is None:
            class_names = [str(i) for i in range(int(max(y_tr.max(), y_va.max())) + 1)]
        num_outputs, target_shape = len(class_names), ()
    else:
        y_tr = np.asarray(y_tr, dtype=np.float64)
        y_va = np.asarray(y_va, dtype=np.float64)
        if y_tr.ndim == 1:
            y_tr, y_va = y_tr[:, None], y_va[:, None]
        t_mean, t_std = feature_stats(y_tr.reshape(len(y_tr), -1))
        y_tr = ((y_tr - t_mean) / t_std).astype(np.float32)
        y_va = ((y_va - t_mean) / t_std).astype(np.float32)
        stats = dict(stats or {})
        stats["target_mean"] = t_mean.tolist()
        stats["target_std"] = t_std.tolist()
        num_outputs, target_shape = int(np.prod(y_tr.shape[1:])), tuple(y_tr.shape[1:])
        class_names = None

    train_ds = tensor_dataset(x_tr, y_tr)
    return DataBundle(
        train=train_ds,
        val=tensor_dataset(x_va, y_va),
        task=task,
        input_shape=tuple(int(d) for d in x_tr.shape[1:]),
        input_dtype="float32",
        num_outputs=num_outputs,
        target_shape=target_shape,
        class_names=class_names,
        normalization=stats,
        description=description,
        encoding=encoding,
    )
