"""User data readers: CSV, image folders, npz/npy, text files, IDX, and every bad input."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.data import DatasetSpec, list_readers, load_dataset
from workbench.errors import DataError


def load(source: str, path: Path | str, base_dir: Path | None = None, **options):
    return load_dataset(DatasetSpec(source=source, path=str(path), options=options), base_dir)


def error(source: str, path: Path | str, base_dir: Path | None = None, **options) -> str:
    with pytest.raises(DataError) as err:
        load(source, path, base_dir, **options)
    return str(err.value)


# ----------------------------------------------------------------------------------- CSV

def _blobs_csv(path: Path, n: int = 300, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    lines = ["height,weight,color,label"]
    for _ in range(n):
        a, b = rng.normal(size=2)
        color = rng.choice(["red", "green", "blue"])
        label = "yes" if a + b + (1.5 if color == "red" else 0.0) > 0.5 else "no"
        lines.append(f"{a * 10 + 170:.3f},{b * 5 + 70:.3f},{color},{label}")
    path.write_text("\n".join(lines) + "\n")


def test_csv_learnable_by_a_simple_loop(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    _blobs_csv(path)
    before = path.read_bytes()
    b = load("csv", path)
    assert path.read_bytes() == before  # user files are only read
    assert b.task == "classification" and b.class_names == ["no", "yes"]
    assert b.input_shape == (5,) and b.train_size == 240 and b.val_size == 60
    assert b.encoding["feature_names"] == ["height", "weight", "color=blue", "color=green",
                                           "color=red"]
    assert b.encoding["target"]["name"] == "label"
    assert len(b.normalization["mean"]) == 5 and b.normalization["std"][2:] == [1.0] * 3
    x, y = b.train.tensors
    assert abs(float(x[:, 0].mean())) < 1e-5  # numeric columns standardised on train
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 2)
    for _ in range(150):  # plain gradient descent: torch.optim's first import costs a second
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    xv, yv = b.val.tensors
    assert (model(xv).argmax(1) == yv).float().mean() > 0.9


def test_csv_regression_target_option_and_delimiters(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    rows = [f"{u:.4f};{v:.4f};{3 * u - v:.4f}" for u, v in rng.normal(size=(50, 2))]
    (tmp_path / "r.csv").write_text("price;a;b\n" + "\n".join(
        f"{r.split(';')[2]};{r.split(';')[0]};{r.split(';')[1]}" for r in rows))
    b = load("csv", tmp_path / "r.csv", target="price")
    assert b.task == "regression" and b.target_shape == (1,) and b.input_shape == (2,)
    assert b.encoding["delimiter"] == ";" and "target_mean" in b.normalization
    (tmp_path / "c.tsv").write_text("f\tk\n" + "\n".join(f"{i}\t{i % 3}" for i in range(30)))
    c = load("csv", tmp_path / "c.tsv")
    assert c.task == "classification" and c.class_names == ["0", "1", "2"]
    assert load("csv", tmp_path / "c.tsv", task="regression").task == "regression"


def test_csv_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("a,b,y\n1,x,0\n2,,1\n,y,0\n4,x,1\n5,y,0\n6,NA,1\n7,x,0\n8,y,1\n")
    msg = error("csv", path)
    assert "gaps.csv" in msg and "row 3 column 'b'" in msg and "row 4 column 'a'" in msg
    assert "missing" in msg and "'drop'" in msg
    dropped = load("csv", path, missing="drop")
    assert dropped.train_size + dropped.val_size == 5 and dropped.encoding["dropped_rows"] == 3
    filled = load("csv", path, missing="fill")
    assert filled.train_size + filled.val_size == 8
    kinds = {f["name"]: f for f in filled.encoding["features"]}
    assert "fill" in kinds["a"] and kinds["b"]["fill"] in ("x", "y")


@pytest.mark.parametrize(
    ("content", "options", "expected"),
    [
        (b"", {}, ["empty"]),
        (b"a,b,y\n", {}, ["no data rows"]),
        (b"a,b,y\n1,2,0\n3,4,1\n", {"target": "label"}, ["'label'", "a, b, y"]),
        (b"a,b,y\n1,2,0\n3,4,0\n5,6,0\n", {}, ["single value", "'y'"]),
        (b"a,b,y\n1,2,0\n3,4\n5,6,1\n7,8,1,9\n", {}, ["row 3 has 2 fields", "row 5 has 4"]),
        (b"a,b,y\n1,2,0\n3,\xff4,1\n", {}, ["UTF-8", "byte offset 14", "line 3"]),
        (b"a,b,y\n1,2,0\n3,4,1\n", {"targte": "y"}, ["'targte'", "target"]),
        (b"a,a,y\n1,2,0\n3,4,1\n", {}, ["'a'", "more than once"]),
        (b"abc\n1\n2\n", {}, ["single column"]),
        (b"a,b,y\n1,inf,0\n3,4,1\n", {}, ["row 2", "'b'", "infinite"]),
    ],
    ids=["empty", "header-only", "no-target", "one-class", "ragged", "not-utf8",
         "unknown-option", "dup-header", "one-column", "inf"],
)
def test_csv_bad_input(tmp_path: Path, content: bytes, options: dict, expected: list[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    msg = error("csv", path, **options)
    assert "bad.csv" in msg
    for part in expected:
        assert part in msg, (part, msg)


def test_csv_id_column_refused_then_ignored(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("name,v,y\n" + "\n".join(f"user{i},{i},{i % 2}" for i in range(300)))
    msg = error("csv", path)
    assert "'name'" in msg and "ignore" in msg
    assert load("csv", path, ignore=["name"]).input_shape == (1,)


# -------------------------------------------------------------------------------- images
# Formats, layouts, transforms and bad image files: tests/data/test_images.py.

@pytest.fixture(scope="module")
def digit_images() -> tuple[np.ndarray, np.ndarray]:
    from workbench.data.builtin import digits_arrays

    pixels, labels = digits_arrays()
    keep = labels < 3
    images = (pixels[keep][:90] * 255 / 16).round().astype(np.uint8).reshape(-1, 8, 8)
    return images, labels[keep][:90]


def _write_folder(root: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    from PIL import Image

    for i, (img, lab) in enumerate(zip(images, labels)):
        folder = root / f"digit{lab}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / f"{i:03d}.png")
    return root


# ---------------------------------------------------------------------------------- arrays

def test_npz_and_npy(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(100, 4)).astype(np.float32), rng.integers(0, 3, 100)
    np.savez(tmp_path / "d.npz", X=x, y=y)
    b = load("npz", tmp_path / "d.npz")
    assert b.task == "classification" and b.input_shape == (4,) and b.num_outputs == 3
    assert b.train_size == 80
    np.savez(tmp_path / "v.npz", X=x, y=x[:, 0] * 2.5, X_val=x[:10], y_val=x[:10, 0])
    v = load("npz", tmp_path / "v.npz")
    assert v.task == "regression" and (v.train_size, v.val_size) == (100, 10)
    imgs = rng.random((30, 2, 5, 5))
    np.save(tmp_path / "x.npy", imgs)
    np.save(tmp_path / "y.npy", np.arange(30) % 2)
    n = load("npz", "x.npy", tmp_path, labels="y.npy")  # relative to the project folder
    assert n.input_shape == (2, 5, 5) and len(n.normalization["mean"]) == 2


def test_npz_bad_input(tmp_path: Path) -> None:
    np.savez(tmp_path / "noX.npz", inputs=np.zeros((4, 2)), y=np.arange(4))
    msg = error("npz", tmp_path / "noX.npz")
    assert "noX.npz" in msg and "'X'" in msg and "inputs" in msg
    np.savez(tmp_path / "count.npz", X=np.zeros((5, 2)), y=np.arange(4))
    msg = error("npz", tmp_path / "count.npz")
    assert "count.npz" in msg and "5" in msg and "4" in msg
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}] * 4, dtype=object), y=np.arange(4))
    assert "obj.npz" in error("npz", tmp_path / "obj.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    assert "junk.npz" in error("npz", tmp_path / "junk.npz")
    x = np.zeros((4, 2))
    x[2, 1] = np.nan
    np.savez(tmp_path / "nan.npz", X=x, y=np.arange(4) % 2)
    msg = error("npz", tmp_path / "nan.npz")
    assert "nan.npz" in msg and "entry 2" in msg
    np.save(tmp_path / "only.npy", np.zeros((4, 2)))
    assert "labels" in error("npz", tmp_path / "only.npy")


# ------------------------------------------------------------------------------ text file

def test_textfile(tmp_path: Path) -> None:
    path = tmp_path / "poem.txt"
    path.write_text("Ünïcode is fine. " * 200, encoding="utf-8")
    b = load("textfile", path, seq_len=16)
    assert b.task == "language_model" and "Ü" in b.vocab and b.input_shape == (16,)
    x, y = b.train[0]
    assert torch.equal(x[1:], y[:-1])


def test_textfile_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("hello\ncaf".encode() + b"\xe9 au lait" * 50)
    msg = error("textfile", path)
    assert "latin1.txt" in msg and "byte offset 9" in msg and "0xe9" in msg
    (tmp_path / "empty.txt").write_bytes(b"")
    assert "empty.txt" in error("textfile", tmp_path / "empty.txt")
    (tmp_path / "short.txt").write_text("abcabc")
    assert "seq_len" in error("textfile", tmp_path / "short.txt", seq_len=8)


# ------------------------------------------------------------------------------------ IDX

def _idx(arr: np.ndarray, code: int) -> bytes:
    dt = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    return (bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
            + arr.astype(dt).tobytes())


@pytest.fixture()
def idx_files(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (60, 6, 5), dtype=np.uint8)
    labels = np.arange(60) % 10
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(images, 0x08))
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(labels, 0x08)))
    return tmp_path / "train-images-idx3-ubyte", tmp_path / "train-labels-idx1-ubyte.gz", images, labels


def test_idx_plain_and_gzip(tmp_path: Path, idx_files) -> None:
    images_path, labels_path, images, labels = idx_files
    b = load("idx", images_path.name, tmp_path, labels=labels_path.name)
    assert b.input_shape == (1, 6, 5) and b.class_names == [str(i) for i in range(10)]
    assert (b.train_size, b.val_size) == (48, 12)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(gzip.decompress(labels_path.read_bytes()))
    assert load("idx", images_path).train_size == 48  # labels file found by MNIST naming
    assert abs(b.normalization["mean"][0] - images.mean() / 255) < 0.05
    gz = tmp_path / "images.gz"
    gz.write_bytes(gzip.compress(images_path.read_bytes()))
    (tmp_path / "labels").write_bytes(gzip.decompress(labels_path.read_bytes()))
    g = load("idx", gz, labels=str(tmp_path / "labels"), val_images=str(images_path),
             val_labels=str(labels_path))
    assert (g.train_size, g.val_size) == (60, 60)
    x, y = g.val.tensors
    restored = (x[:, 0] * g.normalization["std"][0] + g.normalization["mean"][0]) * 255
    assert np.array_equal(restored.round().numpy().astype(np.uint8), images)
    assert np.array_equal(y.numpy(), labels)


def test_idx_bad_input(tmp_path: Path, idx_files) -> None:
    images_path, labels_path, images, labels = idx_files
    bad = tmp_path / "bad-magic"
    bad.write_bytes(b"\x12\x34\x08\x03" + images_path.read_bytes()[4:])
    msg = error("idx", bad, labels=str(labels_path))
    assert "bad-magic" in msg and "magic" in msg
    few = tmp_path / "few-labels"
    few.write_bytes(_idx(labels[:50], 0x08))
    msg = error("idx", images_path, labels=str(few))
    assert "few-labels" in msg and "60 images" in msg and "50 labels" in msg
    short = tmp_path / "short"
    short.write_bytes(images_path.read_bytes()[:-7])
    msg = error("idx", short, labels=str(labels_path))
    assert "short" in msg and "truncated" in msg
    assert "labels" in error("idx", images_path)
    msg = error("idx", labels_path, labels=str(labels_path))
    assert "labels" in msg and "images file" in msg
    (tmp_path / "empty").write_bytes(b"")
    assert "empty" in error("idx", tmp_path / "empty", labels=str(labels_path))


# ------------------------------------------------------------------------------- general

def test_paths_and_readers_list(tmp_path: Path) -> None:
    assert {r["name"] for r in list_readers()} == {"csv", "images", "npz", "textfile", "idx", "seq2seq"}
    with pytest.raises(DataError, match="path"):
        load_dataset(DatasetSpec(source="csv"))
    msg = error("csv", "data/missing.csv", tmp_path)
    assert "missing.csv" in msg and "not found" in msg and str(tmp_path) in msg
    (tmp_path / "data").mkdir()
    _blobs_csv(tmp_path / "data" / "ok.csv", n=40)
    assert load("csv", "data/ok.csv", tmp_path).train_size == 32


def test_bundle_records_are_json_and_loaders_batch(tmp_path: Path, digit_images) -> None:
    import json

    from torch.utils.data import DataLoader

    _blobs_csv(tmp_path / "t.csv", n=60)
    csv_bundle = load("csv", tmp_path / "t.csv", missing="fill")
    json.dumps([csv_bundle.encoding, csv_bundle.normalization, csv_bundle.class_names])
    images, labels = digit_images
    img_bundle = load("images", _write_folder(tmp_path / "i", images, labels), augment=["shift"])
    text_bundle = load_dataset(DatasetSpec(source="text", options={"seq_len": 8}))
    for bundle, x_shape in ((csv_bundle, (4, 5)), (img_bundle, (4, 1, 8, 8)),
                            (text_bundle, (4, 8))):
        x, y = next(iter(DataLoader(bundle.train, batch_size=4, shuffle=True)))
        assert tuple(x.shape) == x_shape and len(y) == 4
