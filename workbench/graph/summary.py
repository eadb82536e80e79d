"""Model summary: per-layer output shape, parameters and FLOPs, totals, and training memory.

The model is built on torch's meta device (no memory, no weights) and FLOPs come from torch's
own FlopCounterMode, so a summary costs about a millisecond after the first one.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.graph.analysis import check
from workbench.graph.document import Graph

BYTES_PER_VALUE = 4  # fp32
# Values kept per parameter by each optimizer (momentum, squared averages...).
OPTIMIZER_STATE = {"sgd": 1, "adam": 2, "adamw": 2, "rmsprop": 1}


@dataclass(frozen=True)
class LayerRow:
    node_id: str
    name: str
    type: str
    output_shape: str
    params: int
    flops: int  # forward pass, one sample


@dataclass(frozen=True)
class ModelSummary:
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    total_flops: int  # forward pass, one sample
    batch_size: int
    activation_bytes: int  # one batch's layer outputs kept for the backward pass
    train_memory_bytes: int  # weights + gradients + optimizer state + activations

    @property
    def size_mb(self) -> float:
        """fp32 weights in megabytes (10^6 bytes)."""
        return self.total_params * BYTES_PER_VALUE / 1e6


def summarize(graph: Graph, batch_size: int = 32, optimizer: str = "adam") -> ModelSummary:
    """Summarize a valid graph (GraphError listing the problems otherwise)."""
    # Here rather than at the top: `workbench presets` formats counts with this module and must
    # not wait ~2 s for torch.
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from workbench.graph.builder import GraphModule

    analysis = check(graph)
    with torch.device("meta"):
        model = GraphModule(graph, analysis)
    # Eval mode: a batch of one sample cannot train a BatchNorm, and the counted operations
    # (matrix products, convolutions, attention) cost the same in both modes.
    model.eval()
    xs = [torch.empty((1, *spec.shape), dtype=torch.long if spec.dtype == "int64" else torch.float32,
                      device="meta") for spec in model.input_specs]
    with FlopCounterMode(display=False) as counter:
        model(*xs)
    # Keys are module paths ("GraphModule.block1", "GraphModule.block1.attn", ...) and a parent's
    # count already holds its children's: a layer's FLOPs are those of its top-level module.
    prefix = type(model).__name__ + "."
    per_module = {
        k[len(prefix):]: sum(v.values())
        for k, v in counter.get_flop_counts().items()
        if k.startswith(prefix) and "." not in k[len(prefix):]
    }

    rows: list[LayerRow] = []
    activations = 0
    for nid in analysis.order:
        node = graph.node(nid)
        shape = analysis.shapes[nid]
        params = 0
        if node.type != "Input":
            params = sum(p.numel() for p in model.get_submodule(node.name).parameters())
        flops = per_module.get(node.name, 0)
        rows.append(LayerRow(nid, node.name, node.type, str(shape), params, flops))
        activations += shape.numel * batch_size * BYTES_PER_VALUE
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    state = OPTIMIZER_STATE.get(optimizer, 2)
    memory = (total + trainable * (1 + state)) * BYTES_PER_VALUE + activations
    return ModelSummary(rows, total, trainable, counter.get_total_flops(), batch_size, activations, memory)


def format_count(n: float) -> str:
    """1234567 -> '1.23M'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}"
    return str(int(n))


def format_bytes(n: float) -> str:
    """Bytes in the unit a user reads best (MB = 10^6 bytes)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"
