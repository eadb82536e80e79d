"""Fully connected layers."""

from __future__ import annotations

from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.lazy_torch import nn
from workbench.layers.params import bool_param, int_param
from workbench.layers.registry import Channels, LayerSpec, Params, Width, register
from workbench.layers.rules import need_float, need_rank, one


def _linear_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (1, 2))  # a vector, or a sequence whose last axis is features
    return TensorSpec((*x.shape[:-1], params["out_features"]))


def _linear(params: Params, inputs: list[TensorSpec]) -> tuple[type[nn.Module], dict]:
    return nn.Linear, {"in_features": inputs[0].shape[-1], "out_features": params["out_features"], "bias": params["bias"]}


register(LayerSpec(
    type_id="Linear",
    category="Dense",
    doc="Fully connected layer: every output is a weighted sum of all input features.",
    params=(
        int_param("out_features", 64, "Number of outputs.", 1, 65536),
        bool_param("bias", True, "Learn an offset per output."),
    ),
    shape_rule=_linear_shape,
    construct=_linear,
    summary=lambda p: f"→ {p['out_features']}",
    name_prefix="fc",
    width=Width("out_features", "last", prune_dim=0),
    channels=Channels("absorb", axis="last", tensors=("weight",), dim=1),
    follows_data=(("out_features", "outputs"),),
))
