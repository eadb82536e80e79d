"""Seeding, and capturing / restoring every random number generator a run touches.

Captured states are made of tensors, lists, ints and floats only, so a checkpoint that holds
them loads with `torch.load(weights_only=True)`: numpy's key array becomes an int64 tensor and
Python's state tuple a list of ints.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and every CUDA device), numpy and Python's random."""
    torch.manual_seed(seed)  # also seeds all CUDA devices, lazily
    np.random.seed(seed % 2**32)  # numpy takes 32-bit seeds only
    random.seed(seed)


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def capture_rng_state() -> dict[str, Any]:
    """Every generator's state as weights-only-loadable data."""
    version, internal, gauss_next = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()  # type: ignore[misc]
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": {"version": int(version), "state": [int(v) for v in internal],
                   "gauss_next": gauss_next},
        "numpy": {"name": str(name), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
        "cuda": None,
        "mps": None,
    }
    # Only when CUDA is already in use: asking otherwise would create a CUDA context (seconds,
    # hundreds of MB) for a CPU run on a GPU machine.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if _mps_available():
        state["mps"] = torch.mps.get_rng_state()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of `capture_rng_state`; generators missing on this machine are skipped."""
    torch.set_rng_state(state["torch"].cpu())
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss_next"]))
    npst = state["numpy"]
    np.random.set_state((npst["name"], npst["keys"].cpu().numpy().astype(np.uint32),
                         npst["pos"], npst["has_gauss"], npst["cached"]))
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
    mps = state.get("mps")
    if mps is not None and _mps_available():
        torch.mps.set_rng_state(mps.cpu())
