"""DataLoaders for a run: a seeded, shuffled training loader and a plain validation loader.

The training loader shuffles with its own torch.Generator, seeded from the run's seed, so the
order of batches depends on the seed alone (not on how much global randomness the model used),
and its state can be saved in a checkpoint and restored on resume.

In a distributed run (`shard=(rank, world_size)`) each process sees its own part of the data:
the training set through a DistributedSampler (seeded with the run's seed; the engine calls
`set_epoch` so that every epoch is shuffled anew, the same way on every rank), the validation set
as every world_size-th sample from `rank`, without the padding DistributedSampler adds, so
that the summed validation counts describe each sample exactly once.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, DistributedSampler, IterableDataset

from workbench.data.bundle import DataBundle
from workbench.errors import TrainingError
from workbench.training.settings import TrainSettings

log = logging.getLogger(__name__)


@dataclass
class Loaders:
    train: DataLoader
    val: DataLoader | None  # None when the validation set is empty
    generator: torch.Generator  # shuffles `train`; its state goes into checkpoints
    sampler: DistributedSampler | None = None  # distributed runs: set_epoch(epoch) before each epoch


def _size(dataset: object) -> int | None:
    try:
        return len(dataset)  # type: ignore[arg-type]
    except TypeError:
        return None  # an iterable dataset without a length


def make_loaders(
    data: DataBundle,
    settings: TrainSettings,
    device: torch.device,
    shard: tuple[int, int] | None = None,
) -> Loaders:
    """Loaders for `data` on `device` as `settings` asks (batch size, workers, seed).

    `shard=(rank, world_size)` gives this process its part of the data in a distributed run.
    """
    if _size(data.train) == 0:
        raise TrainingError("the training set is empty; check the dataset and its split")
    if shard is not None:
        return _sharded_loaders(data, settings, device, *shard)
    generator = torch.Generator()
    generator.manual_seed(settings.seed)
    common = _common(settings, device, data.train)
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


def auto_workers(dataset: object, device: torch.device, cores: int | None = None) -> tuple[int, str]:
    """The DataLoader workers `num_workers: "auto"` chooses, and why, in words.

    Tensors in memory are sliced faster in the training process than any worker could hand them
    over: 0. A dataset that reads, decodes or transforms each sample (`per_sample_work`) gets the
    cores training leaves free: on the CPU training itself uses cores, so at most half of them
    (and 4); on a GPU up to 8, leaving one core for the training loop.
    """
    cores = cores or os.cpu_count() or 1
    if not getattr(dataset, "per_sample_work", False):
        return 0, "the samples are tensors in memory"
    if device.type == "cpu":
        n = max(1, min(4, cores // 2))
        return n, f"{cores} cores, training on the CPU, samples decoded per item"
    n = max(1, min(8, cores - 1))
    return n, f"{cores} cores, training on {device.type}, samples decoded per item"


def _common(settings: TrainSettings, device: torch.device, dataset: object) -> dict[str, object]:
    workers = settings.num_workers
    if workers is None:
        workers, why = auto_workers(dataset, device)
        log.info("loader workers: %d (auto: %s)", workers, why)
    common: dict[str, object] = {
        "batch_size": settings.batch_size,
        "num_workers": workers,
        # Page-locked host memory lets the copy to the GPU overlap with compute (the engine copies
        # with non_blocking=True on CUDA).
        "pin_memory": device.type == "cuda",
        # Worker start-up costs about a second per epoch otherwise.
        "persistent_workers": workers > 0,
    }
    if workers > 0:
        common["prefetch_factor"] = 4 if device.type == "cuda" else 2  # batches ready per worker
    return common


def _sharded_loaders(data: DataBundle, settings: TrainSettings, device: torch.device,
                     rank: int, world_size: int) -> Loaders:
    if isinstance(data.train, IterableDataset) or _size(data.train) is None:
        raise TrainingError(
            "distributed training shards the training set by index, but this dataset streams "
            "without a length; train it in one process"
        )
    generator = torch.Generator()  # seeds DataLoader workers; the sampler shuffles
    generator.manual_seed(settings.seed)
    common = _common(settings, device, data.train)
    # drop_last=False pads each rank to the same number of samples (repeating a few), so every
    # rank runs the same number of steps: a rank with one batch fewer would leave the others
    # waiting in the gradient all-reduce.
    sampler = DistributedSampler(data.train, num_replicas=world_size, rank=rank, shuffle=True,
                                 seed=settings.seed, drop_last=False)
    train = DataLoader(data.train, sampler=sampler, generator=generator, **common)  # type: ignore[arg-type]
    val = None
    n_val = _size(data.val)
    if n_val != 0:
        if n_val is None:
            raise TrainingError(
                "distributed validation shards the validation set by index, but it streams "
                "without a length; train it in one process"
            )
        val = DataLoader(data.val, sampler=range(rank, n_val, world_size), **common)  # type: ignore[arg-type]
    return Loaders(train, val, generator, sampler)
