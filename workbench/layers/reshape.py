"""Layers that only rearrange values: Flatten, Reshape, Permute, Transpose."""

from __future__ import annotations

from workbench.layers.tensor_spec import MAX_SAMPLE_VALUES, TensorSpec
from workbench.layers.lazy_torch import modules, nn
from workbench.layers.params import ints_param, int_param
from workbench.layers.registry import Channels, LayerSpec, Params, ShapeError, register
from workbench.layers.rules import one


def _flatten_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    return TensorSpec((x.numel,), x.dtype)


def _reshape_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    shape = list(params["shape"])
    if shape.count(-1) > 1:
        raise ShapeError("can infer at most one size (-1) in its shape")
    if 0 in shape:
        raise ShapeError(f"has a 0 in its shape {_fmt(shape)} — every size must be at least 1 (or -1, once, to infer it)")
    known = 1
    for d in shape:
        if d != -1:
            known *= d
    if -1 in shape:
        if x.numel % known:
            raise ShapeError(f"cannot fit {x.numel} values ({x.dims()}) into shape {_fmt(shape)}")
        shape[shape.index(-1)] = x.numel // known
    elif known != x.numel:
        raise ShapeError(f"gets {x.numel} values ({x.dims()}) but its shape {_fmt(shape)} holds {known} — change the shape")
    return TensorSpec(tuple(shape), x.dtype)


def _fmt(shape: list[int]) -> str:
    return "×".join(str(d) for d in shape)


def _permute_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    dims = tuple(params["dims"])
    if sorted(dims) != list(range(x.rank)):
        raise ShapeError(
            f"needs an order of the axes 0..{x.rank - 1} (each once) for its {x.dims()} input, got {list(dims)}"
        )
    return TensorSpec(tuple(x.shape[d] for d in dims), x.dtype)


def _transpose_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    a, b = params["dim0"], params["dim1"]
    if max(a, b) >= x.rank:
        raise ShapeError(f"swaps axes {a} and {b} but its input {x.dims()} has axes 0..{x.rank - 1}")
    shape = list(x.shape)
    shape[a], shape[b] = shape[b], shape[a]
    return TensorSpec(tuple(shape), x.dtype)


register(LayerSpec(
    type_id="Flatten",
    category="Reshape",
    doc="Turns each sample into a flat vector (before Linear layers).",
    params=(),
    shape_rule=_flatten_shape,
    construct=lambda p, i: (nn.Flatten, {}),
    accepts_ids=True,
    channels=Channels("flatten"),
))

register(LayerSpec(
    type_id="Reshape",
    category="Reshape",
    doc="Gives each sample a new shape with the same number of values (-1: inferred).",
    params=(ints_param("shape", (1, 8, 8), "New per-sample shape; one entry may be -1.", length=(1, 4), lo=-1, hi=MAX_SAMPLE_VALUES),),
    shape_rule=_reshape_shape,
    construct=lambda p, i: (modules.Reshape, {"shape": _reshape_shape(p, i).shape}),
    summary=lambda p: "→ " + _fmt(list(p["shape"])),
    accepts_ids=True,
))

register(LayerSpec(
    type_id="Permute",
    category="Reshape",
    doc="Reorders the axes of each sample (e.g. length×channels to channels×length).",
    params=(ints_param("dims", (1, 0), "New order of the per-sample axes, counted from 0.", length=(1, 4), lo=0, hi=3),),
    shape_rule=_permute_shape,
    construct=lambda p, i: (modules.Permute, {"dims": tuple(p["dims"])}),
    summary=lambda p: str(list(p["dims"])),
    accepts_ids=True,
))

register(LayerSpec(
    type_id="Transpose",
    category="Reshape",
    doc="Swaps two axes of each sample.",
    params=(
        int_param("dim0", 0, "First axis, counted from 0.", 0, 3),
        int_param("dim1", 1, "Second axis, counted from 0.", 0, 3),
    ),
    shape_rule=_transpose_shape,
    construct=lambda p, i: (modules.Transpose, {"dim0": p["dim0"], "dim1": p["dim1"]}),
    summary=lambda p: f"{p['dim0']} ↔ {p['dim1']}",
    accepts_ids=True,
))

register(LayerSpec(
    type_id="Identity",
    category="Reshape",
    doc="Passes its input on unchanged (a placeholder, or a removed layer's stand-in).",
    params=(),
    shape_rule=lambda p, i: one(i),
    construct=lambda p, i: (nn.Identity, {}),
    accepts_ids=True,
    channels=Channels("pass"),
))
