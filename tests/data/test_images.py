"""Image data: every format decoded by the libraries, every layout, transforms, lazy loading, errors.

Images are written by Pillow from known pixels, so each test compares decoded values, not just shapes.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from workbench.data import DatasetSpec, load_dataset
from workbench.data.image_decode import ImageDecodeError, decode_bytes, read_header
from workbench.data.images import ImageFileDataset
from workbench.data.progress import listening
from workbench.data.transforms import TRANSFORMS, parse_transforms
from workbench.errors import DataError
from workbench.project import dumps_project, load_project, save_project

RNG = np.random.default_rng(0)


def encode(pixels: np.ndarray, fmt: str, **save: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt, **save)
    return out.getvalue()


def load(path: Path, **options: object):  # noqa: ANN201
    return load_dataset(DatasetSpec("images", str(path), dict(options)))


def error(path: Path, **options: object) -> str:
    with pytest.raises(DataError) as err:
        load(path, **options)
    return str(err.value)


def class_folders(root: Path, n_per_class: int = 6, size: tuple[int, int] = (6, 5), fmt: str = "PNG",
                  classes: tuple[str, ...] = ("cat", "dog"), rgb: bool = True) -> dict[str, np.ndarray]:
    """Random images per class, written as files; returns the pixels by file name."""
    suffix = {"PNG": "png", "JPEG": "jpg", "BMP": "bmp", "WEBP": "webp", "GIF": "gif", "TIFF": "tif"}[fmt]
    written = {}
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            shape = (*size, 3) if rgb else size
            pixels = RNG.integers(0, 256, size=shape, dtype=np.uint8)
            (root / name / f"{i}.{suffix}").write_bytes(encode(pixels, fmt))
            written[f"{name}/{i}.{suffix}"] = pixels
    return written


# ----------------------------------------------------------------------------------- decoding

@pytest.mark.parametrize("fmt", ["PNG", "BMP", "WEBP", "TIFF"])
def test_lossless_formats_decode_to_their_exact_pixels(fmt: str) -> None:
    pixels = RNG.integers(0, 256, size=(7, 9, 3), dtype=np.uint8)
    save = {"lossless": True} if fmt == "WEBP" else {}
    image = decode_bytes(encode(pixels, fmt, **save), channels=3)
    assert image.dtype == torch.uint8 and tuple(image.shape) == (3, 7, 9)
    assert np.array_equal(image.permute(1, 2, 0).numpy(), pixels)


def test_jpeg_decodes_close_to_its_pixels() -> None:
    pixels = np.tile(np.linspace(0, 255, 16, dtype=np.uint8), (16, 1))
    rgb = np.stack([pixels, pixels.T, 255 - pixels], axis=-1)
    image = decode_bytes(encode(rgb, "JPEG", quality=95), channels=3)
    assert tuple(image.shape) == (3, 16, 16)
    assert np.abs(image.permute(1, 2, 0).numpy().astype(int) - rgb.astype(int)).mean() < 4


def test_png_of_16_bits_keeps_its_depth() -> None:
    pixels = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000).astype(np.uint16)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")  # uint16: mode I;16
    image = decode_bytes(out.getvalue(), channels=1)
    assert image.dtype == torch.uint16 and tuple(image.shape) == (1, 3, 4)
    assert np.array_equal(image[0].numpy().astype(np.int64), pixels.astype(np.int64))


def test_palette_and_alpha_become_rgb_and_gray_as_asked() -> None:
    palette = Image.fromarray(np.array([[0, 1], [1, 0]], dtype=np.uint8), mode="P")
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    data = io.BytesIO()
    palette.save(data, format="PNG")
    image = decode_bytes(data.getvalue(), channels=3)
    assert image[:, 0, 0].tolist() == [255, 0, 0] and image[:, 0, 1].tolist() == [0, 0, 255]
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., 1] = 200
    rgba[..., 3] = 10  # nearly transparent: alpha is dropped, colour kept
    image = decode_bytes(encode(rgba, "PNG"), channels=3)
    assert image[:, 0, 0].tolist() == [0, 200, 0]
    gray = decode_bytes(encode(rgba, "PNG"), channels=1)
    assert tuple(gray.shape) == (1, 2, 2) and 100 < int(gray[0, 0, 0]) < 140  # ITU-R 601 luma of green


def test_an_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.fromarray(np.full((4, 4), v, dtype=np.uint8), mode="L") for v in (30, 220)]
    data = io.BytesIO()
    frames[0].save(data, format="GIF", save_all=True, append_images=frames[1:])
    image = decode_bytes(data.getvalue(), channels=1)
    assert tuple(image.shape) == (1, 4, 4) and int(image.float().mean()) in range(25, 36)


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\ngarbage",
                                  b"\xff\xd8\xff\xe0" + b"\0" * 30, b"GIF89a\x01"])
def test_broken_bytes_are_a_decode_error(data: bytes) -> None:
    with pytest.raises(ImageDecodeError):
        decode_bytes(data, channels=3)


def test_headers_say_size_and_colour_without_decoding(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(encode(np.zeros((5, 7, 3), np.uint8), "JPEG"))
    (tmp_path / "b.png").write_bytes(encode(np.zeros((3, 2), np.uint8), "PNG"))
    assert (read_header(tmp_path / "a.jpg").height, read_header(tmp_path / "a.jpg").width) == (5, 7)
    assert read_header(tmp_path / "a.jpg").channels == 3 and read_header(tmp_path / "b.png").channels == 1
    (tmp_path / "c.png").write_bytes(b"nope")
    with pytest.raises(ImageDecodeError, match="not an image"):
        read_header(tmp_path / "c.png")


# ----------------------------------------------------------------------------------- layouts

def test_class_folders_are_read_lazily_with_the_files_pixels(tmp_path: Path) -> None:
    written = class_folders(tmp_path / "pets", n_per_class=10)
    (tmp_path / "pets" / "notes.txt").write_text("not an image")
    bundle = load(tmp_path / "pets", cache=False, transforms=[{"type": "normalize", "mean": [0, 0, 0], "std": [1, 1, 1]}])
    assert bundle.class_names == ["cat", "dog"] and bundle.input_shape == (3, 6, 5)
    assert bundle.train_size + bundle.val_size == 20 and bundle.val_size == 4
    train = bundle.train
    assert isinstance(train, ImageFileDataset) and train.cache is None  # only names are held
    for path, label in zip(train.files, train.labels.tolist()):
        x, y = train[train.files.index(path)]
        rel = str(Path(path).relative_to(tmp_path / "pets"))
        assert int(y) == label == ["cat", "dog"].index(rel.split("/")[0])
        assert torch.allclose(x, torch.from_numpy(written[rel]).permute(2, 0, 1).float() / 255)
    assert bundle.encoding["layout"] == "class folders" and bundle.encoding["cached"] is False


def test_a_small_set_is_cached_and_gives_the_same_samples(tmp_path: Path) -> None:
    class_folders(tmp_path / "pets")
    lazy, cached = load(tmp_path / "pets", cache=False), load(tmp_path / "pets")
    assert cached.encoding["cached"] is True and cached.train.cache is not None
    assert lazy.normalization == cached.normalization
    for i in range(len(lazy.val)):
        assert torch.equal(lazy.val[i][0], cached.val[i][0])


def test_pre_split_folders_keep_their_split(tmp_path: Path) -> None:
    class_folders(tmp_path / "set" / "train", n_per_class=5)
    class_folders(tmp_path / "set" / "valid", n_per_class=2)
    class_folders(tmp_path / "set" / "test", n_per_class=3)
    bundle = load(tmp_path / "set")
    assert (bundle.train_size, bundle.val_size) == (10, 4)
    assert all("/train/" in f for f in bundle.train.files) and all("/valid/" in f for f in bundle.val.files)
    assert bundle.encoding["layout"] == "pre-split folders"
    (tmp_path / "set" / "valid" / "bird").mkdir()
    (tmp_path / "set" / "valid" / "bird" / "x.png").write_bytes(encode(np.zeros((6, 5, 3), np.uint8), "PNG"))
    assert "bird" in error(tmp_path / "set") and "train" in error(tmp_path / "set")


def test_a_manifest_lists_files_labels_and_splits(tmp_path: Path) -> None:
    written = class_folders(tmp_path / "img", n_per_class=4)
    rows = ["path,label,split"] + [f"img/{name},{name.split('/')[0]},{'val' if name.endswith('0.png') else 'train'}"
                                   for name in written]
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    bundle = load(tmp_path / "list.csv")
    assert bundle.class_names == ["cat", "dog"] and (bundle.train_size, bundle.val_size) == (6, 2)
    (tmp_path / "bad.csv").write_text("path,label\nimg/missing.png,cat\n")
    assert "line 2" in error(tmp_path / "bad.csv") and "missing.png" in error(tmp_path / "bad.csv")
    (tmp_path / "cols.csv").write_text("file_name,y\n")
    assert "path column" in error(tmp_path / "cols.csv")


def test_a_wrong_layout_shows_the_expected_trees(tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "x.png").write_bytes(encode(np.zeros((4, 4), np.uint8), "PNG"))
    message = error(flat)
    assert "no class sub-folders (1 images lie directly in it)" in message
    assert "train/cats/a.jpg" in message and "path,label,split" in message
    only_train = tmp_path / "split"
    class_folders(only_train / "train")
    assert "no 'val'" in error(only_train)
    assert "does not exist" in error(tmp_path / "nowhere") or "not found" in error(tmp_path / "nowhere")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "WEBP", "GIF", "TIFF"])
def test_every_format_loads_as_a_folder(tmp_path: Path, fmt: str) -> None:
    class_folders(tmp_path / fmt, n_per_class=3, fmt=fmt, rgb=fmt != "GIF")
    bundle = load(tmp_path / fmt)
    x, _ = bundle.train[0]
    assert x.dtype == torch.float32 and tuple(x.shape) == bundle.input_shape
    assert bundle.input_shape == ((1, 6, 5) if fmt == "GIF" else (3, 6, 5))


# ----------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("cache", [True, False])
def test_a_corrupt_file_is_named_or_skipped_and_counted(tmp_path: Path, cache: bool) -> None:
    class_folders(tmp_path / "pets", n_per_class=6)
    good = (tmp_path / "pets" / "cat" / "0.png").read_bytes()
    (tmp_path / "pets" / "cat" / "zz_bad.png").write_bytes(b"\x89PNG\r\n\x1a\ngarbage")
    (tmp_path / "pets" / "dog" / "zz_trunc.png").write_bytes(good[:60])  # header fine, pixels cut off
    message = error(tmp_path / "pets", cache=cache)
    assert "zz_bad.png" in message and "on_error" in message
    bundle = load(tmp_path / "pets", on_error="skip", cache=cache)
    assert "zz_bad.png" in " ".join(bundle.encoding["skipped"])
    if cache:  # every image was decoded: the truncated one is found and counted too
        assert sorted(bundle.encoding["skipped"]) == [str(Path("cat/zz_bad.png")), str(Path("dog/zz_trunc.png"))]
        assert bundle.train_size + bundle.val_size == 12
    else:  # found when its batch comes: replaced by the next readable image
        items = [bundle.train[i] for i in range(len(bundle.train))] + [bundle.val[i] for i in range(len(bundle.val))]
        assert len(items) == 13 and all(x.shape == (3, 6, 5) for x, _ in items)


def test_mixed_sizes_need_a_size_or_a_resize(tmp_path: Path) -> None:
    for i, name in enumerate(("cat", "dog")):
        (tmp_path / name).mkdir()
        for j in range(3):
            (tmp_path / name / f"{j}.png").write_bytes(encode(np.zeros((10 + i, 9, 3), np.uint8), "PNG"))
    message = error(tmp_path)
    assert "differ in size" in message and "--image-size" in message
    assert load(tmp_path, size=[8, 8]).input_shape == (3, 8, 8)
    assert load(tmp_path, transforms=[{"type": "resize", "size": [4, 6]}]).input_shape == (3, 4, 6)


def test_bad_options_name_the_option(tmp_path: Path) -> None:
    class_folders(tmp_path / "pets")
    assert "channels" in error(tmp_path / "pets", channels=2)
    assert "augment" in error(tmp_path / "pets", augment="rotate")
    assert "transforms[0]" in error(tmp_path / "pets", transforms=[{"type": "sharpen"}])
    assert "'p' must be a number from 0 to 1" in error(tmp_path / "pets", transforms=[{"type": "horizontal_flip", "p": 3}])
    assert "no parameter 'sise'" in error(tmp_path / "pets", transforms=[{"type": "resize", "sise": [2, 2]}])
    assert "one value per channel" in error(tmp_path / "pets", transforms=[{"type": "normalize", "mean": [0.5], "std": [0.2]}])


# ----------------------------------------------------------------------------------- transforms

def test_augmentation_is_random_on_train_and_absent_on_validation(tmp_path: Path) -> None:
    class_folders(tmp_path / "pets", n_per_class=10, size=(12, 12))
    bundle = load(tmp_path / "pets", transforms=[{"type": "random_resized_crop", "size": [8, 8], "scale": [0.3, 0.6]},
                                                 {"type": "horizontal_flip"}])
    assert bundle.input_shape == (3, 8, 8)
    torch.manual_seed(0)
    draws = [bundle.train[0][0] for _ in range(4)]
    assert any(not torch.equal(draws[0], d) for d in draws[1:])
    assert torch.equal(bundle.val[0][0], bundle.val[0][0])


def test_older_augment_option_still_loads(tmp_path: Path) -> None:
    class_folders(tmp_path / "pets", n_per_class=5)
    bundle = load(tmp_path / "pets", augment=True, size=[8, 8])
    assert bundle.input_shape == (3, 8, 8)
    kinds = [type(t).__name__ for t in bundle.train.pipeline.transforms]
    assert "RandomHorizontalFlip" in kinds and "RandomAffine" in kinds
    assert "RandomHorizontalFlip" not in [type(t).__name__ for t in bundle.val.pipeline.transforms]


def test_given_normalization_is_used_and_measured_otherwise(tmp_path: Path) -> None:
    class_folders(tmp_path / "pets", n_per_class=8)
    measured = load(tmp_path / "pets")
    pixels = torch.stack([measured.train.decoded(i).float() / 255 for i in range(len(measured.train))])
    assert np.allclose(measured.normalization["mean"], pixels.mean(dim=(0, 2, 3)).tolist(), atol=1e-4)
    given = load(tmp_path / "pets", transforms=[{"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}])
    assert given.normalization == {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    raw = given.val.decoded(0).float() / 255
    assert torch.allclose(given.val[0][0], (raw - 0.5) / 0.25, atol=1e-6)
    record = given.encoding["preprocessing"]
    assert record["mean"] == [0.5, 0.5, 0.5] and record["color"] == "rgb"


def test_transforms_round_trip_through_the_project_file(tmp_path: Path) -> None:
    from workbench.presets import load_preset

    project = load_preset("digits-cnn")
    entries = [{"type": name, **({"size": [8, 8]} if name in ("resize", "center_crop", "random_resized_crop") else {})}
               for name in TRANSFORMS if name != "normalize"]
    entries.append({"type": "normalize", "mean": [0.5], "std": [0.2]})
    checked = [e.to_dict() for e in parse_transforms(entries, "test")]
    project.dataset = DatasetSpec("images", "pets", {"transforms": checked, "size": [8, 8]})
    path = save_project(project, tmp_path / "p.json")
    again = load_project(path)
    assert again.dataset.options["transforms"] == checked
    assert dumps_project(again) == dumps_project(project)
    assert [e.to_dict() for e in parse_transforms(json.loads(json.dumps(checked)), "again")] == checked


def test_scanning_reports_progress(tmp_path: Path) -> None:
    class_folders(tmp_path / "pets", n_per_class=5)
    reports = []
    with listening(reports.append):
        load(tmp_path / "pets")
    stages = {r.stage for r in reports}
    assert {"checking images", "decoding images"} <= stages
    final = [r for r in reports if r.stage == "checking images"][-1]
    assert (final.done, final.total) == (10, 10) and "10 / 10" in final.text()


# ----------------------------------------------------------------------------------- training

@pytest.mark.slow
def test_the_cnn_preset_trains_on_a_folder_of_rgb_jpegs(tmp_path: Path) -> None:
    """`workbench train digits-cnn --data FOLDER_OF_RGB_JPEGS --image-size 16 16`: the Input follows
    the folder (3×16×16) without editing the drawing, and it learns the digits."""
    from workbench.cli import main
    from workbench.data.builtin import digits_arrays

    x, y = digits_arrays()
    for i, (pixels, label) in enumerate(zip(x.reshape(-1, 8, 8), y)):
        gray = (pixels * 255 / 16).astype(np.uint8)
        rgb = np.stack([gray, 255 - gray, gray // 2], axis=-1)  # colour that still carries the digit
        (tmp_path / "digits" / f"d{label}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb).save(tmp_path / "digits" / f"d{label}" / f"{i}.jpg", quality=95)
    out = tmp_path / "run"
    assert main(["train", "digits-cnn", "--data", str(tmp_path / "digits"), "--image-size", "16", "16",
                 "--epochs", "3", "--out", str(out), "--quiet"]) == 0
    data = json.loads((out / "data.json").read_text())
    assert data["input_shape"] == [3, 16, 16] and data["class_names"][:2] == ["d0", "d1"]
    trained = json.loads((out / "project.json").read_text())["graph"]["nodes"][0]["params"]
    assert trained == {"kind": "image", "shape": [3, 16, 16]}
    assert json.loads((out / "summary.json").read_text())["val_accuracy"] >= 0.9


def test_a_project_on_its_own_image_folder_fits_its_input(tmp_path: Path) -> None:
    from workbench.presets import load_preset
    from workbench.runs import prepare_run

    class_folders(tmp_path / "pets", n_per_class=6, size=(12, 12))
    project = load_preset("digits-cnn")  # drawn for 1×8×8 digits, 10 classes
    project.dataset = DatasetSpec("images", str(tmp_path / "pets"))
    project.graph.set_param(project.graph.node_by_name("head").id, "out_features", 2)
    prepared = prepare_run(project)
    assert prepared.changes == ["Input 'digits' now takes image 3×12×12"]
    x, _ = prepared.data.train[0]
    assert prepared.model(x[None]).shape == (1, 2)
