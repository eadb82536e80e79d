"""The HTTP API on a digits model: answers equal onnxruntime's on the exported file, and every
user mistake is a 4xx naming the field."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient

from workbench.serve.app import ServeSettings, create_app
from workbench.serve.card import file_sha256, read_card


def png_bytes(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="module")
def folder(digits_run, served):
    return served(digits_run)


@pytest.fixture(scope="module")
def client(folder):
    with TestClient(create_app(folder)) as c:
        yield c


def direct_probabilities(folder, pixels: np.ndarray) -> np.ndarray:
    """softmax(onnxruntime(model.onnx)) of (N, 8, 8) pixels in [0, 1], standardised as in training."""
    card = read_card(folder)
    mean, std = card.normalization["mean"][0], card.normalization["std"][0]
    session = ort.InferenceSession(str(folder / card.model_file), providers=["CPUExecutionProvider"])
    x = ((pixels[:, None] - mean) / std).astype(np.float32)
    logits = session.run(None, {session.get_inputs()[0].name: x})[0].astype(np.float64)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_predictions_match_onnxruntime_on_the_exported_file(client, folder) -> None:
    from sklearn.datasets import load_digits

    pixels = load_digits().data[:20].reshape(-1, 8, 8) / 16.0
    response = client.post("/predict", json={"instances": pixels.tolist()})
    assert response.status_code == 200, response.text
    expected = direct_probabilities(folder, pixels)
    names = read_card(folder).class_names
    for row, answer in zip(expected, response.json()["predictions"]):
        assert answer["class"] == names[int(row.argmax())]
        assert answer["probability"] == pytest.approx(row.max(), abs=1e-5)
        top = {t["class"]: t["probability"] for t in answer["top"]}
        assert all(top[names[k]] == pytest.approx(row[k], abs=1e-5) for k in np.argsort(-row)[:5])
    # most of the training images are recognised: the model is the trained one, not a fresh one
    labels = load_digits().target[:20]
    assert sum(a["class"] == str(y) for a, y in zip(response.json()["predictions"], labels)) >= 12


def test_a_png_is_read_like_its_pixels(client) -> None:
    from sklearn.datasets import load_digits

    pixels = (load_digits().data[3].reshape(8, 8) * 255 / 16).round().astype(np.uint8)
    as_png = client.post("/predict", json={"instances": [b64(png_bytes(pixels)), {"image": b64(png_bytes(pixels))}]})
    as_array = client.post("/predict", json={"instance": (pixels / 255.0).tolist()})
    assert as_png.status_code == 200 and as_array.status_code == 200
    first, second = as_png.json()["predictions"]
    assert first["probability"] == pytest.approx(as_array.json()["predictions"][0]["probability"], abs=1e-5)
    assert second == first


def test_metadata_health_metrics_docs_and_page(client, folder) -> None:
    meta = client.get("/metadata").json()
    assert meta["task"] == "classification" and meta["kind"] == "image"
    assert meta["classes"] == [str(i) for i in range(10)]
    assert meta["input"]["shape"] == [1, 8, 8]
    assert meta["sha256"] == file_sha256(folder / "model.onnx")
    assert meta["variant"] == "original" and 0 < meta["accuracy"] <= 1
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "instances" in json.dumps(schema["paths"]["/predict"])
    page = client.get("/")
    assert page.status_code == 200 and "getContext" in page.text and "/metadata" not in page.text
    client.post("/predict", json={"instances": [[[0.0] * 8] * 8]})
    text = client.get("/metrics").text
    assert 'workbench_requests_total{path="/predict",status="200"}' in text
    assert "workbench_predict_latency_seconds_bucket" in text and "workbench_batch_size_count" in text


BAD = [
    # (body, status, field, words in the message)
    (b"{not json", 400, "body", "not valid JSON"),
    (b"[1, 2]", 422, "body", "JSON object"),
    (b"{}", 422, "instances", "missing"),
    (b'{"instances": []}', 422, "instances", "non-empty"),
    (b'{"instances": "abc"}', 422, "instances", "non-empty array"),
    (b'{"instances": [[1, 2, 3]]}', 422, "instances[0]", "8×8"),
    (b'{"instances": [[[1, 2], [3]]]}', 422, "instances[0]", "rectangular"),
    (b'{"instances": [[["a"]]]}', 422, "instances[0]", "rectangular"),
    (b'{"instances": [[[true]]]}', 422, "instances[0]", "true/false"),
    (b'{"instances": [null]}', 422, "instances[0]", "nested array"),
    (b'{"instances": [{"colour": 1}]}', 422, "instances[0]", "image"),
    (b'{"instances": ["not base64!!"]}', 422, "instances[0]", "not base64"),
    (b'{"instances": ["aGVsbG8gd29ybGQ="]}', 422, "instances[0]", "not an image"),
    (b'{"instances": [[[2.0, 0, 0, 0, 0, 0, 0, 0]]]}', 422, "instances[0]", "[0, 1]"),
]


@pytest.mark.parametrize(("body", "status", "field", "words"), BAD)
def test_user_mistakes_are_4xx_naming_the_field(client, body, status, field, words) -> None:
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["field"] == field and words in answer["error"]


def test_an_oversized_body_is_413_and_the_server_carries_on(folder) -> None:
    with TestClient(create_app(folder, ServeSettings(max_body_mb=0.01))) as small:
        big = {"instances": [[[0.5] * 8] * 8] * 200}  # ~30 kB
        response = small.post("/predict", json=big)
        assert response.status_code == 413 and "--max-body-mb" in response.json()["error"]
        assert small.post("/predict", json={"instances": [[[0.5] * 8] * 8]}).status_code == 200


def test_a_huge_image_is_refused_before_decoding(client) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (5000, 5000)).save(buffer, format="PNG")
    response = client.post("/predict", json={"instances": [b64(buffer.getvalue())]})
    assert response.status_code == 422 and "5000×5000" in response.json()["error"]
