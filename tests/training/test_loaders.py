"""DataLoader settings a run derives: how many workers "auto" gives, and what it passes on."""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from workbench.data import DatasetSpec, load_dataset
from workbench.training.loaders import auto_workers, make_loaders
from workbench.training.settings import TrainSettings


class Decoding(torch.utils.data.Dataset):
    per_sample_work = True

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(2), torch.tensor(0)


def test_auto_workers_follow_the_data_the_cores_and_the_device() -> None:
    tensors = TensorDataset(torch.zeros(4, 2), torch.zeros(4))
    assert auto_workers(tensors, torch.device("cpu"), cores=16)[0] == 0
    assert auto_workers(Decoding(), torch.device("cpu"), cores=2) == (1, "2 cores, training on the CPU, samples decoded per item")
    assert auto_workers(Decoding(), torch.device("cpu"), cores=16)[0] == 4
    assert auto_workers(Decoding(), torch.device("cuda"), cores=16)[0] == 8
    assert auto_workers(Decoding(), torch.device("cuda"), cores=1)[0] == 1


def test_auto_is_the_default_and_a_number_is_kept() -> None:
    bundle = load_dataset(DatasetSpec("digits"))
    assert TrainSettings().num_workers is None
    assert TrainSettings.from_dict({"num_workers": "auto"}).num_workers is None
    loaders = make_loaders(bundle, TrainSettings(), torch.device("cpu"))
    assert loaders.train.num_workers == 0  # digits are tensors in memory
    loaders = make_loaders(bundle, TrainSettings(num_workers=1), torch.device("cpu"))
    assert loaders.train.num_workers == 1 and loaders.train.persistent_workers and loaders.train.prefetch_factor == 2
