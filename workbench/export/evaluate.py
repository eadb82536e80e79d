"""Validation of any variant — a PyTorch module or an onnxruntime session — the same way.

Accuracy and loss come from the training engine's own `ValidationMeter` and loss functions, so
the report's figures mean exactly what the training plots meant. Language models report token
accuracy as their accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from workbench.data.bundle import DataBundle
from workbench.errors import ExportError
from workbench.export.onnx_export import eval_mode
from workbench.graph.inputs import arrange, batch_len, call, concat, take
from workbench.training.losses import get_loss
from workbench.training.metrics import ValidationMeter

Predict = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Evaluation:
    """A variant's validation figures."""

    val_loss: float | None
    val_accuracy: float | None  # classification accuracy, or token accuracy for a language model
    metrics: dict[str, float] = field(default_factory=dict)  # everything the meter reported
    samples: int = 0


def batches(dataset: Dataset, batch_size: int, limit: int | None = None) -> Iterator[tuple[Any, Any]]:
    """(x, y) batches in dataset order, at most `limit` samples in all."""
    seen = 0
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        if limit is not None and seen + batch_len(x) > limit:
            x, y = take(x, limit - seen), y[: limit - seen]
        if batch_len(x) == 0:
            return
        seen += batch_len(x)
        yield x, y
        if limit is not None and seen >= limit:
            return


def validation_inputs(data: DataBundle, count: int) -> Any:
    """The first `count` validation inputs (the parity samples); training inputs if val is empty.

    A tensor, or what a multi-input dataset's batches hold (a tuple, or a dict by Input name)."""
    source = data.val if _size(data.val) else data.train
    xs = [x for x, _ in batches(source, min(count, 256), count)]
    if not xs:
        raise ExportError("the dataset has no samples to check the exported files on")
    return concat(xs)


def calibration_batches(data: DataBundle, count: int, batch_size: int = 32, seed: int = 0) -> list[torch.Tensor]:
    """`count` shuffled training batches (inputs only) for int8-static calibration."""
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(data.train, batch_size=batch_size, shuffle=True, generator=generator)
    out: list[torch.Tensor] = []
    for x, _ in loader:
        out.append(x)
        if len(out) >= count:
            break
    return out


def torch_predict(model: nn.Module) -> Predict:
    """Eval-mode, no-grad forward of a PyTorch module."""

    def predict(x: Any) -> torch.Tensor:
        with eval_mode(model), torch.inference_mode():
            names = getattr(model, "input_names", None)
            return call(model, arrange(x, names) if names else x)

    return predict


def evaluate(
    predict: Predict,
    data: DataBundle,
    loss_name: str,
    *,
    batch_size: int = 256,
    max_samples: int | None = None,
) -> Evaluation:
    """Loss and task metric of `predict` over the validation set (or its first `max_samples`)."""
    if not _size(data.val):
        return Evaluation(None, None)
    loss_fn = get_loss(loss_name)
    meter = ValidationMeter(data.task, loss_name)
    samples = 0
    for x, y in batches(data.val, batch_size, max_samples):
        outputs = predict(x).float()
        meter.update(outputs, y, loss_fn(outputs, y))
        samples += batch_len(x)
    val_loss, metrics = meter.compute()
    accuracy = metrics.get("val_accuracy", metrics.get("val_token_accuracy"))
    return Evaluation(val_loss, accuracy, dict(metrics), samples)


def _size(dataset: Dataset) -> int:
    try:
        return len(dataset)  # type: ignore[arg-type]
    except TypeError:
        return 1  # an iterable dataset: assume it has samples and let the loop find out
