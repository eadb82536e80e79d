"""A traced torch model -> layer records: one registry node per operation, or the list of what has none.

`trace(model)` runs `torch.fx` with torchvision's SqueezeExcitation, StochasticDepth, LayerNorm2d
and ConvNeXt block kept whole (Workbench has one node for each); `map_nodes(model, traced)` turns
every call into a `LayerRecord` (type id, params, the fx nodes feeding it, the module whose
tensors it takes). Operations with no
Workbench layer are collected, never guessed: `Unmapped` lists each with the node names that use it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from workbench.errors import WorkbenchError
from workbench.layers import layer_spec


@dataclass
class LayerRecord:
    """One Workbench node to be: its type, params, feeding fx nodes (in port order) and weights."""

    fx_name: str  # the fx node's name (the graph node's name is derived from it)
    type_id: str
    params: dict[str, Any]
    sources: list[str]  # fx names of the nodes feeding it, in port order
    module_path: str | None = None  # the torch module whose state dict becomes this node's
    position: tuple[float, float] = (0.0, 0.0)


@dataclass
class Unmapped:
    """Operations without a Workbench layer: description -> fx node names using it."""

    found: dict[str, list[str]] = field(default_factory=dict)

    def add(self, what: str, node: str) -> None:
        self.found.setdefault(what, []).append(node)

    def __bool__(self) -> bool:
        return bool(self.found)

    def describe(self, limit: int = 3) -> str:
        """One line: each operation, how often, and the first node names using it."""
        parts = []
        for what, nodes in sorted(self.found.items(), key=lambda kv: -len(kv[1])):
            shown = ", ".join(nodes[:limit]) + (", ..." if len(nodes) > limit else "")
            parts.append(f"{what} ×{len(nodes)} ({shown})")
        return "; ".join(parts)


class _Refused(WorkbenchError):
    """A module or call whose settings no Workbench layer reproduces (the message says which)."""


def _leaf_types() -> tuple[type, ...]:
    from torchvision.models.convnext import CNBlock, LayerNorm2d
    from torchvision.ops import SqueezeExcitation, StochasticDepth

    return SqueezeExcitation, StochasticDepth, CNBlock, LayerNorm2d


class _Tracer(fx.Tracer):
    """Keeps the blocks that are one Workbench node each from being traced into their parts."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, _leaf_types()) or super().is_leaf_module(m, qualname)


def trace(model: nn.Module) -> fx.Graph:
    """The model's operations as an fx graph (the model is not run)."""
    return _Tracer().trace(model)


# ----- modules --------------------------------------------------------------------------------


def _square(value: Any, what: str) -> int:
    """An int from an int or an (n, n) pair; refused when height and width differ."""
    if isinstance(value, int):
        return value
    if isinstance(value, (tuple, list)) and len(set(value)) == 1 and isinstance(value[0], int):
        return int(value[0])
    raise _Refused(f"{what}={value!r}")


def _conv2d(m: nn.Conv2d) -> tuple[str, dict[str, Any]]:
    if m.padding_mode != "zeros" or isinstance(m.padding, str):
        raise _Refused(f"Conv2d padding={m.padding!r} padding_mode={m.padding_mode!r}")
    return "Conv2d", {
        "out_channels": m.out_channels, "kernel_size": _square(m.kernel_size, "Conv2d kernel_size"),
        "stride": _square(m.stride, "Conv2d stride"), "padding": _square(m.padding, "Conv2d padding"),
        "bias": m.bias is not None, "groups": m.groups, "dilation": _square(m.dilation, "Conv2d dilation"),
    }


def _batchnorm2d(m: nn.BatchNorm2d) -> tuple[str, dict[str, Any]]:
    if not m.affine or not m.track_running_stats or m.momentum is None:
        raise _Refused(f"BatchNorm2d affine={m.affine} track_running_stats={m.track_running_stats} momentum={m.momentum}")
    return "BatchNorm2d", {"momentum": m.momentum, "eps": m.eps}


def _pool2d(type_id: str) -> Callable[[nn.Module], tuple[str, dict[str, Any]]]:
    def convert(m: nn.Module) -> tuple[str, dict[str, Any]]:
        if m.ceil_mode or getattr(m, "dilation", 1) not in (1, (1, 1)) or not getattr(m, "count_include_pad", True) \
                or getattr(m, "divisor_override", None) is not None:
            raise _Refused(f"{type_id} with ceil_mode, dilation or a divisor")
        kernel = _square(m.kernel_size, f"{type_id} kernel_size")
        stride = _square(m.stride if m.stride is not None else kernel, f"{type_id} stride")
        return type_id, {"kernel_size": kernel, "stride": stride, "padding": _square(m.padding, f"{type_id} padding")}

    return convert


def _adaptive_avg(m: nn.AdaptiveAvgPool2d) -> tuple[str, dict[str, Any]]:
    return "AdaptiveAvgPool2d", {"output_size": _square(m.output_size, "AdaptiveAvgPool2d output_size")}


def _flatten(m: nn.Flatten) -> tuple[str, dict[str, Any]]:
    if m.start_dim != 1 or m.end_dim != -1:
        raise _Refused(f"Flatten start_dim={m.start_dim} end_dim={m.end_dim}")
    return "Flatten", {}


_ACTIVATION_NAMES = {nn.ReLU: "relu", nn.SiLU: "silu", nn.GELU: "gelu", nn.Sigmoid: "sigmoid",
                     nn.Hardsigmoid: "hardsigmoid", nn.Hardswish: "hardswish", nn.Tanh: "tanh"}


def _activation_name(m: nn.Module) -> str:
    name = _ACTIVATION_NAMES.get(type(m))
    if name is None or (isinstance(m, nn.GELU) and m.approximate != "none"):
        raise _Refused(f"SqueezeExcitation activation {type(m).__name__}")
    return name


def _squeeze_excitation(m: nn.Module) -> tuple[str, dict[str, Any]]:
    if not isinstance(m.avgpool, nn.AdaptiveAvgPool2d) or _square(m.avgpool.output_size, "output_size") != 1:
        raise _Refused("SqueezeExcitation whose pooling is not global")
    return "SqueezeExcitation", {
        "squeeze_channels": m.fc1.out_channels,
        "activation": _activation_name(m.activation), "scale_activation": _activation_name(m.scale_activation),
    }


def _layernorm2d(m: nn.LayerNorm) -> tuple[str, dict[str, Any]]:
    if not m.elementwise_affine or m.bias is None:
        raise _Refused("LayerNorm2d without its scale and offset")
    return "LayerNorm2d", {"eps": m.eps}


def _convnext_block(m: nn.Module) -> tuple[str, dict[str, Any]]:
    conv, norm = m.block[0], m.block[2]
    dim = conv.in_channels
    expected = (nn.Conv2d, None, nn.LayerNorm, nn.Linear, nn.GELU, nn.Linear, None)
    if len(m.block) != len(expected) or any(t is not None and type(b) is not t for b, t in zip(m.block, expected)) \
            or (conv.kernel_size, conv.padding, conv.groups) != ((7, 7), (3, 3), dim) \
            or m.block[3].out_features != 4 * dim or m.stochastic_depth.mode != "row":
        raise _Refused("CNBlock of another layout")
    # the scale's starting value is not in a trained module; its weights are copied anyway
    return "ConvNeXtBlock", {"layer_scale": 1e-6, "stochastic_depth": m.stochastic_depth.p, "eps": norm.eps}


def _plain(type_id: str) -> Callable[[nn.Module], tuple[str, dict[str, Any]]]:
    return lambda m: (type_id, {})


def _module_converters() -> dict[type, Callable[[Any], tuple[str, dict[str, Any]]]]:
    se, sd, cnblock, layernorm2d = _leaf_types()
    gelu = lambda m: ("GELU", {}) if m.approximate == "none" else (_ for _ in ()).throw(_Refused("GELU approximate='tanh'"))  # noqa: E731
    return {
        nn.Conv2d: _conv2d,
        nn.BatchNorm2d: _batchnorm2d,
        nn.Linear: lambda m: ("Linear", {"out_features": m.out_features, "bias": m.bias is not None}),
        nn.ReLU: _plain("ReLU"), nn.ReLU6: _plain("ReLU6"), nn.SiLU: _plain("SiLU"), nn.GELU: gelu,
        nn.Hardswish: _plain("Hardswish"), nn.Hardsigmoid: _plain("Hardsigmoid"),
        nn.Sigmoid: _plain("Sigmoid"), nn.Tanh: _plain("Tanh"), nn.Identity: _plain("Identity"),
        nn.MaxPool2d: _pool2d("MaxPool2d"), nn.AvgPool2d: _pool2d("AvgPool2d"),
        nn.AdaptiveAvgPool2d: _adaptive_avg, nn.Flatten: _flatten,
        nn.Dropout: lambda m: ("Dropout", {"p": m.p}),
        se: _squeeze_excitation,
        sd: lambda m: ("StochasticDepth", {"p": m.p, "mode": m.mode}),
        layernorm2d: _layernorm2d,
        cnblock: _convnext_block,
    }


# ----- functions and methods ------------------------------------------------------------------


def _arg(node: fx.Node, index: int, name: str, default: Any) -> Any:
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def _call(node: fx.Node) -> tuple[str, dict[str, Any], list[fx.Node]]:
    """(type id, params, tensor inputs) for a call_function / call_method; _Refused otherwise."""
    target, op = node.target, node.op
    name = target if op == "call_method" else getattr(target, "__name__", str(target))
    first = node.args[0] if node.args else None
    if (op == "call_function" and target in (operator.add, torch.add)) or (op == "call_method" and target == "add"):
        a, b = node.args[0], node.args[1] if len(node.args) > 1 else node.kwargs.get("other")
        if not (isinstance(a, fx.Node) and isinstance(b, fx.Node)) or node.kwargs.get("alpha", 1) != 1:
            raise _Refused("add of a constant")
        return "Add", {"inputs": 2}, [a, b]
    if (op == "call_function" and target is torch.flatten) or (op == "call_method" and target == "flatten"):
        start, end = _arg(node, 1, "start_dim", 0), _arg(node, 2, "end_dim", -1)
        if start != 1 or end != -1:
            raise _Refused(f"flatten(start_dim={start}, end_dim={end})")
        return "Flatten", {}, [first]
    if (op == "call_function" and target in (F.relu, torch.relu)) or (op == "call_method" and target in ("relu", "relu_")):
        return "ReLU", {}, [first]
    if op == "call_function" and target is F.adaptive_avg_pool2d:
        return "AdaptiveAvgPool2d", {"output_size": _square(_arg(node, 1, "output_size", None), "adaptive_avg_pool2d")}, [first]
    if op == "call_function" and target is torch.cat:
        tensors, dim = first, _arg(node, 1, "dim", 0)
        if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, fx.Node) for t in tensors) or dim < 1:
            raise _Refused(f"cat(dim={dim})")
        return "Concat", {"inputs": len(tensors), "axis": dim - 1}, list(tensors)
    raise _Refused(f"{'method' if op == 'call_method' else 'function'} {name}")


# ----- the walk -------------------------------------------------------------------------------


def map_nodes(model: nn.Module, graph: fx.Graph) -> tuple[list[LayerRecord], str | None, Unmapped]:
    """Records for every operation, the fx name of the output's source, and what has no layer.

    Placeholders become no record (the caller adds the Input); the fx `output` names the node
    whose value the model returns.
    """
    converters = _module_converters()
    records: list[LayerRecord] = []
    unmapped = Unmapped()
    output: str | None = None
    used_weights: dict[str, str] = {}
    for node in graph.nodes:
        if node.op == "placeholder":
            continue
        if node.op == "output":
            result = node.args[0]
            if isinstance(result, fx.Node):
                output = result.name
            else:
                unmapped.add("a model returning several values", node.name)
            continue
        if node.op == "get_attr":
            unmapped.add("a parameter used outside a layer (get_attr)", node.name)
            continue
        try:
            if node.op == "call_module":
                module = model.get_submodule(str(node.target))
                convert = converters.get(type(module))
                if convert is None:
                    raise _Refused(type(module).__name__)
                type_id, params = convert(module)
                inputs = [a for a in node.args if isinstance(a, fx.Node)]
                if len(inputs) != len(node.args) or node.kwargs:
                    raise _Refused(f"{type(module).__name__} called with non-tensor arguments")
                has_tensors = any(True for _ in module.state_dict())
                if has_tensors and str(node.target) in used_weights:
                    raise _Refused(f"{type(module).__name__} called twice with shared weights")
                used_weights[str(node.target)] = node.name
                path = str(node.target) if has_tensors else None
            else:
                type_id, params, inputs = _call(node)
                path = None
            spec = layer_spec(type_id)
            clean = {k: spec.param(k).validate(v) for k, v in params.items()}
        except _Refused as exc:
            unmapped.add(str(exc), node.name)
            continue
        except WorkbenchError as exc:  # a value outside the layer's range (a 41×41 kernel, ...)
            unmapped.add(f"{type_id} with {exc}", node.name)
            continue
        records.append(LayerRecord(node.name, type_id, clean, [i.name for i in inputs], path))
    return records, output, unmapped
