"""Importing torchvision classifiers: the graph, the weights beside it, parity with torchvision, the errors."""

from __future__ import annotations

import re
import urllib.error
from pathlib import Path

import pytest
import torch

from workbench.cli import main
from workbench.errors import ExportError, ModelImportError
from workbench.graph.builder import build_model
from workbench.model_import import import_torchvision
from workbench.project import load_project


def _built_with_weights(project_path: Path) -> torch.nn.Module:
    """The project's network as `workbench train` would build it, with the weights file beside it."""
    from safetensors.torch import load_file

    project = load_project(project_path)
    model = build_model(project.graph).eval()
    model.load_state_dict(load_file(str(project_path.with_suffix(".safetensors"))))
    return model


def _max_diff(a: torch.nn.Module, b: torch.nn.Module, size: int) -> float:
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        return float((a(x) - b(x)).abs().max())


def test_cli_imports_resnet18_with_weights_from_a_file(weights_file, tmp_path: Path, capsys) -> None:
    path, reference = weights_file("resnet18")
    out = tmp_path / "r18.json"
    assert main(["import", "torchvision:resnet18", "--out", str(out), "--weights", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "11,689,512 parameters, 1000 classes, input 3×224×224" in printed
    assert "parity with torchvision (eval mode): max abs difference" in printed
    assert out.with_suffix(".safetensors").is_file()

    project = load_project(out)
    types = [n.type for n in project.graph.nodes]
    assert types.count("Conv2d") == 20 and types.count("Add") == 8 and types.count("Linear") == 1
    assert project.graph.node_by_name("layer1_0_conv1") is not None
    transforms = project.dataset.options["transforms"]
    assert transforms == [
        {"type": "resize_shorter", "size": 256, "interpolation": "bilinear"},  # as torchvision: aspect kept
        {"type": "center_crop", "size": [224, 224]},
        {"type": "normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
    ]
    assert project.training.init_from == "r18.safetensors"  # beside the project: the pair can move together

    # what `workbench train` does with it: every tensor of the network starts from the file
    from workbench.training.init_from import initialise

    fresh = build_model(project.graph)
    report = initialise(fresh, project.training.init_from, base_dir=project.base_dir)
    assert report.skipped == () and report.unused == () and len(report.loaded) == len(fresh.state_dict())
    assert torch.equal(fresh.state_dict()["fc.weight"], reference.fc.weight)

    built = _built_with_weights(out)
    assert torch.equal(built.state_dict()["layer1_0_conv1.weight"], reference.layer1[0].conv1.weight)
    assert _max_diff(built, reference, 64) <= 1e-4

    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "total: 11,689,512 parameters" in info
    assert re.search(r"^fc +Linear +B×1000 +513k", info, re.MULTILINE)  # the head: 1,000 classes


def test_every_edge_runs_down_the_page_and_names_are_unique(weights_file, tmp_path: Path) -> None:
    path, _ = weights_file("resnet18", ".pth")  # a plain torch.save(state_dict) file
    result = import_torchvision("resnet18", tmp_path / "r.json", weights=str(path), input_size=64)
    graph = load_project(result.project_path).graph
    for edge in graph.edges:
        assert graph.node(edge.src).position[1] < graph.node(edge.dst).position[1]
    names = [n.name for n in graph.nodes]
    assert len(names) == len(set(names)) and "input" in names and "output" in names


@pytest.mark.parametrize("name", [
    "mobilenet_v3_small",
    "efficientnet_b0",
    pytest.param("resnet34", marks=pytest.mark.slow),
    pytest.param("resnet50", marks=pytest.mark.slow),
    "mobilenet_v3_large",
])
def test_imported_backbones_match_torchvision(name: str, weights_file, tmp_path: Path) -> None:
    path, reference = weights_file(name)
    result = import_torchvision(name, tmp_path / f"{name}.json", weights=str(path), input_size=64)
    assert result.max_abs_diff <= 1e-4
    assert result.parameters == sum(p.numel() for p in reference.parameters())
    assert _max_diff(_built_with_weights(result.project_path), reference, 64) <= 1e-4


def test_mobilenet_keeps_depthwise_convolutions_and_its_batchnorm_eps(weights_file, tmp_path: Path) -> None:
    path, _ = weights_file("mobilenet_v3_small")
    result = import_torchvision("mobilenet_v3_small", tmp_path / "m.json", weights=str(path), input_size=64)
    graph = load_project(result.project_path).graph
    depthwise = [n for n in graph.nodes if n.type == "Conv2d" and n.params["groups"] > 1]
    assert depthwise and all(n.params["groups"] == n.params["out_channels"] for n in depthwise)
    assert {n.params["eps"] for n in graph.nodes if n.type == "BatchNorm2d"} == {0.001}
    assert any(n.type == "SqueezeExcitation" and n.params["scale_activation"] == "hardsigmoid" for n in graph.nodes)


def test_new_classes_replace_the_head_and_keep_the_rest(weights_file, tmp_path: Path) -> None:
    path, reference = weights_file("resnet18")
    result = import_torchvision("resnet18", tmp_path / "r10.json", weights=str(path), classes=10, input_size=64)
    assert result.classes == 10 and result.max_abs_diff <= 1e-4
    graph = load_project(result.project_path).graph
    assert graph.node_by_name("fc").params["out_features"] == 10
    built = _built_with_weights(result.project_path)
    state = built.state_dict()
    assert state["fc.weight"].shape == (10, 512)
    assert torch.equal(state["layer4_1_conv2.weight"], reference.layer4[1].conv2.weight)
    with torch.no_grad():
        assert built(torch.randn(1, 3, 64, 64)).shape == (1, 10)


def test_without_weights_only_the_project_is_written(tmp_path: Path) -> None:
    result = import_torchvision("resnet18", tmp_path / "plain.json", input_size=64)
    assert result.weights_path is None and result.max_abs_diff <= 1e-4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.json"]
    assert load_project(result.project_path).training.init_from is None


def test_an_unsupported_model_names_its_operators_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ModelImportError, match=r"vit_b_16: not supported yet: .*function getitem ×\d+ \(getitem, ") as info:
        import_torchvision("vit_b_16", tmp_path / "v.json", weights="DEFAULT")  # refused before any download
    assert "LayerNorm ×25 (encoder_layers_encoder_layer_0_ln_1" in str(info.value) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_convnext_matches_torchvision_with_one_node_per_block(weights_file, tmp_path: Path) -> None:
    path, reference = weights_file("convnext_tiny")  # layer scales woken: every block counts
    result = import_torchvision("convnext_tiny", tmp_path / "c.json", weights=str(path), input_size=64)
    types = [n.type for n in load_project(result.project_path).graph.nodes]
    assert types.count("ConvNeXtBlock") == 18 and types.count("LayerNorm2d") == 5
    assert result.max_abs_diff <= 1e-4
    assert _max_diff(_built_with_weights(result.project_path), reference, 64) <= 1e-4


def test_weights_of_another_model_are_refused(weights_file, tmp_path: Path) -> None:
    path, _ = weights_file("resnet18")
    with pytest.raises(ModelImportError, match=r"not weights of torchvision's resnet34: \d+ missing"):
        import_torchvision("resnet34", tmp_path / "r34.json", weights=str(path), input_size=64)
    assert not (tmp_path / "r34.json").exists()


def test_a_file_that_is_not_weights_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "notes.pth"
    bad.write_text("hello", encoding="utf-8")
    with pytest.raises(ModelImportError, match="notes.pth: not a weights file"):
        import_torchvision("resnet18", tmp_path / "r.json", weights=str(bad), input_size=64)


def test_published_weights_come_from_the_cache(weights_file, tmp_path: Path, monkeypatch) -> None:
    import torchvision

    path, reference = weights_file("resnet18", ".pth")
    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    cached = hub / "checkpoints" / torchvision.models.ResNet18_Weights.DEFAULT.url.rsplit("/", 1)[-1]
    cached.parent.mkdir(parents=True)
    cached.write_bytes(path.read_bytes())
    monkeypatch.setattr(torch.hub, "urlopen", _offline)
    result = import_torchvision("resnet18", tmp_path / "r.json", weights="DEFAULT", input_size=64)
    assert torch.equal(_built_with_weights(result.project_path).state_dict()["conv1.weight"], reference.conv1.weight)


def _offline(*args, **kwargs):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_published_weights_offline_without_a_cache_fail_clearly(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "urlopen", _offline)
    out = tmp_path / "r.json"
    assert main(["import", "torchvision:resnet18", "--out", str(out), "--weights", "DEFAULT"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("workbench: error: --weights DEFAULT (IMAGENET1K_V1): cannot download https://")
    assert str(tmp_path / "hub" / "checkpoints" / "resnet18-") in err and "--weights PATH" in err
    assert not out.exists()


def test_unknown_names_and_bad_arguments(tmp_path: Path, capsys) -> None:
    with pytest.raises(ModelImportError, match="torchvision:resnet: not a torchvision classification model — try resnet18"):
        import_torchvision("resnet", tmp_path / "x.json")
    with pytest.raises(ModelImportError, match="no such weights.*IMAGENET1K_V1"):
        import_torchvision("resnet18", tmp_path / "x.json", weights="IMAGENET9K", input_size=64)
    with pytest.raises(ModelImportError, match="--classes must be at least 1"):
        import_torchvision("resnet18", tmp_path / "x.json", classes=0)
    assert main(["import", "timm:resnet18", "--out", str(tmp_path / "x.json")]) == 1
    assert "expected torchvision:NAME" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_gallery_reads_torchvisions_metadata_and_the_cache(tmp_path: Path, monkeypatch) -> None:
    import torchvision

    from workbench.model_import import SUPPORTED_MODELS, gallery

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    entries = {e.name: e for e in gallery()}
    assert list(entries) == list(SUPPORTED_MODELS)
    r18 = entries["resnet18"]
    assert (r18.parameters, r18.weights, r18.classes, r18.cached) == (11_689_512, "IMAGENET1K_V1", 1000, False)
    assert r18.parameters == sum(p.numel() for p in torchvision.models.resnet18().parameters())
    assert "45 MB download" in r18.describe()
    cached = tmp_path / "hub" / "checkpoints" / torchvision.models.ResNet18_Weights.DEFAULT.url.rsplit("/", 1)[-1]
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"stand-in")
    assert {e.name: e for e in gallery()}["resnet18"].describe().endswith("weights cached")


def test_channel_pruning_refuses_the_grouped_convolutions_of_an_imported_mobilenet(tmp_path: Path) -> None:
    from workbench.export.prune import channel_prune

    result = import_torchvision("mobilenet_v3_small", tmp_path / "m.json", input_size=64)
    project = load_project(result.project_path)
    with pytest.raises(ExportError, match=r"does not support grouped convolutions yet \('features_1_block_0_0' and 10 more\)"):
        channel_prune(build_model(project.graph), project.graph, 0.3)
