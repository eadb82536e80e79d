"""Workbench's benchmarks: what the workbench costs over plain PyTorch, and how smooth the app stays.

Run them all with `workbench bench [--quick] [--json PATH]` (workbench/bench.py), or one piece
from the repository root with `python -m benchmarks.NAME`. This folder is not part of the
installed package: the benchmarks measure a source checkout.
"""
