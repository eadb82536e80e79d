"""Datasets: built-in sets and user data, turned into torch datasets a run can train on.

`DatasetSpec` and `DataBundle` load at once; the loaders (which need torch) on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from workbench.data.bundle import DataBundle, DatasetSpec

_LAZY = {
    "bigram_baseline_loss": "workbench.data.text",
    "decode": "workbench.data.text",
    "encode": "workbench.data.text",
    "list_builtin_datasets": "workbench.data.loading",
    "list_readers": "workbench.data.loading",
    "load_dataset": "workbench.data.loading",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.data' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["DataBundle", "DatasetSpec", *_LAZY]
