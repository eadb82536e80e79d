"""Loss functions by name, with the shape conventions Workbench's datasets use.

- "cross_entropy": outputs (B, C) against class ids (B,), or a language model's (B, T, V)
  against token ids (B, T): every token counts as one sample.
- "mse": float targets of the outputs' shape; (B,) against (B, 1) is accepted either way round.
- "bce_with_logits": raw logits against 0/1 targets (int targets are converted).

A shape mismatch raises TrainingError naming both shapes, instead of letting PyTorch broadcast
(B,) against (B, 1) into a (B, B) loss that trains silently and badly.
"""

from __future__ import annotations

from typing import Callable

import torch.nn.functional as F
from torch import Tensor

from workbench.errors import TrainingError
from workbench.i18n import _

LossFn = Callable[[Tensor, Tensor], Tensor]


def match_shapes(outputs: Tensor, y: Tensor, what: str) -> tuple[Tensor, Tensor]:
    """Make (B, 1) and (B,) agree; any other difference is the user's model or data."""
    if outputs.shape == y.shape:
        return outputs, y
    if outputs.dim() == y.dim() + 1 and outputs.shape[-1] == 1 and outputs.shape[:-1] == y.shape:
        return outputs.squeeze(-1), y
    if y.dim() == outputs.dim() + 1 and y.shape[-1] == 1 and y.shape[:-1] == outputs.shape:
        return outputs, y.squeeze(-1)
    raise TrainingError(
        f"{what}: the model's outputs have shape {tuple(outputs.shape)} but the targets have "
        f"shape {tuple(y.shape)}; make the output layer's width match the targets"
    )


def cross_entropy(outputs: Tensor, y: Tensor) -> Tensor:
    if outputs.dim() > 2:
        # (B, T, V) vs (B, T) -> (B*T, V) vs (B*T,): one sample per token.
        outputs = outputs.reshape(-1, outputs.shape[-1])
        y = y.reshape(-1)
    return F.cross_entropy(outputs, y)


def mse(outputs: Tensor, y: Tensor) -> Tensor:
    outputs, y = match_shapes(outputs, y, "mse")
    if outputs.dtype != y.dtype:
        # Under autocast outputs may be bf16/fp16; the loss is computed in fp32 either way.
        outputs, y = outputs.float(), y.float()
    return F.mse_loss(outputs, y)


def bce_with_logits(outputs: Tensor, y: Tensor) -> Tensor:
    outputs, y = match_shapes(outputs, y, "bce_with_logits")
    if outputs.dtype != y.dtype:
        outputs, y = outputs.float(), y.float()
    return F.binary_cross_entropy_with_logits(outputs, y)


LOSSES: dict[str, LossFn] = {
    "cross_entropy": cross_entropy,
    "mse": mse,
    "bce_with_logits": bce_with_logits,
}


def get_loss(name: str) -> LossFn:
    """The loss function called `name`; TrainingError listing the known names otherwise."""
    try:
        return LOSSES[name]
    except KeyError:
        raise TrainingError(
            f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}"
        ) from None


def default_loss(task: str) -> str:
    """The loss a task trains with unless the project says otherwise."""
    return "mse" if task == "regression" else "cross_entropy"


def loss_for_task(loss: str, task: str, num_outputs: int) -> str | None:
    """The loss to use instead of `loss` for `task`, or None when `loss` suits it.

    A mismatch trains without an error and learns nothing: cross-entropy over a single output is
    0 whatever the model says (a regression target read as one class), and mse against class ids
    treats class 9 as nine times class 1. So each task has its losses:

    - classification: cross_entropy (one output per class), or bce_with_logits for exactly two
      classes (one output, the logit of the second class);
    - regression: mse;
    - language_model and seq2seq: cross_entropy (one output per token of the vocabulary).
    """
    if task == "classification":
        fits = loss == "cross_entropy" or (loss == "bce_with_logits" and num_outputs == 2)
    elif task == "regression":
        fits = loss == "mse"
    elif task in ("language_model", "seq2seq"):
        fits = loss == "cross_entropy"
    else:
        return None  # a task this module does not know: nothing to check against
    return None if fits else default_loss(task)


def output_width(loss: str, task: str, num_outputs: int) -> int:
    """Outputs per sample (per token, for a language model) that `loss` needs for the data."""
    if task == "classification" and loss == "bce_with_logits":
        return 1  # two classes, one logit
    return num_outputs


def describe_task(task: str, num_outputs: int) -> str:
    """The data's task in words, for messages: 'a regression task (1 value per sample)'."""
    if task == "classification":
        return _("a classification task with {n} classes").format(n=num_outputs)
    if task == "regression":
        if num_outputs == 1:
            return _("a regression task (1 value per sample)")
        return _("a regression task ({n} values per sample)").format(n=num_outputs)
    if task == "language_model":
        return _("a language model task (a vocabulary of {n} tokens)").format(n=num_outputs)
    if task == "seq2seq":
        return _("a sequence-to-sequence task (a vocabulary of {n} tokens)").format(n=num_outputs)
    return _("a {task} task").format(task=task)


def check_loss_for_task(loss: str, task: str, num_outputs: int) -> None:
    """TrainingError with the fix when `loss` cannot train `task` (see `loss_for_task`)."""
    better = loss_for_task(loss, task, num_outputs)
    if better is not None:
        width = output_width(better, task, num_outputs)
        raise TrainingError(
            f"the {loss} loss cannot train {describe_task(task, num_outputs)}; set the Output's "
            f"loss to {better} (with {width} output{'s' if width != 1 else ''})"
        )


__all__ = ["LOSSES", "LossFn", "get_loss", "default_loss", "match_shapes", "loss_for_task", "output_width",
           "describe_task", "check_loss_for_task"]
