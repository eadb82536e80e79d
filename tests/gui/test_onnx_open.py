"""File › Open… on an ONNX file: a new unsaved project with the file's weights, or a message and nothing lost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

pytestmark = pytest.mark.usefixtures("no_dangling_threads")


def _digits_mlp_onnx(path: Path, odd_op: str | None = None) -> Path:
    """(N, 1, 8, 8) -> Flatten -> Gemm(32) -> Relu (or `odd_op`) -> Gemm(10), written with onnx.helper."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in (
        ("fc1.weight", rng.standard_normal((32, 64)) / 8), ("fc1.bias", rng.standard_normal(32)),
        ("head.weight", rng.standard_normal((10, 32)) / 6), ("head.bias", rng.standard_normal(10)))]
    nodes = [
        helper.make_node("Flatten", ["x"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["h"], name="fc1", transB=1),
        helper.make_node(odd_op or "Relu", ["h"], ["a"], name="act"),
        helper.make_node("Gemm", ["a", "head.weight", "head.bias"], ["logits"], name="head", transB=1),
    ]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _imported(window, qtbot, path: Path) -> bool:  # noqa: ANN001
    """Open `path` as File › Open… does and wait for the import (in its thread) to end; True when it opened."""
    from workbench.gui.onnx_open import OnnxImport

    assert window.open_file(str(path))
    importer = window.findChild(OnnxImport)
    with qtbot.waitSignal(importer.finished, timeout=60_000) as blocker:
        pass
    return bool(blocker.args[0])


def test_opening_an_onnx_file_imports_it_as_an_unsaved_project(window, qtbot, tmp_path: Path,  # noqa: ANN001
                                                               config_dir: Path) -> None:
    path = _digits_mlp_onnx(tmp_path / "mlp.onnx")
    assert _imported(window, qtbot, path)
    project = window.project
    assert [n.type for n in project.graph.nodes] == ["Input", "Flatten", "Linear", "ReLU", "Linear", "Output"]
    assert project.path is None and window.is_dirty() and project.name == "mlp"
    assert "parity with onnxruntime: max abs difference" in window.statusBar().currentMessage()
    assert window.session.analysis.ok  # shapes on every edge

    weights = Path(project.training.init_from)
    assert weights.is_absolute() and weights.parent == config_dir / "imported" and weights.is_file()
    from safetensors.torch import load_file

    expected = numpy_helper.to_array(onnx.load(str(path)).graph.initializer[0])
    assert torch.equal(load_file(str(weights))["fc1.weight"], torch.tensor(expected))


def test_a_file_that_cannot_be_imported_is_reported_and_the_open_project_stays(editor, qtbot, tmp_path: Path,  # noqa: ANN001
                                                                                 config_dir: Path, monkeypatch) -> None:  # noqa: ANN001
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(editor, "_error", lambda title, text: shown.append((title, text)))
    before = editor.project
    path = _digits_mlp_onnx(tmp_path / "odd.onnx", odd_op="Sin")
    assert not _imported(editor, qtbot, path)
    assert editor.project is before
    assert len(shown) == 1 and shown[0][0] == "Cannot import the ONNX model" and "Sin ×1 (act)" in shown[0][1]
    assert not (config_dir / "imported").exists()


def test_a_missing_file_is_told_at_once(window, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    shown: list[str] = []
    monkeypatch.setattr(window, "_error", lambda title, text: shown.append(text))
    assert not window.open_file(str(tmp_path / "gone.onnx"))
    assert len(shown) == 1 and "gone.onnx: no such file" in shown[0]
