"""Graph document edits: validation, events, names and records."""

from __future__ import annotations

import pytest

from workbench.errors import GraphError
from workbench.graph.document import EventKind, Graph, GraphEvent


def test_events_follow_edits() -> None:
    g = Graph()
    seen: list[GraphEvent] = []
    g.subscribe(seen.append)
    a = g.add_node("Input", params={"kind": "vector", "shape": [3]})
    b = g.add_node("Linear")
    edge = g.connect(a.id, b.id)
    g.set_param(b.id, "out_features", 5)
    g.rename(b.id, "head")
    g.move(b.id, (10, 20))
    g.remove_node(b.id)
    assert [e.kind for e in seen] == [
        EventKind.NODE_ADDED, EventKind.NODE_ADDED, EventKind.EDGE_ADDED, EventKind.PARAMS_CHANGED,
        EventKind.NODE_RENAMED, EventKind.NODE_MOVED, EventKind.EDGE_REMOVED, EventKind.NODE_REMOVED,
    ]
    assert seen[2].edge == edge
    assert seen[3].detail == {"key": "out_features", "old": 64, "new": 5}


def test_invalid_param_is_refused_not_clamped() -> None:
    g = Graph()
    n = g.add_node("Linear")
    with pytest.raises(GraphError, match="'out_features' must be an integer from 1 to 65536, got 0"):
        g.set_param(n.id, "out_features", 0)
    with pytest.raises(GraphError, match="'loss' must be one of 'cross_entropy', 'mse', 'bce_with_logits'"):
        g.add_node("Output", params={"loss": "hinge"})
    assert n.params["out_features"] == 64


def test_names_are_unique_and_valid() -> None:
    g = Graph()
    assert [g.add_node("Linear").name for _ in range(3)] == ["fc", "fc_2", "fc_3"]
    with pytest.raises(GraphError, match="already used"):
        g.rename(g.nodes[1].id, "fc")
    with pytest.raises(GraphError, match="not a valid layer name"):
        g.rename(g.nodes[1].id, "2 fc")
    with pytest.raises(GraphError, match="reserved"):
        g.rename(g.nodes[1].id, "forward")


def test_lowering_merge_inputs_drops_orphaned_edges() -> None:
    g = Graph()
    srcs = [g.add_node("ReLU").id for _ in range(3)]
    add = g.add_node("Add", params={"inputs": 3}).id
    for s in srcs:
        g.connect(s, add)
    g.set_param(add, "inputs", 2)
    assert [e.dst_port for e in g.edges_into(add)] == ["in1", "in2"]


def test_restore_puts_back_node_and_edges() -> None:
    g = Graph()
    a = g.add_node("ReLU").id
    b = g.add_node("ReLU").id
    c = g.add_node("ReLU").id
    g.connect(a, b)
    g.connect(b, c)
    before = g.to_dict()
    node, edges = g.remove_node(b)
    g.restore(node, edges)
    after = g.to_dict()
    assert sorted(after["nodes"], key=lambda n: n["id"]) == sorted(before["nodes"], key=lambda n: n["id"])
    assert sorted(map(str, after["edges"])) == sorted(map(str, before["edges"]))


def test_unknown_type_lists_known_types() -> None:
    with pytest.raises(GraphError, match="unknown layer type 'Dense'; known types: AdaptiveAvgPool2d, Add, "):
        Graph().add_node("Dense")
    with pytest.raises(GraphError, match=r"unknown layer type 'Conv2D' — did you mean Conv2d"):
        Graph().add_node("Conv2D")


def test_reserved_names_cover_every_module_attribute() -> None:
    from torch import nn

    from workbench.graph.document import RESERVED_NAMES

    public = {n for n in dir(nn.Module) if not (n.startswith("__") and n.endswith("__"))}
    assert public <= RESERVED_NAMES, sorted(public - RESERVED_NAMES)
