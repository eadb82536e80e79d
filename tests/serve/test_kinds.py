"""Each kind of model answers in its own terms, as the run prepared its data: a table's named
features through the saved encoding, images through the validation preprocessing, a language
model's prompt through its vocabulary."""

from __future__ import annotations

import base64
import io

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient

from workbench.serve.app import create_app
from workbench.serve.card import read_card


def run_direct(folder, x: np.ndarray) -> np.ndarray:
    card = read_card(folder)
    session = ort.InferenceSession(str(folder / card.model_file), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def png_b64(pixels: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# ----- tables -------------------------------------------------------------------------------------


def test_table_rows_are_encoded_as_the_run_encoded_them(table_run, served) -> None:
    from workbench.data.table_encoding import encode_rows
    from workbench.run_records import read_data_info

    folder = served(table_run)
    rows = [{"age": 31.5, "color": "red", "size": 1.25}, {"age": "64", "color": "blue", "size": 4},
            {"age": 12, "color": "green", "size": "0.5"}]
    encoding = read_data_info(table_run / "data.json")["encoding"]
    # the reference: the encoder `workbench evaluate` uses on a CSV of the same rows
    cells = [[str(r["age"]), r["color"], str(r["size"]), "big"] for r in rows]
    expected = softmax(run_direct(folder, encode_rows(encoding, ["age", "color", "size", "label"], cells,
                                                      [2, 3, 4], "test").x))
    with TestClient(create_app(folder)) as client:
        answer = client.post("/predict", json={"instances": rows}).json()["predictions"]
        meta = client.get("/metadata").json()
    classes = read_card(folder).class_names
    assert meta["kind"] == "table" and [f["name"] for f in meta["features"]] == ["age", "color", "size"]
    assert meta["input"]["schema"]["properties"]["instances"]["items"]["properties"]["color"]["enum"] == ["blue", "green", "red"]
    for row, got in zip(expected, answer):
        assert got["class"] == classes[int(row.argmax())]
        assert got["probability"] == pytest.approx(row.max(), abs=1e-5)


@pytest.mark.parametrize(("row", "field", "words"), [
    ({"age": 30, "color": "pink", "size": 1}, "instances[0].color", "unknown category 'pink'"),
    ({"age": 30, "size": 1}, "instances[0].color", "missing"),
    ({"age": "old", "color": "red", "size": 1}, "instances[0].age", "expected a number"),
    ({"age": [1], "color": "red", "size": 1}, "instances[0].age", "expected a number"),
    ({"age": 30, "color": {"x": 1}, "size": 1}, "instances[0].color", "category"),
    ({"age": 30, "color": "red", "size": 1, "weight": 3}, "instances[0].weight", "not a feature"),
    ([30, "red", 1], "instances[0]", "object of the features"),
])
def test_table_mistakes_name_the_feature(table_run, served, row, field, words) -> None:
    with TestClient(create_app(served(table_run))) as client:
        response = client.post("/predict", json={"instances": [row]})
    assert response.status_code == 422 and response.json()["field"] == field
    assert words in response.json()["error"]


# ----- images -------------------------------------------------------------------------------------


def torch_preprocess(run_dir, png: bytes):
    """The run's own validation pipeline: decode_bytes + transforms.build_pipeline(train=False)."""
    from workbench.data.image_decode import decode_bytes
    from workbench.data.transforms import build_pipeline, parse_transforms
    from workbench.run_records import read_data_info

    pre = read_data_info(run_dir / "data.json")["preprocessing"]
    pipeline = build_pipeline(parse_transforms(pre["steps"], "test"), train=False, resize=None,
                              mean=pre["mean"], std=pre["std"])
    return pipeline(decode_bytes(png, pre["channels"])).numpy()


@pytest.mark.slow
def test_images_are_prepared_as_the_run_prepared_its_validation_images(image_run, served) -> None:
    folder = served(image_run)
    rng = np.random.default_rng(1)
    exact = (rng.random((8, 8, 3)) * 255).astype(np.uint8)  # the model's size: no resize
    larger = (rng.random((12, 12, 3)) * 255).astype(np.uint8)  # resized 12×12 -> 8×8 on the way
    with TestClient(create_app(folder)) as client:
        answer = client.post("/predict", json={"instances": [png_b64(exact), png_b64(larger)]})
        assert answer.status_code == 200, answer.text
        got = answer.json()["predictions"]
        bad = client.post("/predict", json={"instances": [png_b64(larger), "iVBORw0KGgo="]})
    from PIL import Image

    x = []
    for pixels in (exact, larger):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        x.append(torch_preprocess(image_run, buffer.getvalue()))
    expected = softmax(run_direct(folder, np.stack(x).astype(np.float32)))
    classes = read_card(folder).class_names
    top = {t["class"]: t["probability"] for t in got[0]["top"]}
    assert all(top[c] == pytest.approx(p, abs=1e-5) for c, p in zip(classes, expected[0]))
    # Pillow's antialiased bilinear resize and torchvision's differ by at most one grey level
    top = {t["class"]: t["probability"] for t in got[1]["top"]}
    assert all(top[c] == pytest.approx(p, abs=2e-2) for c, p in zip(classes, expected[1]))
    assert bad.status_code == 422 and bad.json()["field"] == "instances[1]"
    assert "decode" in bad.json()["error"] or "not an image" in bad.json()["error"]


# ----- language models ----------------------------------------------------------------------------


def test_a_language_model_continues_a_prompt(text_run, served) -> None:
    import torch

    from workbench.runs import load_run

    folder = served(text_run)
    card = read_card(folder)
    with TestClient(create_app(folder)) as client:
        cold = client.post("/predict", json={"prompt": "the ca", "max_tokens": 12, "temperature": 1e-4, "seed": 3})
        warm = [client.post("/predict", json={"prompt": "the ", "max_tokens": 20, "temperature": 1.0, "seed": 7})
                for _ in range(2)]
        meta = client.get("/metadata").json()
        mistakes = [client.post("/predict", json=body) for body in (
            {"prompt": "THE", "max_tokens": 5}, {"prompt": "the", "max_tokens": 0},
            {"prompt": "the", "temperature": -1}, {"prompt": 5}, {"prompt": "the", "seed": "x"})]
    assert meta["kind"] == "text" and meta["vocab_size"] == len(card.vocab)
    assert cold.status_code == 200, cold.text
    # near-zero temperature is the most likely character each step: the run's PyTorch model, greedy
    run = load_run(text_run)
    index = {ch: i for i, ch in enumerate(card.vocab)}
    ids = [index[c] for c in "the ca"]
    with torch.inference_mode():
        for _ in range(12):
            ids.append(int(run.model(torch.tensor([ids[-card.input_shape[0]:]]))[0, -1].argmax()))
    assert cold.json()["predictions"][0]["text"] == "the ca" + "".join(card.vocab[i] for i in ids[6:])
    first, second = (w.json()["predictions"][0]["text"] for w in warm)
    assert first == second and first.startswith("the ") and len(first) == 24  # the seed decides
    assert [m.status_code for m in mistakes] == [422] * 5
    assert [m.json()["field"] for m in mistakes] == ["prompt", "max_tokens", "temperature", "prompt", "seed"]


@pytest.mark.slow
@pytest.mark.parametrize("size", [(8, 8), (12, 12), (30, 17), (9, 9), (64, 48)])
def test_resizing_differs_from_torchvision_by_at_most_one_grey_level(image_run, served, size) -> None:
    from workbench.serve.inputs import image_sample

    card = read_card(served(image_run))
    pixels = (np.random.default_rng(sum(size)).random((*size, 3)) * 255).astype(np.uint8)
    encoded = png_b64(pixels)
    ours = image_sample(card, encoded, "instances[0]")
    theirs = torch_preprocess(image_run, base64.b64decode(encoded))
    std = np.asarray(card.preprocessing["std"])[:, None, None]
    grey_levels = np.abs(ours - theirs) * std * 255  # back in the units of the PNG's pixels
    assert grey_levels.max() <= 1.0 + 1e-3
    if size == (8, 8):
        assert grey_levels.max() < 1e-3  # no resize: the same numbers
