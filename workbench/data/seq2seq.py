"""Sequence-to-sequence data: source and target text pairs as character ids, for an
encoder–decoder network with two Inputs, `source` and `target`.

One vocabulary covers the characters of both sides (an Embedding can then serve encoder and
decoder alike), built from the training split only, plus four special tokens at fixed ids:

    0 <pad>   fills a sequence up to its fixed length (the decoder's cross-attention can skip
              source padding with mask_padding, pad_id 0)
    1 <s>     starts the decoder's input
    2 </s>    ends the target: decoding stops when the model predicts it
    3 <unk>   a character the training split never showed

A sample is `({"source": (S,), "target": (T,)}, y (T,))`: the target fed to the decoder is
shifted right by one (`<s> t1 t2 …`, teacher forcing) and `y` is the target to predict
(`t1 t2 … </s>`), so position i predicts the character after the first i target characters.

Two sources: the built-in `dates` task (dates written in words in several formats → ISO
dates, generated, nothing to download) and the `seq2seq` reader for a user's CSV/TSV file with
`source` and `target` columns.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.options import Options
from workbench.data.paths import read_bytes
from workbench.data.splits import split_indices
from workbench.errors import DataError

log = logging.getLogger(__name__)

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
SOURCE, TARGET = "source", "target"  # the Input names a seq2seq network must use
MAX_LEN = 1024  # longest source or target (characters) a file may hold


class Seq2SeqDataset(Dataset):
    """Padded id tensors of one split, with the text pairs they came from (for examples)."""

    def __init__(self, source: torch.Tensor, target_in: torch.Tensor, target_out: torch.Tensor,
                 pairs: list[tuple[str, str]]) -> None:
        self.source = source  # (N, S) int64
        self.target_in = target_in  # (N, T): <s> t1 t2 ...
        self.target_out = target_out  # (N, T): t1 t2 ... </s>
        self.pairs = pairs  # (source text, target text) per sample

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        return {SOURCE: self.source[index], TARGET: self.target_in[index]}, self.target_out[index]


def build_vocab(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """The special tokens, then every character of the pairs' sources and targets, sorted."""
    chars = sorted({ch for source, target in pairs for ch in source + target})
    return [*SPECIALS, *chars]


def encode_text(text: str, vocab: Sequence[str], length: int) -> list[int]:
    """Ids of `text`'s characters (unknown ones as <unk>), padded to `length`."""
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = [index.get(ch, UNK_ID) for ch in text][:length]
    return ids + [PAD_ID] * (length - len(ids))


def decode_ids(ids: Sequence[int], vocab: Sequence[str]) -> str:
    """The text of a predicted id sequence: stops at </s>, leaves out <pad> and <s>."""
    out: list[str] = []
    for i in ids:
        i = int(i)
        if i == EOS_ID:
            break
        if i in (PAD_ID, BOS_ID) or not 0 <= i < len(vocab):
            continue
        out.append("?" if i == UNK_ID else vocab[i])
    return "".join(out)


def _tensors(pairs: Sequence[tuple[str, str]], vocab: Sequence[str], source_len: int,
             target_len: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    index = {ch: i for i, ch in enumerate(vocab)}
    n = len(pairs)
    src = np.full((n, source_len), PAD_ID, dtype=np.int64)
    tin = np.full((n, target_len), PAD_ID, dtype=np.int64)
    tout = np.full((n, target_len), PAD_ID, dtype=np.int64)
    for row, (source, target) in enumerate(pairs):
        s = [index.get(ch, UNK_ID) for ch in source]
        t = [index.get(ch, UNK_ID) for ch in target]
        src[row, :len(s)] = s
        tin[row, :len(t) + 1] = [BOS_ID, *t]
        tout[row, :len(t) + 1] = [*t, EOS_ID]
    return torch.from_numpy(src), torch.from_numpy(tin), torch.from_numpy(tout)


def pairs_bundle(pairs: Sequence[tuple[str, str]], spec: DatasetSpec, where: str, description: str,
                 source_len: int | None = None, target_len: int | None = None,
                 vocab: list[str] | None = None) -> DataBundle:
    """A seq2seq bundle from text pairs: a seeded random split, the vocabulary of the training
    part (or `vocab`), every sequence padded to the longest (or to `source_len`/`target_len`)."""
    if len(pairs) < 2:
        raise DataError(f"{where}: {len(pairs)} pair(s); at least 2 are needed to train and validate")
    train_rows, val_rows = split_indices(len(pairs), spec.val_fraction, spec.seed, where)
    train_pairs = [pairs[i] for i in train_rows]
    val_pairs = [pairs[i] for i in val_rows]
    vocab = vocab or build_vocab(train_pairs)
    longest_source = max(len(s) for s, _ in pairs)
    longest_target = max(len(t) for _, t in pairs)
    source_len = source_len or longest_source
    target_len = target_len or longest_target + 1  # room for <s> in front, </s> at the end
    if longest_source > source_len or longest_target + 1 > target_len:
        raise DataError(f"{where}: a pair is longer than the fixed lengths ({source_len} source, "
                        f"{target_len - 1} target characters)")
    unseen = sorted({ch for s, t in val_pairs for ch in s + t} - set(vocab))
    if unseen:
        log.info("%s: %d character(s) appear only in validation and read as <unk>: %s", where, len(unseen),
                 "".join(unseen[:20]))
    train = Seq2SeqDataset(*_tensors(train_pairs, vocab, source_len, target_len), train_pairs)
    val = Seq2SeqDataset(*_tensors(val_pairs, vocab, source_len, target_len), val_pairs)
    return DataBundle(
        train=train,
        val=val,
        task="seq2seq",
        input_shape=(source_len,),
        input_dtype="int64",
        num_outputs=len(vocab),
        target_shape=(target_len,),
        vocab=vocab,
        description=f"{description}: {len(pairs):,} pairs, {len(vocab) - len(SPECIALS)} characters, "
                    f"source ≤ {source_len}, target ≤ {target_len - 1}",
        encoding={"seq2seq": {"pad": PAD_ID, "bos": BOS_ID, "eos": EOS_ID, "unk": UNK_ID,
                              "source_len": source_len, "target_len": target_len}},
        named_inputs={SOURCE: ((source_len,), "int64"), TARGET: ((target_len,), "int64")},
    )


# ----- the built-in task: dates in words -> ISO dates ---------------------------------------------

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DATE_FORMATS = 8
FIRST_YEAR, LAST_YEAR = 1900, 2099


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def write_date(date: datetime.date, style: int, case: int) -> str:
    """One way of writing `date` in words (`style` 0..7), in lower, title or upper case (`case` 0..2)."""
    month, short = MONTHS[date.month - 1], MONTHS[date.month - 1][:3]
    weekday = WEEKDAYS[date.weekday()]
    d, y = date.day, date.year
    text = (
        f"{d} {month} {y}",
        f"{month} {d}, {y}",
        f"{short} {d} {y}",
        f"{weekday}, {month} {d}, {y}",
        f"the {_ordinal(d)} of {month} {y}",
        f"{d:02d}.{date.month:02d}.{y}",  # always day first: one numeric convention, no ambiguity
        f"{short}. {_ordinal(d)}, {y}",
        f"{weekday[:3]} {d} {short} {y}",
    )[style]
    # Title case by hand: str.title() would write "3Rd".
    title = " ".join(word[:1].upper() + word[1:] for word in text.split(" "))
    return (text, title, text.upper())[case]


def date_pairs(samples: int, seed: int) -> list[tuple[str, str]]:
    """`samples` (written date, ISO date) pairs, days drawn uniformly from 1900–2099."""
    rng = np.random.default_rng(seed)
    start = datetime.date(FIRST_YEAR, 1, 1).toordinal()
    end = datetime.date(LAST_YEAR, 12, 31).toordinal()
    days = rng.integers(start, end + 1, size=samples)
    styles = rng.integers(0, DATE_FORMATS, size=samples)
    cases = rng.choice(3, size=samples, p=(0.6, 0.3, 0.1))
    pairs = []
    for day, style, case in zip(days.tolist(), styles.tolist(), cases.tolist()):
        date = datetime.date.fromordinal(day)
        pairs.append((write_date(date, style, case), date.isoformat()))
    return pairs


def load_dates_bundle(spec: DatasetSpec) -> DataBundle:
    """Dates written in words in eight formats → ISO dates (generated; fixed by data_seed)."""
    where = "built-in dataset 'dates'"
    opts = Options(spec.options, where)
    samples = opts.int("samples", 20000, minimum=10, maximum=2_000_000)
    data_seed = opts.int("data_seed", 0, minimum=0)
    opts.finish()
    # Fixed lengths and vocabulary, whatever the draw: the network does not change with the options.
    return pairs_bundle(date_pairs(samples, data_seed), spec, where, "Dates in words → ISO dates",
                        source_len=DATES_SOURCE_LEN, target_len=DATES_TARGET_LEN, vocab=dates_vocab())


def dates_vocab() -> list[str]:
    """Every character a written date of any format and case can hold, after the special tokens."""
    words = " ".join((*MONTHS, *WEEKDAYS, "the of st nd rd th"))
    return [*SPECIALS, *sorted(set(words + words.upper() + "0123456789 ,.-"))]


# The longest written date ("wednesday, september 30, 2099": 29 characters) and an ISO date plus </s>.
DATES_SOURCE_LEN = 29
DATES_TARGET_LEN = 11


# ----- the user's file: a CSV or TSV of source/target pairs --------------------------------------


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """The (source, target) rows of a CSV or TSV file with a header naming both columns.

    The delimiter is a tab for .tsv files or when the header holds a tab, else a comma.
    DataError, naming the file and the line, for anything unusable.
    """
    from workbench.data.text import decode_utf8

    raw = read_bytes(path)
    if not raw.strip():
        raise DataError(f"{path} is empty; it needs a header line 'source,target' and one pair per line")
    text = decode_utf8(raw, path)
    header = text.splitlines()[0]
    delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in header else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: {exc}; check the quoting") from exc
    names = [c.strip().lower() for c in rows[0]]
    missing = [c for c in (SOURCE, TARGET) if c not in names]
    if missing:
        shown = ", ".join(repr(c) for c in rows[0]) or "nothing"
        raise DataError(f"{path}: the header has no column {' or '.join(repr(m) for m in missing)} (it has "
                        f"{shown}); name the columns 'source' and 'target'")
    s_col, t_col = names.index(SOURCE), names.index(TARGET)
    pairs: list[tuple[str, str]] = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue  # blank lines
        if len(row) <= max(s_col, t_col):
            raise DataError(f"{path}: line {line} has {len(row)} field(s) but the header has {len(names)}; "
                            f"each line needs a source and a target")
        source, target = row[s_col], row[t_col]
        if not source or not target:
            side = SOURCE if not source else TARGET
            raise DataError(f"{path}: line {line} has an empty {side}; fill it in or delete the line")
        for side, value in ((SOURCE, source), (TARGET, target)):
            if len(value) > MAX_LEN:
                raise DataError(f"{path}: line {line}: the {side} has {len(value)} characters, more than "
                                f"{MAX_LEN}; shorten it or split the pair")
        pairs.append((source, target))
    if not pairs:
        raise DataError(f"{path} has a header but no pairs; add one source,target pair per line")
    return pairs


def load_pairs(spec: DatasetSpec, path: Path, base_dir: Path | None = None) -> DataBundle:
    """The `seq2seq` reader: a CSV/TSV of source/target text pairs (no options)."""
    Options(spec.options, f"seq2seq file {path}").finish()
    return pairs_bundle(read_pairs(path), spec, f"seq2seq file {path}", path.name)


def examples(dataset: Any, count: int) -> list[tuple[str, str]]:
    """The first `count` (source, target) text pairs of a seq2seq split."""
    pairs = getattr(dataset, "pairs", None)
    if pairs is None:
        raise DataError("examples need sequence-to-sequence data (source/target pairs)")
    return list(pairs[:count])
