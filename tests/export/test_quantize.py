"""int8 (dynamic, static) and fp16 ONNX: smaller files that pass the checker and keep accuracy."""

from __future__ import annotations

import onnx
import pytest

from workbench.errors import ExportError
from workbench.export import (
    OnnxRunner,
    build_metadata,
    check_onnx,
    convert_fp16,
    export_onnx,
    quantize_int8_dynamic,
    quantize_int8_static,
    read_metadata,
    verify_onnx,
)
from workbench.export.evaluate import calibration_batches, evaluate, torch_predict
from workbench.export.onnx_export import fp16_tolerance, reference_outputs


@pytest.fixture(scope="session")
def _fp32_files(kit, digits, tmp_path_factory):
    """One fp32 export per trained model for the whole session (exports take about a second)."""
    cache: dict[str, tuple] = {}

    def get(name: str, graph_and_model):
        if name not in cache:
            graph, model = graph_and_model
            inputs = kit.val_inputs(digits, 64)
            meta = build_metadata(model, digits, project_name="digits",
                                  training_summary={"val_accuracy": 0.97, "epochs": 6})
            path = tmp_path_factory.mktemp(name) / "model.onnx"
            export_onnx(model, path, inputs[:4], metadata=meta)
            cache[name] = (model, path, inputs, reference_outputs(model, inputs), meta)
        return cache[name]

    return get


@pytest.fixture
def exported(request, _fp32_files):
    """(model, fp32 file, parity inputs, reference, metadata) for the trained model named by the param."""
    return _fp32_files(request.param, request.getfixturevalue(request.param))


@pytest.mark.parametrize("exported", ["trained_mlp"], indirect=True)
def test_int8_dynamic_mlp_is_under_30_percent_and_keeps_accuracy(exported, digits, tmp_path) -> None:
    model, path, inputs, reference, meta = exported
    result = quantize_int8_dynamic(path, tmp_path / "int8.onnx", parity=(inputs, reference), metadata=meta)
    check_onnx(result.path)
    ratio = result.path.stat().st_size / path.stat().st_size
    assert ratio <= 0.30, f"int8 file is {ratio:.1%} of fp32"

    fp32 = evaluate(torch_predict(model), digits, "cross_entropy").val_accuracy
    int8 = evaluate(OnnxRunner(result.path).predict, digits, "cross_entropy").val_accuracy
    assert fp32 > 0.9
    assert int8 >= fp32 - 0.01
    assert read_metadata(result.path)["project_name"] == "digits"  # metadata survives quantization
    assert "weight scales" in result.note


@pytest.mark.parametrize("exported", ["trained_cnn"], indirect=True)
def test_int8_static_calibrates_on_training_batches(exported, digits, tmp_path) -> None:
    model, path, inputs, reference, meta = exported
    result = quantize_int8_static(path, tmp_path / "static.onnx", calibration_batches(digits, 4),
                                  per_channel=True, parity=(inputs, reference))
    check_onnx(result.path)
    assert result.per_channel
    proto = onnx.load(str(result.path))
    assert any(n.op_type == "QuantizeLinear" for n in proto.graph.node)  # activations are quantized too
    assert result.path.stat().st_size < 0.5 * path.stat().st_size
    fp32 = evaluate(torch_predict(model), digits, "cross_entropy").val_accuracy
    int8 = evaluate(OnnxRunner(result.path).predict, digits, "cross_entropy").val_accuracy
    assert int8 >= fp32 - 0.03


def test_int8_static_needs_calibration_data(tmp_path) -> None:
    with pytest.raises(ExportError, match="calibration batches"):
        quantize_int8_static(tmp_path / "m.onnx", tmp_path / "s.onnx", [])


@pytest.mark.parametrize("exported", ["trained_mlp", "trained_cnn"], indirect=True)
def test_fp16_parity(exported, tmp_path) -> None:
    model, path, inputs, reference, meta = exported
    half = convert_fp16(path, tmp_path / "fp16.onnx", metadata=meta)
    diff = verify_onnx(half, reference, inputs, fp16_tolerance(reference), "fp16")  # includes the checker
    assert diff < 1e-2  # logits of size ~10-20: about 1e-3 relative
    assert half.stat().st_size < 0.55 * path.stat().st_size
    proto = onnx.load(str(half))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # same inputs as fp32
