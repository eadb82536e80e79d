"""Graph -> torch module. Layers run in topological order; parameter names follow node names
(`fc1.weight`), so checkpoints and exports map back to the nodes the user drew.

A node the user froze (`Node.trainable` False) builds with `requires_grad=False` on its
parameters, and its normalisation layers stay in eval mode while the rest trains (`train()`):
a frozen BatchNorm that kept updating its running statistics would not be frozen at all.
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.graph.analysis import Analysis, check
from workbench.graph.document import Graph
from workbench.layers.tensor_spec import TensorSpec


class GraphModule(nn.Module):
    """The network the user drew, as one module taking one tensor per Input node.

    `input_names` lists the Input nodes in the graph's own order (the order of the project
    file's nodes); `forward` takes their tensors positionally in that order. `input_name` and
    `input_spec` are the first Input's, which is all a single-input network has.
    """

    def __init__(self, graph: Graph, analysis: Analysis) -> None:
        super().__init__()
        incoming: dict[str, dict[str, str]] = {n.id: {} for n in graph.nodes}
        for e in graph.edges:
            incoming[e.dst][e.dst_port] = e.src
        names = {n.id: n.name for n in graph.nodes}
        # Node name -> learning-rate factor, for every node; the names of the frozen ones.
        self.lr_scales: dict[str, float] = {n.name: n.lr_scale for n in graph.nodes}
        self.frozen: set[str] = {n.name for n in graph.nodes if not n.trainable}
        # (node name, names of the nodes feeding it in port order), in execution order
        self.plan: list[tuple[str, tuple[str, ...]]] = []
        self.input_names: list[str] = []
        self.input_specs: list[TensorSpec] = []
        sources = [n for n in graph.nodes if n.type == "Input"]
        for node in sources:
            self.input_names.append(node.name)
            self.input_specs.append(analysis.shapes[node.id])
        self.input_name = self.input_names[0]
        self.input_spec: TensorSpec = self.input_specs[0]
        for nid in analysis.order:
            node = graph.node(nid)
            ports = node.input_ports()
            in_specs = [analysis.shapes[incoming[nid][p]] for p in ports]
            if node.type == "Input":
                continue
            module = node.spec.build_module(node.params, in_specs)
            if not node.trainable:
                module.requires_grad_(False)
            self.add_module(node.name, module)
            self.plan.append((node.name, tuple(names[incoming[nid][p]] for p in ports)))
            if node.type == "Output":
                self.output_name = node.name
                self.output_spec: TensorSpec = analysis.shapes[nid]
                self.loss_name: str = node.params["loss"]
        self.train(True)  # puts the frozen nodes in eval mode

    def train(self, mode: bool = True) -> GraphModule:
        """Set the training mode; frozen nodes stay in eval mode (BatchNorm statistics and
        Dropout fixed), which every caller — the engine after each validation too — gets."""
        super().train(mode)
        if mode:
            for name in self.frozen:
                module = self._modules.get(name)
                if module is not None:
                    module.eval()
        return self

    def unfreeze(self, names: set[str] | None = None) -> list[nn.Parameter]:
        """Make frozen nodes (all, or `names`) trainable again; returns their parameters."""
        chosen = self.frozen if names is None else self.frozen & names
        params: list[nn.Parameter] = []
        for name in sorted(chosen):
            module = self._modules.get(name)
            if module is not None:
                module.requires_grad_(True)
                params.extend(module.parameters())
        self.frozen -= chosen
        self.train(self.training)
        return params

    def node_of(self, param_name: str) -> str:
        """The node a parameter belongs to (`fc1.weight` -> `fc1`)."""
        return param_name.split(".", 1)[0]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        """One tensor per Input, in `input_names` order; returns the Output's tensor."""
        if len(inputs) != len(self.input_names):
            raise TypeError(f"the network takes {len(self.input_names)} input(s) "
                            f"({', '.join(self.input_names)}) but got {len(inputs)}")
        values = dict(zip(self.input_names, inputs))
        modules = self._modules  # a dict lookup per layer: get_submodule's path walk costs more
        for name, sources in self.plan:
            values[name] = modules[name](*(values[s] for s in sources))
        return values[self.output_name]

    @property
    def multi_input(self) -> bool:
        """True when the network has more than one Input node."""
        return len(self.input_names) > 1

    def example_input(self, batch: int = 2) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """A random batch of the shape and dtype each Input declares: one tensor for a
        single-input network, a tuple in `input_names` order otherwise."""
        examples = tuple(_example(spec, batch) for spec in self.input_specs)
        return examples if self.multi_input else examples[0]


def _example(spec: TensorSpec, batch: int) -> torch.Tensor:
    shape = (batch, *spec.shape)
    if spec.dtype == "int64":
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
