"""Pretrained weights for a torchvision model: its published set (cached, downloaded when online) or a file.

Every file is read weights-only (safetensors, or `torch.load(weights_only=True)`): nothing in it
is unpickled. A download that cannot start (offline, a firewall) fails within `TIMEOUT_S` with a
message saying where the cached file would go, never hangs.
"""

from __future__ import annotations

import logging
import pickle
import socket
import urllib.error
from pathlib import Path
from typing import Any

import torch
from torch import nn

from workbench.errors import ModelImportError

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0  # seconds a connection may take to open or stall before the download gives up


def published_weights(model_name: str, choice: str = "DEFAULT") -> Any:
    """The torchvision weights enum entry (`DEFAULT`, `IMAGENET1K_V1`, ...) for a model."""
    import torchvision

    weights = torchvision.models.get_model_weights(model_name)
    try:
        return weights[choice]
    except KeyError:
        known = ", ".join(["DEFAULT", *(w.name for w in weights)])
        raise ModelImportError(f"--weights {choice}: {model_name} has no such weights (it has: {known}) — or give a file path") from None


def cached_file(weights: Any) -> Path:
    """Where torch's hub cache keeps (or would keep) this weights file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / weights.url.rsplit("/", 1)[-1]


def download_state_dict(weights: Any, label: str, progress: bool = True) -> dict[str, torch.Tensor]:
    """The published state dict: from the cache, else downloaded (progress on stderr).

    label: how the user named the weights (DEFAULT, IMAGENET1K_V1), for messages.
    """
    shown = label if label == weights.name else f"{label} ({weights.name})"
    target = cached_file(weights)
    if not target.exists():
        log.info("downloading %s to %s", weights.url, target)
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(TIMEOUT_S)
    try:
        return weights.get_state_dict(progress=progress and not target.exists(), check_hash=True)
    except (urllib.error.URLError, TimeoutError, ConnectionError, socket.gaierror) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelImportError(
            f"--weights {shown}: cannot download {weights.url} ({reason}) — when offline, put that file at "
            f"{target} or pass --weights PATH to a saved state dict"
        ) from None
    except RuntimeError as exc:  # a truncated download or a wrong hash
        raise ModelImportError(f"--weights {shown}: the file at {target} is damaged ({exc}) — delete it and retry") from None
    finally:
        socket.setdefaulttimeout(old)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a .safetensors file or a file saved with `torch.save(model.state_dict())`."""
    source = Path(path)
    if not source.is_file():
        raise ModelImportError(f"--weights {source}: no such file — give DEFAULT or a .safetensors / .pth file")
    try:
        if source.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(source))
        else:
            state = torch.load(source, map_location="cpu", weights_only=True)
    # torch's weights-only unpickler meets arbitrary bytes with whichever error its parser hits
    except (pickle.UnpicklingError, RuntimeError, OSError, ValueError, EOFError, KeyError, IndexError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelImportError(f"--weights {source}: not a weights file ({first}) — give a .safetensors file or a saved state dict") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise ModelImportError(f"--weights {source}: holds no state dict (name -> tensor) — save model.state_dict()")
    return state


def load_into(model: nn.Module, state: dict[str, torch.Tensor], origin: str, model_name: str) -> None:
    """Load a state dict into the torchvision model; refused with the differing names otherwise."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or extra or wrong:
        details = []
        for label, names in (("missing", missing), ("unexpected", extra), ("of another shape", wrong)):
            if names:
                details.append(f"{len(names)} {label} (e.g. {names[0]})")
        raise ModelImportError(f"--weights {origin}: not weights of torchvision's {model_name}: {', '.join(details)}")
    model.load_state_dict(state)
