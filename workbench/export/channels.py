"""Where a layer's output channels go: the graph walk behind channel pruning and width scaling.

Removing output channels from a Linear or a convolution changes every tensor downstream until a
layer that *absorbs* the width (the next Linear's input features, the next convolution's input
channels). `trace_channels` walks there and returns what must be sliced on the way, or the
reason it cannot be done safely. What each layer type does with the channels is declared with
the type (`LayerSpec.channels`, `LayerSpec.width` in workbench.layers):

- element-wise layers (activations, Dropout) and pooling pass the channels through;
- BatchNorm passes them through after its per-channel statistics are sliced too;
- Flatten turns each kept channel into its block of H·W features;
- Concat along the channel axis shifts them by the widths of the inputs before it;
- an Add (a residual: both branches must keep the same channels), anything inside or feeding a
  Transformer block, LayerNorm/Softmax over the channels, reshapes, and the Output itself
  (its width is the model's answer) stop the walk: that layer is left at full width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from workbench.graph.analysis import Analysis
from workbench.graph.document import Graph
from workbench.layers import layer_spec
from workbench.layers.registry import Width

# Why a layer that needs its channels on one axis cannot follow them on another: (flow, axis).
_WRONG_AXIS = {
    ("norm", "first"): "{label} normalises another axis than its channels",
    ("pool", "first"): "{label} pools across its channels",
    ("absorb", "first"): "{label} takes its channels from another axis",
    ("absorb", "last"): "{label} mixes another axis than its channels",
}


@dataclass(frozen=True)
class Slice:
    """Keep `index` along axis `dim` of some parameters and buffers of one node."""

    node_id: str
    tensors: tuple[str, ...]  # state-dict names relative to the node's module ("weight", "proj.weight")
    dim: int
    index: np.ndarray


@dataclass
class ChannelTrace:
    """The slices one producer's pruning needs downstream, or why it cannot be pruned."""

    slices: list[Slice] = field(default_factory=list)
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def prunable_width(node_type: str) -> Width | None:
    """The width declaration of a type whose output channels can be pruned, else None."""
    width = layer_spec(node_type).width
    return width if width is not None and width.prune_dim is not None else None


def sets_width(node_type: str) -> bool:
    """Does this type set its output's width with a param of its own (the input's stops here)?"""
    return layer_spec(node_type).width is not None


def channel_axis(node_type: str, rank: int) -> int:
    """Per-sample axis holding a producer's channels: last for Linear, first for convolutions."""
    width = layer_spec(node_type).width
    return rank - 1 if width is not None and width.axis == "last" else 0


def trace_channels(graph: Graph, analysis: Analysis, producer_id: str, keep: np.ndarray) -> ChannelTrace:
    """What keeping channels `keep` of the producer's output means for the layers after it."""
    node = graph.node(producer_id)
    shape = analysis.shapes[producer_id].shape
    trace = ChannelTrace()
    visited: set[str] = set()
    _walk(graph, analysis, producer_id, shape, channel_axis(node.type, len(shape)), np.sort(keep), trace, visited)
    return trace


def _walk(graph: Graph, analysis: Analysis, src: str, shape: tuple[int, ...], axis: int,
          keep: np.ndarray, trace: ChannelTrace, visited: set[str]) -> None:
    for edge in graph.edges_from(src):
        if trace.reason:
            return
        dst = graph.node(edge.dst)
        label = dst.label()
        if dst.id in visited:
            trace.reason = f"its channels reach {label} along two paths"
            return
        visited.add(dst.id)
        rule = dst.spec.channels
        flow = rule.flow
        out_shape = analysis.shapes[dst.id].shape
        if flow in ("pool", "norm", "absorb"):
            wanted = 0 if rule.axis == "first" else len(shape) - 1
            if axis != wanted:
                trace.reason = _WRONG_AXIS[flow, rule.axis].format(label=label)
                return
        if flow == "pass":
            _walk(graph, analysis, dst.id, out_shape, axis, keep, trace, visited)
        elif flow == "norm":
            trace.slices.append(Slice(dst.id, rule.tensors, rule.dim, keep))
            _walk(graph, analysis, dst.id, out_shape, axis, keep, trace, visited)
        elif flow == "pool":
            _walk(graph, analysis, dst.id, out_shape, 0, keep, trace, visited)
        elif flow == "flatten":
            flat = np.arange(math.prod(shape)).reshape(shape)
            kept = np.sort(np.take(flat, keep, axis=axis).reshape(-1))
            _walk(graph, analysis, dst.id, out_shape, 0, kept, trace, visited)
        elif flow == "absorb":
            trace.slices.append(Slice(dst.id, rule.tensors, rule.dim, keep))
        elif flow == "concat":
            if dst.params["axis"] != axis:
                trace.reason = f"{label} joins along another axis than the channels"
                return
            pieces, offset = [], 0
            for port in dst.input_ports():
                source = graph.edge_into(dst.id, port)
                assert source is not None  # check() passed
                width = analysis.shapes[source.src].shape[axis]
                pieces.append(keep + offset if port == edge.dst_port else np.arange(offset, offset + width))
                offset += width
            _walk(graph, analysis, dst.id, out_shape, axis, np.concatenate(pieces), trace, visited)
        else:  # "stop"
            trace.reason = rule.reason.format(label=label)


def reaches_output(graph: Graph, node_id: str) -> bool:
    """Does this node's width reach the Output without passing a layer that sets its own width?"""
    stack, seen = [node_id], set()
    while stack:
        current = stack.pop()
        for edge in graph.edges_from(current):
            dst = graph.node(edge.dst)
            if dst.type == "Output":
                return True
            if sets_width(dst.type) or dst.id in seen:
                continue
            seen.add(dst.id)
            stack.append(dst.id)
    return False


def downstream_until_width_setter(graph: Graph, node_id: str) -> set[str]:
    """Ids of the nodes this node's width flows into (stopping at layers that set their own)."""
    stack, seen = [node_id], {node_id}
    while stack:
        current = stack.pop()
        for edge in graph.edges_from(current):
            if edge.dst not in seen:
                seen.add(edge.dst)
                if not sets_width(graph.node(edge.dst).type):
                    stack.append(edge.dst)
    return seen
