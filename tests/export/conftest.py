"""Shared fixtures for the export tests: the presets' graphs, digits, a tiny language model's data,
and small models trained for a few epochs with a plain loop (cached for the whole session, so the
suite stays fast)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.utils.data import TensorDataset

from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.graph.builder import GraphModule, build_model
from workbench.graph.document import Graph
from workbench.training.losses import get_loss


def chain(*specs: tuple[str, dict], names: list[str] | None = None) -> Graph:
    """A graph of nodes in a line, each fed by the previous."""
    graph = Graph()
    previous = None
    for i, (type_id, params) in enumerate(specs):
        node = graph.add_node(type_id, name=names[i] if names else None, params=params)
        if previous is not None:
            graph.connect(previous, node.id)
        previous = node.id
    return graph


def preset_graph(name: str) -> Graph:
    from workbench.presets import resolve_project

    return resolve_project(name).graph


def train(model: GraphModule, data: DataBundle, epochs: int, lr: float = 3e-3, seed: int = 0) -> GraphModule:
    """A few epochs of Adam: enough for digits to reach ~90%+, and quick (on one thread: see
    `_one_torch_thread`; session fixtures are set up before that module-scoped one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(model, data, epochs, lr, seed)
    finally:
        torch.set_num_threads(threads)


def _train(model: GraphModule, data: DataBundle, epochs: int, lr: float, seed: int) -> GraphModule:
    torch.manual_seed(seed)
    loss_fn = get_loss(model.loss_name)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(data.train, batch_size=32, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
    return model.eval()


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Tiny models run fastest on one thread, and far faster than on two when other processes
    share the CPU (two threads that spin-wait on two busy cores made training 10x slower).
    Restored after each module, so other test folders keep their setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def digits() -> DataBundle:
    from workbench.data.loading import load_dataset

    return load_dataset(DatasetSpec("digits"))


@pytest.fixture(scope="session")
def tokens() -> DataBundle:
    """Sequences that count up modulo the vocabulary: a language model learns them quickly."""
    vocab = list("abcdefghijkl")
    generator = torch.Generator().manual_seed(0)
    starts = torch.randint(0, len(vocab), (160,), generator=generator)
    seqs = (starts[:, None] + torch.arange(17)[None, :]) % len(vocab)
    x, y = seqs[:, :-1].long(), seqs[:, 1:].long()
    return DataBundle(
        train=TensorDataset(x[:128], y[:128]),
        val=TensorDataset(x[128:], y[128:]),
        task="language_model",
        input_shape=(16,),
        input_dtype="int64",
        num_outputs=len(vocab),
        vocab=vocab,
    )


def mlp_graph() -> Graph:
    return preset_graph("digits-mlp")


def cnn_graph() -> Graph:
    return preset_graph("digits-cnn")


def gpt_graph(vocab: int = 12, length: int = 16) -> Graph:
    return chain(
        ("Input", {"kind": "tokens", "shape": [length]}),
        ("Embedding", {"num_embeddings": vocab, "embedding_dim": 32}),
        ("PositionalEncoding", {"encoding": "learned", "max_len": length}),
        ("TransformerBlock", {"heads": 4, "causal": True, "mlp_ratio": 2.0}),
        ("LayerNorm", {}),
        ("Linear", {"out_features": vocab}),
        ("Output", {}),
        names=["tokens", "embed", "pos", "block", "norm", "lm_head", "output"],
    )


@pytest.fixture(scope="session")
def _trained_mlp(digits: DataBundle) -> tuple[Graph, GraphModule]:
    graph = mlp_graph()
    return graph, train(build_model(graph, seed=0), digits, epochs=6)


@pytest.fixture(scope="session")
def _trained_cnn(digits: DataBundle) -> tuple[Graph, GraphModule]:
    graph = cnn_graph()
    return graph, train(build_model(graph, seed=0), digits, epochs=6)


@pytest.fixture
def trained_mlp(_trained_mlp: tuple[Graph, GraphModule]) -> tuple[Graph, GraphModule]:
    """(graph, trained model): a fresh copy per test, so no test sees another's changes."""
    graph, model = _trained_mlp
    return graph.copy(), copy.deepcopy(model)


@pytest.fixture
def trained_cnn(_trained_cnn: tuple[Graph, GraphModule]) -> tuple[Graph, GraphModule]:
    graph, model = _trained_cnn
    return graph.copy(), copy.deepcopy(model)


def val_inputs(data: DataBundle, n: int = 32) -> torch.Tensor:
    from workbench.export.evaluate import validation_inputs

    return validation_inputs(data, n)


class Kit:
    """The helpers above, handed to tests as a fixture (tests cannot import conftest here)."""

    chain = staticmethod(chain)
    preset_graph = staticmethod(preset_graph)
    train = staticmethod(train)
    mlp_graph = staticmethod(mlp_graph)
    cnn_graph = staticmethod(cnn_graph)
    gpt_graph = staticmethod(gpt_graph)
    val_inputs = staticmethod(val_inputs)


@pytest.fixture(scope="session")
def kit() -> type[Kit]:
    return Kit
