"""Whatever JSON a request holds, preparing it gives the model's input or an InputError naming
the field: never another exception (which the server would answer with a 500)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.serve.card import ModelCard
from workbench.serve.inputs import InputError, prepare

TABLE = {"features": [{"name": "age", "kind": "numeric", "mean": 40.0, "std": 10.0},
                      {"name": "color", "kind": "categorical", "categories": ["blue", "red"]}],
         "target": {"name": "label", "task": "classification", "classes": ["a", "b"]},
         "delimiter": ",", "missing": "fill"}
CARDS = {
    "digits": ModelCard("classification", "cross_entropy", (1, 8, 8), "float32", "image",
                        normalization={"mean": [0.3], "std": [0.4]}),
    "rgb-resized": ModelCard("classification", "cross_entropy", (3, 4, 4), "float32", "image",
                             preprocessing={"channels": 3, "steps": [{"type": "resize", "size": [6, 6]},
                                                                     {"type": "center_crop", "size": [4, 4]}],
                                            "mean": [0.5] * 3, "std": [0.25] * 3}),
    "table": ModelCard("classification", "cross_entropy", (3,), "float32", "table", encoding=TABLE),
    "array": ModelCard("regression", "mse", (2, 3), "float32", "array",
                       normalization={"mean": [1.0, 2.0], "std": [1.0, 2.0]}),
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20) | st.sampled_from(["red", "blue", "iVBORw0KGgo=", "", "NaN", "1e999"]),
    lambda children: st.lists(children, max_size=8) | st.dictionaries(
        st.sampled_from(["age", "color", "image", "pixels", "label", "x"]) | st.text(max_size=5), children, max_size=4),
    max_leaves=40,
)


def check(name: str, instance: object) -> None:
    card = CARDS[name]
    try:
        x = prepare(card, [instance])
    except InputError as exc:
        assert exc.field.startswith("instances[0]") and exc.message
        return
    assert x.shape == (1, *card.input_shape) and x.dtype == np.float32 and np.isfinite(x).all()


@pytest.mark.parametrize("name", sorted(CARDS))
@given(instance=json_values)
def test_any_json_is_an_input_or_an_input_error(name, instance) -> None:
    check(name, instance)


@pytest.mark.parametrize("name", ["digits", "rgb-resized"])
@given(pixels=st.lists(st.lists(st.floats(0, 1), min_size=1, max_size=9), min_size=1, max_size=9))
def test_pixel_arrays_of_any_size(name, pixels) -> None:
    check(name, pixels)
