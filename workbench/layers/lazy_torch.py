"""torch.nn and our torch modules, imported when a layer is first built (see workbench.lazy)."""

from __future__ import annotations

from workbench.lazy import LazyModule

nn = LazyModule("torch.nn")
modules = LazyModule("workbench.layers.modules")
