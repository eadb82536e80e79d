"""What a dataset looks like before training: sizes, classes, a sample, and the problems worth fixing.

`preview_dataset` loads the data through the same readers a run uses, so the split is the run's
split and every problem is the `DataError` a run would meet (naming the file, row or entry and
the fix). It then summarises the bundle instead of reading the files again: class counts from
the label tensors, sample images un-standardised back to pixels, a text excerpt decoded from the
token ids; only tables keep the parsed text of their first rows, straight from the CSV reader.

Warnings are the problems that do not stop training but spoil it quietly:

* class imbalance: the largest class has at least `IMBALANCE_RATIO` (3) times the training samples
  of the smallest, i.e. the smallest is below a third of the largest. Past that point a model
  scores well by favouring the big classes, so overall accuracy hides the small ones;
* tiny classes: `TINY_CLASS` (5) training samples or fewer, none at all, or none in validation
  (the class's accuracy is then never measured);
* constant columns / features: the same value in every row carries no information;
* a small split: fewer than `MIN_SPLIT_SAMPLES` (20) samples in the train or validation part,
  where one sample moves validation accuracy by 5 points or more;
* whatever the readers logged as a warning while loading (a class folder without images,
  unreadable images skipped, rows without a target left out).

No Qt here: the GUI's Data preview dialog and any script use the same function.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

from workbench.data.bundle import DataBundle, DatasetSpec, Task
from workbench.data.images import ImageFileDataset
from workbench.data.loading import READER_NAMES, load_dataset, path_kind
from workbench.data.paths import resolve_path
from workbench.data.tabular import Table, load_csv_table
from workbench.data.text import CharWindowDataset, builtin_corpus_path
from workbench.errors import DataError

log = logging.getLogger(__name__)

Kind = Literal["table", "images", "text", "arrays"]

PREVIEW_ROWS = 20  # table rows shown
PREVIEW_COLUMNS = 32  # array features shown as columns; wider X is cut (the count is still shown)
IMAGES_PER_CLASS = 8
MAX_IMAGE_CLASSES = 30  # classes with sample images; a 100-class folder would be a wall of pictures
TEXT_EXCERPT = 2000  # characters of a text shown
IMBALANCE_RATIO = 3.0
TINY_CLASS = 5
MIN_SPLIT_SAMPLES = 20
MAX_NAMED = 5  # items named in one warning before "and N more"


@dataclass(frozen=True)
class SampleImage:
    """One training image as the model sees it (resized), back in displayable pixels."""

    label: str
    pixels: np.ndarray  # (H, W) gray or (H, W, 3) RGB, uint8


@dataclass
class DataPreview:
    """Everything the Data preview shows about one dataset; `warnings` are plain sentences."""

    source: str
    kind: Kind
    task: Task
    description: str
    path: Path | None  # the resolved file or folder; None for generated built-in sets
    input_shape: tuple[int, ...]
    train_size: int  # samples (windows of seq_len characters for text)
    val_size: int
    # Classification: one entry per class, in class-id order.
    class_names: list[str] = field(default_factory=list)
    train_counts: list[int] = field(default_factory=list)
    val_counts: list[int] = field(default_factory=list)
    # Tables: the file's header and first rows as text; arrays: the first training rows as numbers.
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    row_labels: list[str] = field(default_factory=list)  # the file's line numbers, or sample indices
    target_column: str | None = None
    constant_columns: list[str] = field(default_factory=list)
    images: list[SampleImage] = field(default_factory=list)
    # Image files: a few training images as the training transforms draw them (random each time).
    augmented: list[SampleImage] = field(default_factory=list)
    text_excerpt: str = ""
    vocab_size: int = 0
    target_range: tuple[float, float] | None = None  # regression, in the data's own units
    warnings: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def preview_dataset(spec: DatasetSpec, base_dir: Path | None = None) -> DataPreview:
    """Load `spec` as a run would and describe it; raises DataError for data a run cannot use."""
    with _reader_warnings() as logged:
        bundle, table, path = _load(spec, base_dir)
    kind = _kind(spec, bundle)
    preview = DataPreview(
        source=spec.source, kind=kind, task=bundle.task, description=bundle.description, path=path,
        input_shape=tuple(bundle.input_shape), train_size=bundle.train_size, val_size=bundle.val_size,
    )
    x_train, y_train = _tensors(bundle.train)
    x_val, y_val = _tensors(bundle.val)
    if bundle.task == "classification" and y_train is not None and y_val is not None:
        _count_classes(preview, bundle.class_names or [], y_train, y_val)
    elif bundle.task == "regression" and y_train is not None and y_val is not None:
        preview.target_range = _target_range(bundle, y_train, y_val)

    if kind == "table" and table is not None:
        _describe_table(preview, table, bundle)
    elif kind == "images" and isinstance(bundle.train, ImageFileDataset):
        preview.images = _sample_files(bundle.train, preview.class_names)
        preview.augmented = _augmented(bundle.train, preview.class_names, bundle.normalization)
    elif kind == "images" and x_train is not None and y_train is not None:
        preview.images = _sample_images(x_train, y_train, preview.class_names, bundle.normalization)
    elif kind == "text":
        _describe_text(preview, bundle)
    elif kind == "arrays" and x_train is not None and x_val is not None and y_train is not None:
        _describe_arrays(preview, bundle, x_train, x_val, y_train)

    preview.warnings = [*_dedupe(logged), *_class_warnings(preview), *_column_warnings(preview),
                        *_split_warnings(preview, spec)]
    return preview


# ----- loading ---------------------------------------------------------------------------------

def _load(spec: DatasetSpec, base_dir: Path | None) -> tuple[DataBundle, Table | None, Path | None]:
    """The bundle, the parsed table for CSV sources, and the resolved path of user data."""
    if spec.source == "csv":
        if not isinstance(spec.options, dict):
            raise DataError("data source 'csv': options must be a mapping of names to values")
        path = resolve_path(spec, base_dir, "file")
        bundle, table = load_csv_table(spec, path)
        return bundle, table, path
    bundle = load_dataset(spec, base_dir)
    if spec.source in READER_NAMES:
        return bundle, None, resolve_path(spec, base_dir, path_kind(spec.source, "file"))
    return bundle, None, builtin_corpus_path() if spec.source == "text" else None


class _ListHandler(logging.Handler):
    """Collects warnings logged by this thread only (another thread may be loading too)."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.into.append(record.getMessage())


@contextmanager
def _reader_warnings() -> Iterator[list[str]]:
    """The readers report skipped files and dropped rows as log warnings: show them too."""
    logged: list[str] = []
    handler = _ListHandler(logged)
    logger = logging.getLogger("workbench.data")
    logger.addHandler(handler)
    try:
        yield logged
    finally:
        logger.removeHandler(handler)


def _dedupe(messages: list[str]) -> list[str]:
    """One line per message, at most MAX_NAMED of them (a folder of 500 broken images)."""
    unique = list(dict.fromkeys(messages))
    if len(unique) > MAX_NAMED:
        rest = len(unique) - MAX_NAMED
        return [*unique[:MAX_NAMED], f"... and {rest} more warning(s) like these while reading the data"]
    return unique


def _kind(spec: DatasetSpec, bundle: DataBundle) -> Kind:
    if bundle.task == "language_model":
        return "text"
    if spec.source == "csv":
        return "table"
    shape = bundle.input_shape
    if len(shape) == 3 and shape[0] in (1, 3) and bundle.task == "classification":
        return "images"
    return "arrays"


def _tensors(dataset: Dataset) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """x and y of a split without drawing samples (an augmented set would flip and shift them)."""
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[0], dataset.tensors[1]
    if isinstance(dataset, ImageFileDataset):
        return None, dataset.labels  # pixels are read per image, only for the ones shown
    return None, None


# ----- what is in it ---------------------------------------------------------------------------

def _count_classes(preview: DataPreview, names: list[str], y_train: torch.Tensor, y_val: torch.Tensor) -> None:
    k = len(names)
    preview.class_names = list(names)
    preview.train_counts = np.bincount(y_train.numpy(), minlength=k).tolist()
    preview.val_counts = np.bincount(y_val.numpy(), minlength=k).tolist()


def _target_range(bundle: DataBundle, y_train: torch.Tensor, y_val: torch.Tensor) -> tuple[float, float]:
    """Smallest and largest target in the user's units (the bundle holds them standardised)."""
    y = torch.cat([y_train, y_val]).numpy().reshape(len(y_train) + len(y_val), -1).astype(np.float64)
    stats = bundle.normalization or {}
    if "target_mean" in stats and "target_std" in stats:
        y = y * np.asarray(stats["target_std"]) + np.asarray(stats["target_mean"])
    return float(y.min()), float(y.max())


def _describe_table(preview: DataPreview, table: Table, bundle: DataBundle) -> None:
    """The file's first rows as text (the reader keeps only those as text) and its constant columns."""
    preview.header = list(table.names)
    preview.rows = [list(row) for row in table.head[:PREVIEW_ROWS]]
    preview.row_labels = [str(line) for line in table.head_lines[:PREVIEW_ROWS]]
    encoding = bundle.encoding or {}
    preview.target_column = encoding.get("target", {}).get("name")
    features = [info["name"] for info in encoding.get("features", [])]
    # Typed columns: "1" and "1.0" are one number; gaps do not count.
    preview.constant_columns = [name for name in features if table.constant(table.names.index(name))]


def _unstandardise(x: np.ndarray, stats: dict[str, list[float]] | None) -> np.ndarray:
    """Undo the bundle's standardisation of x (N, ...): per channel, per element or global."""
    if not stats or "mean" not in stats or "std" not in stats:
        return x
    mean, std = np.asarray(stats["mean"], dtype=np.float64), np.asarray(stats["std"], dtype=np.float64)
    sample = x.shape[1:]
    if mean.size == 1:
        shape: tuple[int, ...] = ()
    elif mean.size == int(np.prod(sample)):
        shape = (1, *sample)
    elif x.ndim >= 3 and mean.size == sample[0]:
        shape = (1, -1) + (1,) * (x.ndim - 2)
    else:
        return x  # statistics of another layout (not expected): show the values as they are
    return x * std.reshape(shape) + mean.reshape(shape)


def _to_pixels(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) in the data's own range -> (N, H, W) or (N, H, W, 3) uint8."""
    lo, hi = float(x.min()), float(x.max())
    if lo >= -1e-3 and hi <= 1.0 + 1e-3:
        scaled = x * 255.0  # [0, 1] floats, as the image readers produce
    elif lo >= 0.0 and hi <= 255.0:
        scaled = x  # bytes stored as numbers (an .npz of uint8 images)
    else:
        # Anything else (signed or HDR values): stretch each image to its own range to see it.
        axes = tuple(range(1, x.ndim))
        low, high = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
        scaled = (x - low) / np.where(high > low, high - low, 1.0) * 255.0
    pixels = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return pixels[:, 0] if pixels.shape[1] == 1 else np.ascontiguousarray(pixels.transpose(0, 2, 3, 1))


def _sample_images(x_train: torch.Tensor, y_train: torch.Tensor, names: list[str],
                   stats: dict[str, list[float]] | None) -> list[SampleImage]:
    """The first IMAGES_PER_CLASS training images of each class (file order: the split keeps it)."""
    labels = y_train.numpy()
    index = _first_per_class(labels, len(names))
    if not len(index):
        return []
    pixels = _to_pixels(_unstandardise(x_train[torch.from_numpy(index)].numpy().astype(np.float64), stats))
    return [SampleImage(names[int(labels[i])], img) for i, img in zip(index, pixels)]


def _first_per_class(labels: np.ndarray, classes: int) -> np.ndarray:
    picked = [np.flatnonzero(labels == k)[:IMAGES_PER_CLASS] for k in range(min(classes, MAX_IMAGE_CLASSES))]
    return np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)


def _sample_files(dataset: ImageFileDataset, names: list[str]) -> list[SampleImage]:
    """The first IMAGES_PER_CLASS training images of each class, as decoded (and resized to `size`)."""
    labels = dataset.labels.numpy()
    out = []
    for i in _first_per_class(labels, len(names)):
        image = dataset.decoded(int(i))
        scale = 65535.0 if image.dtype == torch.uint16 else 255.0
        out.append(SampleImage(names[int(labels[i])], _to_pixels((image.double() / scale).numpy()[None])[0]))
    return out


AUGMENTED_IMAGES = 4  # training images drawn through the augmentations
AUGMENTED_DRAWS = 4  # draws of each


def _augmented(dataset: ImageFileDataset, names: list[str], stats: dict[str, list[float]] | None) -> list[SampleImage]:
    """Each of the first AUGMENTED_IMAGES training images drawn AUGMENTED_DRAWS times by the
    training pipeline (seeded, so the dialog shows the same draws on Reload); none without
    augmentations."""
    if not dataset.augments:
        return []
    labels = dataset.labels.numpy()
    chosen = _first_per_class(labels, len(names))[::IMAGES_PER_CLASS][:AUGMENTED_IMAGES]
    out = []
    with torch.random.fork_rng():
        torch.manual_seed(0)
        for i in chosen:
            draws = torch.stack([dataset[int(i)][0] for _ in range(AUGMENTED_DRAWS)]).numpy().astype(np.float64)
            pixels = _to_pixels(_unstandardise(draws, stats))
            out += [SampleImage(names[int(labels[i])], img) for img in pixels]
    return out


def _describe_text(preview: DataPreview, bundle: DataBundle) -> None:
    vocab = bundle.vocab or []
    preview.vocab_size = len(vocab)
    if isinstance(bundle.train, CharWindowDataset):
        ids = bundle.train.ids[:TEXT_EXCERPT].tolist()
        preview.text_excerpt = "".join(vocab[i] for i in ids)


def _describe_arrays(preview: DataPreview, bundle: DataBundle, x_train: torch.Tensor, x_val: torch.Tensor,
                     y_train: torch.Tensor) -> None:
    """First training rows of a (N, F) array in the user's units, and its constant features."""
    if len(bundle.input_shape) != 1:
        return  # sequences or volumes: no sensible table; the summary gives the shape
    width = bundle.input_shape[0]
    shown = min(width, PREVIEW_COLUMNS)
    stats = bundle.normalization
    head = _unstandardise(x_train[:PREVIEW_ROWS].numpy().astype(np.float64), stats)
    target = y_train[:PREVIEW_ROWS].numpy()
    if bundle.task == "regression" and stats and "target_mean" in stats:
        target = target * np.asarray(stats["target_std"]) + np.asarray(stats["target_mean"])
    names = [f"x{j}" for j in range(width)]
    preview.header = [*names[:shown], "y"]  # named as in an .npz: X holds x0, x1, ..., y the target
    preview.target_column = "y"
    preview.rows = [[f"{v:.4g}" for v in row[:shown]] + [_target_text(t, preview.class_names)]
                    for row, t in zip(head, target)]
    preview.row_labels = [str(i) for i in range(len(preview.rows))]
    # Standardisation maps a constant feature to all zeros, so the spread is checked as stored.
    both = torch.cat([x_train, x_val]).numpy()
    spread = both.max(axis=0) - both.min(axis=0)
    preview.constant_columns = [names[j] for j in np.flatnonzero(spread == 0)]


def _target_text(value: np.ndarray, class_names: list[str]) -> str:
    flat = np.asarray(value).reshape(-1)
    if class_names:
        return class_names[int(flat[0])]
    return ", ".join(f"{v:.4g}" for v in flat)


# ----- warnings --------------------------------------------------------------------------------

def _named(items: list[str]) -> str:
    more = f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else ""
    return ", ".join(items[:MAX_NAMED]) + more


def _class_warnings(p: DataPreview) -> list[str]:
    if not p.class_names:
        return []
    out: list[str] = []
    counts = list(zip(p.class_names, p.train_counts, p.val_counts))
    absent = [f"'{n}'" for n, tr, _ in counts if tr == 0]
    if absent:
        out.append(f"class(es) {_named(absent)} have no training samples: the model can never learn them; "
                   f"add examples, or remove the class")
    tiny = [f"'{n}' ({tr})" for n, tr, _ in counts if 0 < tr <= TINY_CLASS]
    if tiny:
        out.append(f"tiny class(es) with {TINY_CLASS} or fewer training samples: {_named(tiny)}; "
                   f"add examples (a few dozen per class), or merge them into similar classes")
    unmeasured = [f"'{n}'" for n, tr, va in counts if va == 0 and tr > 0]
    if unmeasured:
        out.append(f"class(es) {_named(unmeasured)} have no validation samples, so their accuracy is never "
                   f"measured; raise the validation share or add examples")
    present = [(n, tr) for n, tr, _ in counts if tr > 0]
    if len(present) >= 2:
        big = max(present, key=lambda c: c[1])
        small = min(present, key=lambda c: c[1])
        ratio = big[1] / small[1]
        if ratio >= IMBALANCE_RATIO:
            out.append(f"class imbalance: '{big[0]}' has {big[1]} training samples, '{small[0]}' only "
                       f"{small[1]} ({ratio:.0f}x fewer); a model can score well by mostly predicting the large "
                       f"classes: add examples of the small ones and watch per-class accuracy, not just the total")
    return out


def _column_warnings(p: DataPreview) -> list[str]:
    if not p.constant_columns:
        return []
    names = [f"'{c}'" for c in p.constant_columns]
    if p.kind == "table":
        listed = ", ".join(repr(c) for c in p.constant_columns)
        return [f"column(s) {_named(names)} hold the same value in every row and carry no information; "
                f"leave them out with option ignore: [{listed}]"]
    return [f"feature(s) {_named(names)} of X are constant in every sample and carry no information; "
            f"drop them from X"]


def _split_warnings(p: DataPreview, spec: DatasetSpec) -> list[str]:
    unit = "windows of text" if p.kind == "text" else "samples"
    out: list[str] = []
    if p.val_size < MIN_SPLIT_SAMPLES:
        out.append(f"only {p.val_size} validation {unit} (validation share {spec.val_fraction:g}): each one moves "
                   f"validation accuracy by {100 / max(p.val_size, 1):.0f} points; raise the validation share "
                   f"or add data")
    if p.train_size < MIN_SPLIT_SAMPLES:
        out.append(f"only {p.train_size} training {unit}: too few to learn from; add data or lower the "
                   f"validation share")
    return out
