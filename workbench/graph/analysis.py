"""Validation and shape inference: pure functions of the graph, cheap enough to run on every edit.

`analyze(graph)` returns a topological order, the output spec of every node it could infer,
and every problem found, each tied to its node and worded for the user with the fix.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from workbench.errors import GraphError
from workbench.graph.document import Edge, Graph, Node
from workbench.i18n import _
from workbench.layers.tensor_spec import MAX_SAMPLE_VALUES, TensorSpec
from workbench.layers.registry import ShapeError

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the graph; `node_id` is None for whole-graph problems."""

    message: str
    node_id: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        return self.message


@dataclass
class Analysis:
    """What shape inference and validation found."""

    order: list[str]  # topological order of the nodes (all of them, when there is no cycle)
    shapes: dict[str, TensorSpec] = field(default_factory=dict)  # node id -> output spec
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def edge_shape(self, edge: Edge) -> TensorSpec | None:
        """The tensor on an edge is its source's output."""
        return self.shapes.get(edge.src)

    def problems_for(self, node_id: str) -> list[Problem]:
        return [p for p in self.problems if p.node_id == node_id]

    def errors_text(self) -> str:
        """Every error on its own line, for the command line."""
        return "\n".join(p.message for p in self.problems if p.severity == "error")


def topological_order(graph: Graph) -> tuple[list[str], list[str]]:
    """Kahn's algorithm: (ordered node ids, ids left over because they sit on a cycle)."""
    indegree = {n.id: 0 for n in graph.nodes}
    out: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for e in graph.edges:
        indegree[e.dst] += 1
        out[e.src].append(e.dst)
    ready = deque(nid for nid, d in indegree.items() if d == 0)
    order: list[str] = []
    while ready:
        nid = ready.popleft()
        order.append(nid)
        for nxt in out[nid]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    leftover = [nid for nid, d in indegree.items() if d > 0]
    return order, leftover


def analyze(graph: Graph) -> Analysis:
    """Validate the graph and infer every shape it can."""
    order, cyclic = topological_order(graph)
    result = Analysis(order=order)
    problems = result.problems
    for nid in cyclic:
        problems.append(Problem(_("{layer} is part of a cycle — remove one of the edges that loop back")
                                .format(layer=graph.node(nid).label()), nid))

    inputs = [n for n in graph.nodes if n.type == "Input"]
    outputs = [n for n in graph.nodes if n.type == "Output"]
    # Several Inputs are fine (a seq2seq network takes a source and a target sequence): the
    # model takes them in the graph's order, and the data matches them by their node names.
    if not inputs:
        problems.append(Problem(_("the network has no Input layer — add one from the palette")))
    if not outputs:
        problems.append(Problem(_("the network has no Output layer — add one and connect the last layer to it")))
    elif len(outputs) > 1:
        for n in outputs[1:]:
            problems.append(Problem(_("{layer}: a network has exactly one Output — remove this one").format(layer=n.label()),
                                    n.id))

    incoming: dict[str, dict[str, str]] = {n.id: {} for n in graph.nodes}
    for e in graph.edges:
        incoming[e.dst][e.dst_port] = e.src
    feeds = {e.src for e in graph.edges}

    for nid in order:
        node = graph.node(nid)
        spec = node.spec
        ports = node.input_ports()
        missing = [p for p in ports if p not in incoming[nid]]
        if missing:
            problems.append(Problem(_unconnected(node, missing, len(ports)), nid))
            continue
        if nid not in feeds and node.type != "Output":
            problems.append(Problem(_("{layer} feeds nothing — connect its output or delete it").format(layer=node.label()),
                                    nid, "warning"))
        in_specs = [result.shapes.get(incoming[nid][p]) for p in ports]
        if any(s is None for s in in_specs):
            continue  # an earlier problem already explains it
        specs = [s for s in in_specs if s is not None]
        if any(s.dtype == "int64" for s in specs) and not spec.accepts_ids:
            problems.append(Problem(_("{layer} gets integer token ids — insert an Embedding before it")
                                    .format(layer=node.label()), nid))
            continue
        try:
            shape = spec.shape_rule(node.params, specs)
        except ShapeError as exc:
            problems.append(Problem(f"{node.label()} {exc}", nid))
            continue
        if shape.numel > MAX_SAMPLE_VALUES:
            problems.append(Problem(_(
                "{layer} makes samples of {dims} = {values} values, more than the {limit} Workbench can run"
                " — make the shapes smaller").format(layer=node.label(), dims=shape.dims(), values=f"{shape.numel:,}",
                                                     limit=f"{MAX_SAMPLE_VALUES:,}"), nid))
            continue
        result.shapes[nid] = shape
    return result


def check(graph: Graph) -> Analysis:
    """`analyze`, raising GraphError with every error when the graph cannot be built."""
    result = analyze(graph)
    if not result.ok:
        raise GraphError(result.errors_text())
    return result


def _unconnected(node: Node, missing: list[str], total: int) -> str:
    if total == 1:
        return _("{layer} has no input — connect a layer to it").format(layer=node.label())
    return _("{layer} has unconnected input(s) {ports} — connect them or lower 'inputs'").format(
        layer=node.label(), ports=", ".join(missing))
