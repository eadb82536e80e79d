"""Losses by name, their shape conventions, and validation metrics."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from workbench.errors import TrainingError
from workbench.training.losses import LOSSES, default_loss, get_loss
from workbench.training.metrics import ValidationMeter, metric_names


def test_unknown_loss_lists_names() -> None:
    with pytest.raises(TrainingError, match="unknown loss 'hinge'; choose one of: cross_entropy, mse, "
                                            "bce_with_logits"):
        get_loss("hinge")
    assert set(LOSSES) == {"cross_entropy", "mse", "bce_with_logits"}
    assert default_loss("regression") == "mse"
    assert default_loss("classification") == "cross_entropy"


def test_cross_entropy_classes_and_tokens() -> None:
    ce = get_loss("cross_entropy")
    logits = torch.randn(4, 3)
    y = torch.tensor([0, 2, 1, 2])
    assert torch.equal(ce(logits, y), F.cross_entropy(logits, y))
    lm = torch.randn(2, 5, 7)  # (B, T, V)
    tokens = torch.randint(0, 7, (2, 5))  # (B, T)
    expected = F.cross_entropy(lm.reshape(10, 7), tokens.reshape(10))
    assert torch.allclose(ce(lm, tokens), expected)


def test_mse_accepts_b_against_b1_either_way() -> None:
    mse = get_loss("mse")
    out = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([1.0, 2.0, 5.0])
    assert mse(out, y).item() == pytest.approx(4 / 3)
    assert mse(y, out).item() == pytest.approx(4 / 3)
    assert mse(out, torch.tensor([1, 2, 5])).item() == pytest.approx(4 / 3)  # int targets


def test_mse_refuses_real_mismatch() -> None:
    with pytest.raises(TrainingError, match=r"mse: the model's outputs have shape \(3, 2\) but the "
                                            r"targets have shape \(3,\)"):
        get_loss("mse")(torch.zeros(3, 2), torch.zeros(3))


def test_bce_accepts_int_targets() -> None:
    bce = get_loss("bce_with_logits")
    logits = torch.tensor([[0.5], [-1.0]])
    y = torch.tensor([1, 0])
    expected = F.binary_cross_entropy_with_logits(logits.squeeze(1), y.float())
    assert torch.allclose(bce(logits, y), expected)


def test_metric_names() -> None:
    assert metric_names("classification") == ("val_accuracy",)
    assert metric_names("language_model") == ("val_token_accuracy", "val_perplexity")
    assert metric_names("regression") == ("val_mae",)


def test_classification_accuracy_over_batches() -> None:
    meter = ValidationMeter("classification", "cross_entropy")
    ce = get_loss("cross_entropy")
    batches = [(torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([0, 0])),
               (torch.tensor([[0.0, 1.0]]), torch.tensor([1]))]
    for out, y in batches:
        meter.update(out, y, ce(out, y))
    val_loss, metrics = meter.compute()
    expected = sum(ce(o, y).item() * len(y) for o, y in batches) / 3
    assert val_loss == pytest.approx(expected)
    assert metrics == {"val_accuracy": pytest.approx(2 / 3)}


def test_binary_accuracy_with_bce() -> None:
    meter = ValidationMeter("classification", "bce_with_logits")
    out = torch.tensor([[1.0], [-1.0], [2.0]])
    y = torch.tensor([1, 1, 1])
    meter.update(out, y, get_loss("bce_with_logits")(out, y))
    assert meter.compute()[1]["val_accuracy"] == pytest.approx(2 / 3)


def test_language_model_metrics() -> None:
    meter = ValidationMeter("language_model", "cross_entropy")
    out = torch.zeros(1, 2, 3)
    out[0, 0, 1] = 5.0  # predicts 1 at t=0
    out[0, 1, 2] = 5.0  # predicts 2 at t=1
    y = torch.tensor([[1, 0]])
    loss = get_loss("cross_entropy")(out, y)
    meter.update(out, y, loss)
    val_loss, metrics = meter.compute()
    assert metrics["val_token_accuracy"] == pytest.approx(0.5)
    assert metrics["val_perplexity"] == pytest.approx(math.exp(val_loss))


def test_regression_mae() -> None:
    meter = ValidationMeter("regression", "mse")
    out = torch.tensor([[1.0], [2.0]])
    y = torch.tensor([[0.0], [4.0]])
    meter.update(out, y, get_loss("mse")(out, y))
    assert meter.compute()[1] == {"val_mae": pytest.approx(1.5)}


def test_empty_meter() -> None:
    assert ValidationMeter("regression", "mse").compute() == (None, {})
