"""PyTorch formats: safetensors weights round-trip, and the .pt2 program runs at any batch size."""

from __future__ import annotations

import torch

from workbench.export import export_program, load_safetensors, save_safetensors
from workbench.export.onnx_export import reference_outputs
from workbench.export.torch_formats import program_parity
from workbench.graph.builder import build_model


def test_safetensors_round_trip_with_metadata(kit, tmp_path) -> None:
    from safetensors import safe_open

    model = build_model(kit.cnn_graph(), seed=3)
    path = save_safetensors(model, tmp_path / "w.safetensors", {"project_name": "cnn"})
    fresh = load_safetensors(build_model(kit.cnn_graph(), seed=9), path)
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    with safe_open(str(path), "pt") as f:
        assert f.metadata()["project_name"] == "cnn"
        assert "conv1.weight" in f.keys()  # parameter names follow the node names


def test_pt2_program_loads_and_matches(kit, tmp_path) -> None:
    model = build_model(kit.gpt_graph(), seed=2)
    x = torch.randint(0, 12, (3, 16))
    path = export_program(model, tmp_path / "m.pt2", x[:2])
    assert program_parity(path, reference_outputs(model, x), x) <= 1e-5  # batch 3: the axis stayed dynamic
