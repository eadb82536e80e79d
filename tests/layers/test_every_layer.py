"""Every registered layer type: declared shape == real output shape, params round trip, backward runs,
and the facts other modules read (default name, width param, channel rule, width multiple, data-following
params) fit the type."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from workbench.graph.document import Graph
from workbench.layers.tensor_spec import TensorSpec
from workbench.layers import ShapeError, all_layer_specs, layer_spec
from workbench.layers.registry import DATA_FACTS, Channels, Width
from workbench.project import graph_from_dict

IMG = TensorSpec((3, 8, 8))
SEQ = TensorSpec((6, 16))
VEC = TensorSpec((20,))
IDS = TensorSpec((6,), "int64")

# type id -> (input specs, non-default params). Adding a layer type without an example fails
# test_every_type_has_an_example, so no type escapes these checks.
EXAMPLES: dict[str, tuple[list[TensorSpec], dict]] = {
    "Input": ([], {"kind": "image", "shape": (3, 8, 8)}),
    "Output": ([VEC], {"loss": "cross_entropy"}),
    "Linear": ([VEC], {"out_features": 7}),
    "Conv1d": ([TensorSpec((4, 12))], {"out_channels": 5, "kernel_size": 3, "stride": 2, "padding": 1}),
    "Conv2d": ([IMG], {"out_channels": 5, "kernel_size": 3, "stride": 2, "padding": 0}),
    "ConvTranspose2d": ([IMG], {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}),
    "MaxPool2d": ([IMG], {"kernel_size": 3, "stride": 2, "padding": 1}),
    "AvgPool2d": ([IMG], {"kernel_size": 2}),
    "AdaptiveAvgPool2d": ([IMG], {"output_size": 3}),
    "GlobalAvgPool": ([IMG], {}),
    "BatchNorm1d": ([VEC], {}),
    "BatchNorm2d": ([IMG], {}),
    "LayerNorm": ([SEQ], {}),
    "ReLU": ([IMG], {}),
    "GELU": ([SEQ], {}),
    "SiLU": ([VEC], {}),
    "Tanh": ([VEC], {}),
    "Sigmoid": ([VEC], {}),
    "LeakyReLU": ([VEC], {"negative_slope": 0.2}),
    "Softmax": ([VEC], {}),
    "Dropout": ([IMG], {"p": 0.3}),
    "Flatten": ([IMG], {}),
    "Reshape": ([VEC], {"shape": (4, -1)}),
    "Permute": ([IMG], {"dims": (1, 2, 0)}),
    "Transpose": ([SEQ], {"dim0": 0, "dim1": 1}),
    "Embedding": ([IDS], {"num_embeddings": 11, "embedding_dim": 8}),
    "PositionalEncoding": ([SEQ], {"encoding": "learned", "max_len": 10}),
    "PatchEmbedding": ([IMG], {"patch_size": 4, "embed_dim": 12, "cls_token": True}),
    "MultiHeadSelfAttention": ([SEQ], {"heads": 4, "causal": True}),
    "TransformerBlock": ([SEQ], {"heads": 2, "mlp_ratio": 2.0}),
    "SequencePool": ([SEQ], {"mode": "cls"}),
    "Add": ([IMG, IMG, IMG], {"inputs": 3}),
    "Concat": ([IMG, TensorSpec((5, 8, 8))], {"axis": 0}),
    "ReLU6": ([IMG], {}),
    "Hardswish": ([IMG], {}),
    "Hardsigmoid": ([VEC], {}),
    "SqueezeExcitation": ([TensorSpec((6, 5, 5))], {"squeeze_channels": 2, "activation": "silu", "scale_activation": "hardsigmoid"}),
    "StochasticDepth": ([IMG], {"p": 0.5, "mode": "row"}),
    "Identity": ([IMG], {}),
    "LayerNorm2d": ([IMG], {"eps": 1e-5}),
    "ConvNeXtBlock": ([TensorSpec((4, 8, 8))], {"layer_scale": 0.5, "stochastic_depth": 0.2}),
    "CrossAttention": ([SEQ, TensorSpec((9, 16))], {"heads": 4, "dropout": 0.1}),
    "TransformerDecoderBlock": ([SEQ, TensorSpec((9, 16)), TensorSpec((9,), "int64")],
                                {"heads": 2, "mlp_ratio": 2.0, "mask_padding": True, "pad_id": 1}),
    # one direction here: the width test reads hidden_size as the output's width (a bidirectional
    # layer's is twice that: tests/layers/test_sequence_layers.py covers it)
    "LSTM": ([SEQ], {"hidden_size": 5, "num_layers": 2, "dropout": 0.2}),
    "GRU": ([SEQ], {"hidden_size": 5, "output": "last"}),
    "RNN": ([SEQ], {"hidden_size": 5, "nonlinearity": "relu", "output": "last", "num_layers": 2}),
    "RMSNorm": ([SEQ], {"eps": 1e-5}),
    "GroupNorm": ([TensorSpec((6, 5, 5))], {"num_groups": 3}),
}

TYPES = [s.type_id for s in all_layer_specs()]


def test_every_type_has_an_example() -> None:
    assert sorted(EXAMPLES) == sorted(TYPES)


def _batch(spec: TensorSpec, batch: int = 3) -> torch.Tensor:
    if spec.dtype == "int64":
        return torch.randint(0, 5, (batch, *spec.shape))
    return torch.randn(batch, *spec.shape, requires_grad=True)


@pytest.mark.parametrize("type_id", TYPES)
def test_declared_shape_matches_forward(type_id: str) -> None:
    spec = layer_spec(type_id)
    inputs, overrides = EXAMPLES[type_id]
    params = {**spec.defaults(), **{k: spec.param(k).validate(v) for k, v in overrides.items()}}
    declared = spec.shape_rule(params, inputs)
    torch.manual_seed(0)
    module = spec.build_module(params, inputs)
    module.train()
    xs = [_batch(s) for s in inputs]
    if type_id == "Input":
        xs = [_batch(declared)]
    out = module(*xs)
    assert tuple(out.shape) == (3, *declared.shape)
    assert (declared.dtype == "int64") == (out.dtype == torch.long)
    if out.dtype.is_floating_point:
        out.float().square().mean().backward()
        grads = [x.grad for x in xs if x.requires_grad] + [p.grad for p in module.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("type_id", TYPES)
def test_params_round_trip(type_id: str) -> None:
    _, overrides = EXAMPLES[type_id]
    graph = Graph()
    node = graph.add_node(type_id, params=overrides)
    problems: list[str] = []
    loaded = graph_from_dict(graph.to_dict(), problems)
    assert problems == []
    assert loaded.node(node.id).params == node.params
    assert loaded == graph


@pytest.mark.parametrize("type_id", TYPES)
def test_every_param_has_doc_and_valid_default(type_id: str) -> None:
    spec = layer_spec(type_id)
    assert spec.doc and spec.category
    for p in spec.params:
        assert p.doc
        assert p.validate(p.default) == p.default


def test_duplicate_registration_is_refused() -> None:
    from workbench.layers.registry import register

    with pytest.raises(ValueError, match="registered twice"):
        register(layer_spec("Linear"))


# ----- the facts other modules read from the declaration --------------------------------------


def _example_params(type_id: str) -> dict:
    spec = layer_spec(type_id)
    _, overrides = EXAMPLES[type_id]
    return {**spec.defaults(), **{k: spec.param(k).validate(v) for k, v in overrides.items()}}


def _axis_index(axis: str) -> int:
    return 0 if axis == "first" else -1


@pytest.mark.parametrize("type_id", TYPES)
def test_a_new_node_gets_the_declared_name(type_id: str) -> None:
    graph = Graph()
    first, second = graph.add_node(type_id), graph.add_node(type_id)
    assert first.name == layer_spec(type_id).default_name
    assert second.name == f"{first.name}_2"


@pytest.mark.parametrize("type_id", [t for t in TYPES if layer_spec(t).width is not None])
def test_the_width_param_sets_the_declared_axis_and_weights(type_id: str) -> None:
    spec = layer_spec(type_id)
    width = spec.width
    assert width is not None and spec.param(width.param).kind == "int"
    inputs, _ = EXAMPLES[type_id]
    params = _example_params(type_id)
    params[width.param] = 6  # a width no example input has, so a wrong axis cannot pass by chance
    assert spec.shape_rule(params, inputs).shape[_axis_index(width.axis)] == 6
    if width.prune_dim is not None:
        module = spec.build_module(params, inputs)
        assert module.weight.shape[width.prune_dim] == 6
        assert module.bias is None or module.bias.shape == (6,)


@pytest.mark.parametrize("type_id", TYPES)
def test_the_channel_rule_names_real_tensors_and_axes(type_id: str) -> None:
    spec = layer_spec(type_id)
    rule = spec.channels
    inputs, _ = EXAMPLES[type_id]
    params = _example_params(type_id)
    if rule.flow in ("norm", "absorb"):
        state = spec.build_module(params, inputs).state_dict()
        channels = inputs[0].shape[_axis_index(rule.axis)]
        assert rule.tensors
        for name in rule.tensors:
            assert state[name].shape[rule.dim] == channels, name
    elif rule.flow == "pool":
        # pooling keeps each channel apart: the output has the input's channels on the same axis
        assert spec.shape_rule(params, inputs).shape[0] == inputs[0].shape[0]
    elif rule.flow == "pass":
        assert spec.shape_rule(params, inputs) == inputs[0]
    elif rule.flow == "concat":
        assert spec.param("axis").kind == "int"
    elif rule.flow == "stop":
        assert rule.reason.format(label="x").strip()


@pytest.mark.parametrize("type_id", [t for t in TYPES if layer_spec(t).width_multiple is not None])
def test_the_width_multiple_is_what_the_shape_rule_needs(type_id: str) -> None:
    spec = layer_spec(type_id)
    inputs, _ = EXAMPLES[type_id]
    params = _example_params(type_id)
    if type_id == "PositionalEncoding":
        params["encoding"] = "sinusoidal"
    assert spec.width_multiple is not None
    multiple = spec.width_multiple(params)
    assert multiple > 1
    # every float input gets the width: the layers with two sequences need them equal
    def widened(width: int) -> list[TensorSpec]:
        return [TensorSpec(x.shape[:-1] + (width,)) if x.dtype == "float32" else x for x in inputs]

    spec.shape_rule(params, widened(multiple * 3))
    with pytest.raises(ShapeError):
        spec.shape_rule(params, widened(multiple * 3 + 1))


@pytest.mark.parametrize("type_id", [t for t in TYPES if layer_spec(t).follows_data])
def test_params_that_follow_the_data_are_whole_numbers(type_id: str) -> None:
    spec = layer_spec(type_id)
    for param, fact in spec.follows_data:
        assert spec.param(param).kind == "int"
        assert fact in DATA_FACTS


def test_a_declaration_naming_a_missing_param_is_refused() -> None:
    from workbench.layers.registry import register

    linear = layer_spec("Linear")
    with pytest.raises(ValueError, match="width"):
        register(dataclasses.replace(linear, type_id="BadLinear", width=Width("out_channels", "last")))
    with pytest.raises(ValueError, match="follows_data"):
        register(dataclasses.replace(linear, type_id="BadLinear", width=None, follows_data=(("units", "outputs"),)))
    with pytest.raises(ValueError, match="channel flow"):
        register(dataclasses.replace(linear, type_id="BadLinear", width=None, channels=Channels("sideways")))
    assert "BadLinear" not in TYPES and all(s.type_id != "BadLinear" for s in all_layer_specs())


# Modules that may name layer types: the layer library itself, the app's palette and styling,
# the benchmarks, which build example networks, and the model importer, which maps other
# libraries' modules onto layer types. The Input and Output ends of a network are named
# everywhere (the graph's source and sink), so they are allowed too.
_MAY_NAME_TYPES = ("layers", "gui", "bench", "model_import")


def test_no_module_outside_the_layer_library_keys_facts_by_type_id() -> None:
    import ast
    from pathlib import Path

    import workbench

    ids = {s.type_id for s in all_layer_specs()} - {"Input", "Output"}
    root = Path(workbench.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] in _MAY_NAME_TYPES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in ids:
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.value!r}")
    assert found == []


# ----- the layers pretrained torchvision backbones need -----------------------------------------


@pytest.mark.parametrize("groups, dilation", [(1, 2), (2, 1), (6, 1), (3, 3)])
def test_grouped_and_dilated_conv2d_shapes_match_forward(groups: int, dilation: int) -> None:
    spec = layer_spec("Conv2d")
    x = TensorSpec((6, 11, 9))
    params = {**spec.defaults(), "out_channels": 12, "kernel_size": 3, "stride": 2, "padding": 1,
              "groups": groups, "dilation": dilation}
    module = spec.build_module(params, [x])
    assert module.weight.shape == (12, 6 // groups, 3, 3)
    out = module(torch.randn(2, *x.shape))
    assert tuple(out.shape[1:]) == spec.shape_rule(params, [x]).shape


def test_conv2d_groups_must_divide_the_channels() -> None:
    spec = layer_spec("Conv2d")
    params = {**spec.defaults(), "out_channels": 8, "groups": 4}
    with pytest.raises(ShapeError, match="4 groups.*6 input channels"):
        spec.shape_rule(params, [TensorSpec((6, 8, 8))])


def test_an_old_conv2d_or_batchnorm_record_gets_plain_defaults() -> None:
    record = Graph()
    conv = record.add_node("Conv2d")
    bn = record.add_node("BatchNorm2d")
    data = record.to_dict()
    for node in data["nodes"]:  # as written before groups, dilation and eps existed
        for key in ("groups", "dilation", "eps"):
            node["params"].pop(key, None)
    loaded = graph_from_dict(data, problems := [])
    assert problems == []
    assert loaded.node(conv.id).params["groups"] == 1 and loaded.node(conv.id).params["dilation"] == 1
    assert loaded.node(bn.id).params["eps"] == 1e-5


def test_squeeze_excitation_matches_torchvision() -> None:
    from torchvision.ops import SqueezeExcitation

    torch.manual_seed(0)
    reference = SqueezeExcitation(6, 2, activation=torch.nn.SiLU, scale_activation=torch.nn.Hardsigmoid).eval()
    spec = layer_spec("SqueezeExcitation")
    params = _example_params("SqueezeExcitation")
    ours = spec.build_module(params, [TensorSpec((6, 5, 5))]).eval()
    ours.load_state_dict(reference.state_dict())  # same tensor names as torchvision's
    x = torch.randn(2, 6, 5, 5)
    torch.testing.assert_close(ours(x), reference(x))


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_is_torchvisions(mode: str) -> None:
    from torchvision.ops import StochasticDepth

    spec = layer_spec("StochasticDepth")
    ours = spec.build_module({"p": 0.5, "mode": mode}, [IMG])
    x = torch.randn(64, *IMG.shape)
    ours.eval()
    assert torch.equal(ours(x), x)
    ours.train()
    torch.manual_seed(3)
    got = ours(x)
    torch.manual_seed(3)
    expected = StochasticDepth(0.5, mode).train()(x)
    torch.testing.assert_close(got, expected)
    kept = (got != 0).flatten(1).all(dim=1)
    assert 0 < int(kept.sum()) < 64 if mode == "row" else int(kept.sum()) in (0, 64)


def test_convnext_block_and_layernorm2d_match_torchvision() -> None:
    from torchvision.models.convnext import CNBlock, LayerNorm2d

    torch.manual_seed(0)
    block, norm = CNBlock(4, 0.5, 0.0).eval(), LayerNorm2d(4, eps=1e-6).eval()
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = torch.randn(2, 4, 8, 8)
    for type_id, reference in (("ConvNeXtBlock", block), ("LayerNorm2d", norm)):
        spec = layer_spec(type_id)
        ours = spec.build_module(spec.defaults(), [TensorSpec((4, 8, 8))]).eval()
        ours.load_state_dict(reference.state_dict())  # same tensor names as torchvision's
        torch.testing.assert_close(ours(x), reference(x))
