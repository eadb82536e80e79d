"""Validation loss and the metric that suits the task.

- classification: "val_accuracy"
- language_model: "val_token_accuracy" and "val_perplexity" (exp of the mean token loss)
- regression: "val_mae"
- seq2seq: "val_token_accuracy" (over the target's real positions, padding left out) and
  "val_exact_match": the share of validation samples whose whole target, up to and including
  </s>, the model predicts right. It is measured with teacher forcing (argmax at every position
  given the true prefix), which for a causal decoder equals greedy decoding's exact match: if
  every position is right given the true prefix, greedy decoding feeds itself that same prefix
  and produces the same sequence, and the first wrong position makes both wrong.

Sums stay on the device and are read once at the end of validation, so validating on a GPU
does not wait for every batch. In a distributed run every process validates its shard and
`all_reduce` adds the sums of all processes before `compute`, so the numbers describe the
whole validation set.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from workbench.training.losses import match_shapes

METRIC_NAMES: dict[str, tuple[str, ...]] = {
    "classification": ("val_accuracy",),
    "language_model": ("val_token_accuracy", "val_perplexity"),
    "regression": ("val_mae",),
    "seq2seq": ("val_token_accuracy", "val_exact_match"),
}
SEQ2SEQ_PAD_ID = 0  # padding in seq2seq targets (workbench.data.seq2seq.PAD_ID): not scored


def metric_names(task: str) -> tuple[str, ...]:
    """Names `ValidationMeter.compute` reports for `task` (besides the loss)."""
    return METRIC_NAMES.get(task, ())


class ValidationMeter:
    """Accumulates loss and metric over validation batches."""

    def __init__(self, task: str, loss_name: str) -> None:
        self.task = task
        self.loss_name = loss_name
        self._loss_sum: Tensor | None = None  # sum over samples of the batch-mean loss
        self._samples = 0
        self._hits: Tensor | None = None  # correct predictions, or absolute error (regression)
        self._elements = 0
        # seq2seq: real (non-padding) target positions, and samples predicted right throughout;
        # tensors, so that no batch waits for a device sync.
        self._real: Tensor | None = None
        self._exact: Tensor | None = None

    def update(self, outputs: Tensor, y: Tensor, loss: Tensor) -> None:
        batch = y.shape[0] if y.dim() > 0 else 1
        weighted = loss.detach().float() * batch
        self._loss_sum = weighted if self._loss_sum is None else self._loss_sum + weighted
        self._samples += batch

        hits, elements = self._score(outputs.detach(), y)
        if hits is not None:
            self._hits = hits if self._hits is None else self._hits + hits
            self._elements += elements

    def _score(self, outputs: Tensor, y: Tensor) -> tuple[Tensor | None, int]:
        if self.task == "seq2seq":
            self._score_sequences(outputs, y)
            return None, 0
        if self.task == "regression":
            outputs, y = match_shapes(outputs, y, self.loss_name)
            return (outputs.float() - y.float()).abs().sum(), y.numel()
        if self.task in ("classification", "language_model"):
            if outputs.dim() == y.dim() + 1 and outputs.shape[-1] > 1 and not y.is_floating_point():
                # class scores (..., C) against class ids (...)
                return (outputs.argmax(-1) == y).sum(), y.numel()
            if outputs.shape == y.shape and y.is_floating_point() and outputs.dim() >= 2 \
                    and self.loss_name == "cross_entropy":
                # soft labels / one-hot targets
                return (outputs.argmax(-1) == y.argmax(-1)).sum(), y.shape[0]
            outputs, y = match_shapes(outputs, y, self.loss_name)
            # one logit per label: bce_with_logits decides at 0, a regression-style loss at 0.5
            threshold = 0.0 if self.loss_name == "bce_with_logits" else 0.5
            return ((outputs > threshold) == (y > 0.5)).sum(), y.numel()
        return None, 0

    def _score_sequences(self, outputs: Tensor, y: Tensor) -> None:
        """Token hits on real positions and whole-sequence matches (outputs (B, T, V), y (B, T))."""
        real = y != SEQ2SEQ_PAD_ID
        right = outputs.argmax(-1) == y
        hits = (right & real).sum()
        exact = (right | ~real).all(dim=-1).sum()
        count = real.sum()
        self._hits = hits if self._hits is None else self._hits + hits
        self._exact = exact if self._exact is None else self._exact + exact
        self._real = count if self._real is None else self._real + count

    def all_reduce(self, device: torch.device) -> None:
        """Add the sums and counts of every process (a distributed run; one collective)."""
        import torch.distributed as dist

        zero = torch.zeros((), dtype=torch.float64, device=device)
        packed = torch.stack([
            zero if self._loss_sum is None else self._loss_sum.to(device, torch.float64),
            zero if self._hits is None else self._hits.to(device, torch.float64),
            zero + self._samples,
            zero + self._elements,
            zero if self._real is None else self._real.to(device, torch.float64),
            zero if self._exact is None else self._exact.to(device, torch.float64),
        ])
        dist.all_reduce(packed)
        # A rank whose shard was empty saw no batch; after the sum every rank has the totals.
        samples, elements = packed[2:4].tolist()  # one read for both counts
        self._samples = int(samples)
        self._elements = int(elements)
        self._loss_sum = packed[0] if self._samples else None
        self._hits = packed[1] if self._elements else None
        if self.task == "seq2seq":  # token hits count real positions, not `_elements`
            self._hits, self._real, self._exact = (packed[1], packed[4], packed[5]) if self._samples else (None, None, None)

    def compute(self) -> tuple[float | None, dict[str, float]]:
        """(mean loss, metrics); (None, {}) when no batch was seen."""
        if self._loss_sum is None or self._samples == 0:
            return None, {}
        val_loss = float(self._loss_sum.item()) / self._samples
        metrics: dict[str, float] = {}
        if self.task == "seq2seq":
            if self._real is not None and self._exact is not None and self._hits is not None:
                real = float(self._real.item())
                metrics["val_token_accuracy"] = float(self._hits.item()) / real if real else 0.0
                metrics["val_exact_match"] = float(self._exact.item()) / self._samples
            return val_loss, metrics
        if self._hits is not None and self._elements:
            ratio = float(self._hits.item()) / self._elements
            if self.task == "regression":
                metrics["val_mae"] = ratio
            elif self.task == "language_model":
                metrics["val_token_accuracy"] = ratio
            else:
                metrics["val_accuracy"] = ratio
        if self.task == "language_model":
            metrics["val_perplexity"] = math.exp(val_loss) if val_loss < 700 else math.inf
        return val_loss, metrics


__all__ = ["ValidationMeter", "metric_names", "METRIC_NAMES"]
