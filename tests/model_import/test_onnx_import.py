"""Importing ONNX files: Workbench's own exports, torchvision models exported by torch, patterns, and bad files.

Every file is written by the test itself (Workbench's exporter, `torch.onnx.export`, or
`onnx.helper`); nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from workbench.cli import main
from workbench.errors import ModelImportError
from workbench.graph.builder import build_model
from workbench.model_import import UnsupportedOpsError, import_onnx, read_onnx_project
from workbench.project import load_project


def _built_with_weights(project_path: Path) -> torch.nn.Module:
    """The project's network as `workbench train` builds it, started from the weights beside it."""
    from workbench.training.init_from import initialise

    project = load_project(project_path)
    model = build_model(project.graph)
    report = initialise(model, project.training.init_from, base_dir=project.base_dir)
    assert report.skipped == () and len(report.loaded) == len(model.state_dict())
    return model.eval()


def _legacy_export(model: torch.nn.Module, path: Path, shape: tuple[int, ...], opset: int = 17) -> Path:
    """torch's TorchScript-based exporter (dynamo=False): seconds where the default takes ~20 s here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(*shape),), str(path), dynamo=False, opset_version=opset,
                          input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    return path


def torchvision_model(name: str) -> torch.nn.Module:
    """torchvision's `name`, seeded random weights, eval mode; BatchNorms given statistics so that they do work."""
    import torchvision

    torch.manual_seed(1)
    model = torchvision.models.get_model(name, weights=None).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
    return model


def _same_outputs(a: torch.nn.Module, b: torch.nn.Module, shape: tuple[int, ...]) -> float:
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        return float((a(x) - b(x)).abs().max())


# ----- Workbench's own exports -----------------------------------------------------------------


@pytest.fixture(scope="module")
def workbench_export(tmp_path_factory: pytest.TempPathFactory):
    """A preset built with seeded weights and written by Workbench's ONNX exporter (cached per module:
    the exporter takes ~13 s on its first call in a process, ~4 s after)."""
    from workbench.export.onnx_export import export_onnx
    from workbench.presets import load_preset

    folder = tmp_path_factory.mktemp("exports")
    made: dict[str, tuple[Path, torch.nn.Module]] = {}

    def get(name: str) -> tuple[Path, torch.nn.Module]:
        if name not in made:
            model = build_model(load_preset(name).graph, seed=5).eval()
            path = folder / f"{name}.onnx"
            export_onnx(model, path, torch.randn(4, *model.input_spec.shape),
                        metadata={"project_name": name, "loss": "cross_entropy"})
            made[name] = (path, model)
        return made[name]

    return get


@pytest.mark.parametrize("name", ["digits-cnn", pytest.param("digits-mlp", marks=pytest.mark.slow)])
def test_a_workbench_export_imports_with_its_layer_names_and_weights(workbench_export, name: str, tmp_path: Path,
                                                                     capsys) -> None:
    path, original = workbench_export(name)
    out = tmp_path / "imported.json"
    assert main(["import", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "input 1×8×8, output 10" in printed and "parity with onnxruntime (eval mode): max abs difference" in printed
    diff = float(printed.split("max abs difference ")[1].split()[0])
    assert diff <= 1e-4

    project = load_project(out)
    assert project.name == name and project.training.init_from == "imported.safetensors"
    assert "parity with onnxruntime" in project.description
    ours = _built_with_weights(out)
    # every weighted layer comes back under the name it was drawn with, holding the same tensors
    theirs = original.state_dict()
    assert set(ours.state_dict()) == set(theirs)
    for key, tensor in theirs.items():
        assert torch.equal(ours.state_dict()[key], tensor), key
    assert _same_outputs(ours, original, (3, 1, 8, 8)) <= 1e-5


@pytest.mark.slow
def test_an_imported_export_fine_tunes_and_exports_again(workbench_export, tmp_path: Path, capsys) -> None:
    path, _ = workbench_export("digits-cnn")
    project = tmp_path / "cnn.json"
    import_onnx(path, project)
    run = tmp_path / "run"
    assert main(["train", str(project), "--out", str(run), "--epochs", "1", "--quiet"]) == 0
    # training started from the imported weights, and said so
    assert f"initialised 8 of 8 tensors from {project.with_suffix('.safetensors')}" in capsys.readouterr().err
    assert main(["export", str(run), "--out", str(tmp_path / "again"), "--quantize", "int8-dynamic"]) == 0
    exported = sorted(p.name for p in (tmp_path / "again").iterdir())
    assert any(n.endswith(".onnx") and "int8" in n for n in exported), exported
    # and the file exported from the fine-tuned run imports once more
    again = next(p for p in (tmp_path / "again").iterdir() if p.suffix == ".onnx" and "int8" not in p.name)
    assert read_onnx_project(again).max_abs_diff <= 1e-4


# ----- torch.onnx.export of torchvision models --------------------------------------------------------


def test_resnet18_from_torch_onnx_export_computes_what_torchvision_computes(tmp_path: Path) -> None:
    model = torchvision_model("resnet18")
    path = _legacy_export(model, tmp_path / "resnet18.onnx", (1, 3, 64, 64))
    result = import_onnx(path, tmp_path / "r18.json")
    assert result.max_abs_diff <= 1e-4 and result.output_shape == (1000,) and result.input_shape == (3, 64, 64)
    graph = load_project(result.project_path).graph
    types = [n.type for n in graph.nodes]
    # the exporter folds each BatchNorm into the convolution before it
    assert types.count("Conv2d") == 20 and types.count("Add") == 8 and types.count("Linear") == 1
    assert "BatchNorm2d" not in types and graph.node_by_name("layer1_0_conv1") is not None
    assert _same_outputs(_built_with_weights(result.project_path), model, (2, 3, 64, 64)) <= 1e-4
    for edge in graph.edges:  # laid out top to bottom
        assert graph.node(edge.src).position[1] < graph.node(edge.dst).position[1]


@pytest.mark.slow
def test_mobilenet_v3_small_maps_its_gates_onto_squeeze_excitation(tmp_path: Path) -> None:
    model = torchvision_model("mobilenet_v3_small")
    path = _legacy_export(model, tmp_path / "mnv3.onnx", (1, 3, 64, 64))
    result = import_onnx(path, tmp_path / "mnv3.json")
    types = [n.type for n in load_project(result.project_path).graph.nodes]
    assert types.count("SqueezeExcitation") == 9 and types.count("Hardswish") == 19
    assert _same_outputs(_built_with_weights(result.project_path), model, (2, 3, 64, 64)) <= 1e-4


@pytest.mark.slow
def test_resnet18_from_the_default_dynamo_exporter(tmp_path: Path) -> None:
    model = torchvision_model("resnet18")
    path = tmp_path / "resnet18.onnx"
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(1, 3, 64, 64),), str(path))  # weights in resnet18.onnx.data
    assert (tmp_path / "resnet18.onnx.data").is_file()
    result = import_onnx(path, tmp_path / "r18.json")
    assert result.max_abs_diff <= 1e-4
    assert _same_outputs(_built_with_weights(result.project_path), model, (1, 3, 64, 64)) <= 1e-4


class _Patterns(torch.nn.Module):
    """Operations exporters write as several ONNX nodes: erf-GELU, SiLU, MatMul + Add; and others."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=2, dilation=2)
        self.dw = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8 * 4 * 4, 32)
        self.ln = torch.nn.LayerNorm(32)
        self.w = torch.nn.Parameter(torch.randn(32, 16) / 8)  # x @ w + b: MatMul and Add
        self.b = torch.nn.Parameter(torch.randn(16))
        self.out = torch.nn.Linear(32, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.conv(x))
        b = torch.nn.functional.silu(self.bn(self.dw(a)))
        y = torch.nn.functional.leaky_relu(torch.nn.functional.avg_pool2d(a + b, 2), 0.2).flatten(1)
        h = torch.nn.functional.gelu(self.ln(self.fc(y)))
        h2 = torch.tanh(h @ self.w + self.b)
        return torch.softmax(self.out(torch.cat([h2, torch.sigmoid(h2)], 1)), -1)


def test_multi_node_patterns_become_one_layer_each(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = _Patterns().eval()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-0.5, 0.5)
        model.bn.running_var.uniform_(0.5, 1.5)
    path = _legacy_export(model, tmp_path / "patterns.onnx", (2, 3, 8, 8))
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert {"Erf", "MatMul", "Mul"} <= ops  # the patterns really are there to fuse
    result = import_onnx(path, tmp_path / "patterns.json")
    types = [n.type for n in load_project(result.project_path).graph.nodes]
    assert {"GELU", "SiLU", "LayerNorm", "Concat", "Softmax", "LeakyReLU", "AvgPool2d"} <= set(types)
    assert types.count("Linear") == 3 and "Erf" not in types
    assert _same_outputs(_built_with_weights(result.project_path), model, (4, 3, 8, 8)) <= 1e-5


# ----- what cannot be imported ----------------------------------------------------------------------


def _handmade(path: Path, ops: list[onnx.NodeProto], out: str, extra_init: list[TensorProto] = (), width: int = 6) -> Path:
    """A small (batch, 4) -> Gemm(6) -> ops... graph returning `out` of (batch, width), written with onnx.helper."""
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32), "fc.weight")
    gemm = helper.make_node("Gemm", ["x", "fc.weight"], ["h"], name="fc", transB=1)
    graph = helper.make_graph([gemm, *ops], "handmade", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", width])], [w, *extra_init])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_unsupported_operators_are_listed_in_one_error_and_nothing_is_written(tmp_path: Path, capsys) -> None:
    k = numpy_helper.from_array(np.array([2], dtype=np.int64), "k")
    path = _handmade(tmp_path / "odd.onnx", [
        helper.make_node("Sin", ["h"], ["s1"], name="sin_a"),
        helper.make_node("Relu", ["s1"], ["r"], name="relu"),
        helper.make_node("Sin", ["r"], ["s2"], name="sin_b"),
        helper.make_node("TopK", ["s2", "k"], ["values", "indices"], name="top"),
    ], "values", [k], width=2)
    out = tmp_path / "out" / "odd.json"
    with pytest.raises(UnsupportedOpsError) as caught:
        import_onnx(path, out)
    message = str(caught.value)
    assert "Sin ×2 (sin_a, sin_b)" in message and "TopK ×1 (top)" in message and "\n" not in message
    assert caught.value.found == {"Sin": ["sin_a", "sin_b"], "TopK": ["top"]}
    assert main(["import", str(path), "--out", str(out)]) == 1
    assert "Sin ×2" in capsys.readouterr().err
    assert not out.parent.exists()


def test_settings_no_layer_reproduces_are_named_with_the_operator(tmp_path: Path) -> None:
    path = _handmade(tmp_path / "clip.onnx", [helper.make_node("Clip", ["h", "lo", "hi"], ["y"], name="clip3")], "y", [
        numpy_helper.from_array(np.array(-1.0, dtype=np.float32), "lo"),
        numpy_helper.from_array(np.array(3.0, dtype=np.float32), "hi"),
    ])
    with pytest.raises(UnsupportedOpsError, match=r"Clip \[Clip to a range other than 0\.\.6 or 0\.\.∞\] ×1 \(clip3\)"):
        read_onnx_project(path)


def test_a_handmade_graph_with_relu6_imports(tmp_path: Path) -> None:
    path = _handmade(tmp_path / "relu6.onnx", [helper.make_node("Clip", ["h", "lo", "hi"], ["y"], name="clip")], "y", [
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "lo"),
        numpy_helper.from_array(np.array(6.0, dtype=np.float32), "hi"),
    ])
    model = read_onnx_project(path)
    assert [n.type for n in model.project.graph.nodes] == ["Input", "Linear", "ReLU6", "Output"]
    params = model.project.graph.nodes[0].params
    assert params["kind"] == "vector" and list(params["shape"]) == [4]
    assert model.max_abs_diff <= 1e-6 and model.parameters == 24


def test_a_per_channel_scale_and_shift_becomes_a_batchnorm(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in (
        ("conv.weight", rng.standard_normal((4, 3, 3, 3))), ("scale", rng.uniform(0.5, 2, (4, 1, 1))),
        ("shift", rng.standard_normal((1, 4, 1, 1))), ("fc.weight", rng.standard_normal((5, 4))))]
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["c", "scale"], ["m"], name="scale_it"),
        helper.make_node("Add", ["m", "shift"], ["a"], name="shift_it"),
        helper.make_node("Relu", ["a"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc.weight"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "affine", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])], inits)
    path = tmp_path / "affine.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    model = read_onnx_project(path)
    types = [n.type for n in model.project.graph.nodes]
    assert types == ["Input", "Conv2d", "BatchNorm2d", "ReLU", "AdaptiveAvgPool2d", "Flatten", "Linear", "Output"]
    assert model.max_abs_diff <= 1e-5
    bn = next(n.name for n in model.project.graph.nodes if n.type == "BatchNorm2d")
    assert torch.equal(model.state[f"{bn}.weight"], torch.tensor(numpy_helper.to_array(inits[1]).reshape(4)))


@pytest.mark.parametrize("content, expected", [
    (None, "no such file"),
    (b"this is a text file, not a network\n", "not an ONNX model"),
    ("truncated", "truncated or damaged"),
])
def test_a_bad_file_gets_one_clear_message(tmp_path: Path, content, expected: str, capsys) -> None:
    path = tmp_path / "bad.onnx"
    if content == "truncated":
        raw = _legacy_export(torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.ReLU()), tmp_path / "ok.onnx", (2, 4)).read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
    elif content is not None:
        path.write_bytes(content)
    out = tmp_path / "bad.json"
    assert main(["import", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert expected in err and str(path) in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert not out.exists() and not out.with_suffix(".safetensors").exists()


def test_side_file_weights_are_read_only_from_beside_the_model(tmp_path: Path) -> None:
    plain = _handmade(tmp_path / "m.onnx", [helper.make_node("Relu", ["h"], ["y"])], "y")
    folder = tmp_path / "model"
    folder.mkdir()
    onnx.save(onnx.load(str(plain)), str(folder / "m.onnx"), save_as_external_data=True, location="m.onnx.data",
              size_threshold=0)
    assert read_onnx_project(folder / "m.onnx").max_abs_diff <= 1e-6

    (folder / "m.onnx.data").rename(tmp_path / "m.onnx.data")
    with pytest.raises(ModelImportError, match="the weights file 'm.onnx.data' it names is missing"):
        read_onnx_project(folder / "m.onnx")
    # a file naming weights one folder up (where they are) is refused all the same
    escape = onnx.load(str(folder / "m.onnx"), load_external_data=False)
    for tensor in escape.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../m.onnx.data"
    (folder / "escape.onnx").write_bytes(escape.SerializeToString())
    with pytest.raises(ModelImportError, match="outside the model's folder"):
        read_onnx_project(folder / "escape.onnx")


def test_torchvision_only_options_are_refused_for_an_onnx_file(tmp_path: Path, capsys) -> None:
    path = _handmade(tmp_path / "m.onnx", [], "h")
    assert main(["import", str(path), "--out", str(tmp_path / "p.json"), "--classes", "3"]) == 1
    assert "--weights and --classes are for torchvision models" in capsys.readouterr().err
