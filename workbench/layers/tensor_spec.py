"""The shape and dtype of the tensor on an edge, with a symbolic batch axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DType = Literal["float32", "int64"]
# The most values one sample may hold (8 GB of float32): beyond it, shapes stop being something
# a machine runs, and torch's sizes (signed 64-bit, times the batch) would overflow.
MAX_SAMPLE_VALUES = 2**31 - 1


@dataclass(frozen=True)
class TensorSpec:
    """One sample's shape (the batch axis is implied and symbolic) and its element type."""

    shape: tuple[int, ...]
    dtype: DType = "float32"

    @property
    def rank(self) -> int:
        """Number of axes without the batch axis."""
        return len(self.shape)

    @property
    def numel(self) -> int:
        """Elements per sample."""
        n = 1
        for d in self.shape:
            n *= d
        return n

    def dims(self) -> str:
        """The per-sample shape as a user reads it: `16×4×4`."""
        return "×".join(str(d) for d in self.shape) if self.shape else "scalar"

    def __str__(self) -> str:
        text = "B×" + self.dims() if self.shape else "B"
        return text if self.dtype == "float32" else f"{text} {self.dtype}"
