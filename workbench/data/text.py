"""Character-level language-model data: vocabulary, encoding, windows and a bigram yardstick.

One int64 id tensor per split; a sample is the window x = ids[i:i+T] and its shift by one,
y = ids[i+1:i+T+1]. Windows are views into that tensor, never materialised, so a megabyte
of text costs a few megabytes of memory whatever the sequence length.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.options import DEFAULT_SEQ_LEN, Options
from workbench.data.paths import read_bytes
from workbench.data.splits import check_val_fraction
from workbench.errors import DataError

log = logging.getLogger(__name__)

CORPUS_FILE = "python_stdlib.txt"


class CharWindowDataset(Dataset):
    """Non-overlapping windows of `seq_len` ids with their next-character targets."""

    def __init__(self, ids: torch.Tensor, seq_len: int) -> None:
        self.ids = ids  # (L,) int64, this split only
        self.seq_len = seq_len

    def __len__(self) -> int:
        # Each window needs T inputs and one more id for its last target.
        return max(0, (len(self.ids) - 1) // self.seq_len)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"window {index} out of range for {n} windows")
        start = index * self.seq_len
        chunk = self.ids[start:start + self.seq_len + 1]
        return chunk[:-1], chunk[1:]  # (T,), (T,)


def _code_points(text: str) -> np.ndarray:
    # UTF-32 gives one fixed-width code point per character: vectorised, no Python loop.
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def build_vocab(text: str) -> tuple[list[str], np.ndarray]:
    """Sorted unique characters of `text` and the text as int64 ids into that list."""
    uniq, ids = np.unique(_code_points(text), return_inverse=True)
    return [chr(int(c)) for c in uniq], ids.astype(np.int64)


def encode(text: str, vocab: Sequence[str]) -> list[int]:
    """Ids of each character of `text`; a character outside `vocab` raises DataError."""
    return _encode_array(text, vocab).tolist()


def _encode_array(text: str, vocab: Sequence[str]) -> np.ndarray:
    cps = _code_points(text)
    vocab_cps = np.array([ord(c) for c in vocab], dtype=np.uint32)
    order = np.argsort(vocab_cps, kind="stable")
    sorted_cps = vocab_cps[order]
    pos = np.clip(np.searchsorted(sorted_cps, cps), 0, max(len(vocab) - 1, 0))
    known = sorted_cps[pos] == cps if len(vocab) else np.zeros(len(cps), dtype=bool)
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise DataError(
            f"character {text[i]!r} (U+{ord(text[i]):04X}) at position {i} is not in the "
            f"model's vocabulary of {len(vocab)} characters; remove it from the prompt"
        )
    return order[pos].astype(np.int64)


def decode(ids: Iterable[int] | torch.Tensor | np.ndarray, vocab: Sequence[str]) -> str:
    """The text for a sequence of ids (a list, an array or a 1-D tensor)."""
    if isinstance(ids, torch.Tensor):
        ids = ids.reshape(-1).tolist()
    elif isinstance(ids, np.ndarray):
        ids = ids.reshape(-1).tolist()
    out = []
    for i in ids:
        if not 0 <= int(i) < len(vocab):
            raise DataError(f"token id {int(i)} is outside the vocabulary of {len(vocab)} characters")
        out.append(vocab[int(i)])
    return "".join(out)


def decode_utf8(raw: bytes, path: Path) -> str:
    """Decode a user text file, naming the byte offset of the first bad byte."""
    try:
        # utf-8-sig: a byte-order mark written by some editors is not part of the text.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start:exc.start + 1]
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path} is not UTF-8 text: byte 0x{bad.hex()} at byte offset {exc.start} (line "
            f"{line}) cannot be decoded; re-save the file as UTF-8"
        ) from exc


def text_bundle(text: str, spec: DatasetSpec, where: str, name: str) -> DataBundle:
    """Language-model bundle from a whole text: contiguous split, windows of seq_len."""
    opts = Options(spec.options, where)
    seq_len = opts.int("seq_len", DEFAULT_SEQ_LEN, minimum=1, maximum=1 << 16)
    opts.finish()
    val_fraction = check_val_fraction(spec.val_fraction, where)
    if not text:
        raise DataError(f"{where}: the text is empty; a language model needs some text")
    vocab, ids = build_vocab(text)
    if len(vocab) < 2:
        raise DataError(f"{where}: the text uses a single character; it needs at least two")
    # Contiguous split: validation is the tail of the text, so no window straddles both parts.
    n_train = int(round(len(ids) * (1.0 - val_fraction)))
    train_ids = torch.from_numpy(ids[:n_train].copy())
    val_ids = torch.from_numpy(ids[n_train:].copy())
    for part, part_ids in (("train", train_ids), ("validation", val_ids)):
        if len(part_ids) < seq_len + 1:
            raise DataError(
                f"{where}: the {part} part has {len(part_ids)} characters, fewer than seq_len + 1 "
                f"= {seq_len + 1}; use a longer text, a smaller seq_len or another val_fraction"
            )
    log.debug("%s: %d characters, vocabulary %d", where, len(ids), len(vocab))
    return DataBundle(
        train=CharWindowDataset(train_ids, seq_len),
        val=CharWindowDataset(val_ids, seq_len),
        task="language_model",
        input_shape=(seq_len,),
        input_dtype="int64",
        num_outputs=len(vocab),
        target_shape=(seq_len,),
        vocab=vocab,
        description=f"{name}: {len(ids):,} characters, {len(vocab)} distinct, windows of {seq_len}",
    )


def bigram_baseline_loss(bundle: DataBundle) -> float:
    """Validation cross-entropy (nats per character) of an add-one bigram model fitted on train.

    The yardstick for a character model: it knows only the previous character, so a model
    that has learnt anything about longer context must do better.
    """
    if bundle.vocab is None or not isinstance(bundle.train, CharWindowDataset) \
            or not isinstance(bundle.val, CharWindowDataset):
        raise DataError("the bigram baseline applies to character language-model data only")
    v = len(bundle.vocab)
    train = bundle.train.ids.numpy()
    val = bundle.val.ids.numpy()
    # Count only the pairs we need: keys prev*V+next, looked up for the validation pairs,
    # so a large (e.g. Unicode) vocabulary never needs a V x V table.
    train_keys, train_counts = np.unique(train[:-1] * v + train[1:], return_counts=True)
    row_totals = np.bincount(train[:-1], minlength=v)
    val_keys = val[:-1] * v + val[1:]
    pos = np.clip(np.searchsorted(train_keys, val_keys), 0, max(len(train_keys) - 1, 0))
    pair_counts = np.where(train_keys[pos] == val_keys, train_counts[pos], 0)
    probs = (pair_counts + 1.0) / (row_totals[val[:-1]] + v)
    return float(-np.log(probs).mean())


def builtin_corpus_path() -> Path:
    from workbench.resources import asset_path

    return asset_path("text", CORPUS_FILE)


def load_builtin_text(spec: DatasetSpec) -> DataBundle:
    path = builtin_corpus_path()
    if not path.is_file():
        raise DataError(
            f"built-in dataset 'text': its corpus {path} is missing from this installation; "
            f"reinstall Workbench with pip, or use source 'textfile' with a UTF-8 file of your own"
        )
    text = decode_utf8(read_bytes(path), path)
    return text_bundle(text, spec, "built-in dataset 'text'", "Python standard library source")


def load_textfile(spec: DatasetSpec, path: Path, base_dir: Path | None = None) -> DataBundle:
    raw = read_bytes(path)
    if not raw.strip():
        raise DataError(f"{path} is empty; a language model needs some text")
    text = decode_utf8(raw, path)
    return text_bundle(text, spec, f"text file {path}", path.name)
