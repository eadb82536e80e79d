"""Every registered layer type: declared shape == real output shape, params round trip, backward runs."""

from __future__ import annotations

import pytest
import torch

from workbench.graph.document import Graph
from workbench.layers.tensor_spec import TensorSpec
from workbench.layers import all_layer_specs, layer_spec
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
