"""The data preview: real class counts and samples from files written here, and each warning
triggered by a dataset made to have that problem (and absent from a balanced one)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from workbench.data import DatasetSpec
from workbench.data.preview import IMAGES_PER_CLASS, PREVIEW_ROWS, TEXT_EXCERPT, preview_dataset
from workbench.errors import DataError


def write_csv(path: Path, labels: list[str], unit: str | None = None, seed: int = 0) -> Path:
    """A table with two varying features (one numeric, one text), an optional constant column."""
    rng = np.random.default_rng(seed)
    header = ["size", "colour", *(["unit"] if unit is not None else []), "label"]
    lines = [",".join(header)]
    for i, label in enumerate(labels):
        cells = [f"{rng.normal():.3f}", ["red", "green", "blue"][i % 3], *([unit] if unit is not None else []), label]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def csv_preview(tmp_path: Path, labels: list[str], val_fraction: float = 0.2, **kwargs: object):  # noqa: ANN201
    write_csv(tmp_path / "data.csv", labels, **kwargs)  # type: ignore[arg-type]
    return preview_dataset(DatasetSpec("csv", "data.csv", val_fraction=val_fraction), tmp_path)


def test_csv_counts_rows_and_no_warnings_when_balanced(tmp_path: Path) -> None:
    p = csv_preview(tmp_path, ["a", "b"] * 50)
    assert (p.kind, p.task, p.train_size, p.val_size) == ("table", "classification", 80, 20)
    assert p.class_names == ["a", "b"]
    assert p.train_counts == [40, 40] and p.val_counts == [10, 10]  # stratified: each class keeps its share
    assert p.header == ["size", "colour", "label"] and p.target_column == "label"
    assert len(p.rows) == PREVIEW_ROWS
    text = (tmp_path / "data.csv").read_text().splitlines()
    assert p.rows[0] == text[1].split(",")  # cells as written in the file
    assert p.row_labels[:2] == ["2", "3"]  # line numbers, the header being line 1
    assert p.constant_columns == []
    assert p.warnings == []


def test_class_imbalance_is_warned_from_a_ratio_of_three(tmp_path: Path) -> None:
    p = csv_preview(tmp_path, ["a"] * 80 + ["b"] * 20)
    assert p.train_counts == [64, 16]
    assert len(p.warnings) == 1 and "class imbalance" in p.warnings[0]
    assert "'a' has 64" in p.warnings[0] and "'b' only 16" in p.warnings[0] and "4x" in p.warnings[0]
    # 2:1 is not flagged.
    assert csv_preview(tmp_path, ["a", "a", "b"] * 40).warnings == []


def test_tiny_class_and_class_without_validation_samples(tmp_path: Path) -> None:
    p = csv_preview(tmp_path, ["a", "b"] * 60 + ["c"] * 4)
    counts = dict(zip(p.class_names, zip(p.train_counts, p.val_counts)))
    assert sum(counts["c"]) == 4 and counts["c"][0] <= 5
    assert any("tiny class" in w and "'c'" in w for w in p.warnings)
    assert sum(p.train_counts) == p.train_size and sum(p.val_counts) == p.val_size

    x = np.arange(60, dtype=np.float32).reshape(30, 2)
    y = np.array([0, 1, 2] * 10)
    np.savez(tmp_path / "split.npz", X=x, y=y, X_val=x[:20], y_val=np.array([0, 1] * 10))
    p = preview_dataset(DatasetSpec("npz", "split.npz"), tmp_path)
    assert p.val_counts == [10, 10, 0]
    assert any("'2' have no validation samples" in w for w in p.warnings)


def test_constant_columns_in_a_table(tmp_path: Path) -> None:
    p = csv_preview(tmp_path, ["a", "b"] * 50, unit="kg")
    assert p.constant_columns == ["unit"]
    assert any("'unit'" in w and "ignore: ['unit']" in w for w in p.warnings)
    # The same number written two ways is still one value.
    path = tmp_path / "numbers.csv"
    path.write_text("k,v,label\n" + "".join(f"{'1' if i % 2 else '1.0'},{i},{'xy'[i % 2]}\n" for i in range(100)))
    p = preview_dataset(DatasetSpec("csv", str(path)))
    assert p.constant_columns == ["k"]


def test_small_validation_part_is_warned(tmp_path: Path) -> None:
    p = csv_preview(tmp_path, ["a", "b"] * 50, val_fraction=0.1)
    assert p.val_size == 10
    assert p.warnings == ["only 10 validation samples (validation share 0.1): each one moves validation accuracy "
                          "by 10 points; raise the validation share or add data"]


def test_image_folder_samples_are_the_files_pixels(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    images = {name: rng.integers(0, 256, size=(10, 6, 5, 3), dtype=np.uint8) for name in ("cat", "dog")}
    for name, stack in images.items():
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i, img in enumerate(stack):
            Image.fromarray(img).save(tmp_path / "pets" / name / f"{i:02d}.png")
    (tmp_path / "pets" / "empty").mkdir()  # the reader leaves it out, with a logged warning
    p = preview_dataset(DatasetSpec("images", "pets", val_fraction=0.2), tmp_path)
    assert (p.kind, p.input_shape, p.class_names) == ("images", (3, 6, 5), ["cat", "dog"])
    assert p.train_counts == [8, 8] and p.val_counts == [2, 2]
    assert [s.label for s in p.images] == ["cat"] * 8 + ["dog"] * 8
    # Un-standardised back to the file's pixels (the training split keeps file order).
    shown = np.stack([s.pixels for s in p.images[:8]]).astype(int)
    originals = images["cat"].astype(int)
    assert any(np.abs(shown[0] - originals[i]).max() <= 1 for i in range(10))
    assert all(s.pixels.dtype == np.uint8 and s.pixels.shape == (6, 5, 3) for s in p.images)
    assert p.augmented == []  # no augmentation declared
    # With one: the two classes' first images, drawn 4 times each by the training transforms.
    flipped = preview_dataset(DatasetSpec("images", "pets", {"transforms": [{"type": "horizontal_flip", "p": 1.0}]}), tmp_path)
    assert [s.label for s in flipped.augmented] == ["cat"] * 4 + ["dog"] * 4
    assert all(np.abs(s.pixels.astype(int) - flipped.images[0].pixels[:, ::-1].astype(int)).max() <= 1
               for s in flipped.augmented[:4])
    assert any("'empty' has no images" in w for w in p.warnings)


def test_npz_counts_and_constant_features(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 4)).astype(np.float32)
    x[:, 2] = 7.0
    y = np.array(["no", "yes"] * 50)
    np.savez(tmp_path / "d.npz", X=x, y=y)
    p = preview_dataset(DatasetSpec("npz", str(tmp_path / "d.npz")))
    assert (p.kind, p.class_names, p.train_counts, p.val_counts) == ("arrays", ["no", "yes"], [40, 40], [10, 10])
    assert p.header == ["x0", "x1", "x2", "x3", "y"]
    assert p.rows[0][2] == "7"  # in the file's units, not standardised
    assert p.constant_columns == ["x2"]
    assert any("'x2' of X are constant" in w for w in p.warnings)


def test_text_file_excerpt_and_vocabulary(tmp_path: Path) -> None:
    text = "".join(f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(400))
    (tmp_path / "t.txt").write_text(text, encoding="utf-8")
    p = preview_dataset(DatasetSpec("textfile", "t.txt", options={"seq_len": 32}), tmp_path)
    assert (p.kind, p.task) == ("text", "language_model")
    assert p.text_excerpt == text[:TEXT_EXCERPT]
    assert p.vocab_size == len(set(text))
    assert p.train_size == (round(len(text) * 0.8) - 1) // 32
    assert p.class_names == [] and p.warnings == []


def test_digits_builtin_counts_sum_to_the_sizes() -> None:
    p = preview_dataset(DatasetSpec("digits"))
    assert (p.kind, p.num_classes, p.path) == ("images", 10, None)
    assert sum(p.train_counts) == p.train_size == 1437 and sum(p.val_counts) == p.val_size == 360
    assert len(p.images) == 10 * IMAGES_PER_CLASS
    assert p.images[0].pixels.shape == (8, 8) and p.images[0].pixels.max() == 255  # ink 16/16 is white
    assert p.warnings == []


def test_regression_has_a_target_range_and_no_classes() -> None:
    p = preview_dataset(DatasetSpec("regression"))
    assert (p.kind, p.task, p.class_names) == ("arrays", "regression", [])
    assert p.target_range is not None and 0.0 < p.target_range[0] < p.target_range[1] < 40.0
    assert len(p.header) == 11 and len(p.rows) == PREVIEW_ROWS


@pytest.mark.parametrize("content, expected", [
    (b"a,b,label\n1,2,x\n3,4\n", "row 3 has 2 fields"),
    (b"", "is empty"),
])
def test_reader_errors_come_through_as_data_errors(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "bad.csv").write_bytes(content)
    with pytest.raises(DataError, match=expected) as info:
        preview_dataset(DatasetSpec("csv", "bad.csv"), tmp_path)
    assert str(tmp_path / "bad.csv") in str(info.value)
    with pytest.raises(DataError, match="not found"):
        preview_dataset(DatasetSpec("images", "nowhere"), tmp_path)
