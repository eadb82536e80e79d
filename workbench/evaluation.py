"""A trained run scored on held-out data: `workbench evaluate RUN --data PATH`.

The data is read the way the run read its validation data and prepared with what the run
recorded in data.json, never with statistics of the new data:

- images (a class-folder tree, a pre-split folder whose test/ part is used, else its val/ part, a
  manifest, or the official MNIST/CIFAR files, whose test part is used): the run's channels,
  resize/crop steps and mean/std (`preprocessing`), validation-mode transforms, no augmentation;
- a CSV/TSV table: the run's column encoding (`encoding`: training means and stds, categories,
  fill values), applied by `workbench.data.table_encoding`.

Classes are matched by name to the run's classes: a class the run never saw is an error naming it,
a class without samples here is reported with a support of 0. Figures come from the engine's own
`ValidationMeter` and loss functions, so "accuracy" and "loss" mean what they meant in training;
per class precision, recall, F1 and the confusion matrix are counted from the same predictions.
Regression is scored in the target's own units (MSE, MAE), the network's standardised outputs
turned back with the run's target mean and std.

The report goes to `evaluation.json` and `evaluation.md` in the output folder (by default
RUN/evaluations/<data name>-<time>/).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import DataError, ProjectFileError, WorkbenchError
from workbench.files import write_json_atomic, write_text_atomic
from workbench.safe_names import safe_folder_name

if TYPE_CHECKING:
    import torch
    from torch.utils.data import Dataset

    from workbench.runs import TrainedRun

log = logging.getLogger(__name__)

EVALUATIONS = "evaluations"  # inside the run folder
MATRIX_IN_MARKDOWN = 20  # classes up to which evaluation.md draws the confusion matrix
SIZING_STEPS = ("resize", "center_crop", "random_resized_crop")
READERS = ("images", "csv")  # the run's data sources evaluate can read new data for


@dataclass
class HeldOut:
    """New data prepared as the run's validation data was, with labels in the run's classes."""

    dataset: Dataset
    description: str  # what was read, in words
    notes: list[str] = field(default_factory=list)
    target: str | None = None  # a table's target column


@dataclass
class EvaluationReport:
    """What `evaluate_run` measured; `to_dict` is evaluation.json, `markdown` evaluation.md."""

    run_dir: Path
    checkpoint: Path
    data: Path
    data_description: str
    task: str
    loss_name: str
    samples: int
    loss: float | None
    accuracy: float | None = None
    class_names: list[str] = field(default_factory=list)
    per_class: list[dict[str, Any]] = field(default_factory=list)
    macro: dict[str, float | None] = field(default_factory=dict)
    confusion: list[list[int]] = field(default_factory=list)
    mse: float | None = None
    mae: float | None = None
    target: str | None = None
    notes: list[str] = field(default_factory=list)
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The report as evaluation.json holds it."""
        out: dict[str, Any] = {
            "run": str(self.run_dir),
            "checkpoint": self.checkpoint.name,
            "data": str(self.data),
            "data_description": self.data_description,
            "task": self.task,
            "samples": self.samples,
            "loss_name": self.loss_name,
            "loss": self.loss,
        }
        if self.task == "classification":
            out.update(accuracy=self.accuracy, class_names=self.class_names, per_class=self.per_class,
                       macro_average=self.macro,
                       confusion_matrix={"rows": "true class", "columns": "predicted class",
                                         "matrix": self.confusion})
        else:
            out.update(target=self.target, mse=self.mse, mae=self.mae,
                       rmse=math.sqrt(self.mse) if self.mse is not None else None)
        out.update(notes=self.notes, created=self.created)
        return out

    def headline(self) -> str:
        """One line: the main figures."""
        loss = f"loss {self.loss:.4f}" if self.loss is not None else "no loss"
        if self.task == "classification":
            return f"accuracy {_fmt(self.accuracy)} on {self.samples:,} samples ({loss}, {self.loss_name})"
        target = repr(self.target) if self.target else "the target"
        return (f"MSE {_fmt(self.mse)}, MAE {_fmt(self.mae)} in the units of {target} on {self.samples:,} samples "
                f"({loss} on the standardised target, {self.loss_name})")

    def table(self) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        """The per-class table (header, rows) shown on the terminal; empty for regression."""
        header = ("class", "precision", "recall", "F1", "support")
        rows = [(r["class"], _fmt(r["precision"]), _fmt(r["recall"]), _fmt(r["f1"]), f"{r['support']:,}")
                for r in self.per_class]
        return header, rows

    def markdown(self) -> str:
        """evaluation.md: the figures, the per-class table and the confusion matrix."""
        lines = [f"# Evaluation of {self.run_dir.name}", "",
                 f"- run: `{self.run_dir}` (checkpoint `{self.checkpoint.name}`)",
                 f"- data: `{self.data}` — {self.data_description}",
                 f"- samples: {self.samples:,}"]
        if self.task == "classification":
            lines += [f"- accuracy: **{_fmt(self.accuracy)}**",
                      f"- loss ({self.loss_name}): {_fmt(self.loss)}",
                      f"- macro average over the classes present: precision {_fmt(self.macro.get('precision'))}, "
                      f"recall {_fmt(self.macro.get('recall'))}, F1 {_fmt(self.macro.get('f1'))}"]
        else:
            rmse = math.sqrt(self.mse) if self.mse is not None else None
            lines += [f"- target: `{self.target}`" if self.target else "- target: the run's",
                      f"- MSE: **{_fmt(self.mse)}**, MAE: **{_fmt(self.mae)}**, RMSE: {_fmt(rmse)} "
                      f"(in the target's own units)",
                      f"- loss ({self.loss_name} on the standardised target, as in training): {_fmt(self.loss)}"]
        lines += [f"- {note}" for note in self.notes]
        lines.append(f"- created: {self.created}")
        if self.task == "classification":
            lines += ["", "## Per class", "", "| class | precision | recall | F1 | support |",
                      "|---|---:|---:|---:|---:|"]
            lines += [f"| {_md(r['class'])} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} | "
                      f"{r['support']:,} |" for r in self.per_class]
            lines += ["", "## Confusion matrix", ""]
            if len(self.class_names) <= MATRIX_IN_MARKDOWN:
                lines += ["Rows: true class; columns: predicted class.", "",
                          "| true \\ predicted | " + " | ".join(_md(n) for n in self.class_names) + " |",
                          "|---|" + "---:|" * len(self.class_names)]
                lines += [f"| {_md(name)} | " + " | ".join(str(v) for v in row) + " |"
                          for name, row in zip(self.class_names, self.confusion)]
            else:
                lines.append(f"{len(self.class_names)} classes: the matrix is in evaluation.json "
                             "(`confusion_matrix.matrix`, rows: true class, columns: predicted class).")
        return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "—" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.4f}"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


# ----- the run's data, read again ----------------------------------------------------------------


def held_out_data(run: TrainedRun, path: Path) -> HeldOut:
    """`path` read with the run's reader and prepared with the run's recorded preprocessing."""
    source = run.project.dataset.source
    if not path.exists():
        raise DataError(f"--data {path}: no such file or folder")
    if source == "images":
        return _image_data(run, path)
    if source == "csv":
        return _table_data(run, path)
    raise DataError(f"{run.run_dir} was trained on {_source_words(source)}; workbench evaluate scores runs "
                    f"trained on image data or a CSV table (readers {', '.join(READERS)})")


def _source_words(source: str) -> str:
    from workbench.data.builtin import BUILTINS

    return f"the built-in dataset '{source}'" if source in BUILTINS else f"'{source}' data"


def _damaged(run: TrainedRun, field_name: str, what: str) -> ProjectFileError:
    return ProjectFileError(f"{run.run_dir / 'data.json'}: field '{field_name}' {what}; the run folder is damaged")


def _image_preparation(run: TrainedRun) -> tuple[int, list[Any], tuple[int, int] | None, list[float], list[float], str]:
    """(channels, validation-mode transform entries, size option, mean, std, on_error) of the run."""
    from workbench.data.images import read_options
    from workbench.data.transforms import parse_transforms

    info = run.data_info
    options = read_options(run.project.dataset, f"{run.run_dir / 'project.json'}: dataset")
    record = info.get("preprocessing")
    if record is None:  # a run made before data.json recorded it: the same facts from the options
        stats = info.get("normalization") or {}
        mean, std = stats.get("mean"), stats.get("std")
        if not mean or not std:
            raise _damaged(run, "normalization", "has no mean and std for the images")
        # build_pipeline(train=False) takes each entry's validation form and leaves augmentations out.
        return info["input_shape"][0], list(options.transforms), options.size, mean, std, options.on_error
    if not isinstance(record, dict):
        raise _damaged(run, "preprocessing", "must be a record")
    channels = record.get("channels")
    if channels not in (1, 3):
        raise _damaged(run, "preprocessing.channels", f"must be 1 or 3, got {channels!r}")
    mean, std = record.get("mean"), record.get("std")
    for name, values in (("mean", mean), ("std", std)):
        if not (isinstance(values, list) and len(values) == channels
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)):
            raise _damaged(run, f"preprocessing.{name}", f"must be {channels} number(s)")
    if any(s <= 0 for s in std):
        raise _damaged(run, "preprocessing.std", "must be numbers > 0")
    try:
        entries = parse_transforms(record.get("steps", []), f"{run.run_dir / 'data.json'}: preprocessing.steps")
    except DataError as exc:
        raise ProjectFileError(f"{exc}; the run folder is damaged") from None
    if any(e.kind.augmentation and e.type != "random_resized_crop" for e in entries):
        raise _damaged(run, "preprocessing.steps", "holds a random augmentation")
    return channels, entries, None, list(mean), list(std), options.on_error


def _image_data(run: TrainedRun, path: Path) -> HeldOut:
    import numpy as np

    from workbench.data.images import ImageFileDataset, check_headers
    from workbench.data.official import find_official
    from workbench.data.transforms import build_pipeline

    channels, entries, size, mean, std, on_error = _image_preparation(run)
    pipeline = build_pipeline(entries, train=False, resize=None, mean=mean, std=std)
    where = f"--data {path}"
    try:
        official = find_official(path)
    except DataError as exc:
        raise DataError(_first_line(exc)) from None
    notes: list[str] = []
    if official is not None:
        import torch

        from workbench.data.official import read_official

        data = read_official(official, parts=("test",))
        images = torch.from_numpy(data.images)
        if channels != images.shape[1]:
            from torchvision.transforms.v2.functional import rgb_to_grayscale

            images = rgb_to_grayscale(images) if channels == 1 else images.expand(-1, 3, -1, -1).contiguous()
        names = data.class_names
        labels = _run_labels(run, [names[k] for k in data.labels.tolist()], where)
        dataset = ImageFileDataset([f"{data.name} test #{i}" for i in range(len(labels))], labels, channels,
                                   pipeline, size, cache=images)
        description = f"{len(labels):,} images, the test part of the {official.layout}"
        if _same_data(run, path):
            notes.append("these are the run's own validation images (the official test part), on which its best "
                         "checkpoint was chosen: the figures are not those of unseen data")
        _check_shape(run, dataset, where)
        return HeldOut(dataset, description, notes)

    from workbench.data.image_layouts import TEST_NAMES, VAL_NAMES, ImageIndex, index_images

    root = _only_part_folder(path, TEST_NAMES + VAL_NAMES)
    try:
        index = index_images(root, for_training=False)
    except DataError as exc:
        raise DataError(_first_line(exc)) from None
    chosen = list(range(len(index.files)))
    part_words = index.layout
    if index.splits is not None:
        part = "test" if "test" in index.splits else "val"
        chosen = [i for i, s in enumerate(index.splits) if s == part]
        part_words = (f"{index.layout}, its {part} part" if index.layout != "manifest"
                      else f"manifest, its rows of split {part}")
        if part == "val" and _same_data(run, path):
            notes.append("these are the run's own validation images, on which its best checkpoint was chosen: "
                         "the figures are not those of unseen data")
    elif root != path:
        part_words = f"class folders in {root.name}/"
    sub = ImageIndex(index.root, index.layout, index.class_names, [index.files[i] for i in chosen],
                     [index.labels[i] for i in chosen])
    if not sub.files:
        raise DataError(f"{where}: no images to score")
    kept, headers, skipped = check_headers(sub, on_error, where)
    if skipped:
        notes.append(f"{len(skipped)} unreadable image(s) left out (the run's option on_error is 'skip')")
    files = [sub.files[i] for i in kept]
    labels = _run_labels(run, [sub.class_names[sub.labels[i]] for i in kept], where)
    if size is None and not any(e.type in SIZING_STEPS for e in entries):
        want = tuple(run.data_info["input_shape"][1:])
        for file, header in zip(files, headers):
            if (header.height, header.width) != want:
                raise DataError(f"{where}: {file} is {header.height}×{header.width} pixels, but the run was trained "
                                f"on {want[0]}×{want[1]} images and its preprocessing does not resize; bring the "
                                f"images to {want[0]}×{want[1]} first")
    dataset = ImageFileDataset(files, np.asarray(labels), channels, pipeline, size,
                               skip_unreadable=on_error == "skip")
    _check_shape(run, dataset, where)
    classes = len(set(labels.tolist()))
    return HeldOut(dataset, f"{len(files):,} images of {classes} class{'es' if classes != 1 else ''} ({part_words})",
                   notes)


def _only_part_folder(path: Path, names: Sequence[str]) -> Path:
    """A folder whose only sub-folder is test/ (or val/): the class folders inside it."""
    if not path.is_dir():
        return path
    subdirs = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(subdirs) == 1 and subdirs[0].name.lower() in names:
        return subdirs[0]
    return path


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] + " (the README's Data section draws the layouts)"


def _same_data(run: TrainedRun, path: Path) -> bool:
    own = run.project.dataset.path
    if not own:
        return False
    try:
        return Path(own).resolve() == path.resolve()
    except OSError:
        return False


def _run_labels(run: TrainedRun, names: list[str], where: str):  # noqa: ANN202 (numpy)
    """The run's class id of each sample's class name; DataError naming the classes the run never saw."""
    import numpy as np

    order = {name: k for k, name in enumerate(run.data_info.get("class_names") or [])}
    unknown = sorted({n for n in names if n not in order})
    if unknown:
        known = ", ".join(repr(n) for n in list(order)[:10]) + (" …" if len(order) > 10 else "")
        raise DataError(f"{where}: class{'es' if len(unknown) > 1 else ''} "
                        f"{', '.join(repr(n) for n in unknown[:5])}{' …' if len(unknown) > 5 else ''} "
                        f"never seen by the run; its classes are {known}")
    return np.asarray([order[n] for n in names], dtype=np.int64)


def _check_shape(run: TrainedRun, dataset: Dataset, where: str) -> None:
    want = tuple(run.data_info["input_shape"])
    got = tuple(dataset[0][0].shape)
    if got != want:
        raise DataError(f"{where}: its images become {'×'.join(map(str, got))} inputs through the run's "
                        f"preprocessing, but the run's network takes {'×'.join(map(str, want))}")


def _table_data(run: TrainedRun, path: Path) -> HeldOut:
    from workbench.data.datasets import tensor_dataset
    from workbench.data.table_encoding import check_encoding, encode_rows, feature_width, read_rows

    where = f"--data {path}"
    if path.is_dir():
        raise DataError(f"{where}: is a folder, but the run was trained on a CSV table; give a CSV/TSV file with "
                        f"the same columns")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1":
        raise DataError(f"{where}: is a Parquet file; workbench evaluate reads CSV/TSV tables: save it as CSV")
    encoding = run.data_info.get("encoding")
    if encoding is None:
        raise ProjectFileError(f"{run.run_dir / 'data.json'}: has no 'encoding' (the run was made by an older "
                               f"Workbench, which did not record how it encoded the table); train it again to "
                               f"evaluate it on new rows")
    try:
        check_encoding(encoding, str(run.run_dir / "data.json"))
    except ValueError as exc:
        raise ProjectFileError(f"{exc}; the run folder is damaged") from None
    if feature_width(encoding) != run.data_info["input_shape"][0]:
        raise _damaged(run, "encoding.features", f"makes {feature_width(encoding)} inputs, but the run's network "
                       f"takes {run.data_info['input_shape'][0]}")
    header = run.project.dataset.options.get("header", True)
    names, rows, lines = read_rows(path, encoding["delimiter"], header is not False, where)
    encoded = encode_rows(encoding, names, rows, lines, where)
    notes = []
    if encoded.dropped:
        notes.append(f"{encoded.dropped} row(s) left out (no target, or a missing value with the run's option "
                     f"missing 'drop')")
    for column, count in encoded.filled.items():
        notes.append(f"column '{column}': {count} missing cell(s) filled with the run's fill value")
    for column, count in encoded.unseen.items():
        notes.append(f"column '{column}': {count} cell(s) hold a category the run never saw (encoded as none)")
    target = encoding["target"]["name"]
    return HeldOut(tensor_dataset(encoded.x, encoded.y), f"{len(encoded.lines):,} rows of a table, target '{target}'",
                   notes, target)


# ----- scoring ---------------------------------------------------------------------------------------


def evaluate_run(run_dir: str | Path, data: str | Path, *, checkpoint: str = "best", out_dir: str | Path | None = None,
                 batch_size: int = 256) -> tuple[EvaluationReport, Path]:
    """Score a run on `data` and write evaluation.json and evaluation.md; (the report, its folder)."""
    from workbench.runs import load_run

    if batch_size < 1:
        raise WorkbenchError(f"--batch-size must be at least 1, got {batch_size}")
    run = load_run(run_dir, checkpoint)
    path = Path(data)
    held = held_out_data(run, path)
    report = score(run, held, path, batch_size)
    out = Path(out_dir) if out_dir is not None else default_evaluation_dir(run.run_dir, path)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "evaluation.json", report.to_dict())
    write_text_atomic(out / "evaluation.md", report.markdown())
    log.info("evaluation of %s on %s written to %s", run.run_dir, path, out)
    return report, out


def default_evaluation_dir(run_dir: Path, data: Path) -> Path:
    """RUN/evaluations/<data name>-<time>, made unique."""
    name = safe_folder_name(data.stem if data.is_file() else data.resolve().name, fallback="data")
    base = run_dir / EVALUATIONS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, n = base, 2
    while candidate.exists():
        candidate = base.with_name(f"{base.name}-{n}")
        n += 1
    return candidate


def score(run: TrainedRun, held: HeldOut, path: Path, batch_size: int) -> EvaluationReport:
    """Loss and metrics of the run's model over `held` (the engine's ValidationMeter and loss)."""
    import torch

    from workbench.export.evaluate import batches, torch_predict
    from workbench.training.losses import get_loss
    from workbench.training.metrics import ValidationMeter

    info = run.data_info
    task, loss_name = info["task"], run.model.loss_name
    if len(held.dataset) == 0:  # type: ignore[arg-type]
        raise DataError(f"--data {path}: nothing to score")
    predict = torch_predict(run.model)
    loss_fn = get_loss(loss_name)
    meter = ValidationMeter(task, loss_name)
    names = list(info.get("class_names") or [])
    k = len(names)
    confusion = torch.zeros(k * k, dtype=torch.int64)
    squared = absolute = 0.0
    count = samples = 0
    if task == "regression":
        stats = info.get("normalization") or {}
        t_mean = torch.tensor(stats.get("target_mean", [0.0]), dtype=torch.float64)
        t_std = torch.tensor(stats.get("target_std", [1.0]), dtype=torch.float64)
    for x, y in batches(held.dataset, batch_size):
        outputs = predict(x).float()
        samples += len(x)
        if task == "regression":
            units = y.double().reshape(len(y), -1)
            scaled = ((units - t_mean) / t_std).float()  # the target as the network learnt it
            meter.update(outputs, scaled, loss_fn(outputs, scaled))
            predicted = outputs.double().reshape(units.shape) * t_std + t_mean
            squared += float(((predicted - units) ** 2).sum())
            absolute += float((predicted - units).abs().sum())
            count += units.numel()
        else:
            meter.update(outputs, y, loss_fn(outputs, y))
            confusion += torch.bincount(y * k + predicted_classes(outputs, loss_name), minlength=k * k)
    loss, metrics = meter.compute()
    report = EvaluationReport(run.run_dir, run.checkpoint, path, held.description, task, loss_name, samples, loss,
                              notes=list(held.notes), target=held.target,
                              created=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    if task == "regression":
        report.mse, report.mae = squared / count, absolute / count
        return report
    matrix = confusion.reshape(k, k)
    report.accuracy = metrics.get("val_accuracy")
    report.class_names = names
    report.confusion = matrix.tolist()
    report.per_class = per_class(matrix, names)
    report.macro = macro_average(report.per_class)
    absent = [r["class"] for r in report.per_class if r["support"] == 0]
    if absent:
        report.notes.append(f"class{'es' if len(absent) > 1 else ''} without samples here: "
                            f"{', '.join(absent[:10])}{' …' if len(absent) > 10 else ''}")
    return report


def predicted_classes(outputs: torch.Tensor, loss_name: str) -> torch.Tensor:
    """Class ids from the network's outputs: the top score, or one logit's side of the threshold
    (0 for bce_with_logits, as ValidationMeter decides)."""
    if outputs.dim() >= 2 and outputs.shape[-1] > 1:
        return outputs.argmax(-1)
    threshold = 0.0 if loss_name == "bce_with_logits" else 0.5
    return (outputs.reshape(-1) > threshold).long()


def per_class(matrix: torch.Tensor, names: list[str]) -> list[dict[str, Any]]:
    """Precision, recall, F1 and support per class from a confusion matrix (rows true, columns
    predicted); a figure with nothing to divide by (no sample, no prediction) is None."""
    rows = []
    for i, name in enumerate(names):
        hits, support, predicted = int(matrix[i, i]), int(matrix[i].sum()), int(matrix[:, i].sum())
        precision = hits / predicted if predicted else None
        recall = hits / support if support else None
        # 2·TP / (2·TP + FP + FN): the harmonic mean of the two, and 0 (not undefined) for a class
        # with samples that is never predicted, or predicted but without samples.
        f1 = 2 * hits / (support + predicted) if support + predicted else None
        rows.append({"class": name, "precision": precision, "recall": recall, "f1": f1, "support": support})
    return rows


def macro_average(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """The unweighted mean over the classes with samples (a missing precision counts as 0)."""
    present = [r for r in rows if r["support"]]
    if not present:
        return {"precision": None, "recall": None, "f1": None}
    return {key: sum(r[key] or 0.0 for r in present) / len(present) for key in ("precision", "recall", "f1")}
