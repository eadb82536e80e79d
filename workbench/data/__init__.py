"""Datasets: built-in sets and user data, turned into torch datasets a run can train on.

`DatasetSpec` and `DataBundle` load at once; the loaders (which need torch) on first use.
"""

from __future__ import annotations

from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.lazy import lazy_exports

_LAZY = {
    "bigram_baseline_loss": "workbench.data.text",
    "decode": "workbench.data.text",
    "encode": "workbench.data.text",
    "list_builtin_datasets": "workbench.data.loading",
    "list_readers": "workbench.data.loading",
    "load_dataset": "workbench.data.loading",
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = ["DataBundle", "DatasetSpec", *_LAZY]
