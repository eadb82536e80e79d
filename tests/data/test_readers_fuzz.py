"""Property-based tests: damaged or random files through every reader and image decoder.

Each example starts from a valid file of the reader's format (or from nothing) and changes its
bytes: flipped, cut, inserted, or replaced by random ones. A reader must then load the data or
raise DataError; an image decoder must decode or raise ImageDecodeError (which the readers turn
into DataError). Any other exception is a bug that reaches the user as a traceback.
"""

from __future__ import annotations

import gzip
import io
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from workbench.data import DatasetSpec, load_dataset
from workbench.data.image_decode import ImageDecodeError, decode_bytes
from workbench.data.loading import READER_NAMES
from workbench.errors import DataError


def _csv() -> bytes:
    rows = ["a,b,kind,label"] + [f"{i * 0.5},{i % 7},{'xyz'[i % 3]},{'yes' if i % 2 else 'no'}" for i in range(24)]
    return ("\n".join(rows) + "\n").encode()


def _npz() -> bytes:
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(buffer, X=rng.normal(size=(20, 3)).astype(np.float32), y=np.arange(20) % 2)
    return buffer.getvalue()


def _npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(60, dtype=np.float32).reshape(20, 3))
    return buffer.getvalue()


def _idx_images() -> bytes:
    return struct.pack(">BBBBIII", 0, 0, 0x08, 3, 12, 4, 4) + bytes(range(12 * 16))


def _idx_labels() -> bytes:
    return struct.pack(">BBBBI", 0, 0, 0x08, 1, 12) + bytes(i % 3 for i in range(12))


def _text() -> bytes:
    return ("the quick brown fox jumps over the lazy dog. " * 8).encode()


def _encoded(fmt: str) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3)).save(out, format=fmt)
    return out.getvalue()


def _pairs() -> bytes:
    return ("source,target\n" + "".join(f"{i} apples,{i}\n" for i in range(12))).encode()


def _png() -> bytes:
    return _encoded("PNG")


def _bmp() -> bytes:
    return _encoded("BMP")


def _jpeg() -> bytes:
    return _encoded("JPEG")


@st.composite
def damaged(draw: st.DrawFn, valid: bytes) -> bytes:
    """`valid` with a few random edits, or random bytes, or gzip of either."""
    data = bytearray(draw(st.sampled_from((valid, valid, valid, b""))))
    if not data:
        return draw(st.binary(max_size=300))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(("flip", "cut", "insert", "truncate")))
        if edit == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif edit == "cut":
            del data[at:at + draw(st.integers(1, 8))]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at:]
    if draw(st.integers(0, 9)) == 0:
        return gzip.compress(bytes(data))
    return bytes(data)


# Reader -> (file name, valid content, options): one entry per reader in the loading table.
READERS: dict[str, tuple[str, Callable[[], bytes], dict]] = {
    "csv": ("data.csv", _csv, {}),
    "npz": ("data.npz", _npz, {}),
    "textfile": ("corpus.txt", _text, {"seq_len": 8}),
    "idx": ("train-images-idx3-ubyte", _idx_images, {"labels": "labels-idx1-ubyte"}),
    "images": ("images", _png, {}),
    "seq2seq": ("pairs.csv", _pairs, {}),
}


def test_every_reader_is_fuzzed() -> None:
    assert sorted(READERS) == sorted(READER_NAMES)


def _load_or_data_error(spec: DatasetSpec, base: Path) -> None:
    try:
        load_dataset(spec, base)
    except DataError as exc:
        assert str(exc) and "\n" not in str(exc).strip()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readers")


@pytest.mark.parametrize("reader", ["csv", "npz", "textfile", "seq2seq"])
@given(data=st.data())
def test_damaged_files_load_or_raise_data_error(folder: Path, reader: str, data: st.DataObject) -> None:
    name, valid, options = READERS[reader]
    content = data.draw(damaged(valid()))
    note(repr(content[:300]))
    (folder / name).write_bytes(content)
    _load_or_data_error(DatasetSpec(source=reader, path=name, options=options), folder)


@pytest.mark.slow
@given(data=st.data())
def test_damaged_npy_pairs_load_or_raise_data_error(folder: Path, data: st.DataObject) -> None:
    (folder / "x.npy").write_bytes(data.draw(damaged(_npy())))
    (folder / "y.npy").write_bytes(data.draw(damaged(_npy())))
    _load_or_data_error(DatasetSpec(source="npz", path="x.npy", options={"labels": "y.npy"}), folder)


@given(data=st.data())
def test_damaged_idx_files_load_or_raise_data_error(folder: Path, data: st.DataObject) -> None:
    name, valid, options = READERS["idx"]
    (folder / name).write_bytes(data.draw(damaged(valid())))
    (folder / options["labels"]).write_bytes(data.draw(damaged(_idx_labels())))
    _load_or_data_error(DatasetSpec(source="idx", path=name, options=options), folder)


@given(data=st.data())
def test_damaged_image_folders_load_or_raise_data_error(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    root = tmp_path_factory.mktemp("images")
    for label in ("cats", "dogs"):
        (root / label).mkdir()
        for i in range(3):
            valid = data.draw(st.sampled_from((_png(), _bmp())))
            suffix = ".png" if valid.startswith(b"\x89PNG") else ".bmp"
            (root / label / f"{i}{suffix}").write_bytes(data.draw(damaged(valid)))
    on_error = data.draw(st.sampled_from(("error", "skip")))
    _load_or_data_error(DatasetSpec(source="images", path=str(root), options={"on_error": on_error}), root)


@given(data=st.data())
def test_image_decoders_decode_or_raise_image_decode_error(data: st.DataObject) -> None:
    valid = data.draw(st.sampled_from((_png(), _bmp(), _jpeg())))
    content = data.draw(damaged(valid))
    note(repr(content[:300]))
    for channels in (1, 3):
        try:
            image = decode_bytes(content, channels)
        except ImageDecodeError as exc:
            assert str(exc)
        else:
            assert image.ndim == 3 and image.shape[0] == channels and min(image.shape) >= 1
