"""ONNX operators -> layer records: one registry node per operation (or fused pattern), or the list of what has none.

`map_onnx(f)` walks the graph's nodes in order. Weights and other constant inputs (initializers,
Constant nodes, and small computations on them) become the records' tensors; Dropout and
Identity pass their input on. Element-wise operations that are layers only together with others
(Mul, Erf, the addition of a constant) stay pending until `onnx_patterns` fuses them. Whatever is left without a layer is collected, never guessed: `Unmapped` lists each operator
with the node names that use it. Only operations that reach the graph's output count: the
Shape / Gather / Concat arithmetic some exporters write for a Reshape is not a layer.

Every tensor in the file has the batch axis first; the records speak per sample (Workbench's
shapes leave the batch out), so axes are shifted by one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.errors import WorkbenchError
from workbench.layers import layer_spec
from workbench.model_import.fx_mapping import Unmapped
from workbench.model_import.onnx_file import OnnxFile
from workbench.model_import.onnx_patterns import close, fuse

INPUT = "__input__"  # the key of the graph's input among the records' sources
# A pending record: an operation that is a layer only as part of a pattern (onnx_patterns) or
# one no layer holds (reported). Its type_id is the ONNX operator.


@dataclass
class OnnxLayer:
    """One Workbench node to be: type, params, the records feeding it, its weights, and its ONNX origin."""

    key: str  # the ONNX value it produces (consumers name it in `sources`)
    type_id: str  # a registry id; for a pending record, the ONNX operator
    params: dict[str, Any]
    sources: list[str]  # keys of the records feeding it, in port order (INPUT: the graph's input)
    tensors: dict[str, np.ndarray] = field(default_factory=dict)  # state-dict entries of its module
    nodes: list[tuple[str, str]] = field(default_factory=list)  # (operator, node name) it stands for
    hint: str = ""  # a name for the node (from its weights' names, else the value it produces)
    pending: bool = False
    const: np.ndarray | None = None  # a pending element-wise op's constant operand
    reason: str = ""  # why a pending record has no layer of its own (shown in the error)


class _Refused(WorkbenchError):
    """An operation whose settings no Workbench layer reproduces (the message says which)."""


@dataclass
class _Node:
    """The view of one ONNX node a converter gets: attributes, constant inputs and tensor inputs."""

    op: str
    name: str
    attrs: dict[str, Any]
    inputs: list[str]  # the ONNX value names ("" for an optional input left out)
    consts: dict[int, np.ndarray]  # input index -> constant value
    tensors: dict[int, str]  # input index -> record key
    shapes: list[tuple[Any, ...] | None]  # inferred shape of each input (batch first), if known
    out_shape: tuple[Any, ...] | None
    const_names: dict[int, str]  # input index -> the initializer's name (for naming the layer)

    def const(self, i: int, what: str) -> np.ndarray:
        if i not in self.consts:
            raise _Refused(f"{what} computed at run time")
        return self.consts[i]

    def tensor(self, i: int) -> str:
        if i not in self.tensors:
            raise _Refused("a constant where a tensor is expected")
        return self.tensors[i]

    def rank(self, i: int = 0) -> int | None:
        shape = self.shapes[i] if i < len(self.shapes) else None
        return len(shape) if shape is not None else None


# ----- helpers ----------------------------------------------------------------------------------


def _same(values: Any, what: str) -> int:
    """The one value of a list whose entries must be equal (square kernels, symmetric pads)."""
    items = [int(v) for v in values]
    if not items or len(set(items)) != 1:
        raise _Refused(f"{what} {list(items)}")
    return items[0]


def _padding(n: _Node, kernel: int, dilation: int, stride: int, dims: int) -> int:
    auto = n.attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto == "VALID":
        return 0
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        span = (kernel - 1) * dilation
        if stride != 1 or span % 2:
            raise _Refused(f"auto_pad={auto} with stride {stride}")
        return span // 2
    return _same(n.attrs.get("pads", [0] * (2 * dims)), "uneven pads")


def _name_of_weights(initializer: str | None) -> str:
    """'layer1.0.conv1.weight' -> 'layer1.0.conv1'; '' for an exporter's made-up name."""
    if not initializer or initializer.startswith("onnx::") or "/" in initializer:
        return ""
    for suffix in (".weight", "_weight", ".kernel"):
        if initializer.endswith(suffix):
            return initializer[: -len(suffix)]
    return ""


def _name_of_value(value: str) -> str:
    """A layer name from the value a node produces: 'relu_3' as it is; a scoped name such as
    '/layer1/layer1.0/conv1/Conv_output_0' (torch's older exporter) as its module, 'layer1.0.conv1';
    a bare number (an exporter's counter), none."""
    if value.startswith("onnx::") or value.isdigit():
        return ""
    if "/" not in value:
        return value
    parts = [p for p in value.split("/") if p]
    op = parts[-1].split("_output")[0].lower()
    path: list[str] = []  # scopes repeat their parent's name: features/features.1/block/block.0
    for part in parts[:-1]:
        if path and part.startswith(path[-1] + "."):
            path[-1] = part
        else:
            path.append(part)
    # the module names its operations (conv1/Conv, layer1.0/Add); an operation of the model itself, its operator
    return ".".join(path) or op


def _axis(axis: int, rank: int | None, what: str) -> int:
    """A per-sample axis (0 = the first after the batch) from an ONNX axis."""
    if axis < 0:
        if rank is None:
            raise _Refused(f"{what} axis {axis} on a tensor of unknown rank")
        axis += rank
    if axis < 1:
        raise _Refused(f"{what} along the batch axis")
    return axis - 1


# ----- converters: one per operator ------------------------------------------------------------


def _conv(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    w = n.const(1, "Conv weights")
    dims = w.ndim - 2
    if dims not in (1, 2):
        raise _Refused(f"{dims}-D convolution")
    kernel = _same(w.shape[2:], "kernel")
    stride = _same(n.attrs.get("strides", [1] * dims), "strides")
    dilation = _same(n.attrs.get("dilations", [1] * dims), "dilations")
    groups = int(n.attrs.get("group", 1))
    padding = _padding(n, kernel, dilation, stride, dims)
    tensors = {"weight": w}
    if 2 in n.consts:
        tensors["bias"] = n.consts[2]
    elif len(n.inputs) > 2 and n.inputs[2]:
        raise _Refused("Conv bias computed at run time")
    params: dict[str, Any] = {"out_channels": int(w.shape[0]), "kernel_size": kernel, "stride": stride,
                              "padding": padding, "bias": "bias" in tensors}
    if dims == 1:
        if groups != 1 or dilation != 1:
            raise _Refused("1-D convolution with groups or dilation")
        return "Conv1d", params, tensors
    return "Conv2d", {**params, "groups": groups, "dilation": dilation}, tensors


def _conv_transpose(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    w = n.const(1, "ConvTranspose weights")
    if w.ndim != 4 or int(n.attrs.get("group", 1)) != 1 or "output_shape" in n.attrs:
        raise _Refused("ConvTranspose other than 2-D, ungrouped, without output_shape")
    kernel = _same(w.shape[2:], "kernel")
    stride = _same(n.attrs.get("strides", [1, 1]), "strides")
    if _same(n.attrs.get("dilations", [1, 1]), "dilations") != 1:
        raise _Refused("dilated ConvTranspose")
    tensors = {"weight": w}
    if 2 in n.consts:
        tensors["bias"] = n.consts[2]
    return "ConvTranspose2d", {
        "out_channels": int(w.shape[1]), "kernel_size": kernel, "stride": stride,
        "padding": _padding(n, kernel, 1, 1, 2), "output_padding": _same(n.attrs.get("output_padding", [0, 0]), "output_padding"),
        "bias": "bias" in tensors,
    }, tensors


def _gemm(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    if int(n.attrs.get("transA", 0)):
        raise _Refused("Gemm with transA")
    b = n.const(1, "Gemm weights")
    weight = (b if int(n.attrs.get("transB", 0)) else b.T) * np.float32(n.attrs.get("alpha", 1.0))
    tensors = {"weight": weight}
    if 2 in n.consts:
        c = n.consts[2] * np.float32(n.attrs.get("beta", 1.0))
        tensors["bias"] = _bias(c, weight.shape[0], "Gemm")
    elif len(n.inputs) > 2 and n.inputs[2]:
        raise _Refused("Gemm bias computed at run time")
    return "Linear", {"out_features": int(weight.shape[0]), "bias": "bias" in tensors}, tensors


def _bias(c: np.ndarray, width: int, what: str) -> np.ndarray:
    """A per-output bias from a constant broadcast over (…, width)."""
    if c.size == 1:
        return np.full((width,), float(c.reshape(())), dtype=np.float32)
    if c.size == width and c.shape[-1] == width:
        return c.reshape(width).astype(np.float32)
    raise _Refused(f"{what} bias of shape {list(c.shape)}")


def _matmul(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    if 0 not in n.tensors:
        raise _Refused("MatMul with a constant on the left")
    if 1 in n.tensors:
        raise _Refused("MatMul of two tensors")
    b = n.const(1, "MatMul weights")
    if b.ndim != 2:
        raise _Refused(f"MatMul by a {b.ndim}-D constant")
    return "Linear", {"out_features": int(b.shape[1]), "bias": False}, {"weight": b.T}


def _batchnorm(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    scale, bias, mean, var = (n.const(i, "BatchNormalization statistics") for i in (1, 2, 3, 4))
    if int(n.attrs.get("training_mode", 0)):
        raise _Refused("BatchNormalization in training mode")
    eps = float(n.attrs.get("epsilon", 1e-5))
    # ONNX's momentum weighs the old running value, torch's the new batch
    momentum = min(max(1.0 - float(n.attrs.get("momentum", 0.9)), 0.0), 1.0)
    tensors = {"weight": scale, "bias": bias, "running_mean": mean, "running_var": var,
               "num_batches_tracked": np.zeros((), dtype=np.int64)}
    rank = n.rank()
    if rank == 4:
        return "BatchNorm2d", {"momentum": momentum, "eps": eps}, tensors
    if rank in (2, 3):
        if abs(eps - 1e-5) > 1e-9:  # BatchNorm1d keeps torch's eps
            raise _Refused(f"BatchNormalization epsilon={eps:g} on a vector or sequence")
        return "BatchNorm1d", {"momentum": momentum}, tensors
    raise _Refused(f"BatchNormalization on a tensor of rank {rank}")


def _layernorm(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    scale = n.const(1, "LayerNormalization scale")
    rank = n.rank()
    axis = int(n.attrs.get("axis", -1))
    if not (axis == -1 or (rank is not None and axis == rank - 1)) or scale.ndim != 1:
        raise _Refused(f"LayerNormalization over more than the last axis (axis={axis})")
    bias = n.consts.get(2, np.zeros_like(scale))
    return "LayerNorm", {"eps": float(n.attrs.get("epsilon", 1e-5))}, {"weight": scale, "bias": bias}


def _pool(type_id: str) -> Callable[[_Node], tuple[str, dict[str, Any], dict[str, np.ndarray]]]:
    def convert(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
        shape = n.attrs.get("kernel_shape", [])
        if len(shape) != 2:
            raise _Refused(f"{len(shape)}-D pooling")
        if int(n.attrs.get("ceil_mode", 0)) or _same(n.attrs.get("dilations", [1, 1]), "dilations") != 1:
            raise _Refused("pooling with ceil_mode or dilation")
        kernel = _same(shape, "kernel")
        stride = _same(n.attrs.get("strides", [1, 1]), "strides")
        padding = _padding(n, kernel, 1, stride, 2)
        if type_id == "AvgPool2d" and padding and not int(n.attrs.get("count_include_pad", 0)):
            raise _Refused("AveragePool that leaves the padding out of its count")
        return type_id, {"kernel_size": kernel, "stride": stride, "padding": padding}, {}

    return convert


def _reduce_mean(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    axes = n.attrs.get("axes")
    if axes is None and 1 in n.consts:
        axes = n.consts[1].tolist()
    rank = n.rank()
    if axes is None or rank != 4 or sorted(a % 4 for a in axes) != [2, 3]:
        raise _Refused(f"ReduceMean over axes {axes} (only height and width of an image map)")
    if int(n.attrs.get("keepdims", 1)):
        return "AdaptiveAvgPool2d", {"output_size": 1}, {}
    return "GlobalAvgPool", {}, {}


def _flatten(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    axis = int(n.attrs.get("axis", 1))
    rank = n.rank()
    if axis != 1 and not (rank is not None and axis == 1 - rank):
        raise _Refused(f"Flatten axis={axis}")
    return "Flatten", {}, {}


def _reshape(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """A reshape that keeps the batch axis: Flatten when each sample becomes a vector."""
    out, shape_in = n.out_shape, n.shapes[0] if n.shapes else None
    target = n.consts.get(1)
    per_sample: list[int] | None = None
    if out is not None and len(out) >= 2 and all(isinstance(d, int) for d in out[1:]):
        batch_kept = shape_in is not None and out[0] is not None and out[0] == shape_in[0]
        if target is not None:
            first = int(target.reshape(-1)[0])
            rest = target.reshape(-1)[1:].tolist()
            batch_kept = batch_kept or (first == -1 and -1 not in rest) or (first == 0 and not int(n.attrs.get("allowzero", 0)))
        if batch_kept:
            per_sample = [int(d) for d in out[1:]]
    if per_sample is not None and shape_in is not None and all(isinstance(d, int) for d in shape_in[1:]) \
            and math.prod(per_sample) != math.prod(shape_in[1:]):  # the batch axis took some of the values
        per_sample = None
    if per_sample is None:
        raise _Refused("Reshape that changes the batch axis, or to a shape unknown before it runs")
    if len(per_sample) == 1:
        return "Flatten", {}, {}
    return "Reshape", {"shape": per_sample}, {}


def _transpose(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    perm = [int(p) for p in n.attrs.get("perm", [])]
    if not perm or perm[0] != 0:
        raise _Refused(f"Transpose perm={perm} (moves the batch axis)")
    return "Permute", {"dims": [p - 1 for p in perm[1:]]}, {}


def _concat(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    if n.consts:
        raise _Refused("Concat with a constant")
    axis = _axis(int(n.attrs.get("axis", 1)), n.rank(), "Concat")
    return "Concat", {"inputs": len(n.inputs), "axis": axis}, {}


def _softmax(n: _Node, opset: int) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    rank = n.rank()
    axis = int(n.attrs.get("axis", -1 if opset >= 13 else 1))
    last = axis == -1 or (rank is not None and axis == rank - 1)
    if not last or (opset < 13 and rank != 2):
        raise _Refused(f"Softmax along axis {axis} (Softmax layers work along the last axis)")
    return "Softmax", {}, {}


def _clip(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    def bound(i: int, name: str) -> np.ndarray | None:  # an input since opset 11, an attribute before
        if i in n.consts:
            return n.consts[i]
        return np.asarray(n.attrs[name]) if name in n.attrs else None

    low, high = bound(1, "min"), bound(2, "max")
    if close(low, 0.0, 0.0) and close(high, 6.0, 0.0):
        return "ReLU6", {}, {}
    if close(low, 0.0, 0.0) and high is None:
        return "ReLU", {}, {}
    raise _Refused("Clip to a range other than 0..6 or 0..∞")


def _hardsigmoid(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    alpha, beta = float(n.attrs.get("alpha", 0.2)), float(n.attrs.get("beta", 0.5))
    if abs(alpha - 1 / 6) > 1e-6 or abs(beta - 0.5) > 1e-6:
        raise _Refused(f"HardSigmoid alpha={alpha:g} beta={beta:g} (torch's is 1/6, 0.5)")
    return "Hardsigmoid", {}, {}


def _gelu(n: _Node) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    approximate = n.attrs.get("approximate", b"none")
    approximate = approximate.decode() if isinstance(approximate, bytes) else str(approximate)
    if approximate != "none":
        raise _Refused(f"Gelu approximate={approximate}")
    return "GELU", {}, {}


def _plain(type_id: str) -> Callable[[_Node], tuple[str, dict[str, Any], dict[str, np.ndarray]]]:
    return lambda n: (type_id, {}, {})


_CONVERTERS: dict[str, Callable[[_Node], tuple[str, dict[str, Any], dict[str, np.ndarray]]]] = {
    "Conv": _conv, "ConvTranspose": _conv_transpose, "Gemm": _gemm, "MatMul": _matmul,
    "BatchNormalization": _batchnorm, "LayerNormalization": _layernorm,
    "Relu": _plain("ReLU"), "Sigmoid": _plain("Sigmoid"), "Tanh": _plain("Tanh"), "HardSwish": _plain("Hardswish"),
    "HardSigmoid": _hardsigmoid, "Gelu": _gelu, "Clip": _clip,
    "LeakyRelu": lambda n: ("LeakyReLU", {"negative_slope": float(n.attrs.get("alpha", 0.01))}, {}),
    "MaxPool": _pool("MaxPool2d"), "AveragePool": _pool("AvgPool2d"),
    "GlobalAveragePool": lambda n: ("AdaptiveAvgPool2d", {"output_size": 1}, {}),
    "ReduceMean": _reduce_mean, "Flatten": _flatten, "Reshape": _reshape, "Transpose": _transpose, "Concat": _concat,
}
_PASS_THROUGH = {"Identity", "Dropout"}  # inference: the input, unchanged
# ops with a constant operand that patterns absorb: a pending record keeps the constant
_ELEMENTWISE = {"Add", "Sub", "Mul", "Div"}


# ----- the walk ----------------------------------------------------------------------------------


class _Walk:
    """The records of one ONNX graph, built node by node, then fused."""

    def __init__(self, f: OnnxFile) -> None:
        self.f = f
        self.consts: dict[str, np.ndarray] = dict(f.constants)
        self.initializers = set(f.constants)
        self.producer: dict[str, str] = {f.input_name: INPUT}  # ONNX value -> record key
        self.records: dict[str, OnnxLayer] = {}

    def run(self) -> None:
        for node in self.f.model.graph.node:
            self.visit(node)

    def visit(self, node: Any) -> None:
        from onnx import helper

        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            value = _constant(attrs)
            if value is not None:
                self.consts[node.output[0]] = value
            return
        tensors = {i: self.producer[v] for i, v in enumerate(node.input) if v and v in self.producer}
        consts = {i: self.consts[v] for i, v in enumerate(node.input) if v and v in self.consts}
        if not tensors:
            self._fold(node)  # constants and shape arithmetic: no layer
            return
        same_type = node.op_type == "Cast" and attrs.get("to") == 1  # float to float
        if (node.op_type in _PASS_THROUGH or same_type) and node.domain in ("", "ai.onnx"):
            self.producer[node.output[0]] = tensors[0]
            return
        shapes = [self.f.shapes.get(v) if v else None for v in node.input]
        n = _Node(node.op_type, node.name or node.output[0], attrs, list(node.input), consts, tensors, shapes,
                  self.f.shapes.get(node.output[0]),
                  {i: v for i, v in enumerate(node.input) if v in self.initializers})
        key = node.output[0]
        record = self.convert(n, node.domain, key)
        record.nodes.append((node.op_type, n.name))
        self.records[key] = record
        # a layer's extra outputs (MaxPool's indices, Dropout's mask) hold no tensor a layer makes;
        # an unmapped operator's do, so that what uses them is listed rather than lost
        for out in (node.output if record.pending else node.output[:1]):
            if out:
                self.producer[out] = key

    def convert(self, n: _Node, domain: str, key: str) -> OnnxLayer:
        sources = [n.tensors[i] for i in sorted(n.tensors)]
        if domain not in ("", "ai.onnx"):
            return OnnxLayer(key, f"{domain}.{n.op}", {}, sources, pending=True)
        unknown = [v for i, v in enumerate(n.inputs) if v and i not in n.tensors and i not in n.consts]
        try:
            if n.op in _ELEMENTWISE:
                return self._elementwise(n, key)
            if n.op == "Sum":
                if n.consts or not 2 <= len(n.tensors) <= 8:
                    raise _Refused("Sum of a constant or of more than 8 tensors")
                return self._layer(n, key, "Add", {"inputs": len(n.tensors)}, {}, sources)
            convert = _CONVERTERS.get(n.op)
            if n.op == "Softmax":  # its default axis depends on the opset
                type_id, params, tensors = _softmax(n, self.f.opset)
            elif convert is None:
                return OnnxLayer(key, n.op, {}, sources, pending=True)
            else:
                type_id, params, tensors = convert(n)
            if n.op not in ("Reshape",) and unknown:  # a Reshape's computed shape is read from inference
                raise _Refused("an input computed at run time from shapes")
            data = [n.tensor(0)] if n.op != "Concat" else [n.tensor(i) for i in range(len(n.inputs))]
            return self._layer(n, key, type_id, params, tensors, data)
        except _Refused as exc:
            return OnnxLayer(key, n.op, {}, sources, pending=True, reason=str(exc))
        except WorkbenchError as exc:  # a value outside the layer's range (a 41×41 kernel, ...)
            return OnnxLayer(key, n.op, {}, sources, pending=True, reason=str(exc))

    def _layer(self, n: _Node, key: str, type_id: str, params: dict[str, Any], tensors: dict[str, np.ndarray],
               sources: list[str]) -> OnnxLayer:
        spec = layer_spec(type_id)
        clean = {k: spec.param(k).validate(v) for k, v in params.items()}
        hint = _name_of_weights(n.const_names.get(1)) or _name_of_value(key)
        return OnnxLayer(key, type_id, clean, sources, dict(tensors), hint=hint)

    def _elementwise(self, n: _Node, key: str) -> OnnxLayer:
        sources = [n.tensors[i] for i in sorted(n.tensors)]
        if len(n.tensors) == 2:
            if n.op == "Add":
                return self._layer(n, key, "Add", {"inputs": 2}, {}, sources)
            return OnnxLayer(key, n.op, {}, sources, pending=True)
        if 1 not in n.consts or 0 not in n.tensors:
            if n.op in ("Add", "Mul") and 0 in n.consts and 1 in n.tensors:  # commutative: constant first
                c = n.consts[0]
            else:
                raise _Refused(f"{n.op} with a constant on the left, or with an input computed from shapes")
        else:
            c = n.consts[1]
        c = c.astype(np.float32)
        if n.op == "Sub":
            c = -c
        elif n.op == "Div":
            c = 1.0 / c
        kind = "Add" if n.op in ("Add", "Sub") else "Mul"
        return OnnxLayer(key, kind, {}, sources, pending=True, const=c,
                         reason=f"{n.op} by a constant of shape {list(c.shape)}")

    def _fold(self, node: Any) -> None:
        """Compute a node whose inputs are all constants (a weight's transpose, a scale); anything
        else (Shape and its arithmetic) produces no value a layer can use."""
        inputs = [v for v in node.input if v]
        if not inputs or any(v not in self.consts for v in inputs) or node.domain not in ("", "ai.onnx"):
            return
        if sum(self.consts[v].size for v in inputs) > 50_000_000:
            return
        from onnx import helper
        from onnx.reference import ReferenceEvaluator

        graph = helper.make_graph([node], "fold", [helper.make_tensor_value_info(v, 0, None) for v in inputs],
                                  [helper.make_tensor_value_info(v, 0, None) for v in node.output if v])
        opset = [helper.make_opsetid("", self.f.opset)]
        try:
            results = ReferenceEvaluator(helper.make_model(graph, opset_imports=opset)).run(
                None, {v: self.consts[v] for v in inputs})
        except Exception:  # an operator the reference runtime lacks: the value stays unknown
            return
        for name, value in zip([v for v in node.output if v], results):
            self.consts[name] = np.asarray(value)


def _constant(attrs: dict[str, Any]) -> np.ndarray | None:
    from onnx import numpy_helper

    if "value" in attrs:
        return numpy_helper.to_array(attrs["value"])
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64),
                       ("value_ints", np.int64)):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    return None


# ----- the result ---------------------------------------------------------------------------------


def map_onnx(f: OnnxFile) -> tuple[list[OnnxLayer], str, Unmapped]:
    """The records that compute the graph's output (in order), the key of the output's record, and
    what has no layer (operator -> node names)."""
    walk = _Walk(f)
    walk.run()
    unmapped = Unmapped()
    output = walk.producer.get(f.output_name)
    if output is None:
        unmapped.add("an output that does not depend on the input", f.output_name)
        return [], "", unmapped
    fuse(walk.records, output)
    live: set[str] = set()
    stack = [output]
    while stack:
        key = stack.pop()
        if key in live or key == INPUT:
            continue
        live.add(key)
        stack.extend(walk.records[key].sources)
    records = [r for r in walk.records.values() if r.key in live]
    for r in records:
        if r.pending:
            op, name = r.nodes[-1] if r.nodes else (r.type_id, r.key)
            unmapped.add(f"{op}" + (f" [{r.reason}]" if r.reason else ""), name)
    return records, output, unmapped
