"""Regression tests for inputs that once crashed the graph, shape inference or the summary.

Each test is named after what it guards; the property tests in test_graph_properties.py found
most of them.
"""

from __future__ import annotations

import math

import pytest

from workbench.errors import GraphError
from workbench.graph.analysis import analyze
from workbench.graph.document import Graph
from workbench.graph.summary import summarize
from workbench.layers import layer_spec
from workbench.layers.params import ParamError
from workbench.layers.tensor_spec import MAX_SAMPLE_VALUES, TensorSpec
from workbench.presets import load_preset


def chain(graph: Graph, *specs: tuple[str, dict]) -> list[str]:
    ids: list[str] = []
    for type_id, params in specs:
        node = graph.add_node(type_id, params=params)
        if ids:
            graph.connect(ids[-1], node.id)
        ids.append(node.id)
    return ids


def test_reshape_with_a_zero_is_a_shape_error() -> None:
    g = Graph()
    ids = chain(g, ("Input", {"kind": "vector", "shape": [12]}), ("Reshape", {"shape": [0, -1]}), ("Output", {"loss": "mse"}))
    assert [p.message for p in analyze(g).problems_for(ids[1])] == [
        "Reshape 'reshape' has a 0 in its shape 0×-1 — every size must be at least 1 (or -1, once, to infer it)"
    ]


def test_summary_of_a_batchnorm_network_runs_in_eval_mode() -> None:
    g = Graph()
    chain(g, ("Input", {"kind": "vector", "shape": [1]}), ("BatchNorm1d", {}), ("Output", {"loss": "mse"}))
    summary = summarize(g, batch_size=8)
    assert [r.type for r in summary.rows] == ["Input", "BatchNorm1d", "Output"]
    assert summary.total_params == 2  # weight and bias of one feature
    # the memory estimate is for the batch asked for, whatever batch the forward pass used
    assert summary.activation_bytes == 3 * 1 * 8 * 4


def test_summary_counts_the_flops_of_nested_modules_once() -> None:
    summary = summarize(load_preset("tiny-gpt").graph)
    assert sum(r.flops for r in summary.rows) == summary.total_flops
    block = next(r for r in summary.rows if r.type == "TransformerBlock")
    assert 0 < block.flops < summary.total_flops / 2


def test_sample_larger_than_workbench_runs_is_a_problem() -> None:
    g = Graph()
    side = int(math.isqrt(MAX_SAMPLE_VALUES)) + 1
    ids = chain(g, ("Input", {"kind": "image", "shape": [1, side, side]}), ("Flatten", {}), ("Output", {"loss": "mse"}))
    messages = [p.message for p in analyze(g).problems_for(ids[0])]
    assert messages == [
        f"Input 'input' makes samples of 1×{side}×{side} = {side * side:,} values, more than the"
        f" {MAX_SAMPLE_VALUES:,} Workbench can run — make the shapes smaller"
    ]


def test_input_dimension_beyond_the_limit_is_refused() -> None:
    with pytest.raises(ParamError, match="'shape' must be a list of 1 to 3 integers from 1 to 2147483647, got"):
        layer_spec("Input").param("shape").validate([2**63])


def test_float_param_beyond_the_float_range_is_refused() -> None:
    g = Graph()
    node = g.add_node("Dropout")
    with pytest.raises(GraphError, match=r"Dropout: 'p' must be a number from 0 to 0.95, got a number of about 400 digits"):
        g.set_param(node.id, "p", 10**400)
    assert g.node(node.id).params["p"] == 0.1


def test_param_error_for_a_5000_digit_number_stays_one_short_line() -> None:
    with pytest.raises(ParamError) as info:
        layer_spec("Linear").param("out_features").validate(10**5000)
    assert str(info.value) == "'out_features' must be an integer from 1 to 65536, got a number of about 5000 digits"


def test_param_error_escapes_lone_surrogates() -> None:
    with pytest.raises(ParamError) as info:
        layer_spec("Output").param("loss").validate("mse\ud800")
    str(info.value).encode("utf-8")  # printable
    assert "\\ud800" in str(info.value)


def test_layer_name_with_a_lone_surrogate_is_refused_printably() -> None:
    g = Graph()
    with pytest.raises(GraphError) as info:
        g.add_node("ReLU", name="relu\udc80")
    assert "is not a valid layer name" in str(info.value)
    str(info.value).encode("utf-8")


@pytest.mark.parametrize("position", [(math.inf, 0), (0, math.nan), (10**400, 0), ("a", 0)])
def test_position_must_be_two_finite_numbers(position: tuple) -> None:
    g = Graph()
    with pytest.raises(GraphError, match="a position must be two"):
        g.add_node("ReLU", position=position)
    node = g.add_node("ReLU")
    with pytest.raises(GraphError, match="a position must be two"):
        g.move(node.id, position)
    assert len(g) == 1 and g.node(node.id).position == (0.0, 0.0)


def test_every_shape_rule_refuses_with_shape_errors_at_the_edges() -> None:
    """Extreme but valid params on tiny and huge inputs: ShapeError or a spec, nothing else."""
    from workbench.layers import all_layer_specs
    from workbench.layers.registry import ShapeError

    inputs = [TensorSpec((1,)), TensorSpec((1, 1)), TensorSpec((1, 1, 1)), TensorSpec((7,), "int64"),
              TensorSpec((MAX_SAMPLE_VALUES,)), TensorSpec((3, 4096, 4096))]
    for spec in all_layer_specs():
        for bound in ("minimum", "maximum"):
            params = spec.defaults()
            for p in spec.params:
                edge = getattr(p, bound)
                if p.kind == "int" and edge is not None:
                    params[p.name] = int(edge)
                elif p.kind == "ints" and edge is not None:
                    params[p.name] = (int(edge),) * (p.length or (1, 8))[1]
            ports = spec.input_ports(params)
            for x in inputs:
                try:
                    spec.shape_rule(params, [x] * len(ports))
                except ShapeError:
                    pass


def test_node_id_with_thousands_of_digits_does_not_break_new_ids() -> None:
    g = Graph()
    g.add_node("ReLU", node_id="n" + "9" * 5000)  # int() refuses more than 4,300 digits
    assert g.add_node("ReLU").id == "n1"


@pytest.mark.parametrize("edit", ["type", "node id", "port", "param"])
def test_messages_quote_user_text_on_one_printable_line(edit: str) -> None:
    g = Graph()
    a = g.add_node("ReLU", node_id="a").id
    b = g.add_node("Add", node_id="b").id
    with pytest.raises(GraphError) as info:
        if edit == "type":
            g.add_node("Dense\nLayer")
        elif edit == "node id":
            g.node("x\ny")
        elif edit == "port":
            g.connect(a, b, "in\n9")
        else:
            g.set_param(b, "in\ud800puts", 3)
    message = str(info.value)
    assert "\n" not in message
    message.encode("utf-8")
