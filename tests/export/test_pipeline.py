"""run_export: the whole chain, the report, clear errors, and no partial files after a failure."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from workbench.errors import ExportError
from workbench.export import ExportCancelled, ExportOptions, ExportProgress, run_export
from workbench.graph.builder import build_model

REQUIRED = {"name", "files", "size_bytes", "parameters", "nonzero_parameters", "val_accuracy", "val_loss",
            "latency_ms_batch1", "latency_ms_batch64", "max_abs_diff"}


def test_full_chain_writes_verified_files_and_the_report(trained_cnn, digits, tmp_path) -> None:
    graph, model = trained_cnn
    before = {k: v.clone() for k, v in model.state_dict().items()}
    events: list[ExportProgress] = []
    out = tmp_path / "export"
    options = ExportOptions(formats="onnx,safetensors,pt2,code", quantize="int8-dynamic,fp16", prune_channels=0.5,
                            finetune_epochs=2, latency_repeats=3, per_channel="off")
    report = run_export(model, graph, digits, out, options, project_name="digits-cnn",
                        training_summary={"val_accuracy": 0.96}, progress=events.append)

    names = [v.name for v in report.variants]
    assert names == ["original", "pruned", "pruned+int8-dynamic", "pruned+fp16"]
    data = json.loads((out / "report.json").read_text())
    assert data["project_name"] == "digits-cnn" and data["task"] == "classification"
    for row in data["variants"]:
        assert REQUIRED <= set(row), row["name"]
        for name in row["files"]:
            assert (out / name).is_file()
        assert row["latency_ms_batch1"] > 0 and row["latency_ms_batch64"] > 0
    original, pruned, int8, fp16 = data["variants"]
    assert original["pytorch_latency_ms_batch1"] > 0 and original["max_abs_diff"] <= 1e-4
    assert set(original["files"]) == {"model.onnx", "model.safetensors", "model.pt2", "model.py"}
    assert pruned["parameters"] <= 0.5 * original["parameters"]
    assert pruned["val_accuracy"] >= original["val_accuracy"] - 0.05  # after a 2-epoch fine-tune
    assert int8["size_bytes"] < pruned["size_bytes"] < original["size_bytes"]
    assert fp16["max_abs_diff"] < 1e-2
    assert sum(row["recommended"] for row in data["variants"]) == 1
    assert any(row["pareto_optimal"] for row in data["variants"])

    md = (out / "report.md").read_text()
    assert "| variant |" in md and "pruned+int8-dynamic" in md and "★" in md
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging folder left

    assert events[-1].step == events[-1].total and events[-1].message == "done"
    assert [e.step for e in events] == sorted(e.step for e in events)
    assert all(0 <= e.step <= e.total for e in events)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the run's model is untouched


@pytest.mark.parametrize("kwargs, message", [
    ({"formats": "onnx,tflite"}, "unknown format 'tflite' — choose from onnx, safetensors, pt2, code"),
    ({"formats": ""}, "no format chosen"),
    ({"quantize": "int4"}, "unknown quantization 'int4' — choose from int8-dynamic, int8-static, fp16"),
    ({"prune": 1.5}, "prune must be a fraction between 0 and 1"),
    ({"prune_channels": -0.1}, "prune-channels must be a fraction between 0 and 1"),
    ({"finetune_epochs": -1}, "finetune-epochs must be a whole number"),
    ({"finetune_epochs": 2}, "fine-tunes a pruned model — add prune or prune-channels"),
    ({"per_channel": "maybe"}, "per-channel must be one of auto, on, off"),
    ({"opset": 13}, "opset must be between 17 and 23"),
])
def test_bad_options_are_refused_with_a_clear_message(kwargs, message) -> None:
    with pytest.raises(ExportError, match=message):
        ExportOptions(**kwargs)


def test_options_accept_lists_and_command_line_strings() -> None:
    a = ExportOptions(formats="ONNX, code", quantize=["fp16"])
    assert a.formats == ("onnx", "code") and a.quantize == ("fp16",)
    assert a.to_dict()["formats"] == ["onnx", "code"]


class _DataDependent(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 if x.sum() > 0 else x


def test_a_failed_export_removes_its_partial_files(trained_mlp, digits, tmp_path) -> None:
    graph, model = trained_mlp
    model.relu2 = _DataDependent()  # safetensors can hold it, ONNX cannot
    out = tmp_path / "existing"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="ONNX cannot hold layer 'relu2'"):
        run_export(model, graph, digits, out, ExportOptions(formats="safetensors,onnx"))
    assert [p.name for p in out.iterdir()] == ["notes.txt"]  # the user's file stays, ours are gone


def test_a_cancelled_export_leaves_nothing(trained_mlp, digits, tmp_path) -> None:
    graph, model = trained_mlp
    seen: list[str] = []
    out = tmp_path / "new-folder"
    with pytest.raises(ExportCancelled):
        run_export(model, graph, digits, out, ExportOptions(formats="onnx,safetensors"),
                   progress=lambda p: seen.append(p.message), cancel=lambda: len(seen) >= 3)
    assert not out.exists()  # the export made the folder, so it is removed too


def test_weights_of_another_network_are_refused(trained_mlp, kit, digits, tmp_path) -> None:
    graph, _ = trained_mlp
    other = build_model(kit.cnn_graph())
    with pytest.raises(ExportError, match="do not belong to this network"):
        run_export(other, graph, digits, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_quantize_without_onnx_adds_it(trained_mlp, digits, tmp_path) -> None:
    graph, model = trained_mlp
    report = run_export(model, graph, digits, tmp_path / "q",
                        ExportOptions(formats="safetensors", quantize="int8-dynamic", latency_repeats=2))
    assert report.variants[0].files == ["model.onnx", "model.safetensors"]
    assert any("onnx was added" in n for n in report.notes)
    assert report.variant("int8-dynamic").size_bytes <= 0.3 * report.variants[0].size_bytes


def test_regression_is_judged_by_loss(kit, tmp_path) -> None:
    from torch.utils.data import TensorDataset

    from workbench.data.bundle import DataBundle

    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 4, generator=g)
    y = x @ torch.randn(4, 1, generator=g)
    data = DataBundle(TensorDataset(x[:64], y[:64]), TensorDataset(x[64:], y[64:]), "regression", (4,), "float32", 1, (1,))
    graph = kit.chain(("Input", {"kind": "vector", "shape": [4]}), ("Linear", {"out_features": 16}), ("ReLU", {}),
                      ("Linear", {"out_features": 1}), ("Output", {"loss": "mse"}))
    model = kit.train(build_model(graph), data, epochs=5)
    report = run_export(model, graph, data, tmp_path / "r", ExportOptions(quantize="int8-dynamic", latency_repeats=2))
    rows = report.to_dict()["variants"]
    assert all(r["val_accuracy"] is None and r["val_loss"] is not None for r in rows)
    assert sum(r["recommended"] for r in rows) == 1


def test_language_model_chain_with_token_ids(kit, tokens, tmp_path) -> None:
    graph = kit.gpt_graph()
    model = kit.train(build_model(graph), tokens, epochs=3)
    report = run_export(model, graph, tokens, tmp_path / "lm",
                        ExportOptions(formats="onnx,code", quantize="int8-dynamic,int8-static,fp16",
                                      latency_repeats=2, calibration_batches=2))
    original = report.variant("original")
    assert original.val_accuracy is not None and original.metrics["val_perplexity"] > 0  # token accuracy
    for name in ("int8-dynamic", "int8-static", "fp16"):
        variant = report.variant(name)
        assert variant.val_loss is not None and variant.size_bytes < original.size_bytes, name
    assert report.variant("fp16").max_abs_diff < 1e-2
