"""The torch datasets a bundle hands to the training loop: tensors on the CPU, indexed fast.

Plain sets are `torch.utils.data.TensorDataset` (the loop may use `.tensors` for whole-batch
slicing). An augmented image set is deliberately *not* a TensorDataset, so that nobody
bypasses its random flips and shifts by slicing the tensors directly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset


def tensor_dataset(x: np.ndarray, y: np.ndarray) -> TensorDataset:
    """x as float32, y as int64 class ids or float32 targets, both contiguous CPU tensors."""
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if np.issubdtype(y.dtype, np.integer):
        yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    else:
        yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))
    return TensorDataset(xt, yt)


class AugmentedImageDataset(Dataset):
    """Images (N, C, H, W) with a random horizontal flip and/or a small shift per sample.

    The shift fills with zeros, which after normalisation is the training mean: the border
    looks like an average pixel rather than a black bar.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, flip: bool = True,
                 shift: bool = True, max_shift: float = 0.1) -> None:
        self.x = x
        self.y = y
        self.flip = flip
        self.shift = shift
        h, w = x.shape[-2:]
        self.max_dy = max(1, round(h * max_shift)) if shift else 0
        self.max_dx = max(1, round(w * max_shift)) if shift else 0

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        img = self.x[index]  # (C, H, W)
        if self.flip and torch.rand(()) < 0.5:
            img = img.flip(-1)
        if self.shift:
            dy = int(torch.randint(-self.max_dy, self.max_dy + 1, ()))
            dx = int(torch.randint(-self.max_dx, self.max_dx + 1, ()))
            if dy or dx:
                img = _shift(img, dy, dx)
        return img, self.y[index]


def _shift(img: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    out = torch.zeros_like(img)
    h, w = img.shape[-2:]
    src_y, dst_y = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    src_x, dst_x = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[:, dst_y, dst_x] = img[:, src_y, src_x]
    return out
