"""Small synthetic DataBundles and models for the training tests (CPU, milliseconds each)."""

from __future__ import annotations

from typing import Callable

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from workbench.data.bundle import DataBundle


def classification_bundle(n_train: int = 128, n_val: int = 64, features: int = 8,
                          seed: int = 0) -> DataBundle:
    """Two linearly separable classes."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(features, generator=g)

    def make(n: int) -> TensorDataset:
        x = torch.randn(n, features, generator=g)
        y = (x @ w > 0).long()
        return TensorDataset(x, y)

    return DataBundle(train=make(n_train), val=make(n_val), task="classification",
                      input_shape=(features,), input_dtype="float32", num_outputs=2)


def regression_bundle(n_train: int = 128, n_val: int = 64, features: int = 4, seed: int = 0,
                      val_sign: float = 1.0) -> DataBundle:
    """y = x @ w (targets (B, 1)); val_sign=-1 gives a validation set that training hurts."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(features, 1, generator=g)
    x_train = torch.randn(n_train, features, generator=g)
    x_val = torch.randn(n_val, features, generator=g)
    return DataBundle(train=TensorDataset(x_train, x_train @ w),
                      val=TensorDataset(x_val, val_sign * (x_val @ w)),
                      task="regression", input_shape=(features,), input_dtype="float32",
                      num_outputs=1, target_shape=(1,))


def lm_bundle(n_train: int = 64, n_val: int = 16, seq_len: int = 12, vocab: int = 7,
              seed: int = 0) -> DataBundle:
    """Token sequences counting up modulo the vocabulary: next token = current + 1."""
    g = torch.Generator().manual_seed(seed)

    def make(n: int) -> TensorDataset:
        start = torch.randint(0, vocab, (n, 1), generator=g)
        seq = (start + torch.arange(seq_len + 1)) % vocab  # (N, T+1)
        return TensorDataset(seq[:, :-1].contiguous(), seq[:, 1:].contiguous())

    return DataBundle(train=make(n_train), val=make(n_val), task="language_model",
                      input_shape=(seq_len,), input_dtype="int64", num_outputs=vocab)


class TinyLM(nn.Module):
    def __init__(self, vocab: int = 7, width: int = 16) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.head = nn.Linear(width, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))  # (B, T, V)


def mlp(features: int = 8, outputs: int = 2, hidden: int = 16, dropout: float = 0.0,
        seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, outputs))


class Recorder:
    """Listener that keeps every event."""

    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.to_dict()["kind"] for e in self.events]

    def of(self, kind: str) -> list:
        return [e for e in self.events if e.to_dict()["kind"] == kind]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_classification() -> Callable[..., DataBundle]:
    return classification_bundle


@pytest.fixture
def make_regression() -> Callable[..., DataBundle]:
    return regression_bundle


@pytest.fixture
def make_lm() -> Callable[..., DataBundle]:
    return lm_bundle


@pytest.fixture
def make_mlp() -> Callable[..., nn.Module]:
    return mlp


@pytest.fixture(autouse=True)
def _two_threads() -> None:
    # Tiny models run fastest on few threads; also keeps timings stable on the 2-core CI.
    torch.set_num_threads(2)


@pytest.fixture
def make_tiny_lm() -> Callable[..., nn.Module]:
    def make(vocab: int = 7, width: int = 16, seed: int = 0) -> nn.Module:
        torch.manual_seed(seed)
        return TinyLM(vocab, width)

    return make


@pytest.fixture
def make_recorder() -> Callable[[], Recorder]:
    return Recorder
