"""What a run needs to know about its data, independent of where the data came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from workbench.errors import DataError
from workbench.settings_spec import (
    QT_TRANSLATE_NOOP,
    check_record,
    dump_record,
    integer,
    json_object,
    number,
    replace_checked,
    text,
)

if TYPE_CHECKING:
    from torch.utils.data import Dataset

Task = Literal["classification", "regression", "language_model", "seq2seq"]

DATA = QT_TRANSLATE_NOOP("RunSettingsForm", "Data")  # the form's group


def _reader_names() -> tuple[str, ...]:
    # The readers live in a module that imports this one: looked up when asked.
    from workbench.data.loading import READER_NAMES

    return READER_NAMES


@dataclass(frozen=True)
class DatasetSpec:
    """Which data a project trains on, as stored in the project file.

    `source` is a built-in name ("digits", "spirals", "moons", "regression", "text") or a
    reader name for user data ("csv", "images", "npz", "textfile", "idx"); `path` points at the
    user's file or folder; `options` holds reader-specific settings (e.g. {"seq_len": 64}), which
    each reader checks itself (`workbench.data.options`). Every field is declared once
    (`workbench.settings_spec`): the checked JSON round trip and the GUI form come from it.
    """

    source: str = text(
        "digits", pattern=".+", expects="a dataset name", group=DATA,
        label=QT_TRANSLATE_NOOP("RunSettingsForm", "Dataset"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "A built-in dataset, or a reader for your own file or folder"))
    # Relative paths start at the project file's folder (workbench.data.paths).
    path: str | None = text(
        None, optional=True, expects="a file path", group=DATA, applies_when=(("source", _reader_names),),
        label=QT_TRANSLATE_NOOP("RunSettingsForm", "File or folder"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Your data (for a reader); relative paths start at the project "
                                                 "file's folder"))
    options: dict[str, Any] = json_object(
        example='{"seq_len": 64}', group=DATA, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Options"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Reader options as JSON, e.g. {\"seq_len\": 64} or "
                                                 "{\"target\": \"price\"}"))
    # Share of rows held out for validation (splits.check_val_fraction refuses 0 and 1 alike).
    val_fraction: float = number(
        0.2, above=0.0, below=1.0, step=0.05, group=DATA, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Validation share"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Share of the samples held out to measure the model (not trained on)"))
    # Seeds the train/validation split, independent of the training seed (numpy wants it >= 0).
    seed: int = integer(
        0, minimum=0, below=2**63, group=DATA, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Split seed"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Decides which samples are held out; change it to reshuffle the split"))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready record (no path when there is none, no options when empty)."""
        return dump_record(self, omit_empty=True)

    @classmethod
    def from_dict(cls, d: Any, where: str = "dataset") -> DatasetSpec:
        """Checked inverse of `to_dict`; missing keys take their defaults.

        Raises ProjectFileError naming the path of the first bad field.
        """
        return cls(**check_record(cls, d, where))

    def replace(self, **changes: Any) -> DatasetSpec:
        """A copy with some fields changed, each checked by its declaration (DataError if refused)."""
        return replace_checked(self, DataError, "dataset setting", **changes)


@dataclass
class DataBundle:
    """Train and validation sets plus the facts the model, the engine and export need.

    Samples are `(x, y)` pairs. `input_shape` is one sample's shape without the batch axis.
    For classification `y` is an int64 class index and `num_outputs` the class count; for
    regression `y` is float32 of shape `target_shape` and `num_outputs` its width; for a language
    model `x` and `y` are int64 token ids of shape (T,) and `num_outputs` is the vocabulary size.
    For seq2seq `x` is a dict of named token-id inputs (see `named_inputs`), `y` the target ids
    (T,) and `num_outputs` the vocabulary size.
    """

    train: Dataset
    val: Dataset
    task: Task
    input_shape: tuple[int, ...]
    input_dtype: Literal["float32", "int64"]
    num_outputs: int
    target_shape: tuple[int, ...] = ()
    class_names: list[str] | None = None
    # Per-feature or per-channel statistics already applied to x; export writes them into
    # the model file's metadata so that users can prepare their inputs the same way.
    normalization: dict[str, list[float]] | None = None
    vocab: list[str] | None = None  # language models: token id -> character
    description: str = ""
    # How raw user columns became x (tabular data): feature names after one-hot expansion,
    # per-column kind, categories and target classes. JSON-ready; None for array sources.
    encoding: dict[str, Any] | None = None
    # Data for a network with several Inputs: Input name -> (one sample's shape, element type),
    # in the order the data declares them; `x` is then a dict of tensors by those names, and
    # `input_shape`/`input_dtype` describe the first. None: one unnamed input, `x` a tensor.
    named_inputs: dict[str, tuple[tuple[int, ...], str]] | None = None

    @property
    def train_size(self) -> int:
        return len(self.train)  # type: ignore[arg-type]

    @property
    def val_size(self) -> int:
        return len(self.val)  # type: ignore[arg-type]
