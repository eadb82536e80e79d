"""A project that reads the user's data but names none — an imported pretrained model reads
images and has no folder until the user picks one — says "choose your image folder" in the core
and, naming `--data`, in `workbench train`."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli import main
from workbench.data import DatasetSpec, load_dataset
from workbench.data.paths import data_to_choose
from workbench.errors import DataError
from workbench.presets import load_preset
from workbench.project import save_project


def imported_like(tmp_path: Path, source: str = "images") -> Path:
    """A project as `workbench import torchvision:…` writes it: a reader as its source, no path."""
    project = load_preset("digits-cnn")
    project.dataset = DatasetSpec(source=source)
    return save_project(project, tmp_path / "imported.json")


def test_what_is_still_to_choose() -> None:
    assert data_to_choose(DatasetSpec(source="images")) == "image folder"
    assert data_to_choose(DatasetSpec(source="csv")) == "data file"
    assert data_to_choose(DatasetSpec(source="images", path="photos")) is None
    assert data_to_choose(DatasetSpec(source="digits")) is None  # built in: nothing to choose


def test_loading_says_choose_your_image_folder() -> None:
    with pytest.raises(DataError, match="^choose your image folder: data source 'images' reads a folder or "
                                        "manifest and the project names none yet"):
        load_dataset(DatasetSpec(source="images"))


def test_train_names_the_data_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = imported_like(tmp_path)
    assert main(["train", str(project), "--epochs", "1", "--out", str(tmp_path / "run")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"workbench: error: {project}: choose your image folder: the project names no data yet — add "
                   f"--data FOLDER (one sub-folder of images per class), e.g. workbench train {project} --data photos/"]
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_train_names_the_data_flag_for_a_file_reader_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = imported_like(tmp_path, source="csv")
    assert main(["train", str(project), "--epochs", "1", "--out", str(tmp_path / "run")]) != 0
    assert "choose your data file: the project's 'csv' data has no path yet — add --data FILE" in capsys.readouterr().err


@pytest.mark.slow
def test_train_with_data_given_goes_past_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np
    from PIL import Image

    for label in ("cat", "dog"):
        (tmp_path / "photos" / label).mkdir(parents=True)
        for i in range(4):
            pixels = np.full((8, 8), 40 * i + (120 if label == "dog" else 0), np.uint8)
            Image.fromarray(pixels).save(tmp_path / "photos" / label / f"{i}.png")
    project = imported_like(tmp_path)
    code = main(["train", str(project), "--data", str(tmp_path / "photos"), "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "run"), "--no-estimate"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "run" / "summary.json").is_file()
