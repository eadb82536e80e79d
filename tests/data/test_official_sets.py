"""The official files of MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100, read by the image reader.

The tests write small files in the official formats themselves (IDX, plain and gzipped; CIFAR's
binary records), so every test compares the pixels, labels and names that come back with the
ones written.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from workbench.data import DatasetSpec, load_dataset
from workbench.data.images import ImageFileDataset
from workbench.data.official import CIFAR10_CLASSES, CIFAR100_CLASSES, FASHION_MNIST_CLASSES
from workbench.errors import DataError

RNG = np.random.default_rng(0)


def write_idx(path: Path, array: np.ndarray, gz: bool) -> None:
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def write_mnist(folder: Path, n_train: int = 30, n_test: int = 12, gz: bool = True,
                size: tuple[int, int] = (28, 28)) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The four IDX files of a tiny MNIST; returns (images, labels) by part."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    written = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        images = RNG.integers(0, 256, (n, *size), dtype=np.uint8)
        labels = RNG.permutation(np.arange(n) % 10).astype(np.uint8)
        write_idx(folder / f"{part}-images-idx3-ubyte{suffix}", images, gz)
        write_idx(folder / f"{part}-labels-idx1-ubyte{suffix}", labels, gz)
        written[part] = (images, labels)
    return written


def cifar_records(n: int, fine: bool) -> tuple[bytes, np.ndarray, np.ndarray]:
    """n binary records: (bytes, images (n, 3, 32, 32), labels); CIFAR-100 gets a coarse byte first."""
    images = RNG.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = RNG.integers(0, 100 if fine else 10, n).astype(np.uint8)
    coarse = RNG.integers(0, 20, n).astype(np.uint8)
    rows = [(bytes([c, y]) if fine else bytes([y])) + img.tobytes() for c, y, img in zip(coarse, labels, images)]
    return b"".join(rows), images, labels


def write_cifar10(folder: Path, per_batch: int = 3, n_test: int = 4) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    folder.mkdir(parents=True, exist_ok=True)
    train = []
    for i in range(1, 6):
        data, images, labels = cifar_records(per_batch, fine=False)
        (folder / f"data_batch_{i}.bin").write_bytes(data)
        train.append((images, labels))
    data, images, labels = cifar_records(n_test, fine=False)
    (folder / "test_batch.bin").write_bytes(data)
    return {"train": (np.concatenate([t[0] for t in train]), np.concatenate([t[1] for t in train])),
            "test": (images, labels)}


def write_cifar100(folder: Path, n_train: int = 8, n_test: int = 5) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for part, n in (("train", n_train), ("test", n_test)):
        data, images, labels = cifar_records(n, fine=True)
        (folder / f"{part}.bin").write_bytes(data)
        written[part] = (images, labels)
    return written


def load(path: Path, **options: object):  # noqa: ANN201
    return load_dataset(DatasetSpec("images", str(path), dict(options)))


def error(path: Path, **options: object) -> str:
    with pytest.raises(DataError) as err:
        load(path, **options)
    return str(err.value)


def pixels(dataset: ImageFileDataset) -> np.ndarray:
    return np.stack([dataset.decoded(i).numpy() for i in range(len(dataset))])


def labels(dataset: ImageFileDataset) -> np.ndarray:
    return dataset.labels.numpy()


# ----------------------------------------------------------------------------------- MNIST

def test_mnist_in_torchvisions_layout_reads_its_gzipped_files(tmp_path: Path) -> None:
    written = write_mnist(tmp_path / "MNIST" / "raw", gz=True)
    bundle = load(tmp_path)
    assert bundle.class_names == [str(d) for d in range(10)]
    assert (bundle.train_size, bundle.val_size) == (30, 12)
    assert bundle.input_shape == (1, 28, 28)
    # train is the official train part, validation the official test part, in file order
    assert np.array_equal(pixels(bundle.train)[:, 0], written["train"][0])
    assert np.array_equal(labels(bundle.train), written["train"][1])
    assert np.array_equal(pixels(bundle.val)[:, 0], written["t10k"][0])
    assert np.array_equal(labels(bundle.val), written["t10k"][1])
    assert bundle.encoding["layout"] == "official MNIST files" and bundle.encoding["cached"] is True
    assert "the 12 test images are the validation split" in bundle.description


def test_mnist_is_standardised_with_its_training_statistics(tmp_path: Path) -> None:
    written = write_mnist(tmp_path, gz=False)  # the IDX files directly in the folder, not compressed
    bundle = load(tmp_path)
    train = written["train"][0].astype(np.float64) / 255
    assert bundle.normalization["mean"] == pytest.approx([train.mean()], abs=1e-6)
    assert bundle.normalization["std"] == pytest.approx([train.std()], abs=1e-6)
    x, y = bundle.val[3]
    expected = (written["t10k"][0][3] / 255 - train.mean()) / train.std()
    assert x.shape == (1, 28, 28) and torch.allclose(x[0].double(), torch.from_numpy(expected), atol=1e-5)
    assert int(y) == written["t10k"][1][3]
    assert bundle.encoding["preprocessing"]["mean"] == bundle.normalization["mean"]
    batch_x, batch_y = next(iter(DataLoader(bundle.train, batch_size=8)))
    assert batch_x.shape == (8, 1, 28, 28) and batch_y.dtype == torch.int64


def test_fashion_mnist_is_told_by_its_folder_and_named_officially(tmp_path: Path) -> None:
    write_mnist(tmp_path / "FashionMNIST" / "raw")
    bundle = load(tmp_path)
    assert bundle.class_names == FASHION_MNIST_CLASSES
    assert bundle.class_names[0] == "T-shirt/top" and bundle.class_names[9] == "Ankle boot"
    assert bundle.encoding["layout"] == "official Fashion-MNIST files"
    write_mnist(tmp_path / "fashion-mnist", gz=False)  # the raw files in a folder named after the set
    assert load(tmp_path / "fashion-mnist").class_names == FASHION_MNIST_CLASSES


def test_mnist_in_two_places_asks_which(tmp_path: Path) -> None:
    write_mnist(tmp_path / "MNIST" / "raw")
    write_mnist(tmp_path / "FashionMNIST" / "raw")
    message = error(tmp_path)
    assert "more than one place" in message and "MNIST/raw" in message and "FashionMNIST/raw" in message


def test_channels_and_size_options_apply_to_an_official_set(tmp_path: Path) -> None:
    written = write_mnist(tmp_path / "MNIST" / "raw")
    bundle = load(tmp_path, channels=3, size=[14, 14])
    assert bundle.input_shape == (3, 14, 14)
    image = bundle.train.decoded(0)
    assert tuple(image.shape) == (3, 14, 14) and torch.equal(image[0], image[2])
    assert bundle.encoding["preprocessing"]["steps"] == [{"type": "resize", "size": [14, 14]}]
    full = load(tmp_path, channels=3)
    assert np.array_equal(full.train.decoded(1)[1].numpy(), written["train"][0][1])


def test_a_missing_mnist_file_is_named_with_the_expected_trees(tmp_path: Path) -> None:
    write_mnist(tmp_path / "MNIST" / "raw")
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    message = error(tmp_path)
    assert "official MNIST files" in message and "t10k-labels-idx1-ubyte[.gz] is missing" in message
    assert "FOLDER/MNIST/raw/" in message and "FOLDER/cifar-10-batches-bin/" in message


def test_mismatched_mnist_counts_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "MNIST" / "raw"
    write_mnist(folder)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(7, dtype=np.uint8), gz=True)
    message = error(tmp_path)
    assert "holds 30 images" in message and "holds 7 labels" in message


# ----------------------------------------------------------------------------------- CIFAR

def test_cifar10_binary_batches_give_their_pixels_in_channel_order(tmp_path: Path) -> None:
    written = write_cifar10(tmp_path / "cifar-10-batches-bin")
    bundle = load(tmp_path)
    assert bundle.class_names == CIFAR10_CLASSES
    assert (bundle.train_size, bundle.val_size) == (15, 4) and bundle.input_shape == (3, 32, 32)
    assert np.array_equal(pixels(bundle.train), written["train"][0])  # batches 1..5 in order, R, G, B planes
    assert np.array_equal(labels(bundle.train), written["train"][1])
    assert np.array_equal(pixels(bundle.val), written["test"][0])
    assert np.array_equal(labels(bundle.val), written["test"][1])
    assert bundle.encoding["layout"] == "official CIFAR-10 files"
    same = load(tmp_path / "cifar-10-batches-bin")  # the batches' own folder works too
    assert np.array_equal(pixels(same.val), written["test"][0])


def test_cifar10_names_come_from_batches_meta_when_there(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    write_cifar10(folder)
    names = [f"class {i}" for i in range(10)]
    (folder / "batches.meta.txt").write_text("\n".join(names) + "\n\n")
    assert load(tmp_path).class_names == names
    (folder / "batches.meta.txt").write_text("airplane\nautomobile\n")
    message = error(tmp_path)
    assert "batches.meta.txt" in message and "holds 2 class names" in message and "has 10" in message


def test_gray_cifar10_on_request(tmp_path: Path) -> None:
    written = write_cifar10(tmp_path / "cifar-10-batches-bin")
    bundle = load(tmp_path, channels=1)
    assert bundle.input_shape == (1, 32, 32)
    rgb = written["train"][0][0].astype(np.float64)
    gray = 0.2989 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    assert np.abs(bundle.train.decoded(0)[0].numpy() - gray).max() <= 1


def test_cifar100_uses_the_fine_labels_and_their_names(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-100-binary"
    written = write_cifar100(folder)
    bundle = load(tmp_path)
    assert bundle.class_names == CIFAR100_CLASSES and len(bundle.class_names) == 100
    assert bundle.class_names[:3] == ["apple", "aquarium_fish", "baby"] and bundle.class_names[-1] == "worm"
    assert np.array_equal(labels(bundle.train), written["train"][1])  # the fine byte, not the coarse one
    assert np.array_equal(pixels(bundle.val), written["test"][0])
    (folder / "fine_label_names.txt").write_text("\n".join(f"fine{i}" for i in range(100)))
    assert load(folder).class_names[7] == "fine7"


def test_a_missing_cifar_batch_is_named_with_the_expected_trees(tmp_path: Path) -> None:
    write_cifar10(tmp_path / "cifar-10-batches-bin")
    (tmp_path / "cifar-10-batches-bin" / "data_batch_3.bin").unlink()
    message = error(tmp_path)
    assert "official CIFAR-10 files: data_batch_3.bin is missing" in message
    assert "data_batch_1.bin … _5.bin" in message and "FOLDER/cifar-100-binary/" in message
    write_cifar100(tmp_path / "c100" / "cifar-100-binary", n_test=0)
    (tmp_path / "c100" / "cifar-100-binary" / "test.bin").unlink()
    assert "test.bin is missing" in error(tmp_path / "c100")


def test_a_truncated_cifar_batch_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    write_cifar10(folder)
    data = (folder / "test_batch.bin").read_bytes()
    (folder / "test_batch.bin").write_bytes(data[:-10])
    message = error(tmp_path)
    assert "test_batch.bin" in message and "3,073-byte records" in message


def test_a_label_beyond_the_classes_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    write_cifar10(folder)
    data = bytearray((folder / "test_batch.bin").read_bytes())
    data[0] = 42
    (folder / "test_batch.bin").write_bytes(bytes(data))
    message = error(tmp_path)
    assert "a label of the CIFAR-10 files is 42" in message and "10 classes" in message


@pytest.mark.parametrize("name, files, archive", [
    ("cifar-10-batches-py", ["data_batch_1", "data_batch_2", "test_batch", "batches.meta"], "cifar-10-binary.tar.gz"),
    ("cifar-100-python", ["train", "test", "meta"], "cifar-100-binary.tar.gz"),
])
def test_the_pickled_python_versions_are_refused(tmp_path: Path, name: str, files: list[str], archive: str) -> None:
    folder = tmp_path / name
    folder.mkdir()
    for file in files:
        # What would run if these were unpickled: the reader must not even try.
        (folder / file).write_bytes(b"cos\nsystem\n(S'touch " + str(tmp_path / "ran").encode() + b"'\ntR.")
    for path in (tmp_path, folder):
        message = error(path)
        assert "never unpickles" in message and archive in message, message
        ten = archive.startswith("cifar-10-")
        assert f"into {tmp_path}: " in message  # beside the python version, not inside it
        assert ("cifar-10-batches-bin/data_batch_1.bin" if ten else "cifar-100-binary/train.bin") in message
        assert "\n" not in message
    assert not (tmp_path / "ran").exists()


def test_the_binary_version_beside_the_pickled_one_is_read(tmp_path: Path) -> None:
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"not read")
    write_cifar10(tmp_path / "cifar-10-batches-bin")
    assert load(tmp_path).val_size == 4


def test_class_folders_are_not_taken_for_an_official_set(tmp_path: Path) -> None:
    from PIL import Image

    for name in ("raw", "test"):  # names an official layout also uses
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.fromarray(np.full((4, 4), 40 * i, dtype=np.uint8)).save(tmp_path / name / f"{i}.png")
    bundle = load(tmp_path)
    assert bundle.class_names == ["raw", "test"] and bundle.encoding["layout"] == "class folders"
