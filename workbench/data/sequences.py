"""Generated sequence classification: the temporal order problem (Hochreiter & Schmidhuber, 1997).

Each sample is a string of random distractors a–d with two relevant symbols, X or Y, one early
(at 10–20 % of the length) and one in the middle (at 50–60 %). The class is which symbols came
and in what order: XX, XY, YX or YY. A model reading one step at a time must keep the first
symbol in memory across the distractors until the end: the task that the LSTM paper used to
show what gated memory adds to a plain recurrent network. Generated from `data_seed`, so it
needs no download and is the same on every machine.
"""

from __future__ import annotations

import numpy as np

from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.options import Options
from workbench.data.splits import split_indices

VOCAB = ["a", "b", "c", "d", "X", "Y"]  # token id -> character
CLASS_NAMES = ["XX", "XY", "YX", "YY"]
_DISTRACTORS = 4  # ids 0..3; X and Y are ids 4 and 5
WHERE = "built-in dataset 'order'"


def temporal_order(samples: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`samples` sequences of `length` token ids (int64) and their classes 0..3 (int64)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, _DISTRACTORS, (samples, length))
    y = rng.integers(0, len(CLASS_NAMES), samples)
    rows = np.arange(samples)
    # the two windows of the paper: 10-20 % and 50-60 % of the way in, each at least one step wide
    first = rng.integers(length // 10, max(length // 5, length // 10 + 1), samples)
    second = rng.integers(length // 2, max(length * 3 // 5, length // 2 + 1), samples)
    x[rows, first] = _DISTRACTORS + y // 2  # X for classes XX and XY, Y for YX and YY
    x[rows, second] = _DISTRACTORS + y % 2
    return x.astype(np.int64), y.astype(np.int64)


def load_order_bundle(spec: DatasetSpec) -> DataBundle:
    """The temporal order problem as a DataBundle of token ids, split stratified by class."""
    import torch  # only when data is loaded
    from torch.utils.data import TensorDataset

    opts = Options(spec.options, WHERE)
    samples = opts.int("samples", 10000, minimum=8, maximum=10_000_000)
    length = opts.int("length", 30, minimum=10, maximum=100_000)
    data_seed = opts.int("data_seed", 0)
    opts.finish()
    x, y = temporal_order(samples, length, data_seed)
    train, val = split_indices(samples, spec.val_fraction, spec.seed, WHERE, stratify=y)
    return DataBundle(
        train=TensorDataset(torch.from_numpy(x[train]), torch.from_numpy(y[train])),
        val=TensorDataset(torch.from_numpy(x[val]), torch.from_numpy(y[val])),
        task="classification",
        input_shape=(length,),
        input_dtype="int64",
        num_outputs=len(CLASS_NAMES),
        class_names=list(CLASS_NAMES),
        vocab=list(VOCAB),
        description=f"Temporal order: which of X/Y come early and mid-way among random a-d, {samples} sequences of {length}",
    )
