"""Checkpoint files: everything needed to resume a run, written atomically, read weights-only.

A checkpoint is a plain dict:

    format_version  int
    model           state_dict
    optimizer       state_dict
    scheduler       state_dict or None
    scaler          GradScaler state_dict or None
    epoch           epochs completed (resume starts the next one)
    global_step     optimizer steps completed
    best_val_loss   float or None
    bad_epochs      epochs since the best validation loss (early stopping)
    rng             see rng.capture_rng_state
    loader_rng      state of the generator that shuffles the training set
    settings        TrainSettings.to_dict()

It must load with `torch.load(weights_only=True)` (the default, and the only safe way to read a
file someone sent you), so it holds tensors, dicts, lists, strings and numbers only.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Any

import torch

from workbench.errors import ProjectFileError
from workbench.files import sweep_temp_files, temp_path, write_bytes_atomic

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
REQUIRED_KEYS = ("model", "optimizer", "epoch", "global_step", "rng", "loader_rng", "settings")


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write `state` to `path` atomically: a reader sees the old file or the new, never half."""
    return write_checkpoint_bytes(path, serialize_checkpoint(state))


def serialize_checkpoint(state: dict[str, Any]) -> bytes:
    """The file's bytes, so that one serialisation can be written to several files."""
    buffer = io.BytesIO()
    torch.save({"format_version": FORMAT_VERSION, **state}, buffer)
    return buffer.getvalue()


def write_checkpoint_bytes(path: str | os.PathLike[str], payload: bytes, durable: bool = True) -> Path:
    """Atomically replace `path` with a serialised checkpoint (`durable`: see write_bytes_atomic)."""
    written = write_bytes_atomic(path, payload, durable=durable)
    log.debug("wrote checkpoint %s", written)
    return written


def copy_checkpoint(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Atomically make `target` a copy of the checkpoint file `source`.

    A hard link where the file system has them: no second write or fsync of the same bytes.
    Safe because checkpoints are only ever replaced by renaming a new file over them, never
    rewritten in place: when `source` is next replaced, `target` keeps the old contents.
    """
    source, target = Path(source), Path(target)
    sweep_temp_files(target)
    tmp = temp_path(target)  # a recognisable name: a kill before the rename leaves a file the next write removes
    try:
        os.link(source, tmp)
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)
        return write_checkpoint_bytes(target, source.read_bytes())
    log.debug("linked checkpoint %s -> %s", target, source)
    return target


def snapshot(obj: Any) -> Any:
    """A copy of a checkpoint state that training can no longer change: tensors are cloned to
    the CPU (parameters and optimizer moments are updated in place by the next step)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: snapshot(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [snapshot(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(snapshot(v) for v in obj)
    return obj


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint weights-only; ProjectFileError naming the file when it is unusable."""
    path = Path(path)
    if not path.is_file():
        raise ProjectFileError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt, truncated, or holding objects we never write
        raise ProjectFileError(f"checkpoint {path} cannot be read: {exc}") from exc
    if not isinstance(state, dict):
        raise ProjectFileError(f"checkpoint {path} is not a Workbench checkpoint")
    version = state.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ProjectFileError(
            f"checkpoint {path} has format version {version!r}; this Workbench reads up to "
            f"{FORMAT_VERSION}: update Workbench to resume from it"
        )
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise ProjectFileError(f"checkpoint {path} lacks {', '.join(missing)}")
    return state
