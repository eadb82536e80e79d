"""The one entry point from a DatasetSpec to a DataBundle, for the engine, the CLI and the GUI.

`spec.source` is either a built-in dataset or a reader for the user's own file; anything a
user can get wrong comes back as a DataError naming the file, the entry and the fix.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.data.builtin import BUILTINS
from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.errors import DataError

log = logging.getLogger(__name__)


# Reader name -> (what path points at, description, "module:loader"). The loaders (and torch
# with them) are imported when data is loaded, not when the readers are listed (the GUI's
# data-source menu is filled while the window is built).
_READERS: dict[str, tuple[str, str, str]] = {
    # One reader for tables, whatever their format (told by the file's content): old project
    # files name it "csv", and its options (target, task, missing, ignore) are the same for both.
    "csv": ("file", "Table: CSV/TSV text or Parquet; one row per sample, a target column",
            "workbench.data.tabular:load_csv"),
    "images": ("folder", "Images: class sub-folders, train/ + val/ folders, or a path,label[,split] "
               "manifest (JPEG, PNG, WebP, BMP, GIF, TIFF)",
               "workbench.data.images:load_image_folder"),
    "npz": ("file", "NumPy .npz with arrays X and y (optionally X_val, y_val), or a .npy",
            "workbench.data.arrays:load_npz"),
    "textfile": ("file", "Any UTF-8 text file, for a character-level language model",
                 "workbench.data.text:load_textfile"),
    "idx": ("file", "MNIST-style IDX images file (optionally .gz) plus a labels file",
            "workbench.data.idx:load_idx"),
    "seq2seq": ("file", "Text pairs for sequence to sequence: a CSV or TSV with columns source and target",
                "workbench.data.seq2seq:load_pairs"),
}


def _readers() -> dict[str, tuple[str, str, Callable[[DatasetSpec, Path, Path | None], DataBundle]]]:
    """Reader name -> (what path points at, description, loader); imports every reader."""
    import importlib

    readers = {}
    for name, (kind, description, target) in _READERS.items():
        module, _, function = target.partition(":")
        readers[name] = (kind, description, getattr(importlib.import_module(module), function))
    return readers


READER_NAMES = ("csv", "images", "npz", "textfile", "idx", "seq2seq")


def path_kind(source: str, kind: str) -> str:
    """What a reader's path may be when it is resolved: the image reader also takes a manifest file."""
    return "folder or manifest" if source == "images" else kind


def list_builtin_datasets() -> list[dict[str, Any]]:
    """Built-in sets: name, task, description, input_shape (default options), options."""
    return [info.as_dict() for info in BUILTINS.values()]


def list_readers() -> list[dict[str, str]]:
    """Readers for user data: name, what `path` points at (file or folder), description."""
    return [{"name": name, "path": kind, "description": desc}
            for name, (kind, desc, _) in _READERS.items()]


def load_dataset(spec: DatasetSpec, base_dir: Path | None = None) -> DataBundle:
    """Load the data a project trains on.

    `base_dir` is the project file's folder: a relative `spec.path` is taken from there.
    User files are only read, never written.
    """
    if not isinstance(spec.options, dict):
        raise DataError(f"data source '{spec.source}': options must be a mapping of names to values")
    start = time.perf_counter()
    if spec.source in BUILTINS:
        if spec.path:
            log.warning("built-in dataset '%s' ignores path %r", spec.source, spec.path)
        bundle = BUILTINS[spec.source].loader(spec)
    elif spec.source in READER_NAMES:
        from workbench.data.paths import resolve_path

        kind, _, loader = _readers()[spec.source]
        bundle = loader(spec, resolve_path(spec, base_dir, path_kind(spec.source, kind)), base_dir)
    else:
        raise DataError(
            f"unknown data source {spec.source!r}; built-in datasets: {', '.join(BUILTINS)}; "
            f"readers for your own data: {', '.join(READER_NAMES)}"
        )
    log.info("loaded %s: %d train / %d val samples, input %s, %s (%.2f s)", spec.source,
             bundle.train_size, bundle.val_size, bundle.input_shape, bundle.task,
             time.perf_counter() - start)
    return bundle
