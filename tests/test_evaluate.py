"""`workbench evaluate`: a trained run scored on held-out data, prepared with the run's own records.

Small runs are trained once per module on data the tests write; every figure of a report is
checked against the same figures computed here by hand from the files, data.json and the model.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from workbench.cli import main
from workbench.runs import load_run

# Each test scores a trained run end to end (the runs take most of a minute to make).
pytestmark = pytest.mark.slow

CLASSES = ("circle", "square", "zebra")
RNG = np.random.default_rng(7)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_images(folder: Path, counts: dict[str, int], size: tuple[int, int] = (10, 12), shift: float = 0.0) -> None:
    """Gray images whose brightness tells the class (with noise, so a small model errs a little)."""
    for name, n in counts.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        k = CLASSES.index(name)
        for i in range(n):
            pixels = np.clip(RNG.normal(60 + 70 * k + shift, 45, size), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / name / f"{i}.png")


def expected_scores(run_dir: Path, files: list[tuple[Path, str]], checkpoint: str = "best") -> dict:
    """Loss, predictions and confusion of the run on `files`, computed here from data.json by hand."""
    run = load_run(run_dir, checkpoint)
    info = json.loads((run_dir / "data.json").read_text())
    mean, std = info["normalization"]["mean"][0], info["normalization"]["std"][0]
    x = torch.stack([torch.from_numpy((np.asarray(Image.open(f), dtype=np.float64) / 255 - mean) / std).float()[None]
                     for f, _ in files])
    y = torch.tensor([info["class_names"].index(name) for _, name in files])
    with torch.no_grad():
        logits = run.model(x)
    k = len(info["class_names"])
    predicted = logits.argmax(-1)
    confusion = torch.bincount(y * k + predicted, minlength=k * k).reshape(k, k)
    return {"loss": float(F.cross_entropy(logits, y)), "confusion": confusion.tolist(),
            "accuracy": float((predicted == y).float().mean())}


def listed(folder: Path) -> list[tuple[Path, str]]:
    return [(f, f.parent.name) for name in sorted(p.name for p in folder.iterdir()) for f in sorted((folder / name).glob("*.png"))]


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(run folder, its data): a pre-split folder with a test/ part the run never trained on."""
    root = tmp_path_factory.mktemp("images")
    data = root / "shapes"
    write_images(data / "train", {c: 24 for c in CLASSES})
    write_images(data / "val", {c: 6 for c in CLASSES})
    write_images(data / "test", {"circle": 5, "square": 7, "zebra": 4})
    out = root / "run"
    assert main(["train", "digits-mlp", "--data", str(data), "--epochs", "3", "--out", str(out), "--quiet"]) == 0
    return out, data


# ----------------------------------------------------------------------------------- images

def test_the_test_part_is_scored_with_the_runs_own_preprocessing(capsys, image_run, tmp_path: Path) -> None:
    run_dir, data = image_run
    out = tmp_path / "eval"
    code, stdout, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(data), "--out", str(out))
    assert code == 0, err
    report = json.loads((out / "evaluation.json").read_text())
    want = expected_scores(run_dir, listed(data / "test"))
    assert report["samples"] == 16 and report["task"] == "classification"
    assert report["loss"] == pytest.approx(want["loss"], abs=1e-5)
    assert report["confusion_matrix"]["matrix"] == want["confusion"]
    assert report["accuracy"] == pytest.approx(want["accuracy"])
    assert report["class_names"] == list(CLASSES) and report["checkpoint"] == "best.pt"
    assert "its test part" in report["data_description"]
    matrix = np.asarray(want["confusion"])
    for i, row in enumerate(report["per_class"]):
        hits, support, predicted = matrix[i, i], matrix[i].sum(), matrix[:, i].sum()
        assert row["class"] == CLASSES[i] and row["support"] == support
        assert row["recall"] == pytest.approx(hits / support)
        assert row["precision"] == (pytest.approx(hits / predicted) if predicted else None)
        assert row["f1"] == pytest.approx(2 * hits / (support + predicted))
    # the terminal: the headline, the per-class table and where the report is
    lines = stdout.splitlines()
    assert f"accuracy {want['accuracy']:.4f} on 16 samples" in stdout
    assert lines[2].split() == ["class", "precision", "recall", "F1", "support"]
    assert lines[4].split()[0] == "circle" and lines[4].split()[-1] == "5"
    assert lines[-1] == f"report: {out / 'evaluation.md'}"
    markdown = (out / "evaluation.md").read_text()
    assert "| class | precision | recall | F1 | support |" in markdown
    assert "| true \\ predicted | circle | square | zebra |" in markdown
    assert f"| square | {' | '.join(str(v) for v in want['confusion'][1])} |" in markdown


def test_brighter_data_is_not_renormalised(capsys, image_run, tmp_path: Path) -> None:
    run_dir, _ = image_run
    data = tmp_path / "bright"
    write_images(data, {c: 4 for c in CLASSES}, shift=60.0)  # class folders, another brightness
    code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(data), "--out", str(tmp_path / "e"))
    assert code == 0, err
    report = json.loads((tmp_path / "e" / "evaluation.json").read_text())
    want = expected_scores(run_dir, listed(data))
    assert report["loss"] == pytest.approx(want["loss"], abs=1e-5)
    assert report["confusion_matrix"]["matrix"] == want["confusion"]
    assert report["data_description"] == "12 images of 3 classes (class folders)"


def test_without_a_test_part_the_val_part_is_scored_and_flagged(capsys, image_run, tmp_path: Path) -> None:
    run_dir, data = image_run
    copy = tmp_path / "shapes"
    shutil.copytree(data, copy, ignore=shutil.ignore_patterns("test"))
    code, stdout, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(copy), "--out", str(tmp_path / "e"))
    assert code == 0, err
    report = json.loads((tmp_path / "e" / "evaluation.json").read_text())
    assert report["samples"] == 18 and "its val part" in report["data_description"]
    assert report["confusion_matrix"]["matrix"] == expected_scores(run_dir, listed(copy / "val"))["confusion"]
    assert not any("validation images" in n for n in report["notes"])  # another folder than the run's own
    code, stdout, _ = run_cli(capsys, "evaluate", str(run_dir), "--data", str(data / "val"), "--out", str(tmp_path / "v"))
    assert code == 0 and json.loads((tmp_path / "v" / "evaluation.json").read_text())["samples"] == 18


def test_a_manifest_scores_its_test_rows(capsys, image_run, tmp_path: Path) -> None:
    run_dir, data = image_run
    rows = [f"{f.relative_to(data)},{name},{part}" for part in ("train", "test")
            for f, name in listed(data / part)]
    (data / "list.csv").write_text("path,label,split\n" + "\n".join(rows) + "\n")
    try:
        code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(data / "list.csv"),
                               "--out", str(tmp_path / "e"))
    finally:
        (data / "list.csv").unlink()
    assert code == 0, err
    report = json.loads((tmp_path / "e" / "evaluation.json").read_text())
    assert report["samples"] == 16 and "manifest, its rows of split test" in report["data_description"]
    assert report["confusion_matrix"]["matrix"] == expected_scores(run_dir, listed(data / "test"))["confusion"]


def test_a_missing_class_is_fine_and_an_unknown_one_is_named(capsys, image_run, tmp_path: Path) -> None:
    run_dir, _ = image_run
    data = tmp_path / "two"
    write_images(data, {"circle": 3, "zebra": 2})
    code, stdout, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(data), "--out", str(tmp_path / "e"))
    assert code == 0, err
    report = json.loads((tmp_path / "e" / "evaluation.json").read_text())
    square = report["per_class"][1]
    assert square["class"] == "square" and square["support"] == 0 and square["recall"] is None
    assert sum(report["confusion_matrix"]["matrix"][1]) == 0
    assert "note: class without samples here: square" in stdout
    only = tmp_path / "one"
    write_images(only, {"zebra": 2})  # one class is enough to be scored
    assert run_cli(capsys, "evaluate", str(run_dir), "--data", str(only), "--out", str(tmp_path / "o"))[0] == 0
    (data / "triangle").mkdir()
    Image.fromarray(np.zeros((10, 12), dtype=np.uint8)).save(data / "triangle" / "t.png")
    code, stdout, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(data), "--out", str(tmp_path / "f"))
    assert code == 1 and stdout == ""
    assert "class 'triangle' never seen by the run; its classes are 'circle', 'square', 'zebra'" in err
    assert err.count("\n") == 1 and not (tmp_path / "f").exists()


def test_images_of_another_size_are_refused(capsys, image_run, tmp_path: Path) -> None:
    run_dir, _ = image_run
    data = tmp_path / "small"
    write_images(data, {"circle": 2, "square": 2}, size=(8, 8))
    code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(data))
    assert code == 1 and err.count("\n") == 1
    assert "is 8×8 pixels, but the run was trained on 10×12 images" in err


def test_default_folder_checkpoint_and_batch_size(capsys, image_run) -> None:
    run_dir, data = image_run
    code, stdout, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(data / "test"),
                                "--checkpoint", "last", "--batch-size", "3")
    assert code == 0, err
    folders = sorted((run_dir / "evaluations").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("test-")
    assert {p.name for p in folders[0].iterdir()} == {"evaluation.json", "evaluation.md"}
    report = json.loads((folders[0] / "evaluation.json").read_text())
    assert report["checkpoint"] == "last.pt" and report["samples"] == 16
    want = expected_scores(run_dir, listed(data / "test"), "last")
    assert report["loss"] == pytest.approx(want["loss"], abs=1e-5)
    assert f"report: {folders[0] / 'evaluation.md'}" in stdout
    shutil.rmtree(run_dir / "evaluations")
    code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(data), "--batch-size", "0")
    assert code == 1 and "--batch-size must be at least 1, got 0" in err


def test_a_run_without_a_preprocessing_record_uses_its_options(capsys, image_run, tmp_path: Path) -> None:
    run_dir, data = image_run
    info = json.loads((run_dir / "data.json").read_text())
    assert info["preprocessing"]["mean"] == info["normalization"]["mean"]
    assert info["preprocessing"]["channels"] == 1 and info["preprocessing"]["steps"] == []
    assert info["encoding"] == {"skipped": [], "layout": "pre-split folders", "cached": True}
    older = tmp_path / "older"
    shutil.copytree(run_dir, older)
    del info["preprocessing"]
    (older / "data.json").write_text(json.dumps(info))
    code, _, err = run_cli(capsys, "evaluate", str(older), "--data", str(data), "--out", str(tmp_path / "e"))
    assert code == 0, err
    report = json.loads((tmp_path / "e" / "evaluation.json").read_text())
    assert report["loss"] == pytest.approx(expected_scores(run_dir, listed(data / "test"))["loss"], abs=1e-5)
    info["preprocessing"] = {"channels": 1, "steps": [], "mean": [0.5], "std": [-1.0]}
    (older / "data.json").write_text(json.dumps(info))
    code, _, err = run_cli(capsys, "evaluate", str(older), "--data", str(data))
    assert code == 1 and "data.json: field 'preprocessing.std' must be numbers > 0" in err


def test_the_onnx_metadata_records_the_preprocessing(image_run) -> None:
    from workbench.export.onnx_export import build_metadata

    run_dir, _ = image_run
    run = load_run(run_dir)
    meta = build_metadata(run.model, run.data())
    info = json.loads((run_dir / "data.json").read_text())
    assert json.loads(meta["preprocessing"]) == info["preprocessing"]
    assert json.loads(meta["preprocessing"])["color"] == "gray"


def test_bad_input_is_one_line(capsys, image_run, tmp_path: Path) -> None:
    run_dir, data = image_run
    code, _, err = run_cli(capsys, "evaluate", str(tmp_path / "nothing"), "--data", str(data))
    assert code == 1 and "no such run folder" in err and err.count("\n") == 1
    (tmp_path / "half").mkdir()
    code, _, err = run_cli(capsys, "evaluate", str(tmp_path / "half"), "--data", str(data))
    assert code == 1 and "not a complete run folder (project.json is missing)" in err
    code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(tmp_path / "missing"))
    assert code == 1 and "no such file or folder" in err
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n")
    code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(table))
    assert code == 1 and err.count("\n") == 1 and "the header must name a path column" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(empty))
    assert code == 1 and err.count("\n") == 1 and "has no class sub-folders" in err


def test_a_run_on_a_builtin_set_is_refused(capsys, tmp_path: Path, image_run) -> None:
    _, data = image_run
    run_dir = tmp_path / "digits"
    assert main(["train", "digits-mlp", "--epochs", "1", "--out", str(run_dir), "--quiet"]) == 0
    capsys.readouterr()
    code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(data))
    assert code == 1 and "trained on the built-in dataset 'digits'" in err and err.count("\n") == 1


# ----------------------------------------------------------------------------------- official files

def write_mnist(folder: Path, counts: dict[str, int]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Gzipped IDX files of a tiny 8×8 MNIST; returns (images, labels) by part."""
    import gzip
    import struct

    folder.mkdir(parents=True)
    written = {}
    for part, n in counts.items():
        images = RNG.integers(0, 256, (n, 8, 8), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            (folder / f"{part}-{kind}-ubyte.gz").write_bytes(gzip.compress(header + array.tobytes()))
        written[part] = (images, labels)
    return written


@pytest.mark.slow
def test_an_official_mnist_run_is_scored_on_the_test_part(capsys, tmp_path: Path) -> None:
    written = write_mnist(tmp_path / "mnist" / "MNIST" / "raw", {"train": 40, "t10k": 15})
    run_dir = tmp_path / "run"
    assert main(["train", "digits-mlp", "--data", str(tmp_path / "mnist"), "--epochs", "1", "--out", str(run_dir),
                 "--quiet"]) == 0
    capsys.readouterr()
    code, stdout, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(tmp_path / "mnist"),
                                "--out", str(tmp_path / "e"))
    assert code == 0, err
    report = json.loads((tmp_path / "e" / "evaluation.json").read_text())
    assert report["samples"] == 15 and report["class_names"] == [str(d) for d in range(10)]
    assert report["data_description"] == "15 images, the test part of the official MNIST files"
    assert [r["support"] for r in report["per_class"]] == np.bincount(written["t10k"][1], minlength=10).tolist()
    assert any("own validation images" in n for n in report["notes"])
    run = load_run(run_dir)
    info = json.loads((run_dir / "data.json").read_text())
    assert info["encoding"]["layout"] == "official MNIST files"
    mean, std = info["preprocessing"]["mean"][0], info["preprocessing"]["std"][0]
    x = torch.from_numpy((written["t10k"][0] / 255 - mean) / std).float()[:, None]
    with torch.no_grad():
        loss = float(F.cross_entropy(run.model(x), torch.from_numpy(written["t10k"][1].astype(np.int64))))
    assert report["loss"] == pytest.approx(loss, abs=1e-5)


# ----------------------------------------------------------------------------------- tables

def write_table(path: Path, n: int, regression: bool = False, colours: tuple[str, ...] = ("red", "green", "blue"),
                seed: int = 0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(10, 3, n), rng.normal(-2, 0.5, n)
    colour = rng.choice(list(colours), n)
    if regression:
        target = [f"{v:.4f}" for v in 3 * a - 4 * b + 5 * (colour == "red") + rng.normal(0, 0.1, n)]
    else:
        target = list(np.where(a + 2 * b > 6, "high", "low"))
    rows = [[f"{a[i]:.4f}", f"{b[i]:.4f}", str(colour[i]), str(target[i])] for i in range(n)]
    path.write_text("a,b,colour,y\n" + "".join(",".join(r) + "\n" for r in rows))
    return rows


def encoded_by_hand(info: dict, rows: list[list[str]]) -> torch.Tensor:
    features = info["encoding"]["features"]
    out = []
    for row in rows:
        a, b = features[0], features[1]
        onehot = [1.0 if row[2] == c else 0.0 for c in features[2]["categories"]]
        out.append([(float(row[0]) - a["mean"]) / a["std"], (float(row[1]) - b["mean"]) / b["std"], *onehot])
    return torch.tensor(out, dtype=torch.float32)


@pytest.fixture(scope="module")
def table_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tables")
    write_table(root / "classes.csv", 200)
    write_table(root / "values.csv", 300, regression=True)
    runs = {"classification": root / "run-classes", "regression": root / "run-values"}
    assert main(["train", "tabular-mlp", "--data", str(root / "classes.csv"), "--target", "y", "--epochs", "3",
                 "--out", str(runs["classification"]), "--quiet"]) == 0
    assert main(["train", "regression-mlp", "--data", str(root / "values.csv"), "--target", "y", "--epochs", "3",
                 "--out", str(runs["regression"]), "--quiet"]) == 0
    return runs


def test_a_table_is_encoded_with_the_runs_statistics(capsys, table_runs, tmp_path: Path) -> None:
    run_dir = table_runs["classification"]
    rows = write_table(tmp_path / "new.csv", 40, colours=("red", "green", "blue", "purple"), seed=3)
    code, stdout, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(tmp_path / "new.csv"),
                                "--out", str(tmp_path / "e"))
    assert code == 0, err
    report = json.loads((tmp_path / "e" / "evaluation.json").read_text())
    info = json.loads((run_dir / "data.json").read_text())
    assert info["encoding"]["features"][2]["categories"] == ["blue", "green", "red"]
    x = encoded_by_hand(info, rows)
    y = torch.tensor([info["class_names"].index(r[3]) for r in rows])
    with torch.no_grad():
        logits = load_run(run_dir).model(x)
    assert report["loss"] == pytest.approx(float(F.cross_entropy(logits, y)), abs=1e-5)
    k = len(info["class_names"])
    assert report["confusion_matrix"]["matrix"] == torch.bincount(y * k + logits.argmax(-1), minlength=k * k).reshape(k, k).tolist()
    purple = sum(r[2] == "purple" for r in rows)
    assert purple > 0 and f"column 'colour': {purple} cell(s) hold a category the run never saw" in stdout
    assert report["data_description"] == "40 rows of a table, target 'y'"


def test_a_regression_run_is_scored_in_the_targets_units(capsys, table_runs, tmp_path: Path) -> None:
    run_dir = table_runs["regression"]
    rows = write_table(tmp_path / "new.csv", 30, regression=True, seed=5)
    code, stdout, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(tmp_path / "new.csv"),
                                "--out", str(tmp_path / "e"))
    assert code == 0, err
    report = json.loads((tmp_path / "e" / "evaluation.json").read_text())
    info = json.loads((run_dir / "data.json").read_text())
    with torch.no_grad():
        scaled = load_run(run_dir).model(encoded_by_hand(info, rows)).double()[:, 0]
    predicted = scaled * info["normalization"]["target_std"][0] + info["normalization"]["target_mean"][0]
    truth = torch.tensor([float(r[3]) for r in rows], dtype=torch.float64)
    assert report["mse"] == pytest.approx(float(((predicted - truth) ** 2).mean()), rel=1e-5)
    assert report["mae"] == pytest.approx(float((predicted - truth).abs().mean()), rel=1e-5)
    assert report["rmse"] == pytest.approx(report["mse"] ** 0.5)
    assert report["target"] == "y" and "accuracy" not in report
    assert f"MSE {report['mse']:.4f}, MAE {report['mae']:.4f}" in stdout
    assert "- MSE: **" in (tmp_path / "e" / "evaluation.md").read_text()


def test_table_mistakes_are_named(capsys, table_runs, tmp_path: Path) -> None:
    run_dir = table_runs["classification"]
    (tmp_path / "no_colour.csv").write_text("a,b,y\n1,2,high\n")
    code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(tmp_path / "no_colour.csv"))
    assert code == 1 and "no column 'colour'" in err and err.count("\n") == 1
    (tmp_path / "odd.csv").write_text("a,b,colour,y\n1,2,red,high\n3,4,blue,medium\n")
    code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(tmp_path / "odd.csv"))
    assert code == 1 and "holds class(es) the run never saw: 'medium' (row 3)" in err
    code, _, err = run_cli(capsys, "evaluate", str(run_dir), "--data", str(tmp_path))
    assert code == 1 and "is a folder, but the run was trained on a CSV table" in err
    info = json.loads((run_dir / "data.json").read_text())
    older = tmp_path / "older"
    shutil.copytree(run_dir, older)
    del info["encoding"]
    (older / "data.json").write_text(json.dumps(info))
    code, _, err = run_cli(capsys, "evaluate", str(older), "--data", str(tmp_path / "odd.csv"))
    assert code == 1 and "has no 'encoding'" in err and "train it again" in err
