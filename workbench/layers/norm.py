"""Normalization and regularization layers."""

from __future__ import annotations

from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.lazy_torch import modules, nn
from workbench.layers.params import choice_param, float_param, int_param
from workbench.layers.registry import Channels, LayerSpec, Params, ShapeError, register
from workbench.layers.rules import need_float, need_rank, one


# BatchNorm keeps statistics and an affine transform per channel: all four follow the channels.
_PER_CHANNEL = Channels("norm", axis="first", tensors=("weight", "bias", "running_mean", "running_var"), dim=0)


def _same(ranks: tuple[int, ...]):
    def rule(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
        x = one(inputs)
        need_float(x)
        if ranks:
            need_rank(x, ranks)
        return x

    return rule


def _batchnorm2d_kwargs(params: Params, inputs: list[TensorSpec]) -> dict:
    kwargs = {"num_features": inputs[0].shape[0], "momentum": params["momentum"]}
    if params["eps"] != 1e-5:  # torch's default: generated code only names a changed eps
        kwargs["eps"] = params["eps"]
    return kwargs


register(LayerSpec(
    type_id="BatchNorm1d",
    category="Normalization",
    doc="Normalizes each feature over the batch (vectors, or channels×length).",
    params=(float_param("momentum", 0.1, "How fast the running statistics follow the batches.", 0.0, 1.0),),
    shape_rule=_same((1, 2)),
    construct=lambda p, i: (nn.BatchNorm1d, {"num_features": i[0].shape[0], "momentum": p["momentum"]}),
    name_prefix="bn",
    channels=_PER_CHANNEL,
))

register(LayerSpec(
    type_id="BatchNorm2d",
    category="Normalization",
    doc="Normalizes each image channel over the batch; steadies and speeds up CNN training.",
    params=(
        float_param("momentum", 0.1, "How fast the running statistics follow the batches.", 0.0, 1.0),
        # MobileNetV3 and EfficientNetV2 train with 0.001; the default is torch's
        float_param("eps", 1e-5, "Small number added to the variance for stability.", 1e-12, 1.0),
    ),
    shape_rule=_same((3,)),
    construct=lambda p, i: (nn.BatchNorm2d, _batchnorm2d_kwargs(p, i)),
    name_prefix="bn",
    channels=_PER_CHANNEL,
))

register(LayerSpec(
    type_id="LayerNorm",
    category="Normalization",
    doc="Normalizes the features of each sample (or each token) on their own; used in Transformers.",
    params=(float_param("eps", 1e-5, "Small number added to the variance for stability.", 1e-12, 1.0),),
    shape_rule=_same(()),
    construct=lambda p, i: (nn.LayerNorm, {"normalized_shape": i[0].shape[-1], "eps": p["eps"]}),
    name_prefix="ln",
))

register(LayerSpec(
    type_id="Dropout",
    category="Regularization",
    doc="Randomly zeroes a share of the values while training, against overfitting.",
    params=(float_param("p", 0.1, "Share of values dropped.", 0.0, 0.95),),
    shape_rule=_same(()),
    construct=lambda p, i: (nn.Dropout, {"p": p["p"]}),
    summary=lambda p: f"p={p['p']:g}",
    channels=Channels("pass"),
    searched_by_default=(("p", 0.0, 0.5),),
))

register(LayerSpec(
    type_id="StochasticDepth",
    category="Regularization",
    doc="Drops a whole residual branch at random while training (per sample or per batch); passes it on in eval.",
    params=(
        float_param("p", 0.1, "Chance that the branch is dropped.", 0.0, 0.95),
        choice_param("mode", "row", "row: per sample; batch: the whole batch at once.", ("row", "batch")),
    ),
    shape_rule=_same(()),
    construct=lambda p, i: (modules.StochasticDepth, {"p": p["p"], "mode": p["mode"]}),
    summary=lambda p: f"p={p['p']:g} {p['mode']}",
    name_prefix="droppath",
    channels=Channels("pass"),
))

register(LayerSpec(
    type_id="LayerNorm2d",
    category="Normalization",
    doc="Normalizes the channels of each pixel of an image on their own (ConvNeXt).",
    params=(float_param("eps", 1e-6, "Small number added to the variance for stability.", 1e-12, 1.0),),
    shape_rule=_same((3,)),
    construct=lambda p, i: (modules.LayerNorm2d, {"normalized_shape": i[0].shape[0], "eps": p["eps"]}),
    name_prefix="ln",
    channels=Channels("norm", axis="first", tensors=("weight", "bias"), dim=0),
))

register(LayerSpec(
    type_id="RMSNorm",
    category="Normalization",
    doc="Scales the features of each sample (or token) by their root mean square; LayerNorm without centring (LLaMA).",
    params=(float_param("eps", 1e-6, "Small number added to the mean square for stability.", 1e-12, 1.0),),
    shape_rule=_same(()),
    construct=lambda p, i: (nn.RMSNorm, {"normalized_shape": i[0].shape[-1], "eps": p["eps"]}),
    name_prefix="rms",
))


def _groupnorm_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (2, 3))
    channels, groups = x.shape[0], params["num_groups"]
    if channels % groups:
        divisors = [g for g in range(1, min(channels, 64) + 1) if channels % g == 0]
        raise ShapeError(f"has {groups} groups, which do not divide its {channels} channels — use "
                         + ", ".join(str(d) for d in divisors[-6:]) + " groups, or change the channels")
    if x.numel // groups < 2:  # statistics of a single value: torch refuses to train on them
        raise ShapeError(f"has one value per group ({x.dims()} in {groups} groups), so there is nothing to "
                         "normalize — use fewer groups or a larger input")
    return x


register(LayerSpec(
    type_id="GroupNorm",
    category="Normalization",
    doc="Normalizes groups of channels within each sample; independent of the batch size (small batches, detection).",
    params=(
        int_param("num_groups", 8, "Groups the channels are split into; must divide the channels.", 1, 4096),
        float_param("eps", 1e-5, "Small number added to the variance for stability.", 1e-12, 1.0),
    ),
    shape_rule=_groupnorm_shape,
    construct=lambda p, i: (nn.GroupNorm, {"num_groups": p["num_groups"], "num_channels": i[0].shape[0], "eps": p["eps"]}),
    summary=lambda p: f"{p['num_groups']} groups",
    name_prefix="gn",
    channels=Channels(reason="it feeds {label}, whose channels are normalized in fixed groups"),
))
