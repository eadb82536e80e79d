"""NumPy arrays: an .npz holding X and y (optionally X_val, y_val), or an .npy pair.

Never unpickled (allow_pickle=False: a data file must not run code). A plain .npy is memory-
mapped, so a large X is read from disk while it is split rather than loaded twice.
"""

from __future__ import annotations

import contextlib
import logging
import tokenize
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from workbench.data.assemble import assemble, check_finite
from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.labels import check_regression_target, encode_classes, infer_task
from workbench.data.options import Options
from workbench.data.paths import resolve_file
from workbench.errors import DataError

log = logging.getLogger(__name__)

# What numpy raises for a damaged header (it parses the header's dict with ast and tokenize)
# or a damaged archive member, besides ValueError and OSError.
_DAMAGED = (SyntaxError, tokenize.TokenError, zlib.error, zipfile.BadZipFile, EOFError)


@contextlib.contextmanager
def _no_python2_hint() -> Iterator[None]:
    # A damaged header makes numpy retry it as a Python 2 file and say so; the file is then
    # read anyway or refused with a DataError, so the hint to "save it again" is noise.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Reading `.npy` or `.npz` file required additional header parsing")
        yield


def _load_npy(path: Path) -> np.ndarray:
    try:
        with _no_python2_hint():
            return np.load(path, mmap_mode="r", allow_pickle=False)
    except _DAMAGED as exc:
        raise DataError(f"{path} is not a valid .npy file (its header is damaged: {exc})") from exc
    except ValueError as exc:
        raise DataError(f"{path} cannot be read as a NumPy array without unpickling ({exc}); "
                        f"save plain numeric arrays") from exc
    except OSError as exc:
        raise DataError(f"{path} is not a valid .npy file ({exc})") from exc


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with _no_python2_hint(), np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise DataError(f"{path} holds a single array, not an .npz archive of X and y")
            return {name: archive[name] for name in archive.files}
    except (*_DAMAGED, OSError, NotImplementedError) as exc:  # NotImplementedError: zip method
        raise DataError(f"{path} is not a valid .npz file ({exc}); write it with numpy.savez") from exc
    except ValueError as exc:
        raise DataError(f"{path}: an array needs unpickling to load ({exc}); store plain numeric "
                        f"arrays (no object dtype)") from exc


def _pick(arrays: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    for key in (name, name.lower()):
        if key in arrays:
            return arrays[key]
    return None


def load_npz(spec: DatasetSpec, path: Path, base_dir: Path | None) -> DataBundle:
    where = f"array file {path}"
    opts = Options(spec.options, where)
    task_opt = opts.choice("task", "auto", ("auto", "classification", "regression"))
    norm = opts.choice("normalize", "auto", ("auto", "feature", "channel", "global", "none"))
    labels_opt = opts.str("labels", None)
    opts.finish()

    if path.suffix.lower() == ".npy":
        if labels_opt is None:
            raise DataError(f"{where}: a .npy file holds only X; set option labels to the .npy "
                            f"file with y, or save both with numpy.savez(X=..., y=...)")
        x = _load_npy(path)
        y_path = resolve_file(labels_opt, base_dir, f"{where}, option 'labels'")
        y = np.asarray(_load_npy(y_path))
        x_val = y_val = None
    else:
        arrays = _load_npz(path)
        x, y = _pick(arrays, "X"), _pick(arrays, "y")
        x_val, y_val = _pick(arrays, "X_val"), _pick(arrays, "y_val")
        found = ", ".join(sorted(arrays)) or "no arrays"
        if x is None or y is None:
            missing = "X" if x is None else "y"
            raise DataError(f"{where} has no array '{missing}' (it holds: {found}); save the "
                            f"inputs as X and the targets as y, e.g. numpy.savez(f, X=X, y=y)")
        if (x_val is None) != (y_val is None):
            raise DataError(f"{where}: X_val and y_val must come together (it holds: {found})")

    x, y = _check_pair(x, y, where, "X", "y")
    if x_val is not None:
        x_val, y_val = _check_pair(x_val, y_val, where, "X_val", "y_val")
        if x_val.shape[1:] != x.shape[1:]:
            raise DataError(f"{where}: X_val samples have shape {x_val.shape[1:]}, X samples "
                            f"{x.shape[1:]}; they must match")

    task = infer_task(y) if task_opt == "auto" else task_opt
    class_names = None
    if task == "classification":
        if y.ndim != 1:
            raise DataError(f"{where}: class labels y must be one value per sample, shape (N,), "
                            f"got {y.shape}")
        y, class_names, y_val = encode_classes(y, where, "y", y_val)
    else:
        y = check_regression_target(y, where, "y")
        if y_val is not None:
            y_val = check_regression_target(y_val, where, "y_val")
    if norm == "auto":
        norm = "channel" if x.ndim == 4 else "feature" if x.ndim == 2 else "global"
    log.info("%s: %s, X %s, %s normalisation", where, task, x.shape, norm)
    return assemble(
        x, y, spec=spec, where=where, task=task, class_names=class_names, norm=norm,
        val=None if x_val is None else (x_val, y_val),
        description=f"{path.name}: {len(x)} samples, {task}",
    )


def _check_pair(x: np.ndarray, y: np.ndarray, where: str, xn: str, yn: str
                ) -> tuple[np.ndarray, np.ndarray]:
    if x.dtype.kind not in "biuf":
        raise DataError(f"{where}: {xn} must be numeric, got dtype {x.dtype}")
    if x.ndim == 0 or len(x) == 0:
        raise DataError(f"{where}: {xn} is empty")
    if x.ndim == 1:
        x = x[:, None]  # one feature per sample
    if y.ndim == 0 or len(y) != len(x):
        raise DataError(f"{where}: {xn} has {len(x)} samples but {yn} has "
                        f"{len(y) if y.ndim else 'a single value'}; they must match")
    check_finite(x, where, xn)
    return x, y
