"""A network's inputs as one value: a tensor for a single-input network, a tuple for several.

A single-input network keeps every path it had (one tensor, fed as is); a network with several
Input nodes takes a tuple in the model's `input_names` order. A batch from a dataset may also
hold a dict keyed by Input name; `arrange` turns it into that tuple. These helpers let the
engine, export and sampling treat both alike without asking which they hold.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Union

import torch
from torch import nn

ModelInputs = Union[torch.Tensor, tuple[torch.Tensor, ...]]


def as_args(inputs: Any) -> tuple[torch.Tensor, ...]:
    """The positional arguments for the model's forward."""
    if isinstance(inputs, torch.Tensor):
        return (inputs,)
    return tuple(inputs)


def arrange(inputs: Any, names: Sequence[str]) -> ModelInputs:
    """A batch's inputs in the model's order: a dict is matched by Input name, a tuple or list
    is taken as already in order, a tensor is the single input."""
    if isinstance(inputs, Mapping):
        missing = [n for n in names if n not in inputs]
        if missing:
            raise KeyError(f"the data gives inputs {', '.join(map(str, inputs))} but the network's "
                           f"Input(s) {', '.join(missing)} have none — rename the Inputs to match")
        return tuple(inputs[n] for n in names)
    if isinstance(inputs, (tuple, list)):
        return tuple(inputs)
    return inputs


def batch_len(inputs: Any) -> int:
    """Samples in a batch of inputs (a tensor, a tuple or a dict of them)."""
    if isinstance(inputs, Mapping):
        inputs = tuple(inputs.values())
    return int(as_args(inputs)[0].shape[0])


def take(inputs: Any, count: int) -> Any:
    """The first `count` samples of every input (a tensor, a tuple or a dict of them)."""
    if isinstance(inputs, torch.Tensor):
        return inputs[:count]
    if isinstance(inputs, Mapping):
        return {k: t[:count] for k, t in inputs.items()}
    return tuple(t[:count] for t in inputs)


def concat(parts: Sequence[Any]) -> Any:
    """Batches (tensors, tuples or dicts alike) joined along the batch axis, input by input."""
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(list(parts))
    if isinstance(first, Mapping):
        return {k: torch.cat([p[k] for p in parts]) for k in first}
    return tuple(torch.cat([p[i] for p in parts]) for i in range(len(first)))


def to_device(inputs: ModelInputs, device: torch.device, non_blocking: bool = False) -> ModelInputs:
    """Every input on `device`."""
    if isinstance(inputs, torch.Tensor):
        return inputs.to(device, non_blocking=non_blocking)
    return tuple(t.to(device, non_blocking=non_blocking) for t in inputs)


def call(model: nn.Module, inputs: ModelInputs) -> torch.Tensor:
    """`model` run on `inputs`, whatever their number."""
    if isinstance(inputs, torch.Tensor):
        return model(inputs)
    return model(*inputs)


def takes_varargs(model: nn.Module) -> bool:
    """True when the module's forward takes `*inputs` (torch.export then wants the dynamic
    shapes of the inputs grouped in one tuple)."""
    try:
        parameters = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)


def dynamic_batch(model: nn.Module, inputs: ModelInputs) -> tuple[Any, ...]:
    """torch.export's `dynamic_shapes` making axis 0 of every input one symbolic batch size."""
    batch = torch.export.Dim("batch")
    dims = tuple({0: batch} for _ in as_args(inputs))
    return (dims,) if takes_varargs(model) else dims
