"""Element-wise activation functions."""

from __future__ import annotations

from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.lazy_torch import nn
from workbench.layers.params import float_param
from workbench.layers.registry import Channels, LayerSpec, Params, register
from workbench.layers.rules import need_float, one


def _elementwise(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    return x


def _simple(type_id: str, class_name: str, doc: str) -> None:
    register(LayerSpec(
        type_id=type_id,
        category="Activation",
        doc=doc,
        params=(),
        shape_rule=_elementwise,
        construct=lambda p, i: (getattr(nn, class_name), {}),
        channels=Channels("pass"),
    ))


_simple("ReLU", "ReLU", "max(0, x): the default activation for most networks.")
_simple("GELU", "GELU", "Smooth ReLU used in Transformers.")
_simple("SiLU", "SiLU", "x·sigmoid(x) (Swish): smooth, works well in deep CNNs.")
_simple("Tanh", "Tanh", "Squashes values into -1..1.")
_simple("Sigmoid", "Sigmoid", "Squashes values into 0..1.")

register(LayerSpec(
    type_id="LeakyReLU",
    category="Activation",
    doc="Like ReLU, but lets a small slope through for negative values.",
    params=(float_param("negative_slope", 0.01, "Slope for negative inputs.", 0.0, 1.0),),
    shape_rule=_elementwise,
    construct=lambda p, i: (nn.LeakyReLU, {"negative_slope": p["negative_slope"]}),
    summary=lambda p: f"slope {p['negative_slope']:g}",
    channels=Channels("pass"),
))

register(LayerSpec(
    type_id="Softmax",
    category="Activation",
    doc="Turns scores into probabilities along the last axis (not needed before a cross-entropy Output).",
    params=(),
    shape_rule=_elementwise,
    construct=lambda p, i: (nn.Softmax, {"dim": -1}),
))
