"""Convolutions over sequences (1-D) and images (2-D)."""

from __future__ import annotations

from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.lazy_torch import modules, nn
from workbench.layers.params import bool_param, float_param, int_param
from workbench.layers.registry import Channels, LayerSpec, Params, ShapeError, Width, register
from workbench.layers.rules import conv_out, need_float, need_rank, one, spatial_out

_CONV_PARAMS = (
    int_param("out_channels", 16, "Number of filters (output channels).", 1, 16384),
    int_param("kernel_size", 3, "Width of the filter window.", 1, 31),
    int_param("stride", 1, "Step between windows.", 1, 16),
    int_param("padding", 1, "Zeros added on each side.", 0, 15),
    bool_param("bias", True, "Learn an offset per filter."),
)
# 2-D convolutions also take groups (depthwise convolutions in MobileNet and EfficientNet) and
# dilation; their defaults are the plain convolution, so older project files mean the same.
_CONV2D_PARAMS = _CONV_PARAMS + (
    int_param("groups", 1, "Channel groups convolved apart (= input channels: depthwise).", 1, 16384),
    int_param("dilation", 1, "Spacing between the filter's taps.", 1, 16),
)


# Convolutions take the channels of their input into their weights: (out, in, k...) for a
# convolution, (in, out, k...) for a transposed one.
_CONV_IN = Channels("absorb", axis="first", tensors=("weight",), dim=1)
_DECONV_IN = Channels("absorb", axis="first", tensors=("weight",), dim=0)


def _summary(p: Params) -> str:
    k = p["kernel_size"]
    stride = f" /{p['stride']}" if p["stride"] > 1 else ""
    return f"{k}×{k}, {p['out_channels']}{stride}"


def _conv1d_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (2,))
    length = conv_out(x.shape[1], params["kernel_size"], params["stride"], params["padding"])
    if length < 1:
        raise ShapeError(f"has a kernel of {params['kernel_size']} but its input is only {x.shape[1]} long — use a smaller kernel or add padding")
    return TensorSpec((params["out_channels"], length))


def _conv2d_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (3,))
    groups = params.get("groups", 1)
    if x.shape[0] % groups or params["out_channels"] % groups:
        raise ShapeError(
            f"has {groups} groups, which must divide both its {x.shape[0]} input channels and its "
            f"{params['out_channels']} output channels — change groups or out_channels"
        )
    h, w = spatial_out(x, params["kernel_size"], params["stride"], params["padding"], params.get("dilation", 1))
    return TensorSpec((params["out_channels"], h, w))


def _conv2d_summary(p: Params) -> str:
    extra = (" depthwise" if p["groups"] == p["out_channels"] else f" g{p['groups']}") if p["groups"] > 1 else ""
    return _summary(p) + extra + (f" d{p['dilation']}" if p["dilation"] > 1 else "")


def _deconv2d_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (3,))
    k, s, p, op = params["kernel_size"], params["stride"], params["padding"], params["output_padding"]
    if op >= s:
        raise ShapeError(f"has output_padding {op}, which must be smaller than its stride {s}")
    h, w = ((d - 1) * s - 2 * p + k + op for d in x.shape[1:])
    if h < 1 or w < 1:
        raise ShapeError(f"would produce {h}×{w} — reduce padding")
    return TensorSpec((params["out_channels"], h, w))


def _conv_kwargs(params: Params, inputs: list[TensorSpec]) -> dict:
    return {
        "in_channels": inputs[0].shape[0],
        "out_channels": params["out_channels"],
        "kernel_size": params["kernel_size"],
        "stride": params["stride"],
        "padding": params["padding"],
        "bias": params["bias"],
    }


def _conv2d_kwargs(params: Params, inputs: list[TensorSpec]) -> dict:
    # groups and dilation only when set: generated code keeps the plain convolution's short form
    extra = {k: params[k] for k in ("groups", "dilation") if params[k] != 1}
    return {**_conv_kwargs(params, inputs), **extra}


register(LayerSpec(
    type_id="Conv1d",
    category="Convolution",
    doc="1-D convolution over a channels×length sequence.",
    params=_CONV_PARAMS,
    shape_rule=_conv1d_shape,
    construct=lambda p, i: (nn.Conv1d, _conv_kwargs(p, i)),
    summary=lambda p: f"{p['kernel_size']}, {p['out_channels']}",
    name_prefix="conv",
    width=Width("out_channels", "first", prune_dim=0),
    channels=_CONV_IN,
))

register(LayerSpec(
    type_id="Conv2d",
    category="Convolution",
    doc="2-D convolution: filters slide over the image and detect local patterns.",
    params=_CONV2D_PARAMS,
    shape_rule=_conv2d_shape,
    construct=lambda p, i: (nn.Conv2d, _conv2d_kwargs(p, i)),
    summary=_conv2d_summary,
    name_prefix="conv",
    width=Width("out_channels", "first", prune_dim=0),
    channels=_CONV_IN,
))

register(LayerSpec(
    type_id="ConvTranspose2d",
    category="Convolution",
    doc="Transposed 2-D convolution: upsamples an image (decoders, generators).",
    params=(
        int_param("out_channels", 16, "Number of output channels.", 1, 16384),
        int_param("kernel_size", 2, "Width of the filter window.", 1, 31),
        int_param("stride", 2, "Upsampling factor.", 1, 16),
        int_param("padding", 0, "Rows and columns removed from each side.", 0, 15),
        int_param("output_padding", 0, "Extra rows and columns added on one side.", 0, 15),
        bool_param("bias", True, "Learn an offset per filter."),
    ),
    shape_rule=_deconv2d_shape,
    construct=lambda p, i: (nn.ConvTranspose2d, {**_conv_kwargs(p, i), "output_padding": p["output_padding"]}),
    summary=lambda p: f"{p['kernel_size']}×{p['kernel_size']}, {p['out_channels']} ×{p['stride']}",
    name_prefix="deconv",
    width=Width("out_channels", "first", prune_dim=1),
    channels=_DECONV_IN,
))


def _convnext_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (3,))
    spatial_out(x, 7, 1, 3)  # the depthwise 7×7 keeps the size; refused where it cannot fit
    return x


register(LayerSpec(
    type_id="ConvNeXtBlock",
    category="Convolution",
    doc="ConvNeXt block: depthwise 7×7 conv, LayerNorm, a 4× wider MLP, a learnt scale, plus its input.",
    params=(
        float_param("layer_scale", 1e-6, "Starting value of the per-channel scale of the branch.", 0.0, 10.0),
        float_param("stochastic_depth", 0.0, "Chance that the branch is dropped while training.", 0.0, 0.95),
        float_param("eps", 1e-6, "Small number added to the variance of the LayerNorm.", 1e-12, 1.0),
    ),
    shape_rule=_convnext_shape,
    construct=lambda p, i: (modules.ConvNeXtBlock, {
        "dim": i[0].shape[0], "layer_scale": p["layer_scale"], "stochastic_depth": p["stochastic_depth"], "eps": p["eps"],
    }),
    summary=lambda p: "7×7 dw, MLP ×4",
    name_prefix="cnblock",
    channels=Channels(reason="it feeds {label} (a residual block: its output keeps its input's channels)"),
))
