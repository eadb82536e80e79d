"""Layers that join branches: Add (residuals) and Concat."""

from __future__ import annotations

from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.lazy_torch import modules
from workbench.layers.params import int_param
from workbench.layers.registry import Channels, LayerSpec, Params, ShapeError, register
from workbench.layers.rules import need_float

_INPUTS = int_param("inputs", 2, "Number of branches joined.", 2, 8)


def _add_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    first = inputs[0]
    for x in inputs:
        need_float(x)
    shapes = {x.shape for x in inputs}
    if len(shapes) > 1:
        listed = " and ".join(x.dims() for x in inputs)
        raise ShapeError(
            f"needs inputs of the same shape but gets {listed} — match the channels or sizes of the branches "
            "(e.g. a 1×1 Conv2d or a Linear on the shortcut)"
        )
    return first


def _concat_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    axis = params["axis"]
    for x in inputs:
        need_float(x)
        if axis >= x.rank:
            raise ShapeError(f"joins along axis {axis} but an input is {x.dims()} (axes 0..{x.rank - 1})")
    ranks = {x.rank for x in inputs}
    rest = {x.shape[:axis] + x.shape[axis + 1:] for x in inputs}
    if len(ranks) > 1 or len(rest) > 1:
        listed = " and ".join(x.dims() for x in inputs)
        raise ShapeError(f"needs inputs that differ only along axis {axis} but gets {listed}")
    total = sum(x.shape[axis] for x in inputs)
    shape = list(inputs[0].shape)
    shape[axis] = total
    return TensorSpec(tuple(shape))


register(LayerSpec(
    type_id="Add",
    category="Merge",
    doc="Adds branches element by element (residual / skip connections).",
    params=(_INPUTS,),
    shape_rule=_add_shape,
    construct=lambda p, i: (modules.Add, {}),
    variadic=True,
    channels=Channels(reason="it feeds {label} (a residual connection: both branches must keep the same channels)"),
))

register(LayerSpec(
    type_id="Concat",
    category="Merge",
    doc="Joins branches along one axis (channels for images, features for vectors).",
    params=(_INPUTS, int_param("axis", 0, "Per-sample axis to join along (0: channels or features).", 0, 3)),
    shape_rule=_concat_shape,
    construct=lambda p, i: (modules.Concat, {"dim": p["axis"] + 1}),
    summary=lambda p: f"axis {p['axis']}",
    variadic=True,
    channels=Channels("concat"),
))
