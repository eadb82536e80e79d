"""The official files of MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100, found in a folder and read.

Nothing is downloaded: the user points the image reader at a folder that holds the files as
they are distributed (or as torchvision keeps them), and the layout is told from its contents:

- MNIST / Fashion-MNIST: the four IDX files, plain or gzipped (`train-images-idx3-ubyte[.gz]`,
  `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`), in the folder
  itself, in `raw/`, or in torchvision's `MNIST/raw/` or `FashionMNIST/raw/`. The two sets share
  their file names: files under a folder whose name says "fashion" are Fashion-MNIST.
- CIFAR-10's binary version: `cifar-10-batches-bin/` with `data_batch_1.bin` … `data_batch_5.bin`
  and `test_batch.bin` (records of 1 label byte and 32×32×3 pixel bytes, red plane first).
- CIFAR-100's binary version: `cifar-100-binary/` with `train.bin` and `test.bin` (a coarse and a
  fine label byte, then the pixels); the fine labels (100 classes) are used.

The "python versions" of CIFAR are pickled files. Loading a pickle can run any code, so they are
refused with the way to the binary version, as every other user file here is read without pickle.

The official train part trains and the official test part is the validation split. The sets are
small (at most 60,000 images of 28×28 or 32×32), so all their pixels are read into one uint8
array; the image reader keeps them in memory and runs its usual transforms over them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.data.idx import read_idx
from workbench.data.image_layouts import EXPECTED_TREES
from workbench.data.paths import read_bytes
from workbench.data.progress import Tracker
from workbench.errors import DataError

log = logging.getLogger(__name__)

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
# The fine labels in their official order (used when fine_label_names.txt is not beside the batches).
CIFAR100_CLASSES = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel "
    "can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur "
    "dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion "
    "lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree "
    "pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea "
    "seal shark shrew skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table "
    "tank telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman "
    "worm"
).split()

# MNIST's four files; Kaggle's copies write `train-images.idx3-ubyte`, hence the [-.].
_IDX_NAME = re.compile(r"^(?P<part>train|t10k)-(?P<kind>images|labels)[-.]idx[13]-ubyte(?P<gz>\.gz)?$", re.IGNORECASE)
CIFAR10_FOLDER = "cifar-10-batches-bin"
CIFAR100_FOLDER = "cifar-100-binary"
CIFAR10_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST = "test_batch.bin"
CIFAR_PIXELS = 3 * 32 * 32
# The pickled "python versions": folder names, and files that only they hold.
PICKLED = {"cifar-10-batches-py": "CIFAR-10", "cifar-100-python": "CIFAR-100"}
_PICKLED_FILES = {"data_batch_1": "CIFAR-10", "batches.meta": "CIFAR-10", "meta": "CIFAR-100"}
BINARY_ARCHIVES = {
    "CIFAR-10": ("cifar-10-binary.tar.gz", f"{CIFAR10_FOLDER}/data_batch_1.bin … data_batch_5.bin, "
                                           f"test_batch.bin, batches.meta.txt"),
    "CIFAR-100": ("cifar-100-binary.tar.gz", f"{CIFAR100_FOLDER}/train.bin, test.bin, fine_label_names.txt"),
}
PARTS = ("train", "test")


@dataclass(frozen=True)
class OfficialLayout:
    """Which official set a folder holds, and its files by part ("train", "test")."""

    name: str  # "MNIST", "Fashion-MNIST", "CIFAR-10" or "CIFAR-100"
    folder: Path  # where the files lie
    files: dict[str, tuple[Path, ...]]  # MNIST: (images, labels); CIFAR: the batches
    names_file: Path | None = None  # CIFAR's class names beside the batches, when there

    @property
    def layout(self) -> str:
        """The layout in words, as the log and the bundle's encoding say it."""
        return f"official {self.name} files"


@dataclass
class OfficialSet:
    """The pixels and labels of the parts that were read, in the order of `parts`."""

    name: str
    images: np.ndarray  # (N, C, H, W) uint8
    labels: np.ndarray  # (N,) int64, official class ids
    counts: dict[str, int]  # images per part read
    class_names: list[str]

    def part(self, name: str) -> slice:
        """Where part `name` lies in `images` and `labels`."""
        start = 0
        for part, count in self.counts.items():
            if part == name:
                return slice(start, start + count)
            start += count
        raise KeyError(name)


def find_official(path: Path) -> OfficialLayout | None:
    """The official set in `path`, or None when it holds none of them.

    A partial set (a batch or an IDX file missing) is a DataError naming what is missing, and a
    pickled CIFAR "python version" is refused with the way to the binary one.
    """
    if not path.is_dir():
        return None
    found = _find_cifar10(path) or _find_cifar100(path) or _find_mnist(path)
    if found is None:
        _refuse_pickled(path)
    return found


def _files(folder: Path) -> dict[str, Path]:
    try:
        return {p.name: p for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}
    except OSError:
        return {}


def _incomplete(name: str, folder: Path, missing: list[str]) -> DataError:
    return DataError(f"{folder} holds part of the official {name} files: {', '.join(missing)} "
                     f"{'is' if len(missing) == 1 else 'are'} missing; extract the whole archive there.\n"
                     f"{EXPECTED_TREES}")


def _holds(folder: Path, files: dict[str, Path], names: tuple[str, ...], own_name: str) -> bool:
    """Whether `folder` is meant to hold a set: it has one of its files, or is named after it."""
    return any(n in files for n in names) or (folder.name == own_name and folder.is_dir())


def _find_cifar10(path: Path) -> OfficialLayout | None:
    for folder in (path / CIFAR10_FOLDER, path):
        files = _files(folder)
        if not _holds(folder, files, (*CIFAR10_TRAIN, CIFAR10_TEST), CIFAR10_FOLDER):
            continue
        missing = [n for n in (*CIFAR10_TRAIN, CIFAR10_TEST) if n not in files]
        if missing:
            raise _incomplete("CIFAR-10", folder, missing)
        return OfficialLayout("CIFAR-10", folder, {"train": tuple(files[n] for n in CIFAR10_TRAIN),
                                                   "test": (files[CIFAR10_TEST],)},
                              files.get("batches.meta.txt"))
    return None


def _find_cifar100(path: Path) -> OfficialLayout | None:
    for folder in (path / CIFAR100_FOLDER, path):
        files = _files(folder)
        if not _holds(folder, files, ("train.bin", "test.bin"), CIFAR100_FOLDER):
            continue
        missing = [n for n in ("train.bin", "test.bin") if n not in files]
        if missing:
            raise _incomplete("CIFAR-100", folder, missing)
        return OfficialLayout("CIFAR-100", folder, {"train": (files["train.bin"],), "test": (files["test.bin"],)},
                              files.get("fine_label_names.txt"))
    return None


def _find_mnist(path: Path) -> OfficialLayout | None:
    candidates = [path, path / "raw", path / "MNIST" / "raw", path / "FashionMNIST" / "raw"]
    holding = []
    for folder in candidates:
        found: dict[tuple[str, str], Path] = {}
        for name, file in sorted(_files(folder).items()):
            match = _IDX_NAME.match(name)
            key = (match["part"].lower(), match["kind"].lower()) if match else None
            if key is not None and (key not in found or not match["gz"]):  # a plain copy beats its .gz
                found[key] = file
        if found:
            holding.append((folder, found))
    if not holding:
        return None
    if len(holding) > 1:
        places = ", ".join(str(f.relative_to(path)) or "." for f, _ in holding)
        raise DataError(f"{path} holds MNIST-style IDX files in more than one place ({places}); point at one of "
                        f"them (e.g. {holding[0][0]})")
    folder, found = holding[0]
    wanted = [(p, k) for p in ("train", "t10k") for k in ("images", "labels")]
    missing = [f"{p}-{k}-idx{3 if k == 'images' else 1}-ubyte[.gz]" for p, k in wanted if (p, k) not in found]
    name = "Fashion-MNIST" if _is_fashion(folder) else "MNIST"
    if missing:
        raise _incomplete(name, folder, missing)
    return OfficialLayout(name, folder, {"train": (found[("train", "images")], found[("train", "labels")]),
                                         "test": (found[("t10k", "images")], found[("t10k", "labels")])})


def _is_fashion(folder: Path) -> bool:
    """MNIST and Fashion-MNIST files share their names: the folder they lie in tells them apart
    (the first name above them that is not `raw`, e.g. torchvision's FashionMNIST/raw/)."""
    for part in (folder, *folder.parents):
        if part.name.lower() != "raw":
            return "fashion" in part.name.lower()
    return False


def _refuse_pickled(path: Path) -> None:
    folders = [(path / name, what) for name, what in PICKLED.items()]
    folders.append((path, PICKLED.get(path.name, "")))
    for folder, what in folders:
        files = _files(folder)
        if not what:
            what = next((w for name, w in _PICKLED_FILES.items() if name in files), "")
            if what == "CIFAR-100" and not {"train", "test"} & set(files):
                what = ""  # a lone file called `meta` is no CIFAR
        if what and (folder is path or folder.is_dir()):
            archive, tree = BINARY_ARCHIVES[what]
            beside = path.parent if path.name in PICKLED else path
            raise DataError(f"{folder} is {what}'s python version, whose files are pickled: Workbench never "
                            f"unpickles files (loading a pickle can run any code). Download the binary version "
                            f"({archive}) and extract it into {beside}: {tree}")


def read_official(found: OfficialLayout, parts: tuple[str, ...] = PARTS) -> OfficialSet:
    """The pixels and labels of `parts` ("train", "test") of an official set, checked."""
    chunks: list[tuple[np.ndarray, np.ndarray]] = []
    counts: dict[str, int] = {}
    files = [f for part in parts for f in found.files[part]]
    tracker = Tracker(f"reading the {found.name} files", len(files))
    done = 0
    for part in parts:
        if found.name in ("MNIST", "Fashion-MNIST"):
            images_file, labels_file = found.files[part]
            chunk = _read_mnist_part(images_file, labels_file)
            done += 2
            tracker.update(done)
            chunks.append(chunk)
            counts[part] = len(chunk[1])
        else:
            n = 0
            for file in found.files[part]:
                chunk = _read_cifar_batch(file, fine=found.name == "CIFAR-100")
                chunks.append(chunk)
                n += len(chunk[1])
                done += 1
                tracker.update(done)
            counts[part] = n
    tracker.finish(done)
    shapes = {c[0].shape[1:] for c in chunks}
    if len(shapes) > 1:
        raise DataError(f"{found.folder}: the {found.name} files hold images of different sizes "
                        f"({', '.join('×'.join(map(str, s)) for s in sorted(shapes))}); they are not one set")
    images = np.concatenate([c[0] for c in chunks]) if len(chunks) > 1 else chunks[0][0]
    if not images.flags.writeable:  # one part, read straight from the file's bytes: torch wants its own copy
        images = images.copy()
    labels = np.concatenate([c[1] for c in chunks]).astype(np.int64)
    names = class_names(found)
    if len(labels) and labels.max() >= len(names):
        raise DataError(f"{found.folder}: a label of the {found.name} files is {int(labels.max())}, but the set "
                        f"has {len(names)} classes; the files are damaged or of another set")
    return OfficialSet(found.name, images, labels, counts, names)


def class_names(found: OfficialLayout) -> list[str]:
    """The official class names: from the names file beside the CIFAR batches when there."""
    official = {"MNIST": MNIST_CLASSES, "Fashion-MNIST": FASHION_MNIST_CLASSES, "CIFAR-10": CIFAR10_CLASSES,
                "CIFAR-100": CIFAR100_CLASSES}[found.name]
    if found.names_file is None:
        return list(official)
    try:
        text = read_bytes(found.names_file).decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{found.names_file}: not a text file of class names (not UTF-8)") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if len(names) != len(official):
        raise DataError(f"{found.names_file}: holds {len(names)} class names, but {found.name} has "
                        f"{len(official)}; restore the file from the archive or remove it")
    return names


def _read_mnist_part(images_file: Path, labels_file: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_file)
    labels = read_idx(labels_file)
    if images.ndim != 3 or images.dtype.kind != "u":
        raise DataError(f"{images_file}: not an MNIST images file: it holds a {images.ndim}-D {images.dtype} "
                        f"array, MNIST images are N×28×28 bytes (magic 0x00000803)")
    if labels.ndim != 1 or labels.dtype.kind != "u":
        raise DataError(f"{labels_file}: not an MNIST labels file: it holds a {labels.ndim}-D {labels.dtype} "
                        f"array, labels are N bytes (magic 0x00000801)")
    if len(images) != len(labels):
        raise DataError(f"{images_file} holds {len(images)} images but {labels_file} holds {len(labels)} labels; "
                        f"they must be the files of the same part")
    if len(images) == 0:
        raise DataError(f"{images_file} holds no images")
    return np.ascontiguousarray(images[:, None], dtype=np.uint8), labels.astype(np.int64)


def _read_cifar_batch(file: Path, fine: bool) -> tuple[np.ndarray, np.ndarray]:
    """A CIFAR binary batch: records of the label byte(s), then 1024 red, 1024 green, 1024 blue bytes."""
    label_bytes = 2 if fine else 1
    record = label_bytes + CIFAR_PIXELS
    raw = read_bytes(file)
    if not raw or len(raw) % record:
        raise DataError(f"{file}: {len(raw):,} bytes is not a whole number of {record:,}-byte records "
                        f"({label_bytes} label byte{'s' if fine else ''} + 32×32×3 pixels); the file is "
                        f"truncated or not a CIFAR-{100 if fine else 10} binary batch")
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(-1, record)
    labels = rows[:, label_bytes - 1].astype(np.int64)  # CIFAR-100: the fine label, after the coarse one
    return np.ascontiguousarray(rows[:, label_bytes:].reshape(-1, 3, 32, 32)), labels
