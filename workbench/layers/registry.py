"""The registry of layer types: one entry per type, looked up by a stable id.

An entry declares everything the rest of Workbench needs: palette category and doc, typed
params, input ports, a shape rule (pure, no tensors), how to build the torch module, and the
facts other modules reason with: the default node name, which param sets the output's width,
what the layer does with channels that reach it (channel pruning, width scaling), which widths
it needs a multiple of, and which params follow the data. Adding a layer type means
registering one entry. Ids are never reused; a renamed type keeps
its old id in `legacy_ids` so that old project files still open.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.errors import GraphError
from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.params import ParamSpec, show_value

if TYPE_CHECKING:
    from torch import nn

Params = Mapping[str, Any]
ShapeRule = Callable[[Params, list[TensorSpec]], TensorSpec]
# A constructor is the module class and its keyword arguments: the builder instantiates it
# and the code exporter prints it, so both always agree.
Constructor = Callable[[Params, list[TensorSpec]], "tuple[type[nn.Module], dict[str, Any]]"]


class ShapeError(GraphError):
    """A layer cannot accept its input; the message says why in a user's words, and the fix."""


CATEGORIES = (
    "Input / Output",
    "Dense",
    "Convolution",
    "Pooling",
    "Normalization",
    "Activation",
    "Regularization",
    "Reshape",
    "Embedding",
    "Attention",
    "Recurrent",
    "Merge",
)


# What a layer does with channels that arrive at its input (see `Channels`).
CHANNEL_FLOWS = ("pass", "pool", "norm", "flatten", "concat", "absorb", "stop")
# Where a width sits in a per-sample tensor: the channels of an image or a Conv1d sequence come
# first; the features of a vector or of each token come last.
AXES = ("first", "last")
# What of the data a param must follow (`LayerSpec.follows_data`):
#   "outputs"  the number of classes or targets, when the layer feeds the Output;
#   "vocab"    the vocabulary size of token data (fewer embeddings than tokens is an error);
#   "length"   at least the sequence length of token data.
DATA_FACTS = ("outputs", "vocab", "length")


@dataclass(frozen=True)
class Width:
    """The param that sets the width of a layer's output; the width of its input stops here."""

    param: str  # e.g. "out_features"
    axis: str  # where that width sits in the output: "first" or "last" (see AXES)
    # Channel pruning: the axis of the module's `weight` that holds one slice per output channel
    # (its bias, if any, holds one value per channel). None: this layer is not pruned.
    prune_dim: int | None = None


@dataclass(frozen=True)
class Channels:
    """What the layer does with the channels of the tensor it receives (channel pruning's walk).

    flow:
      "pass"     element-wise: the channels go through unchanged, on any axis;
      "pool"     works per channel: they go through when they are the first axis;
      "norm"     per-channel statistics: `tensors` are sliced along `dim`, then they go through
                 (first axis only);
      "flatten"  each channel becomes its block of features;
      "concat"   joined along the layer's `axis` param: shifted by the widths of earlier inputs;
      "absorb"   the layer's weights take them in: `tensors` are sliced along `dim`; they must
                 be on `axis`; the walk ends here;
      "stop"     they cannot change here; `reason` says why ("{label}" names the node).
    """

    flow: str = "stop"
    axis: str = "first"  # "pool", "norm", "absorb": the axis the layer reads its channels from
    tensors: tuple[str, ...] = ()  # "norm", "absorb": state-dict names relative to the module
    dim: int = 0  # their axis holding the input channels
    reason: str = "it feeds {label}, which needs its full width"


@dataclass(frozen=True)
class LayerSpec:
    """Everything Workbench knows about one layer type."""

    type_id: str
    category: str
    doc: str
    params: tuple[ParamSpec, ...]
    shape_rule: ShapeRule
    construct: Constructor
    inputs: tuple[str, ...] = ("in",)
    # Types whose number of inputs is a param ("inputs") get ports in1..inN instead.
    variadic: bool = False
    # Extra input ports that a bool param switches on: (port, param), appended after `inputs`
    # (e.g. the source token ids that mask padding in cross-attention).
    optional_inputs: tuple[tuple[str, str], ...] = ()
    summary: Callable[[Params], str] = field(default=lambda p: "")
    legacy_ids: tuple[str, ...] = ()
    # Layers whose input is integer token ids rather than float features.
    accepts_ids: bool = False
    # New nodes are named prefix, prefix_2, ...; "" means the type id in lower case.
    name_prefix: str = ""
    width: Width | None = None  # the param that sets the output's width, if one does
    channels: Channels = Channels()  # what happens to channels arriving at the input
    # The feature width this layer receives must be a multiple of this (attention heads,
    # sine/cosine pairs); scaling a network's widths keeps every such multiple. None: any width.
    width_multiple: Callable[[Params], int] | None = None
    # Params that must follow the data the network trains on: (param, one of DATA_FACTS).
    follows_data: tuple[tuple[str, str], ...] = ()
    # Params a hyperparameter search tries unless the node says otherwise: (param, low, high).
    searched_by_default: tuple[tuple[str, float, float], ...] = ()

    @property
    def default_name(self) -> str:
        """The name a new node of this type gets (before a number makes it unique)."""
        return self.name_prefix or self.type_id.lower()

    def defaults(self) -> dict[str, Any]:
        """Fresh params at their defaults."""
        return {p.name: p.default for p in self.params}

    def build_module(self, params: Params, inputs: list[TensorSpec]) -> nn.Module:
        """A fresh torch module for these params and input specs."""
        cls, kwargs = self.construct(params, inputs)
        return cls(**kwargs)

    def param(self, name: str) -> ParamSpec:
        """Declaration of one param; GraphError if the type has no such param."""
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise GraphError(f"{self.type_id} has no parameter {show_value(name)} (it has: {known})")

    def input_ports(self, params: Params) -> tuple[str, ...]:
        """Names of the input ports for these params, in order."""
        if self.variadic:
            return tuple(f"in{i + 1}" for i in range(int(params.get("inputs", 2))))
        return self.inputs + tuple(port for port, switch in self.optional_inputs if params.get(switch))

    @property
    def named_ports(self) -> bool:
        """True when the input ports mean different things ("queries", "memory"), so the card
        names them; a single input or a merge's interchangeable in1..inN need no names."""
        return not self.variadic and len(self.inputs) + len(self.optional_inputs) > 1

    @property
    def is_source(self) -> bool:
        """True for types without inputs (the Input node)."""
        return not self.inputs and not self.variadic


_REGISTRY: dict[str, LayerSpec] = {}
_LEGACY: dict[str, str] = {}


def register(spec: LayerSpec) -> LayerSpec:
    """Add a layer type; a duplicate id (or legacy id) is a bug and raises."""
    if spec.category not in CATEGORIES:
        raise ValueError(f"unknown category {spec.category!r} for {spec.type_id}")
    _check_facts(spec)
    for key in (spec.type_id, *spec.legacy_ids):
        if key in _REGISTRY or key in _LEGACY:
            raise ValueError(f"layer id {key!r} is registered twice")
    _REGISTRY[spec.type_id] = spec
    for old in spec.legacy_ids:
        _LEGACY[old] = spec.type_id
    return spec


def _check_facts(spec: LayerSpec) -> None:
    """A declaration that names a param the type lacks, or an unknown flow, is a bug: refuse it."""
    names = {p.name for p in spec.params}
    if spec.width is not None and (spec.width.param not in names or spec.width.axis not in AXES):
        raise ValueError(f"{spec.type_id}: width {spec.width} names no param of the type or no axis of {AXES}")
    if spec.channels.flow not in CHANNEL_FLOWS or spec.channels.axis not in AXES:
        raise ValueError(f"{spec.type_id}: unknown channel flow or axis in {spec.channels}")
    for port, switch in spec.optional_inputs:
        if switch not in names or spec.param(switch).kind != "bool" or port in spec.inputs:
            raise ValueError(f"{spec.type_id}: optional input {port!r} needs a bool param {switch!r} and a new port name")
    for param, fact in spec.follows_data:
        if param not in names or fact not in DATA_FACTS:
            raise ValueError(f"{spec.type_id}: follows_data ({param!r}, {fact!r}) needs a param of the type and one of {DATA_FACTS}")


def layer_spec(type_id: str) -> LayerSpec:
    """The entry for a type id (or a legacy id); GraphError naming close ids if unknown."""
    _ensure_loaded()
    spec = _REGISTRY.get(type_id) or _REGISTRY.get(_LEGACY.get(type_id, ""))
    if spec is None:
        close = difflib.get_close_matches(type_id, list(_REGISTRY), n=3)
        hint = f" — did you mean {' or '.join(close)}?" if close else f"; known types: {', '.join(sorted(_REGISTRY))}"
        raise GraphError(f"unknown layer type {show_value(type_id)}{hint}")
    return spec


def canonical_type(type_id: str) -> str:
    """The current id of a type (maps legacy ids)."""
    return layer_spec(type_id).type_id


def all_layer_specs() -> list[LayerSpec]:
    """Every registered type, in palette order (category, then registration)."""
    _ensure_loaded()
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(_REGISTRY.values(), key=lambda s: order[s.category])


def _ensure_loaded() -> None:
    # The families register themselves on import; importing the package loads them all.
    import workbench.layers  # noqa: F401
