"""The layer library: importing this package registers every layer type.

Public names: `layer_spec(type_id)`, `all_layer_specs()`, and the types in `registry`.
"""

from __future__ import annotations

from workbench.layers import activation, attention, conv, dense, embedding, io, merge, norm, pool, recurrent, reshape  # noqa: F401
from workbench.layers.registry import CATEGORIES, LayerSpec, ShapeError, all_layer_specs, canonical_type, layer_spec

__all__ = ["CATEGORIES", "LayerSpec", "ShapeError", "all_layer_specs", "canonical_type", "layer_spec"]
