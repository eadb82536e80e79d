"""The torch datasets a bundle hands to the training loop: tensors on the CPU, indexed fast.

Plain sets are `torch.utils.data.TensorDataset` (the loop may use `.tensors` for whole-batch
slicing). Image files with their transforms are `workbench.data.images.ImageFileDataset`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import TensorDataset


def tensor_dataset(x: np.ndarray, y: np.ndarray) -> TensorDataset:
    """x as float32, y as int64 class ids or float32 targets, both contiguous CPU tensors."""
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if np.issubdtype(y.dtype, np.integer):
        yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    else:
        yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))
    return TensorDataset(xt, yt)
