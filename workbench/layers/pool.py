"""Pooling: shrink images by taking the maximum or mean of each window."""

from __future__ import annotations

from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.lazy_torch import modules, nn
from workbench.layers.params import int_param
from workbench.layers.registry import Channels, LayerSpec, Params, ShapeError, register
from workbench.layers.rules import need_float, need_rank, one, spatial_out

_POOL_PARAMS = (
    int_param("kernel_size", 2, "Width of the pooling window.", 1, 31),
    int_param("stride", 0, "Step between windows; 0 means the same as the window.", 0, 31),
    int_param("padding", 0, "Padding on each side (at most half the window).", 0, 15),
)


_PER_CHANNEL = Channels("pool", axis="first")  # every pooling here works on each channel alone


def _stride(params: Params) -> int:
    return params["stride"] or params["kernel_size"]


def _pool_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (3,))
    if params["padding"] * 2 > params["kernel_size"]:
        raise ShapeError(f"has padding {params['padding']}, more than half its window {params['kernel_size']} — reduce the padding")
    h, w = spatial_out(x, params["kernel_size"], _stride(params), params["padding"])
    return TensorSpec((x.shape[0], h, w))


def _pool(class_name: str):
    def construct(params: Params, inputs: list[TensorSpec]) -> tuple[type[nn.Module], dict]:
        return getattr(nn, class_name), {"kernel_size": params["kernel_size"], "stride": _stride(params), "padding": params["padding"]}

    return construct


def _pool_summary(p: Params) -> str:
    return f"{p['kernel_size']}×{p['kernel_size']}" + (f" /{p['stride']}" if p["stride"] else "")


register(LayerSpec(
    type_id="MaxPool2d",
    category="Pooling",
    doc="Keeps the largest value of each window: halves the image with the defaults.",
    params=_POOL_PARAMS,
    shape_rule=_pool_shape,
    construct=_pool("MaxPool2d"),
    summary=_pool_summary,
    name_prefix="pool",
    channels=_PER_CHANNEL,
))

register(LayerSpec(
    type_id="AvgPool2d",
    category="Pooling",
    doc="Averages each window: a smooth way to shrink the image.",
    params=_POOL_PARAMS,
    shape_rule=_pool_shape,
    construct=_pool("AvgPool2d"),
    summary=_pool_summary,
    name_prefix="pool",
    channels=_PER_CHANNEL,
))


def _adaptive_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (3,))
    s = params["output_size"]
    return TensorSpec((x.shape[0], s, s))


register(LayerSpec(
    type_id="AdaptiveAvgPool2d",
    category="Pooling",
    doc="Averages the image down to a fixed size, whatever its input size.",
    params=(int_param("output_size", 1, "Height and width of the result.", 1, 64),),
    shape_rule=_adaptive_shape,
    construct=lambda p, i: (nn.AdaptiveAvgPool2d, {"output_size": p["output_size"]}),
    summary=lambda p: f"→ {p['output_size']}×{p['output_size']}",
    name_prefix="pool",
    channels=_PER_CHANNEL,
))


def _global_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (3,))
    return TensorSpec((x.shape[0],))


register(LayerSpec(
    type_id="GlobalAvgPool",
    category="Pooling",
    doc="Averages each channel over the whole image: channels×H×W becomes a vector of channels.",
    params=(),
    shape_rule=_global_shape,
    construct=lambda p, i: (modules.GlobalAvgPool, {}),
    name_prefix="gap",
    channels=_PER_CHANNEL,
))
