"""The registry of layer types: one entry per type, looked up by a stable id.

An entry declares everything the rest of Workbench needs: palette category and doc, typed
params, input ports, a shape rule (pure, no tensors) and how to build the torch module.
Adding a layer type means registering one entry. Ids are never reused; a renamed type keeps
its old id in `legacy_ids` so that old project files still open.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.errors import GraphError
from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.params import ParamSpec

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
    "Merge",
)


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
    summary: Callable[[Params], str] = field(default=lambda p: "")
    legacy_ids: tuple[str, ...] = ()
    # Layers whose input is integer token ids rather than float features.
    accepts_ids: bool = False

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
        raise GraphError(f"{self.type_id} has no parameter '{name}' (it has: {known})")

    def input_ports(self, params: Params) -> tuple[str, ...]:
        """Names of the input ports for these params, in order."""
        if self.variadic:
            return tuple(f"in{i + 1}" for i in range(int(params.get("inputs", 2))))
        return self.inputs

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
    for key in (spec.type_id, *spec.legacy_ids):
        if key in _REGISTRY or key in _LEGACY:
            raise ValueError(f"layer id {key!r} is registered twice")
    _REGISTRY[spec.type_id] = spec
    for old in spec.legacy_ids:
        _LEGACY[old] = spec.type_id
    return spec


def layer_spec(type_id: str) -> LayerSpec:
    """The entry for a type id (or a legacy id); GraphError naming close ids if unknown."""
    _ensure_loaded()
    spec = _REGISTRY.get(type_id) or _REGISTRY.get(_LEGACY.get(type_id, ""))
    if spec is None:
        close = difflib.get_close_matches(type_id, list(_REGISTRY), n=3)
        hint = f" — did you mean {' or '.join(close)}?" if close else f"; known types: {', '.join(sorted(_REGISTRY))}"
        raise GraphError(f"unknown layer type '{type_id}'{hint}")
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
