"""Pruning: global magnitude pruning (zeros) and structured channel pruning (smaller layers).

- `magnitude_prune` zeroes the smallest-magnitude share of all Linear/Conv weights together
  (torch.nn.utils.prune's global L1 method). The masks stay attached while a fine-tune runs, so
  pruned weights stay zero, and `finalize_pruning` makes them permanent. The file does not shrink
  (zeros are stored like any number); it compresses well and sets up sparse kernels.
- `channel_prune` removes whole output channels (Linear out_features, Conv out_channels) with the
  smallest L1 norms and rebuilds the graph with the narrower layers, so the exported file really
  holds fewer parameters. See `channels.py` for which layers can shrink and why others cannot.

Neither touches the model passed in: both work on copies.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from workbench.errors import ExportError
from workbench.export.channels import Slice, prunable_width, trace_channels
from workbench.graph.analysis import check
from workbench.graph.builder import GraphModule, build_model
from workbench.graph.document import Graph

log = logging.getLogger(__name__)

_PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(parameters, non-zero parameters), counting masked weights as they act in forward."""
    total = nonzero = 0
    for module in model.modules():
        for pname, param in module.named_parameters(recurse=False):
            if pname.endswith("_orig"):
                value = getattr(module, pname[: -len("_orig")])  # the masked weight forward uses
            else:
                value = param
            total += value.numel()
            nonzero += int(torch.count_nonzero(value.detach()).item())
    return total, nonzero


# ----- magnitude pruning ------------------------------------------------------------------------


def magnitude_prune(model: GraphModule, sparsity: float) -> GraphModule:
    """A copy whose Linear/Conv weights are `sparsity` zeros, chosen globally by magnitude.

    The masks stay attached (call `finalize_pruning` after any fine-tune).
    """
    if not 0 < sparsity < 1:
        raise ExportError(f"prune must be a fraction between 0 and 1, got {sparsity}")
    pruned = copy.deepcopy(model)
    targets = [(m, "weight") for m in pruned.modules() if isinstance(m, _PRUNABLE)]
    if not targets:
        raise ExportError("prune found no Linear or convolution weights to prune in this network")
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=float(sparsity))
    total, nonzero = count_parameters(pruned)
    log.info("magnitude pruning: %d of %d parameters left non-zero", nonzero, total)
    return pruned


def finalize_pruning(model: nn.Module) -> nn.Module:
    """Make attached pruning masks permanent (plain weights with zeros again); in place."""
    for module in model.modules():
        if prune.is_pruned(module):
            for hook in list(module._forward_pre_hooks.values()):
                if isinstance(hook, prune.BasePruningMethod):
                    prune.remove(module, hook._tensor_name)
    return model


# ----- channel pruning --------------------------------------------------------------------------


@dataclass
class ChannelPruneResult:
    """The narrower network and what happened to each candidate layer."""

    graph: Graph
    model: GraphModule
    shrunk: dict[str, tuple[int, int]] = field(default_factory=dict)  # node name -> (before, after)
    skipped: dict[str, str] = field(default_factory=dict)  # node name -> why it kept its width

    def describe(self) -> str:
        done = ", ".join(f"{n} {a}→{b}" for n, (a, b) in self.shrunk.items()) or "no layer"
        kept = "; ".join(f"{n}: {why}" for n, why in self.skipped.items())
        return f"narrowed {done}" + (f"; kept full width: {kept}" if kept else "")


def channel_prune(model: GraphModule, graph: Graph, fraction: float, seed: int | None = 0) -> ChannelPruneResult:
    """Remove `fraction` of the output channels of every layer that can lose them.

    Channels with the smallest L1 norm go (Li et al., "Pruning Filters for Efficient ConvNets").
    Layers are visited in graph order, each against the weights left by the ones before.
    Raises ExportError when no layer can be narrowed.
    """
    if not 0 < fraction < 1:
        raise ExportError(f"prune-channels must be a fraction between 0 and 1, got {fraction}")
    # A grouped convolution's channels are tied to its groups on both sides: the channel walk
    # (channels.py) does not model that yet, so refuse rather than write a broken network.
    grouped = [n.name for n in graph.nodes if n.params.get("groups", 1) > 1]
    if grouped:
        raise ExportError(f"prune-channels does not support grouped convolutions yet ('{grouped[0]}' and "
                          f"{len(grouped) - 1} more) — use --prune (magnitude pruning) instead")
    work = graph.copy()
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    analysis = check(work)
    result = ChannelPruneResult(work, model)
    order = [nid for nid in analysis.order if prunable_width(work.node(nid).type) is not None]
    for nid in order:
        node = work.node(nid)
        declared = prunable_width(node.type)
        assert declared is not None and declared.prune_dim is not None
        key, dim = declared.param, declared.prune_dim
        width = node.params[key]
        keep_n = max(1, int(round(width * (1 - fraction))))
        if keep_n >= width:
            result.skipped[node.name] = f"only {width} channel(s)"
            continue
        keep = _strongest(state, node.name, dim, keep_n)
        trace = trace_channels(work, analysis, nid, keep)
        if not trace.ok:
            result.skipped[node.name] = str(trace.reason)
            continue
        _slice_producer(state, node.name, dim, keep)
        for s in trace.slices:
            _slice_consumer(state, work.node(s.node_id).name, s)
        work.set_param(nid, key, keep_n)
        analysis = check(work)  # later layers see the narrower shapes
        result.shrunk[node.name] = (width, keep_n)
    if not result.shrunk:
        reasons = "; ".join(f"{n}: {why}" for n, why in result.skipped.items()) or "it has no Linear or Conv layer"
        raise ExportError(f"channel pruning found no layer it can narrow ({reasons})")
    pruned = build_model(work, seed=seed)
    try:
        pruned.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # a slicing rule out of step with a layer: a bug, said plainly
        raise ExportError(f"channel pruning produced weights that do not fit the narrower network: {exc}") from exc
    pruned.train(model.training)
    result.model = pruned
    log.info("channel pruning: %s", result.describe())
    return result


def _strongest(state: dict[str, torch.Tensor], name: str, dim: int, count: int) -> np.ndarray:
    weight = state[f"{name}.weight"].transpose(0, dim)  # the output channels first (a transposed conv: second)
    norms = weight.abs().reshape(weight.shape[0], -1).sum(dim=1)
    top = torch.topk(norms, count).indices
    return np.sort(top.numpy())


def _take(tensor: torch.Tensor, index: np.ndarray, dim: int) -> torch.Tensor:
    return tensor.index_select(dim, torch.as_tensor(index, dtype=torch.long)).contiguous()


def _slice_producer(state: dict[str, torch.Tensor], name: str, dim: int, keep: np.ndarray) -> None:
    state[f"{name}.weight"] = _take(state[f"{name}.weight"], keep, dim)
    if f"{name}.bias" in state:
        state[f"{name}.bias"] = _take(state[f"{name}.bias"], keep, 0)


def _slice_consumer(state: dict[str, torch.Tensor], name: str, s: Slice) -> None:
    for tensor in s.tensors:
        key = f"{name}.{tensor}"
        if key in state:  # a BatchNorm without affine weights or running statistics lacks some
            state[key] = _take(state[key], s.index, s.dim)
