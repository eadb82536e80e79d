"""Property-based tests: random graphs built from the layer registry, through the public graph API.

Every layer type appears, with parameters drawn from its ParamSpec (kind, range, choices) and
random wiring. Whatever comes out, analysis reports problems instead of raising; a valid graph
summarizes and builds, and every node's declared output shape is the shape a real forward
pass produces, in train and in eval mode.

The example count comes from the hypothesis profile chosen in tests/conftest.py
(`--hypothesis-profile=long` for a deep run).
"""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import assume, event, given, note
from hypothesis import strategies as st

from workbench.errors import GraphError
from workbench.graph.analysis import analyze
from workbench.graph.builder import build_model
from workbench.graph.document import Graph
from workbench.graph.summary import summarize
from workbench.layers import all_layer_specs, layer_spec
from workbench.layers.params import ParamSpec
from workbench.layers.io import LOSSES
from workbench.layers.registry import LayerSpec, ShapeError

SPECS = [s for s in all_layer_specs() if s.type_id not in ("Input", "Output")]
SMALL = 12  # with `small`, sizes stay near their minimum so that real forward passes are cheap
# Real forward passes only for graphs whose tensors stay small (a drawn ConvTranspose2d chain
# can ask for gigabytes); analysis and summaries run on every graph.
MAX_VALUES_PER_SAMPLE = 50_000


def param_values(param: ParamSpec, small: bool) -> st.SearchStrategy[Any]:
    """Valid values of one declared parameter."""
    if param.kind == "bool":
        return st.booleans()
    if param.kind == "choice":
        return st.sampled_from(param.choices)
    if param.kind == "float":
        lo = param.minimum if param.minimum is not None else -1e6
        hi = param.maximum if param.maximum is not None else 1e6
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    lo = int(param.minimum) if param.minimum is not None else -(2**31)
    hi = int(param.maximum) if param.maximum is not None else 2**31
    ints = st.integers(lo, min(hi, max(lo, 1) + SMALL)) if small else st.one_of(
        st.integers(lo, min(hi, max(lo, 1) + SMALL)), st.integers(lo, hi)
    )
    if param.kind == "int":
        return ints
    low, high = param.length or (1, 8)
    return st.lists(ints, min_size=low, max_size=high).map(tuple)


def params_for(spec: LayerSpec, small: bool) -> st.SearchStrategy[dict[str, Any]]:
    """A random subset of a type's params set to random valid values (the rest keep defaults)."""
    return st.fixed_dictionaries({}, optional={p.name: param_values(p, small) for p in spec.params})


@st.composite
def graphs(draw: st.DrawFn, small: bool = False) -> Graph:
    """A random graph: one Input, a few layers of any type each fed by earlier nodes, one Output.

    Sources are mostly the previous node, so that many drawn graphs are valid; sometimes any
    earlier node, or nothing (an unconnected input), or an extra Input or Output.
    """
    graph = Graph()
    kind = draw(st.sampled_from(("image", "vector", "tokens")))
    rank = {"image": 3, "vector": 1, "tokens": 1}[kind]
    rank = draw(st.one_of(st.just(rank), st.integers(1, 3)))
    shape = draw(st.lists(st.integers(1, 10 if small else 64), min_size=rank, max_size=rank))
    ids = [graph.add_node("Input", params={"kind": kind, "shape": shape}).id]
    for _ in range(draw(st.integers(0, 6))):
        spec = draw(st.sampled_from(SPECS))
        node = graph.add_node(spec.type_id, params=draw(params_for(spec, small)))
        for port in node.input_ports():
            choice = draw(st.sampled_from(("last", "last", "last", "any", "none")))
            if choice == "none":
                continue
            src = ids[-1] if choice == "last" else draw(st.sampled_from(ids))
            graph.connect(src, node.id, port)
        ids.append(node.id)
    output = graph.add_node("Output", params=draw(params_for(layer_spec("Output"), small)))
    if draw(st.integers(0, 9)):
        graph.connect(ids[-1], output.id)
    if not draw(st.integers(0, 19)):
        graph.add_node(draw(st.sampled_from(("Input", "Output"))))
    return graph


def _check_problems_only(graph: Graph):
    analysis = analyze(graph)  # must not raise, whatever the graph
    for problem in analysis.problems:
        assert problem.message and "\n" not in problem.message
        assert problem.node_id is None or graph.has_node(problem.node_id)
    return analysis


@given(graphs())
def test_random_graphs_analyse_to_problems_never_exceptions(graph: Graph) -> None:
    note(str(graph.to_dict()))
    analysis = _check_problems_only(graph)
    event("valid" if analysis.ok else "invalid")  # shown by --hypothesis-show-statistics
    if analysis.ok:
        summary = summarize(graph, batch_size=4)
        assert [row.node_id for row in summary.rows] == analysis.order
        assert summary.total_params >= 0 and summary.train_memory_bytes > 0
        for row in summary.rows:
            assert row.output_shape == str(analysis.shapes[row.node_id])


def _forward_every_node(model: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every layer's output, by node name (GraphModule.forward keeps only the last)."""
    values = {model.input_name: x}
    for name, sources in model.plan:
        values[name] = model.get_submodule(name)(*(values[s] for s in sources))
    return values


def _resolved(spec: LayerSpec, params: dict[str, Any]) -> dict[str, Any]:
    return {**spec.defaults(), **{k: spec.param(k).validate(v) for k, v in params.items()}}


@st.composite
def valid_graphs(draw: st.DrawFn) -> Graph:
    """A random graph that shape inference should accept: each drawn layer is kept only when
    its declared rule accepts the inputs it was wired to, and sizes stay small enough to run.

    The rules only steer the drawing; that the whole graph then analyses without errors, and
    that the declared shapes are the real ones, is what the tests check.
    """
    graph = Graph()
    kind = draw(st.sampled_from(("image", "vector", "tokens")))
    rank = {"image": 3, "vector": 1, "tokens": 1}[kind]
    params = {"kind": kind, "shape": draw(st.lists(st.integers(1, 10), min_size=rank, max_size=rank))}
    source = graph.add_node("Input", params=params)
    shapes = {source.id: layer_spec("Input").shape_rule(_resolved(layer_spec("Input"), params), [])}
    ids = [source.id]
    planned: list[LayerSpec] = []
    if kind == "tokens" and draw(st.integers(0, 9)):
        planned.append(layer_spec("Embedding"))  # most layers need features, not token ids
    planned += [draw(st.sampled_from(SPECS)) for _ in range(draw(st.integers(1, 6)))]
    for spec in planned:
        params = draw(params_for(spec, small=True))
        full = _resolved(spec, params)
        sources = [ids[-1] if draw(st.integers(0, 3)) else draw(st.sampled_from(ids)) for _ in spec.input_ports(full)]
        inputs = [shapes[s] for s in sources]
        if any(x.dtype == "int64" for x in inputs) and not spec.accepts_ids:
            continue
        try:
            declared = spec.shape_rule(full, inputs)
        except ShapeError:
            continue
        if declared.numel > MAX_VALUES_PER_SAMPLE:
            continue
        node = graph.add_node(spec.type_id, params=params)
        for port, src in zip(node.input_ports(), sources):
            graph.connect(src, node.id, port)
        shapes[node.id] = declared
        ids.append(node.id)
    last = next((i for i in reversed(ids) if shapes[i].dtype == "float32"), None)
    assume(last is not None)
    loss = draw(st.sampled_from(LOSSES))
    if loss == "cross_entropy" and shapes[last].rank not in (1, 2):
        loss = "mse"
    graph.connect(last, graph.add_node("Output", params={"loss": loss}).id)
    return graph


@given(valid_graphs())
def test_valid_random_graphs_build_and_declared_shapes_match_forward(graph: Graph) -> None:
    note(str(graph.to_dict()))
    analysis = _check_problems_only(graph)
    assert analysis.ok, analysis.errors_text()
    assert summarize(graph, batch_size=2).rows
    model = build_model(graph)
    by_name = {n.name: n.id for n in graph.nodes}
    for mode in ("train", "eval"):
        model.train(mode == "train")
        # a batch of 2: BatchNorm cannot train on a single sample
        with torch.no_grad():
            values = _forward_every_node(model, model.example_input(2))
        for name, value in values.items():
            declared = analysis.shapes[by_name[name]]
            assert tuple(value.shape) == (2, *declared.shape), f"{name} in {mode} mode"
            assert (value.dtype == torch.long) == (declared.dtype == "int64"), f"{name} in {mode} mode"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from((2**63, 10**400, -(10**4000)))
    | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=8,
)


@given(st.sampled_from([*SPECS, layer_spec("Input"), layer_spec("Output")]), st.data())
def test_any_value_for_any_param_is_validated_or_refused(spec: LayerSpec, data: st.DataObject) -> None:
    assume(spec.params)
    param = data.draw(st.sampled_from(spec.params))
    value = data.draw(st.one_of(JSON_VALUES, param_values(param, small=False)))
    graph = Graph()
    node = graph.add_node(spec.type_id)
    try:
        graph.set_param(node.id, param.name, value)
    except GraphError as exc:  # the ParamError, prefixed with the layer type
        assert param.name in str(exc) and "\n" not in str(exc)
        str(exc).encode("utf-8")  # printable
        return
    assert graph.node(node.id).params[param.name] == param.validate(value)


EDITS = st.sampled_from(("set_param", "rename", "remove", "disconnect", "connect", "move"))


@given(graphs(), st.lists(st.tuples(EDITS, st.integers(0, 50), st.integers(0, 50), JSON_VALUES), max_size=6))
def test_random_edits_apply_completely_or_change_nothing(graph: Graph, edits: list) -> None:
    """Every edit either applies, or raises GraphError and leaves the graph as it was."""
    for edit, i, j, value in edits:
        nodes, edges = graph.nodes, graph.edges
        if not nodes:
            break
        node, other = nodes[i % len(nodes)], nodes[j % len(nodes)]
        before = graph.to_dict()
        try:
            if edit == "set_param" and node.spec.params:
                graph.set_param(node.id, node.spec.params[j % len(node.spec.params)].name, value)
            elif edit == "rename":
                graph.rename(node.id, value if isinstance(value, str) else other.name)
            elif edit == "remove":
                graph.remove_node(node.id)
            elif edit == "disconnect" and edges:
                graph.disconnect(edges[i % len(edges)])
            elif edit == "connect":
                graph.connect(node.id, other.id, value if isinstance(value, str) else None)
            elif edit == "move":
                graph.move(node.id, (value, j) if not isinstance(value, (list, dict)) else value)
        except GraphError as exc:
            assert "\n" not in str(exc)
            str(exc).encode("utf-8")
            assert graph.to_dict() == before
        # the indexes agree with the nodes and edges after every edit
        for n in graph.nodes:
            assert graph.node_by_name(n.name) is n
            assert graph.edges_into(n.id) == [e for e in graph.edges if e.dst == n.id]
            assert graph.edges_from(n.id) == [e for e in graph.edges if e.src == n.id]
    _check_problems_only(graph)
