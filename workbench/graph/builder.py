"""Graph -> torch module. Layers run in topological order; parameter names follow node names
(`fc1.weight`), so checkpoints and exports map back to the nodes the user drew."""

from __future__ import annotations

import torch
from torch import nn

from workbench.graph.analysis import Analysis, check
from workbench.graph.document import Graph
from workbench.layers.tensor_spec import TensorSpec


class GraphModule(nn.Module):
    """The network the user drew, as one module taking the Input's tensor."""

    def __init__(self, graph: Graph, analysis: Analysis) -> None:
        super().__init__()
        incoming: dict[str, dict[str, str]] = {n.id: {} for n in graph.nodes}
        for e in graph.edges:
            incoming[e.dst][e.dst_port] = e.src
        names = {n.id: n.name for n in graph.nodes}
        # (node name, names of the nodes feeding it in port order), in execution order
        self.plan: list[tuple[str, tuple[str, ...]]] = []
        for nid in analysis.order:
            node = graph.node(nid)
            ports = node.input_ports()
            in_specs = [analysis.shapes[incoming[nid][p]] for p in ports]
            if node.type == "Input":
                self.input_name = node.name
                self.input_spec: TensorSpec = analysis.shapes[nid]
                continue
            self.add_module(node.name, node.spec.build_module(node.params, in_specs))
            self.plan.append((node.name, tuple(names[incoming[nid][p]] for p in ports)))
            if node.type == "Output":
                self.output_name = node.name
                self.output_spec: TensorSpec = analysis.shapes[nid]
                self.loss_name: str = node.params["loss"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = {self.input_name: x}
        modules = self._modules  # a dict lookup per layer: get_submodule's path walk costs more
        for name, sources in self.plan:
            values[name] = modules[name](*(values[s] for s in sources))
        return values[self.output_name]

    def example_input(self, batch: int = 2) -> torch.Tensor:
        """A random batch of the shape and dtype the Input declares."""
        shape = (batch, *self.input_spec.shape)
        if self.input_spec.dtype == "int64":
            return torch.zeros(shape, dtype=torch.long)
        return torch.randn(shape)


def build_model(graph: Graph, seed: int | None = 0) -> GraphModule:
    """Build the module; the same graph and seed always give the same initial weights.

    Raises GraphError listing every problem when the graph is invalid.
    """
    analysis = check(graph)
    if seed is None:
        return GraphModule(graph, analysis)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GraphModule(graph, analysis)
