"""PyTorch formats: weights as safetensors (never pickle) and a `torch.export` program (.pt2).

safetensors holds tensors and a string header only, so loading a file someone sent you runs no
code. The .pt2 program carries the graph too (`torch.export.load(path).module()(x)`), with the
batch axis left symbolic like the ONNX file's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from workbench.errors import ExportError
from workbench.export.onnx_export import eval_mode, max_abs_diff
from workbench.graph.inputs import ModelInputs, as_args, batch_len, call, concat, dynamic_batch

log = logging.getLogger(__name__)


def state_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state_dict as plain contiguous CPU tensors (what safetensors stores)."""
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def save_safetensors(model: nn.Module, path: str | Path, metadata: Mapping[str, str] | None = None) -> Path:
    """Write the model's weights; parameter names follow the node names (`fc1.weight`)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        save_file(state_tensors(model), str(path), metadata=dict(metadata or {}))
    except Exception as exc:  # shared or exotic tensors: safetensors says which
        raise ExportError(f"cannot write safetensors weights: {exc}") from exc
    log.info("wrote %s", path)
    return path


def load_safetensors(model: nn.Module, path: str | Path) -> nn.Module:
    """Load weights written by `save_safetensors` into a model of the same graph."""
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(path)))
    return model


def export_program(model: nn.Module, path: str | Path, example: ModelInputs) -> Path:
    """`torch.export` the eval-mode model with a dynamic batch axis and save it as .pt2."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if batch_len(example) < 2:
        example = concat([example, example])
    with eval_mode(model):
        try:
            program = torch.export.export(model, as_args(example), dynamic_shapes=dynamic_batch(model, example))
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportError(f"torch.export cannot capture this model: {first}") from exc
        torch.export.save(program, str(path))
    log.info("wrote %s", path)
    return path


def program_parity(path: str | Path, reference: np.ndarray, inputs: ModelInputs) -> float:
    """Load the .pt2 back and compare its output with `reference` (max abs diff)."""
    program = torch.export.load(str(path))
    with torch.inference_mode():
        out = call(program.module(), inputs)
    return max_abs_diff(out.float().numpy(), reference)
