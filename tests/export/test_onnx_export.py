"""ONNX export proves itself: checker, onnxruntime parity (fp32 ≤ 1e-4), dynamic batch, metadata."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from workbench.errors import ExportError
from workbench.export import FP32_TOLERANCE, OnnxRunner, build_metadata, export_onnx, read_metadata, verify_onnx
from workbench.export.onnx_export import reference_outputs
from workbench.graph.builder import build_model


def _inputs(model, n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    spec = model.input_spec
    if spec.dtype == "int64":
        vocab = next(m for m in model.modules() if isinstance(m, nn.Embedding)).num_embeddings
        return torch.randint(0, vocab, (n, *spec.shape), generator=g)
    return torch.randn((n, *spec.shape), generator=g)


@pytest.mark.parametrize("preset", ["digits-mlp", "digits-cnn", "digits-vit", "tiny-gpt", "digits-resnet", "lstm-classifier"])
def test_presets_pass_checker_and_parity(preset: str, kit, tmp_path) -> None:
    model = build_model(kit.preset_graph(preset), seed=1)
    inputs = _inputs(model, 8)
    path = tmp_path / "model.onnx"
    files = export_onnx(model, path, inputs[:2])
    assert files == [path]  # one self-contained file
    assert not (tmp_path / "model.onnx.data").exists()

    diff = verify_onnx(path, reference_outputs(model, inputs), inputs)
    assert diff <= FP32_TOLERANCE

    import onnx

    proto = onnx.load(str(path))
    assert proto.opset_import[0].version >= 17
    batch_dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param and not batch_dim.dim_value  # symbolic batch axis
    # the exporter's debugging records (stack traces with local paths) are gone
    assert not any(len(n.metadata_props) for n in proto.graph.node)
    assert "/work/" not in proto.SerializeToString().decode("latin-1")

    runner = OnnxRunner(path)
    if preset == "tiny-gpt":
        assert runner.input_dtype == "int64"
    for batch in (1, 5):  # a batch size never seen while exporting
        x = _inputs(model, batch, seed=batch)
        np.testing.assert_allclose(runner(x), reference_outputs(model, x), atol=FP32_TOLERANCE)


def test_metadata_is_inside_the_file_and_modes_come_back(kit, digits, tmp_path) -> None:
    model = build_model(kit.mlp_graph())
    model.train()
    model.get_submodule("dropout").eval()  # a mixed state must come back exactly
    modes = {n: m.training for n, m in model.named_modules()}
    summary = {"val_accuracy": 0.97, "epochs": 5, "best_checkpoint": "/home/someone/run/best.pt", "val_loss": float("nan")}
    meta = build_metadata(model, digits, project_name="digits-mlp", training_summary=summary)
    path = tmp_path / "m.onnx"
    export_onnx(model, path, kit.val_inputs(digits, 4), metadata=meta)

    read = read_metadata(path)
    assert read["project_name"] == "digits-mlp"
    assert read["input_shape"] == ["batch", 1, 8, 8]
    assert read["input_dtype"] == "float32"
    assert read["class_names"] == [str(i) for i in range(10)]
    assert read["normalization"] == digits.normalization
    assert read["task"] == "classification"
    assert read["training_summary"] == {"val_accuracy": 0.97, "epochs": 5, "val_loss": None}  # no local paths, no NaN
    assert all(isinstance(v, str) for v in meta.values())
    assert {n: m.training for n, m in model.named_modules()} == modes  # eval only while exporting


def test_language_model_metadata_has_vocabulary(kit, tokens) -> None:
    model = build_model(kit.gpt_graph())
    meta = build_metadata(model, tokens, project_name="gpt")
    assert json.loads(meta["vocab"]) == tokens.vocab
    assert meta["input_dtype"] == "int64"


def test_parity_beyond_tolerance_raises_with_the_figure(kit, tmp_path) -> None:
    model = build_model(kit.mlp_graph())
    x = model.example_input(4)
    path = tmp_path / "m.onnx"
    export_onnx(model, path, x)
    wrong = reference_outputs(model, x) + 0.01
    with pytest.raises(ExportError, match=r"differs from PyTorch's by 0\.01.*tolerance is 0\.0001"):
        verify_onnx(path, wrong, x)


class _DataDependent(nn.Module):
    """A branch on a value: torch.export (and so ONNX) cannot capture it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2
        return x


def test_a_recurrent_network_exports_without_warnings(kit, tmp_path) -> None:
    import warnings

    model = build_model(kit.preset_graph("lstm-classifier"), seed=1)
    inputs = _inputs(model, 4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_onnx(model, tmp_path / "lstm.onnx", inputs[:2])
    # torch's note on the LSTM's weight list stays out of the user's terminal
    assert [str(w.message) for w in caught if "assigned during export" in str(w.message)] == []
    assert verify_onnx(tmp_path / "lstm.onnx", reference_outputs(model, inputs), inputs) <= FP32_TOLERANCE


def test_a_layer_onnx_cannot_hold_is_named(kit, tmp_path) -> None:
    model = build_model(kit.mlp_graph())
    model.relu2 = _DataDependent()
    with pytest.raises(ExportError, match="ONNX cannot hold layer 'relu2'"):
        export_onnx(model, tmp_path / "m.onnx", model.example_input(2))


def test_weights_beyond_the_protobuf_limit_go_to_a_side_file(kit, tmp_path, monkeypatch) -> None:
    import workbench.export.onnx_export as onnx_export

    monkeypatch.setattr(onnx_export, "EXTERNAL_DATA_LIMIT", 1000)  # as if the model were 2 GB
    model = build_model(kit.mlp_graph())
    x = model.example_input(4)
    files = export_onnx(model, tmp_path / "big.onnx", x, metadata={"project_name": "big"})
    assert [f.name for f in files] == ["big.onnx", "big.onnx.data"]
    assert files[0].stat().st_size < 10_000 < files[1].stat().st_size
    assert verify_onnx(files[0], reference_outputs(model, x), x) <= FP32_TOLERANCE
    assert read_metadata(files[0])["project_name"] == "big"
