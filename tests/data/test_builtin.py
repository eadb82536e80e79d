"""Built-in datasets: shapes, dtypes, splits, determinism, train-only statistics, text windows."""

from __future__ import annotations

import math

import pytest
import torch

from workbench.data import (
    DatasetSpec,
    bigram_baseline_loss,
    decode,
    encode,
    list_builtin_datasets,
    load_dataset,
)
from workbench.data.text import CharWindowDataset
from workbench.errors import DataError


def _all(ds) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = zip(*(ds[i] for i in range(len(ds))))
    return torch.stack(xs), torch.stack(ys)


@pytest.fixture(scope="module")
def text_bundle():
    return load_dataset(DatasetSpec(source="text", options={"seq_len": 32}))


def test_digits_shapes_and_split() -> None:
    b = load_dataset(DatasetSpec(source="digits"))
    assert b.task == "classification"
    assert b.input_shape == (1, 8, 8) and b.input_dtype == "float32"
    assert b.num_outputs == 10 and b.class_names == [str(i) for i in range(10)]
    assert (b.train_size, b.val_size) == (1437, 360)
    x, y = b.train[0]
    assert x.shape == (1, 8, 8) and x.dtype == torch.float32
    assert y.shape == () and y.dtype == torch.int64
    assert set(b.normalization) == {"mean", "std"} and len(b.normalization["mean"]) == 1


def test_digits_normalised_on_train_only() -> None:
    b = load_dataset(DatasetSpec(source="digits"))
    x_tr, _ = _all(b.train)
    x_va, _ = _all(b.val)
    assert abs(float(x_tr.mean())) < 1e-5 and abs(float(x_tr.std()) - 1) < 1e-2
    assert float(x_va.mean()) != 0.0  # its own statistics were not used
    raw_mean = b.normalization["mean"][0]
    assert 0.2 < raw_mean < 0.4  # pixel/16 scale, before standardising


def test_digits_split_is_stratified_and_disjoint() -> None:
    b = load_dataset(DatasetSpec(source="digits", val_fraction=0.25, seed=3))
    _, y_va = _all(b.val)
    counts = torch.bincount(y_va, minlength=10)
    assert counts.min() >= 40  # ~45 per class
    assert b.train_size + b.val_size == 1797


@pytest.mark.parametrize("name", ["digits", "spirals", "moons", "regression"])
def test_same_seed_same_data_other_seed_other_split(name: str) -> None:
    a = load_dataset(DatasetSpec(source=name, seed=1))
    b = load_dataset(DatasetSpec(source=name, seed=1))
    c = load_dataset(DatasetSpec(source=name, seed=2))
    assert torch.equal(a.train.tensors[0], b.train.tensors[0])
    assert torch.equal(a.val.tensors[1], b.val.tensors[1])
    assert not torch.equal(a.val.tensors[0], c.val.tensors[0])


def test_spirals_and_moons_options() -> None:
    s = load_dataset(DatasetSpec(source="spirals", options={"classes": 4, "points_per_class": 50}))
    assert s.input_shape == (2,) and s.num_outputs == 4
    assert s.train_size + s.val_size == 200 and s.val_size == 40
    m = load_dataset(DatasetSpec(source="moons", options={"samples": 300, "noise": 0.1}))
    assert m.num_outputs == 2 and m.train_size + m.val_size == 300
    assert m.train.tensors[0].dtype == torch.float32


def test_regression_targets_standardised() -> None:
    b = load_dataset(DatasetSpec(source="regression"))
    assert b.task == "regression" and b.num_outputs == 1 and b.target_shape == (1,)
    assert b.input_shape == (10,) and b.train_size == 1600
    x, y = b.train.tensors
    assert y.shape == (1600, 1) and y.dtype == torch.float32
    assert abs(float(y.mean())) < 1e-4 and abs(float(x.mean())) < 1e-4
    assert {"target_mean", "target_std"} <= set(b.normalization)
    assert float(b.val.tensors[1].mean()) != 0.0


def test_bad_options_and_fraction() -> None:
    with pytest.raises(DataError, match="noize"):
        load_dataset(DatasetSpec(source="moons", options={"noize": 0.1}))
    with pytest.raises(DataError, match="classes"):
        load_dataset(DatasetSpec(source="spirals", options={"classes": "three"}))
    with pytest.raises(DataError, match="val_fraction"):
        load_dataset(DatasetSpec(source="digits", val_fraction=1.5))


def test_unknown_source_lists_names() -> None:
    with pytest.raises(DataError) as err:
        load_dataset(DatasetSpec(source="mnist"))
    msg = str(err.value)
    for name in ("'mnist'", "digits", "spirals", "moons", "regression", "text", "csv", "idx"):
        assert name in msg


def test_list_builtin_datasets() -> None:
    items = {d["name"]: d for d in list_builtin_datasets()}
    assert set(items) == {"digits", "spirals", "moons", "regression", "order", "text", "dates"}
    assert items["order"]["input_shape"] == [30] and items["order"]["task"] == "classification"
    assert items["digits"]["input_shape"] == [1, 8, 8]
    assert items["text"]["task"] == "language_model"
    assert items["dates"]["task"] == "seq2seq"
    for name, item in items.items():
        b = load_dataset(DatasetSpec(source=name))
        assert list(b.input_shape) == item["input_shape"], name


def test_text_windows_shift_by_one(text_bundle) -> None:
    b = text_bundle
    assert b.task == "language_model" and b.input_dtype == "int64"
    assert b.input_shape == (32,) and b.target_shape == (32,)
    assert b.num_outputs == len(b.vocab) == len(set(b.vocab))
    assert b.vocab == sorted(b.vocab)
    x, y = b.train[5]
    assert x.dtype == torch.int64 and x.shape == (32,) and y.shape == (32,)
    assert torch.equal(x[1:], y[:-1])
    x_next, _ = b.train[6]
    assert y[-1] == x_next[0]  # stride T: windows tile the text
    assert isinstance(b.train, CharWindowDataset)
    # Contiguous split: every window lies inside its own part.
    total = len(b.train.ids) + len(b.val.ids)
    assert abs(len(b.val.ids) / total - 0.2) < 1e-3
    assert b.train_size == (len(b.train.ids) - 1) // 32
    with pytest.raises(IndexError):
        b.train[b.train_size]


def test_text_vocab_round_trip(text_bundle) -> None:
    vocab = text_bundle.vocab
    sample = "def f(x):\n    return x + 1  # ok\n"
    ids = encode(sample, vocab)
    assert all(isinstance(i, int) for i in ids)
    assert decode(ids, vocab) == sample
    assert decode(torch.tensor(ids), vocab) == sample
    x, _ = text_bundle.val[0]
    assert encode(decode(x, vocab), vocab) == x.tolist()
    with pytest.raises(DataError, match="'é'"):
        encode("café", vocab)


def test_bigram_baseline(text_bundle) -> None:
    loss = bigram_baseline_loss(text_bundle)
    assert math.isfinite(loss)
    assert 0.5 < loss < math.log(len(text_bundle.vocab))


def test_bigram_baseline_rejects_other_data() -> None:
    with pytest.raises(DataError, match="language-model"):
        bigram_baseline_loss(load_dataset(DatasetSpec(source="moons")))


def test_text_seq_len_too_long() -> None:
    with pytest.raises(DataError, match="seq_len"):
        load_dataset(DatasetSpec(source="text", options={"seq_len": 10**5}))


def test_missing_corpus_is_a_clear_error(monkeypatch, tmp_path) -> None:
    import workbench.data.text as text_mod

    monkeypatch.setattr(text_mod, "builtin_corpus_path", lambda: tmp_path / "nope.txt")
    with pytest.raises(DataError, match="nope.txt"):
        load_dataset(DatasetSpec(source="text"))



def test_temporal_order_sequences_and_classes() -> None:
    from workbench.data.sequences import CLASS_NAMES, VOCAB

    b = load_dataset(DatasetSpec(source="order", options={"samples": 400, "length": 30}))
    assert b.task == "classification" and b.input_shape == (30,) and b.input_dtype == "int64"
    assert b.class_names == CLASS_NAMES == ["XX", "XY", "YX", "YY"] and b.vocab == VOCAB
    assert (b.train_size, b.val_size) == (320, 80)
    x, y = _all(b.train)
    assert x.dtype == torch.int64 and y.dtype == torch.int64
    marks = (x >= 4).nonzero()  # X is id 4, Y is id 5: exactly two per sequence
    assert torch.equal(torch.bincount(marks[:, 0], minlength=len(x)), torch.full((len(x),), 2))
    first, second = marks[0::2, 1], marks[1::2, 1]
    assert bool(((3 <= first) & (first < 6)).all()) and bool(((15 <= second) & (second < 18)).all())
    # the class is read off the two symbols, in order: XX, XY, YX, YY
    symbols = x[marks[:, 0], marks[:, 1]].view(-1, 2) - 4
    assert torch.equal(symbols[:, 0] * 2 + symbols[:, 1], y)
    assert set(y.tolist()) == {0, 1, 2, 3}


def test_temporal_order_is_fixed_by_its_data_seed() -> None:
    a = load_dataset(DatasetSpec(source="order", options={"samples": 100}))
    b = load_dataset(DatasetSpec(source="order", options={"samples": 100}, seed=5))
    c = load_dataset(DatasetSpec(source="order", options={"samples": 100, "data_seed": 1}))
    every = lambda bundle: sorted(map(tuple, torch.cat([_all(bundle.train)[0], _all(bundle.val)[0]]).tolist()))  # noqa: E731
    assert every(a) == every(b) != every(c)
    with pytest.raises(DataError, match="length"):
        load_dataset(DatasetSpec(source="order", options={"length": 3}))
