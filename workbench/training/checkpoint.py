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
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.errors import ProjectFileError, TrainingError
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


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu",
                    mmap: bool = False) -> dict[str, Any]:
    """Read a checkpoint weights-only and check every field (`check_checkpoint`); ProjectFileError
    naming the file (and the field) when it is unusable.

    `mmap=True` maps the tensors instead of reading them: a cheap look at a large file's fields.
    """
    path = Path(path)
    if not path.is_file():
        raise ProjectFileError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as exc:  # corrupt, truncated, or holding objects we never write
        if mmap:  # mapping needs torch's zip format; read plainly, a foreign file says what it is
            return load_checkpoint(path, map_location)
        text = str(exc).strip()
        first = text.splitlines()[0].split(". ")[0].rstrip(".") if text else type(exc).__name__  # torch's advice follows
        raise ProjectFileError(f"checkpoint {path} cannot be read: not a readable checkpoint ({first})") from None
    check_checkpoint(state, path)
    return state


def check_checkpoint(state: Any, path: str | os.PathLike[str]) -> None:
    """The record's fields have the types and ranges this module writes (see the module
    docstring); ProjectFileError naming the file and the first field that does not."""
    if not isinstance(state, dict):
        raise ProjectFileError(f"checkpoint {path} is not a Workbench checkpoint (it holds a "
                               f"{type(state).__name__}, not a record)")
    version = state.get("format_version")
    if not _is_int(version) or version > FORMAT_VERSION:
        raise ProjectFileError(
            f"checkpoint {path} has format version {version!r}; this Workbench reads up to "
            f"{FORMAT_VERSION}: update Workbench to resume from it"
        )
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise ProjectFileError(f"checkpoint {path} lacks {', '.join(missing)}")
    for field, problem in _problems(state):
        raise ProjectFileError(f"checkpoint {path}: field '{field}' {problem} — the file is damaged or "
                               f"not a Workbench checkpoint; use another checkpoint of the run")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _problems(state: dict[str, Any]):
    """(field, what is wrong) for each field that is not as written; the first one is reported."""
    model = state["model"]
    if not isinstance(model, dict) or not model:
        yield "model", "must be a non-empty record of weights"
    elif any(not isinstance(k, str) or not isinstance(v, torch.Tensor) for k, v in model.items()):
        bad = next(k for k, v in model.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor))
        yield f"model.{bad}", "must be a tensor"
    optimizer = state["optimizer"]
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get("state"), dict) \
            or not isinstance(optimizer.get("param_groups"), list) \
            or not all(isinstance(g, dict) for g in optimizer["param_groups"]):
        yield "optimizer", "must be an optimizer's state (a record with 'state' and 'param_groups')"
    for key in ("scheduler", "scaler"):
        if state.get(key) is not None and not isinstance(state[key], dict):
            yield key, "must be a record or null"
    for key in ("epoch", "global_step", "bad_epochs"):
        value = state.get(key, 0)
        if not _is_int(value) or value < 0:
            yield key, f"must be a whole number >= 0, got {value!r}"
    best = state.get("best_val_loss")
    if best is not None and not _is_number(best):
        yield "best_val_loss", f"must be a number or null, got {best!r}"
    if not isinstance(state["settings"], dict):
        yield "settings", "must be a record of training settings"
    loader = state["loader_rng"]
    if not isinstance(loader, torch.Tensor) or loader.dtype != torch.uint8 or not _settable(loader):
        yield "loader_rng", "must be a generator state (a uint8 tensor of the generator's size)"
    yield from _rng_problems(state["rng"])


def _settable(generator_state: torch.Tensor) -> bool:
    """Whether a CPU generator takes this state (its size is the generator's): tried on a new one."""
    try:
        torch.Generator().set_state(generator_state.cpu())
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def _rng_problems(rng: Any):
    if not isinstance(rng, dict):
        yield "rng", "must be a record of generator states"
        return
    if not isinstance(rng.get("torch"), torch.Tensor) or rng["torch"].dtype != torch.uint8 \
            or not _settable(rng["torch"]):
        yield "rng.torch", "must be a generator state (a uint8 tensor of the generator's size)"
    py = rng.get("python")
    if not isinstance(py, dict) or not _is_int(py.get("version")) \
            or not isinstance(py.get("state"), list) or not all(_is_int(v) for v in py["state"]) \
            or not (py.get("gauss_next") is None or _is_number(py.get("gauss_next"))):
        yield "rng.python", "must be Python's random state (version, state, gauss_next)"
    else:
        try:
            random.Random().setstate((py["version"], tuple(py["state"]), py["gauss_next"]))
        except (ValueError, TypeError, OverflowError):
            yield "rng.python", "is not a state Python's random module takes"
    np_state = rng.get("numpy")
    if not isinstance(np_state, dict) or not isinstance(np_state.get("name"), str) \
            or not isinstance(np_state.get("keys"), torch.Tensor) \
            or not all(_is_int(np_state.get(k)) for k in ("pos", "has_gauss")) \
            or not _is_number(np_state.get("cached")):
        yield "rng.numpy", "must be numpy's random state (name, keys, pos, has_gauss, cached)"
    else:
        try:
            np.random.RandomState().set_state((np_state["name"], np_state["keys"].cpu().numpy().astype(np.uint32),
                                               np_state["pos"], np_state["has_gauss"], np_state["cached"]))
        except (ValueError, TypeError, OverflowError):
            yield "rng.numpy", "is not a state numpy's generator takes"
    cuda = rng.get("cuda")
    if cuda is not None and (not isinstance(cuda, list) or not all(isinstance(t, torch.Tensor) for t in cuda)):
        yield "rng.cuda", "must be a list of generator states or null"
    mps = rng.get("mps")
    if mps is not None and not isinstance(mps, torch.Tensor):
        yield "rng.mps", "must be a generator state or null"


def check_resume(state: dict[str, Any], model: torch.nn.Module, settings: Any, path: str | os.PathLike[str]) -> None:
    """Whether a run with `model` and `settings` (TrainSettings) can continue from `state`.

    ProjectFileError when the weights are another network's; TrainingError when the optimizer
    changed (its state would be loaded into another kind of optimizer) or when the checkpoint
    has already reached `settings.epochs` (resuming would train nothing and call it finished).
    """
    check_model_fits(state, model, path)
    saved = state["settings"].get("optimizer")
    if isinstance(saved, str) and saved != settings.optimizer:
        raise TrainingError(f"checkpoint {path} was trained with the {saved} optimizer, this run uses "
                            f"{settings.optimizer}: set optimizer to {saved} to resume from it")
    epoch = state["epoch"]
    if epoch >= settings.epochs:
        raise TrainingError(f"checkpoint {path} is at epoch {epoch}; epochs {settings.epochs} would train "
                            f"nothing: set epochs to {epoch + 1} or more (--epochs {epoch + 1})")


def check_model_fits(state: dict[str, Any], model: torch.nn.Module, path: str | os.PathLike[str]) -> None:
    """ProjectFileError when the checkpoint's weights are not those of `model` (another network)."""
    saved, wanted = state["model"], model.state_dict()
    missing = [k for k in wanted if k not in saved]
    extra = [k for k in saved if k not in wanted]
    resized = [k for k in wanted if k in saved and tuple(saved[k].shape) != tuple(wanted[k].shape)]
    if not (missing or extra or resized):
        return
    if resized:
        k = resized[0]
        detail = (f"'{k}' is {'×'.join(map(str, saved[k].shape)) or 'a scalar'} in the file but "
                  f"{'×'.join(map(str, wanted[k].shape)) or 'a scalar'} in the network")
    elif missing:
        detail = f"it has no '{missing[0]}'" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
    else:
        detail = f"it has '{extra[0]}', which the network lacks" + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else "")
    raise ProjectFileError(f"checkpoint {path} holds the weights of another network: {detail} — "
                           f"use a checkpoint of this run, or the project it was trained from")
