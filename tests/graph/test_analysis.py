"""Validation and shape inference: the messages a user sees on the canvas."""

from __future__ import annotations

import pytest

from workbench.errors import GraphError
from workbench.graph.analysis import analyze, check
from workbench.graph.builder import build_model
from workbench.graph.document import Graph


def chain(graph: Graph, *specs: tuple[str, dict]) -> list[str]:
    """Add nodes in a line, each fed by the previous; returns their ids."""
    ids: list[str] = []
    for type_id, params in specs:
        node = graph.add_node(type_id, params=params)
        if ids:
            graph.connect(ids[-1], node.id)
        ids.append(node.id)
    return ids


def test_linear_after_conv_asks_for_flatten() -> None:
    g = Graph()
    chain(g, ("Input", {"shape": [1, 8, 8]}), ("Conv2d", {"out_channels": 16}), ("MaxPool2d", {}),
          ("Linear", {"out_features": 10}), ("Output", {}))
    g.rename(g.nodes[3].id, "fc1")
    result = analyze(g)
    assert [p.message for p in result.problems] == [
        "Linear 'fc1' needs a flat vector or a sequence (length×features) but gets 16×4×4 — insert a Flatten"
    ]
    assert result.problems[0].node_id == g.nodes[3].id
    assert str(result.shapes[g.nodes[2].id]) == "B×16×4×4"


def test_valid_cnn_has_shapes_on_every_edge() -> None:
    g = Graph()
    ids = chain(g, ("Input", {"shape": [1, 8, 8]}), ("Conv2d", {"out_channels": 16}), ("MaxPool2d", {}),
                ("Flatten", {}), ("Linear", {"out_features": 10}), ("Output", {}))
    result = check(g)
    assert [str(result.edge_shape(e)) for e in g.edges] == ["B×1×8×8", "B×16×8×8", "B×16×4×4", "B×256", "B×10"]
    assert result.order == ids


def test_missing_input_and_output_are_reported() -> None:
    g = Graph()
    g.add_node("Linear")
    messages = [p.message for p in analyze(g).problems]
    assert "the network has no Input layer — add one from the palette" in messages
    assert "the network has no Output layer — add one and connect the last layer to it" in messages
    assert "Linear 'fc' has no input — connect a layer to it" in messages


def test_cycle_is_refused_when_connecting() -> None:
    g = Graph()
    a, b, c = (g.add_node("ReLU").id for _ in range(3))
    g.connect(a, b)
    g.connect(b, c)
    assert "would make a cycle" in (g.can_connect(c, a) or "")
    with pytest.raises(GraphError, match="cycle"):
        g.connect(c, a)


def test_taken_port_and_self_loop_are_refused() -> None:
    g = Graph()
    a, b, c = (g.add_node("ReLU").id for _ in range(3))
    g.connect(a, c)
    assert g.can_connect(b, c) == "every input of ReLU 'relu_3' is already connected"
    assert g.can_connect(b, c, "in") == "input 'in' of ReLU 'relu_3' is already connected — remove that edge first"
    assert g.can_connect(a, a, "in") == "a layer cannot feed itself"


def test_unconnected_merge_port_and_mismatched_add() -> None:
    g = Graph()
    inp = g.add_node("Input", params={"shape": [1, 8, 8]}).id
    conv = g.add_node("Conv2d", params={"out_channels": 4}).id
    add = g.add_node("Add").id
    g.connect(inp, conv)
    g.connect(conv, add)
    assert "has unconnected input(s) in2" in analyze(g).problems_for(add)[0].message
    g.connect(inp, add)
    msg = [p.message for p in analyze(g).problems_for(add) if p.severity == "error"][0]
    assert msg.startswith("Add 'add' needs inputs of the same shape but gets 4×8×8 and 1×8×8")


def test_token_ids_into_float_layer_and_heads() -> None:
    g = Graph()
    ids = chain(g, ("Input", {"kind": "tokens", "shape": [16]}), ("Linear", {}), ("Output", {}))
    assert analyze(g).problems_for(ids[1])[0].message == "Linear 'fc' gets integer token ids — insert an Embedding before it"
    g2 = Graph()
    ids = chain(g2, ("Input", {"kind": "tokens", "shape": [16]}), ("Embedding", {"embedding_dim": 30}),
                ("TransformerBlock", {"heads": 4}), ("Linear", {}), ("Output", {}))
    msg = analyze(g2).problems_for(ids[2])[0].message
    assert msg.startswith("TransformerBlock 'block' has 4 heads, which do not divide the embedding width 30 — use 1, 2, 3, 5")


def test_kernel_larger_than_input() -> None:
    g = Graph()
    ids = chain(g, ("Input", {"shape": [1, 4, 4]}), ("Conv2d", {"kernel_size": 7, "padding": 0}), ("Flatten", {}),
                ("Output", {}))
    assert "window but its input is only 4×4" in analyze(g).problems_for(ids[1])[0].message


def test_dangling_output_is_a_warning_not_an_error() -> None:
    g = Graph()
    ids = chain(g, ("Input", {"kind": "vector", "shape": [4]}), ("Linear", {"out_features": 2}), ("Output", {}))
    extra = g.add_node("ReLU").id
    g.connect(ids[1], extra)
    result = analyze(g)
    assert result.ok
    assert [p.severity for p in result.problems_for(extra)] == ["warning"]


def test_two_hundred_node_graph_is_analyzed() -> None:
    g = Graph()
    specs = [("Input", {"kind": "vector", "shape": [32]})]
    for _ in range(99):
        specs += [("Linear", {"out_features": 32}), ("ReLU", {})]
    specs.append(("Output", {"loss": "mse"}))
    chain(g, *specs)
    result = check(g)
    assert len(g) == 200 and len(result.shapes) == 200


def test_same_seed_same_weights_and_names_follow_nodes() -> None:
    g = Graph()
    chain(g, ("Input", {"kind": "vector", "shape": [4]}), ("Linear", {"out_features": 3}), ("Output", {}))
    a, b = build_model(g, seed=1), build_model(g, seed=1)
    assert list(a.state_dict()) == ["fc.weight", "fc.bias"]
    assert all((a.state_dict()[k] == b.state_dict()[k]).all() for k in a.state_dict())
    assert not (build_model(g, seed=2).fc.weight == a.fc.weight).all()


def test_invalid_graph_does_not_build() -> None:
    g = Graph()
    g.add_node("Linear")
    with pytest.raises(GraphError, match="no Input layer"):
        build_model(g)
