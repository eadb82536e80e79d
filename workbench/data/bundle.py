"""What a run needs to know about its data, independent of where the data came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from torch.utils.data import Dataset

Task = Literal["classification", "regression", "language_model"]


@dataclass(frozen=True)
class DatasetSpec:
    """Which data a project trains on, as stored in the project file.

    `source` is a built-in name ("digits", "spirals", "moons", "regression", "text") or a
    reader name for user data ("csv", "images", "npz", "textfile", "idx"); `path` points at the
    user's file or folder; `options` holds reader-specific settings (e.g. {"seq_len": 64}).
    """

    source: str = "digits"
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    val_fraction: float = 0.2  # share of rows held out for validation
    seed: int = 0  # seeds the train/validation split, independent of the training seed

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready record."""
        out: dict[str, Any] = {"source": self.source}
        if self.path is not None:
            out["path"] = self.path
        if self.options:
            out["options"] = dict(self.options)
        out["val_fraction"] = self.val_fraction
        out["seed"] = self.seed
        return out


@dataclass
class DataBundle:
    """Train and validation sets plus the facts the model, the engine and export need.

    Samples are `(x, y)` pairs. `input_shape` is one sample's shape without the batch axis.
    For classification `y` is an int64 class index and `num_outputs` the class count; for
    regression `y` is float32 of shape `target_shape` and `num_outputs` its width; for a language
    model `x` and `y` are int64 token ids of shape (T,) and `num_outputs` is the vocabulary size.
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

    @property
    def train_size(self) -> int:
        return len(self.train)  # type: ignore[arg-type]

    @property
    def val_size(self) -> int:
        return len(self.val)  # type: ignore[arg-type]
