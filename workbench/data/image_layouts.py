"""Where the images are: the folder layouts people have, read into one list of files and labels.

- class folders (torchvision's ImageFolder):  FOLDER/<class>/<image>
- pre-split folders:  FOLDER/train/<class>/…, FOLDER/val/<class>/… (or valid/, validation/),
  optionally FOLDER/test/<class>/… (kept for `workbench evaluate`, not trained on)
- a CSV manifest:  a .csv/.tsv file with columns path,label[,split] (paths relative to it)
- the official files of MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 (`workbench.data.official`,
  read into memory rather than listed here)

Only names are listed here; nothing is decoded. A layout that is none of these gets a message
that draws the expected trees.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

from workbench.data.image_decode import IMAGE_SUFFIXES
from workbench.data.progress import Tracker
from workbench.errors import DataError

log = logging.getLogger(__name__)

TRAIN_NAMES = ("train", "training")
VAL_NAMES = ("val", "valid", "validation")
TEST_NAMES = ("test", "testing")
MANIFEST_SUFFIXES = (".csv", ".tsv")
PATH_COLUMNS = ("path", "file", "filename", "image")
LABEL_COLUMNS = ("label", "class", "target")

EXPECTED_TREES = """expected one of these layouts:
  class folders          pre-split folders            a manifest (.csv)
  FOLDER/                FOLDER/                      path,label,split
    cats/a.jpg             train/cats/a.jpg           img/a.jpg,cats,train
    dogs/b.jpg             train/dogs/b.jpg           img/b.jpg,dogs,val
                           val/cats/c.jpg
                           val/dogs/d.jpg
  or the official files of a classic set (the train part trains, the test part validates):
  MNIST, Fashion-MNIST         CIFAR-10 (binary version)     CIFAR-100 (binary version)
  FOLDER/MNIST/raw/            FOLDER/cifar-10-batches-bin/  FOLDER/cifar-100-binary/
    train-images-idx3-ubyte.gz   data_batch_1.bin … _5.bin     train.bin
    train-labels-idx1-ubyte.gz   test_batch.bin                test.bin
    t10k-images-idx3-ubyte.gz    batches.meta.txt              fine_label_names.txt
    t10k-labels-idx1-ubyte.gz
  (FashionMNIST/raw/ for Fashion-MNIST; the IDX files may also lie in FOLDER itself)"""

@dataclass
class ImageIndex:
    """Every image's file and class, and which split it belongs to when the layout says so."""

    root: Path
    layout: str  # "class folders", "pre-split folders" or "manifest"
    class_names: list[str]
    files: list[Path] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    splits: list[str] | None = None  # "train" / "val" / "test" per file; None: split by val_fraction


def index_images(path: Path, for_training: bool = True) -> ImageIndex:
    """The images under `path` (a folder, or a manifest file), in a stable order.

    Training needs two classes at least, and a manifest with a split column needs val rows;
    `workbench evaluate` (`for_training=False`) takes a single class and test rows alone too.
    """
    index = _index(path)
    if for_training:
        if index.layout == "manifest" and index.splits is not None and "val" not in index.splits:
            raise DataError(f"manifest {path}: its split column names no 'val' rows; mark some rows val, "
                            "or drop the column to split by val_fraction")
        _need_two_classes(index, path)
    elif not index.class_names:
        raise DataError(f"image data {path}: no class has images")
    return index


def _index(path: Path) -> ImageIndex:
    if path.is_file():
        if path.suffix.lower() not in MANIFEST_SUFFIXES:
            raise DataError(f"{path} is a file; point the image reader at a folder of images or at a "
                            f"manifest (.csv / .tsv with columns path,label[,split]).\n{EXPECTED_TREES}")
        return _manifest(path)
    if not path.is_dir():
        raise DataError(f"image folder {path} does not exist")
    subdirs = {p.name.lower(): p for p in _visible_dirs(path)}
    train = next((subdirs[n] for n in TRAIN_NAMES if n in subdirs), None)
    val = next((subdirs[n] for n in VAL_NAMES if n in subdirs), None)
    if train is not None and val is not None:
        return _pre_split(path, train, val, next((subdirs[n] for n in TEST_NAMES if n in subdirs), None))
    if train is not None and val is None and len(subdirs) <= 2:
        raise DataError(f"image folder {path} has a '{train.name}' folder but no 'val' (or 'valid', "
                        f"'validation') beside it.\n{EXPECTED_TREES}")
    return _class_folders(path)


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_in(folder: Path, seen: list[int], tracker: Tracker) -> list[Path]:
    files = []
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file():
            files.append(p)
            seen[0] += 1
            tracker.update(seen[0])
    return files


def _class_folders(path: Path) -> ImageIndex:
    subdirs = _visible_dirs(path)
    if not subdirs:
        loose = sum(1 for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        hint = f" ({loose} images lie directly in it)" if loose else ""
        raise DataError(f"image folder {path} has no class sub-folders{hint}; put the images of each "
                        f"class in a sub-folder named after the class.\n{EXPECTED_TREES}")
    index = ImageIndex(path, "class folders", [])
    seen, tracker = [0], Tracker("listing images", None)
    for sub in subdirs:
        files = _images_in(sub, seen, tracker)
        if not files:
            log.warning("image folder %s: class folder '%s' has no images; left out", path, sub.name)
            continue
        index.class_names.append(sub.name)
        index.files += files
        index.labels += [len(index.class_names) - 1] * len(files)
    if not index.files:
        raise DataError(f"image folder {path} contains no images (looked for "
                        f"{', '.join(IMAGE_SUFFIXES)} files in {', '.join(p.name for p in subdirs[:5])}).\n"
                        f"{EXPECTED_TREES}")
    return index


def _pre_split(path: Path, train: Path, val: Path, test: Path | None) -> ImageIndex:
    parts = [("train", train), ("val", val)] + ([("test", test)] if test is not None else [])
    names = sorted({d.name for _, folder in parts for d in _visible_dirs(folder)})
    train_classes = [d.name for d in _visible_dirs(train)]
    extra = sorted(set(names) - set(train_classes))
    if extra:
        raise DataError(f"image folder {path}: class(es) {', '.join(extra)} appear in "
                        f"{val.name}/ or {test.name if test else ''}/ but not in {train.name}/; "
                        "every class needs training images")
    index = ImageIndex(path, "pre-split folders", [], splits=[])
    seen, tracker = [0], Tracker("listing images", None)
    order = {name: i for i, name in enumerate(train_classes)}
    counts = {name: 0 for name in train_classes}
    for split, folder in parts:
        for sub in _visible_dirs(folder):
            files = _images_in(sub, seen, tracker)
            index.files += files
            index.labels += [order[sub.name]] * len(files)
            index.splits += [split] * len(files)  # type: ignore[operator]
            if split == "train":
                counts[sub.name] += len(files)
    empty = [name for name, n in counts.items() if n == 0]
    if empty:
        raise DataError(f"image folder {path}: {train.name}/{empty[0]} has no images; add some or remove the folder")
    index.class_names = train_classes
    if not any(s == "val" for s in index.splits or []):
        raise DataError(f"image folder {path}: {val.name}/ has no images in class folders.\n{EXPECTED_TREES}")
    return index


def _manifest(path: Path) -> ImageIndex:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f, delimiter=delimiter))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read manifest {path}: {exc}") from None
    if not rows:
        raise DataError(f"manifest {path} is empty; it needs a header path,label[,split] and one row per image")
    header = [h.strip().lower() for h in rows[0]]
    col_path = next((header.index(c) for c in PATH_COLUMNS if c in header), None)
    col_label = next((header.index(c) for c in LABEL_COLUMNS if c in header), None)
    col_split = header.index("split") if "split" in header else None
    if col_path is None or col_label is None:
        raise DataError(f"manifest {path}: the header must name a path column ({'/'.join(PATH_COLUMNS)}) and a "
                        f"label column ({'/'.join(LABEL_COLUMNS)}); it has {', '.join(rows[0]) or 'nothing'}")
    files: list[Path] = []
    labels_text: list[str] = []
    splits: list[str] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        width = max(col_path, col_label, col_split or 0) + 1
        if len(row) < width:
            raise DataError(f"manifest {path}, line {line}: {len(row)} field(s), expected at least {width}")
        rel = row[col_path].strip()
        file = (path.parent / rel) if not Path(rel).is_absolute() else Path(rel)
        if not file.is_file():
            raise DataError(f"manifest {path}, line {line}: image {rel!r} does not exist (paths are "
                            f"relative to the manifest's folder {path.parent})")
        files.append(file)
        labels_text.append(row[col_label].strip())
        if col_split is not None:
            split = row[col_split].strip().lower()
            split = "train" if split in TRAIN_NAMES else "val" if split in VAL_NAMES else "test" if split in TEST_NAMES else split
            if split not in ("train", "val", "test"):
                raise DataError(f"manifest {path}, line {line}: split {row[col_split]!r} is not train, val or test")
            splits.append(split)
    if not files:
        raise DataError(f"manifest {path} lists no images")
    names = sorted(set(labels_text), key=_natural)
    order = {name: i for i, name in enumerate(names)}
    index = ImageIndex(path.parent, "manifest", names, files, [order[t] for t in labels_text],
                       splits if col_split is not None else None)
    return index


def _natural(text: str) -> tuple[int, int | str]:
    """Class names that are numbers sort as numbers (2 before 10)."""
    return (0, int(text)) if text.isdigit() else (1, text)


def _need_two_classes(index: ImageIndex, path: Path) -> None:
    if len(index.class_names) < 2:
        only = index.class_names[0] if index.class_names else "none"
        raise DataError(f"image data {path}: only class '{only}' has images; a classifier needs at least two classes")
