"""Element-wise activation functions."""

from __future__ import annotations

from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.lazy_torch import modules, nn
from workbench.layers.params import choice_param, float_param, int_param
from workbench.layers.registry import Channels, LayerSpec, Params, register
from workbench.layers.rules import need_float, need_rank, one


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
_simple("ReLU6", "ReLU6", "ReLU capped at 6 (MobileNetV2).")
_simple("Hardswish", "Hardswish", "x·relu6(x+3)/6: a cheap Swish (MobileNetV3).")
_simple("Hardsigmoid", "Hardsigmoid", "relu6(x+3)/6: a cheap sigmoid (MobileNetV3).")

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


# Gate activations a SqueezeExcitation may use (names of the module classes in modules.py).
_SE_ACTIVATIONS = ("relu", "silu", "gelu", "sigmoid", "hardsigmoid", "hardswish", "tanh")


def _se_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (3,))
    return x


register(LayerSpec(
    type_id="SqueezeExcitation",
    category="Activation",
    doc="Rescales each channel by a gate learnt from the whole image: pool, 1×1 conv, act, 1×1 conv, gate.",
    params=(
        int_param("squeeze_channels", 8, "Width of the bottleneck between the two 1×1 convolutions.", 1, 16384),
        choice_param("activation", "relu", "Activation in the bottleneck.", _SE_ACTIVATIONS),
        choice_param("scale_activation", "sigmoid", "Activation of the gate.", _SE_ACTIVATIONS),
    ),
    shape_rule=_se_shape,
    construct=lambda p, i: (modules.SqueezeExcitation, {
        "channels": i[0].shape[0], "squeeze_channels": p["squeeze_channels"],
        "activation": p["activation"], "scale_activation": p["scale_activation"],
    }),
    summary=lambda p: f"squeeze {p['squeeze_channels']}",
    name_prefix="se",
    channels=Channels(reason="it feeds {label}, whose gate needs the full channels"),
))
