"""Where a layer's output channels go: the graph walk behind channel pruning and width scaling.

Removing output channels from a Linear or a convolution changes every tensor downstream until a
layer that *absorbs* the width (the next Linear's input features, the next convolution's input
channels). `trace_channels` walks there and returns what must be sliced on the way, or the
reason it cannot be done safely:

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

PRODUCERS = {"Linear": "out_features", "Conv1d": "out_channels", "Conv2d": "out_channels", "ConvTranspose2d": "out_channels"}
ELEMENTWISE = {"ReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "LeakyReLU", "Dropout"}
POOLS = {"MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "GlobalAvgPool"}
NORMS = {"BatchNorm1d", "BatchNorm2d"}
# Layers with their own width setting, which the width of their input does not reach past.
WIDTH_SETTERS = {"Linear": "out_features", "Conv1d": "out_channels", "Conv2d": "out_channels",
                 "ConvTranspose2d": "out_channels", "Embedding": "embedding_dim", "PatchEmbedding": "embed_dim"}


@dataclass(frozen=True)
class Slice:
    """Keep `index` along one axis of one parameter family of a node."""

    node_id: str
    role: str  # "bn" (all per-channel tensors), "linear_in", "conv_in", "deconv_in", "patch_in"
    index: np.ndarray


@dataclass
class ChannelTrace:
    """The slices one producer's pruning needs downstream, or why it cannot be pruned."""

    slices: list[Slice] = field(default_factory=list)
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def channel_axis(node_type: str, rank: int) -> int:
    """Per-sample axis holding a producer's channels: last for Linear, first for convolutions."""
    return rank - 1 if node_type == "Linear" else 0


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
        t = dst.type
        out_shape = analysis.shapes[dst.id].shape
        last = len(shape) - 1
        if t in ELEMENTWISE:
            _walk(graph, analysis, dst.id, out_shape, axis, keep, trace, visited)
        elif t in NORMS:
            if axis != 0:
                trace.reason = f"{label} normalises another axis than its channels"
                return
            trace.slices.append(Slice(dst.id, "bn", keep))
            _walk(graph, analysis, dst.id, out_shape, axis, keep, trace, visited)
        elif t in POOLS:
            if axis != 0:
                trace.reason = f"{label} pools across its channels"
                return
            _walk(graph, analysis, dst.id, out_shape, 0, keep, trace, visited)
        elif t == "Flatten":
            flat = np.arange(math.prod(shape)).reshape(shape)
            kept = np.sort(np.take(flat, keep, axis=axis).reshape(-1))
            _walk(graph, analysis, dst.id, out_shape, 0, kept, trace, visited)
        elif t == "Linear":
            if axis != last:
                trace.reason = f"{label} mixes another axis than its channels"
                return
            trace.slices.append(Slice(dst.id, "linear_in", keep))
        elif t in ("Conv1d", "Conv2d", "ConvTranspose2d", "PatchEmbedding"):
            if axis != 0:
                trace.reason = f"{label} takes its channels from another axis"
                return
            role = {"ConvTranspose2d": "deconv_in", "PatchEmbedding": "patch_in"}.get(t, "conv_in")
            trace.slices.append(Slice(dst.id, role, keep))
        elif t == "Concat":
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
        elif t == "Add":
            trace.reason = f"it feeds {label} (a residual connection: both branches must keep the same channels)"
        elif t == "Output":
            trace.reason = "its width is the model's output"
        elif t in ("TransformerBlock", "MultiHeadSelfAttention", "PositionalEncoding", "SequencePool"):
            trace.reason = f"it feeds {label}, whose width is fixed inside the Transformer stream"
        else:
            trace.reason = f"it feeds {label}, which needs its full width"


def reaches_output(graph: Graph, node_id: str) -> bool:
    """Does this node's width reach the Output without passing a layer that sets its own width?"""
    stack, seen = [node_id], set()
    while stack:
        current = stack.pop()
        for edge in graph.edges_from(current):
            dst = graph.node(edge.dst)
            if dst.type == "Output":
                return True
            if dst.type in WIDTH_SETTERS or dst.id in seen:
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
                if graph.node(edge.dst).type not in WIDTH_SETTERS:
                    stack.append(edge.dst)
    return seen
