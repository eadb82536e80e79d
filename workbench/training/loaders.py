"""DataLoaders for a run: a seeded, shuffled training loader and a plain validation loader.

The training loader shuffles with its own torch.Generator, seeded from the run's seed, so the
order of batches depends on the seed alone (not on how much global randomness the model used),
and its state can be saved in a checkpoint and restored on resume.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, IterableDataset

from workbench.data.bundle import DataBundle
from workbench.errors import TrainingError
from workbench.training.settings import TrainSettings


@dataclass
class Loaders:
    train: DataLoader
    val: DataLoader | None  # None when the validation set is empty
    generator: torch.Generator  # shuffles `train`; its state goes into checkpoints


def _size(dataset: object) -> int | None:
    try:
        return len(dataset)  # type: ignore[arg-type]
    except TypeError:
        return None  # an iterable dataset without a length


def make_loaders(data: DataBundle, settings: TrainSettings, device: torch.device) -> Loaders:
    """Loaders for `data` on `device` as `settings` asks (batch size, workers, seed)."""
    if _size(data.train) == 0:
        raise TrainingError("the training set is empty; check the dataset and its split")
    generator = torch.Generator()
    generator.manual_seed(settings.seed)
    workers = settings.num_workers
    common = {
        "batch_size": settings.batch_size,
        "num_workers": workers,
        # Page-locked host memory lets the copy to the GPU overlap with compute.
        "pin_memory": device.type == "cuda",
        # Worker start-up costs about a second per epoch otherwise.
        "persistent_workers": workers > 0,
    }
    train = DataLoader(
        data.train,
        shuffle=not isinstance(data.train, IterableDataset),
        generator=generator,
        **common,
    )
    val = None
    if _size(data.val) != 0:
        val = DataLoader(data.val, shuffle=False, **common)
    return Loaders(train, val, generator)
