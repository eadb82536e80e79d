"""The runtime's pure parts: answers for each loss, standardisation, the model card's checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.serve.card import CardError, ModelCard, read_card
from workbench.serve.inputs import InputError, answers, array_sample
from workbench.serve.server import threads_per_worker


def card(**changes) -> ModelCard:
    base = dict(task="classification", loss="cross_entropy", input_shape=(2, 3), input_dtype="float32", kind="array",
                class_names=["no", "yes"])
    base.update(changes)
    return ModelCard(**base)


def test_answers_for_each_loss() -> None:
    soft = answers(card(), np.array([[0.0, np.log(3.0)]]))[0]
    assert soft["class"] == "yes" and soft["probability"] == pytest.approx(0.75)
    binary = answers(card(loss="bce_with_logits"), np.array([[np.log(1 / 3)]]))[0]  # sigmoid = 0.25
    assert binary["class"] == "no" and binary["probabilities"]["yes"] == pytest.approx(0.25)
    value = answers(card(task="regression", loss="mse", class_names=None,
                         encoding={"features": [], "target": {"name": "price"}}), np.array([[4.5]]))[0]
    assert value == {"value": 4.5, "target": "price"}
    values = answers(card(task="regression", loss="mse", class_names=None), np.array([[1.0, 2.0]]))[0]
    assert values == {"values": [1.0, 2.0]}


@pytest.mark.parametrize(("stats", "expected"), [
    ({"mean": [1.0], "std": [2.0]}, [[0.0, 0.5, 1.0], [1.5, 2.0, 2.5]]),  # one for all
    ({"mean": [1.0, 2.0], "std": [1.0, 2.0]}, [[0.0, 1.0, 2.0], [1.0, 1.5, 2.0]]),  # one per channel
    ({"mean": [0, 0, 0, 0, 0, 6.0], "std": [1, 1, 1, 1, 1, 0.5]}, [[1, 2, 3], [4, 5, 0.0]]),  # per element
])
def test_arrays_are_standardised_with_the_runs_statistics(stats, expected) -> None:
    x = array_sample(card(normalization=stats), [[1, 2, 3], [4, 5, 6]], "instances[0]")
    assert np.allclose(x, expected)
    flat = array_sample(card(normalization=stats), [1, 2, 3, 4, 5, 6], "instances[0]")
    assert np.allclose(flat, expected)
    with pytest.raises(InputError, match=r"instances\[0\]: expected numbers of shape \[2, 3\]"):
        array_sample(card(normalization=stats), [1, 2, 3], "instances[0]")


def test_threads_are_split_between_workers() -> None:
    assert threads_per_worker(1, cores=16) == 16
    assert threads_per_worker(3, cores=16) == 5
    assert threads_per_worker(4, cores=2) == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "sound"}, "kind"),
    ({"input_shape": [0]}, "input_shape"),
    ({"class_names": [1, 2]}, "class_names"),
    ({"model_file": "../../etc/passwd"}, "model_file"),
    ({"accuracy": "high"}, "accuracy"),
    ({"kind": "text", "vocab": None}, "vocab"),
])
def test_a_damaged_card_names_its_field(tmp_path, change, field) -> None:
    record = {**card().to_dict(), **change}
    (tmp_path / "serve.json").write_text(json.dumps(record))
    with pytest.raises(CardError, match=f"field '{field}'"):
        read_card(tmp_path)


def test_a_card_round_trips(tmp_path) -> None:
    original = card(normalization={"mean": [0.5], "std": [0.2]}, accuracy=0.9, sha256="ab")
    original.write(tmp_path)
    assert read_card(tmp_path) == original
