"""`resize_shorter`: the shorter side scaled to a length, the aspect ratio kept — the resize that
torchvision's pretrained weights expect before their center crop — in training, in an imported
project and in serving."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from workbench.data import DatasetSpec, load_dataset
from workbench.data.transforms import build_pipeline, parse_transforms, shorter_side_size
from workbench.serve.inputs import _shorter_side_size as _serve_shorter_side_size
from workbench.errors import DataError
from workbench.serve.card import ModelCard
from workbench.serve.inputs import image_sample


def _image(height: int, width: int, seed: int = 0) -> torch.Tensor:
    """A (3, H, W) uint8 image with structure at every scale (a ramp plus noise)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 200, width)[None, :] + np.linspace(0, 50, height)[:, None]
    pixels = np.clip(ramp[None] + rng.integers(0, 40, (3, height, width)), 0, 255).astype(np.uint8)
    return torch.from_numpy(pixels)


@pytest.mark.parametrize(("height", "width"), [(30, 40), (40, 30), (37, 37), (21, 64), (199, 101)])
def test_the_shorter_side_becomes_the_size_as_in_torchvision(height: int, width: int) -> None:
    from torchvision.transforms import v2

    expected = v2.Resize(24, antialias=True)(_image(height, width)).shape[1:]
    assert shorter_side_size(height, width, 24) == tuple(expected)
    assert _serve_shorter_side_size(height, width, 24) == tuple(expected)  # the server's own copy
    pipeline = build_pipeline(parse_transforms([{"type": "resize_shorter", "size": 24}], "t"),
                              train=False, resize=None, mean=None, std=None)
    assert tuple(pipeline(_image(height, width)).shape[1:]) == tuple(expected)
    assert min(expected) == 24  # not a square: the aspect ratio is kept


def test_entries_check_and_round_trip() -> None:
    [entry] = parse_transforms([{"type": "resize_shorter", "size": 232}], "t")
    assert entry.to_dict() == {"type": "resize_shorter", "size": 232, "interpolation": "bilinear"}
    assert parse_transforms([entry.to_dict()], "again")[0] == entry
    with pytest.raises(DataError, match="'size' must be an integer from 1 to 8192, got \\[256, 256\\]"):
        parse_transforms([{"type": "resize_shorter", "size": [256, 256]}], "t")
    with pytest.raises(DataError, match="'interpolation' must be one of 'bilinear', 'bicubic'"):
        parse_transforms([{"type": "resize_shorter", "size": 256, "interpolation": "nearest"}], "t")


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_b0"])
def test_imported_preprocessing_equals_the_weights_own_transforms(name: str) -> None:
    """The entries an import writes do to a non-square image what torchvision's weights do."""
    import torchvision

    from workbench.model_import.torchvision_models import _transforms

    published = torchvision.models.get_model_weights(name).DEFAULT
    entries = parse_transforms(_transforms(published), "import")
    assert [e.type for e in entries] == ["resize_shorter", "center_crop", "normalize"]
    mean, std = entries[2].params["mean"], entries[2].params["std"]
    ours = build_pipeline(entries, train=False, resize=None, mean=mean, std=std)
    image = _image(300, 450)  # landscape: a square resize would squash it
    theirs = published.transforms()(image)
    mine = ours(image)
    assert mine.shape == theirs.shape == (3, 224, 224)
    assert float((mine - theirs).abs().max()) < 0.05  # uint8 rounding of the resized pixels
    squashed = build_pipeline(parse_transforms([{"type": "resize", "size": [256, 256]}, *_transforms(published)[1:]],
                                               "old"), train=False, resize=None, mean=mean, std=std)(image)
    assert float((squashed - theirs).abs().mean()) > 10 * float((mine - theirs).abs().mean())


def test_an_image_folder_of_mixed_shapes_loads_through_resize_shorter_and_crop(tmp_path) -> None:
    for label, shapes in (("cat", [(30, 40), (40, 30), (33, 33)]), ("dog", [(50, 36), (36, 50), (40, 40)])):
        (tmp_path / label).mkdir()
        for i, (h, w) in enumerate(shapes):
            Image.fromarray(_image(h, w, i).permute(1, 2, 0).numpy()).save(tmp_path / label / f"{i}.png")
    bundle = load_dataset(DatasetSpec("images", str(tmp_path), {"transforms": [
        {"type": "resize_shorter", "size": 20}, {"type": "center_crop", "size": [16, 16]}]}))
    assert bundle.input_shape == (3, 16, 16)
    assert {tuple(bundle.train[i][0].shape) for i in range(len(bundle.train))} == {(3, 16, 16)}
    steps = bundle.encoding["preprocessing"]["steps"]
    assert steps[0] == {"type": "resize_shorter", "size": 20, "interpolation": "bilinear"}


def test_serving_applies_resize_shorter_as_training_did() -> None:
    image = _image(30, 45)
    buffer = io.BytesIO()
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(buffer, format="PNG")
    steps = [{"type": "resize_shorter", "size": 20, "interpolation": "bilinear"},
             {"type": "center_crop", "size": [16, 16]}]
    card = ModelCard(task="classification", loss="cross_entropy", input_shape=(3, 16, 16), input_dtype="float32",
                     kind="image", class_names=["a", "b"],
                     preprocessing={"channels": 3, "steps": steps, "mean": [0.0] * 3, "std": [1.0] * 3})
    served = image_sample(card, {"image": base64.b64encode(buffer.getvalue()).decode()}, "instances[0]")
    trained = build_pipeline(parse_transforms(steps, "t"), train=False, resize=None, mean=None, std=None)(image)
    assert served.shape == (3, 16, 16)
    assert float(np.abs(served - trained.numpy()).max()) < 0.03  # Pillow's and torchvision's rounding
