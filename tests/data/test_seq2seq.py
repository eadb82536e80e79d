"""Sequence-to-sequence data: the built-in dates task, the CSV/TSV pairs reader and its errors,
and the exact-match metric."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
import torch

from workbench.data import load_dataset
from workbench.data.bundle import DatasetSpec
from workbench.data.seq2seq import (
    BOS_ID,
    DATE_FORMATS,
    DATES_SOURCE_LEN,
    EOS_ID,
    PAD_ID,
    SPECIALS,
    UNK_ID,
    date_pairs,
    dates_vocab,
    decode_ids,
    write_date,
)
from workbench.errors import DataError
from workbench.training.metrics import ValidationMeter, metric_names


def test_dates_bundle_has_two_named_inputs_and_shifted_targets() -> None:
    bundle = load_dataset(DatasetSpec(source="dates", options={"samples": 500}))
    assert bundle.task == "seq2seq"
    assert bundle.named_inputs == {"source": ((DATES_SOURCE_LEN,), "int64"), "target": ((11,), "int64")}
    assert bundle.train_size == 400 and bundle.val_size == 100
    assert bundle.vocab[:4] == list(SPECIALS)
    x, y = bundle.train[0]
    source, target = bundle.train.pairs[0]
    assert decode_ids(y.tolist(), bundle.vocab) == target
    assert decode_ids(x["source"].tolist(), bundle.vocab) == source
    assert x["target"][0] == BOS_ID and torch.equal(x["target"][1:], y[:-1])  # teacher forcing
    assert y[len(target)] == EOS_ID
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", target)


def test_every_written_date_names_its_iso_date() -> None:
    months = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
              "october", "november", "december"]
    for source, target in date_pairs(300, seed=3):
        date = datetime.date.fromisoformat(target)
        low = source.lower()
        assert str(date.year) in low and len(source) <= DATES_SOURCE_LEN
        assert months[date.month - 1][:3] in low or f"{date.month:02d}" in low
    longest = datetime.date(2099, 9, 30)  # a Wednesday in September: the longest writing
    assert max(len(write_date(longest, s, 0)) for s in range(DATE_FORMATS)) == DATES_SOURCE_LEN
    assert write_date(datetime.date(1997, 3, 3), 4, 1) == "The 3rd Of March 1997"


def test_the_dates_are_fixed_by_data_seed_not_the_split_seed() -> None:
    a = load_dataset(DatasetSpec(source="dates", options={"samples": 50}, seed=0))
    b = load_dataset(DatasetSpec(source="dates", options={"samples": 50}, seed=1))
    assert sorted(a.train.pairs + a.val.pairs) == sorted(b.train.pairs + b.val.pairs)
    assert a.val.pairs != b.val.pairs
    # One vocabulary for any draw, so that a network fits the dates whatever the options.
    tiny = load_dataset(DatasetSpec(source="dates", options={"samples": 10}))
    assert a.vocab == tiny.vocab == dates_vocab() and len(dates_vocab()) == 62


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_tsv_of_pairs_builds_vocab_from_the_training_split(tmp_path: Path) -> None:
    rows = "".join(f"{str(i)[::-1]}\t{i}\n" for i in range(100, 140))  # target first, then source
    path = _write(tmp_path, "pairs.tsv", "target\tsource\n" + rows)
    bundle = load_dataset(DatasetSpec(source="seq2seq", path=str(path), val_fraction=0.25))
    assert bundle.named_inputs is not None and bundle.task == "seq2seq"
    # Columns found by name, whatever their order: 'target' is the first column here.
    x, y = bundle.train[0]
    source, target = bundle.train.pairs[0]
    assert source == decode_ids(x["source"].tolist(), bundle.vocab) and target == source[::-1]
    assert bundle.target_shape == (4,)  # 3 characters and </s>
    # The vocabulary comes from the training split: a character seen only in validation is <unk>.
    path2 = _write(tmp_path, "unk.csv", "source,target\nab,ba\nzz,zz\n")
    small = load_dataset(DatasetSpec(source="seq2seq", path=str(path2), val_fraction=0.5))
    (train_source, _), = small.train.pairs
    (val_source, _), = small.val.pairs
    assert set(val_source).isdisjoint(train_source)
    assert not set(val_source) & set(small.vocab)
    xv, _ = small.val[0]
    assert xv["source"].tolist() == [UNK_ID, UNK_ID]


@pytest.mark.parametrize("text, message", [
    ("", r"is empty; it needs a header line 'source,target'"),
    ("question,answer\nA,b\n", r"the header has no column 'source' or 'target' \(it has 'question', 'answer'\)"),
    ("source,target\nabc,\nx,y\n", r"line 2 has an empty target; fill it in or delete the line"),
    ("source,target\nabc\n", r"line 2 has 1 field\(s\) but the header has 2"),
    ("source,target\n", r"has a header but no pairs"),
    ("source,target\na,b\n", r"1 pair\(s\); at least 2 are needed"),
    ("source,target\n\"a,b\n", r"line \d+: .*check the quoting|line 2 has 1 field"),
])
def test_unusable_pair_files_say_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "bad.csv", text)
    with pytest.raises(DataError, match=message):
        load_dataset(DatasetSpec(source="seq2seq", path=str(path)))


def test_an_unknown_option_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="samples"):
        load_dataset(DatasetSpec(source="dates", options={"sample": 10}))


def test_exact_match_counts_whole_sequences_and_skips_padding() -> None:
    assert metric_names("seq2seq") == ("val_token_accuracy", "val_exact_match")
    y = torch.tensor([[5, 6, EOS_ID, PAD_ID], [5, 7, EOS_ID, PAD_ID], [8, EOS_ID, PAD_ID, PAD_ID]])
    pred = torch.tensor([[5, 6, EOS_ID, 9], [5, 6, EOS_ID, PAD_ID], [8, EOS_ID, PAD_ID, PAD_ID]])
    outputs = torch.nn.functional.one_hot(pred, 10).float()  # (B, T, V) scores whose argmax is pred
    meter = ValidationMeter("seq2seq", "cross_entropy")
    meter.update(outputs, y, torch.tensor(0.5))
    _, metrics = meter.compute()
    # Row 1 is right (its last position is padding), row 2 misses one character, row 3 is right.
    assert metrics["val_exact_match"] == pytest.approx(2 / 3)
    assert metrics["val_token_accuracy"] == pytest.approx(7 / 8)
