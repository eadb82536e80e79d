"""Datasets: built-in sets and user data, turned into torch datasets a run can train on."""

from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.loading import list_builtin_datasets, list_readers, load_dataset
from workbench.data.text import bigram_baseline_loss, decode, encode

__all__ = [
    "DataBundle",
    "DatasetSpec",
    "bigram_baseline_loss",
    "decode",
    "encode",
    "list_builtin_datasets",
    "list_readers",
    "load_dataset",
]
