"""Fixtures for importing torchvision models: seeded, randomly initialised weights written to files.

Nothing is downloaded: the tests write the weights themselves. Imports of the largest models are
marked `slow` (see tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch




def torchvision_model(name: str, seed: int = 1) -> torch.nn.Module:
    """torchvision's `name`, randomly initialised from `seed`, in eval mode, every layer doing visible work."""
    import torchvision

    torch.manual_seed(seed)
    model = torchvision.models.get_model(name, weights=None).eval()
    with torch.no_grad():
        for module in model.modules():  # fresh BatchNorms are identities: give them statistics to carry
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
        for name, param in model.named_parameters():  # ConvNeXt's branches start scaled by 1e-6: wake them
            if name.endswith("layer_scale"):
                param.uniform_(0.5, 1.0)
    return model


@pytest.fixture
def weights_file(tmp_path: Path):
    """Write a seeded torchvision model's state dict; returns (path, model)."""

    def write(name: str, suffix: str = ".safetensors") -> tuple[Path, torch.nn.Module]:
        model = torchvision_model(name)
        path = tmp_path / f"{name}-random{suffix}"
        if suffix == ".safetensors":
            from safetensors.torch import save_file

            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
        else:
            torch.save(model.state_dict(), path)
        return path, model

    return write
