"""A run folder or an export folder -> a served folder (the ONNX file and serve.json).

A run folder is exported once to a verified ONNX file (checker + onnxruntime parity, as
`workbench export` does) into RUN/serve-export/, reused while it is newer than the checkpoint.
An export folder is read through its report.json: the named variant's ONNX file, or the
recommended one. The table encoding comes from the run's data.json (an export folder
inside nothing we can trace serves its inputs as arrays of encoded features).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from workbench.errors import ServeError, WorkbenchError
from workbench.serve.card import MODEL_FILE, ModelCard, file_sha256, kind_of

log = logging.getLogger(__name__)

SERVE_EXPORT = "serve-export"


def prepare_target(target: str | Path, out_dir: str | Path, variant: str | None = None) -> Path:
    """Write the served folder for `target` into `out_dir` and return it; ServeError says why not."""
    root = Path(target)
    data_info: dict[str, Any] = {}
    if (root / "report.json").is_file():
        export_dir = root
    elif (root / "project.json").is_file():
        data_info = _data_info(root)
        export_dir = _export_run(root, Path(out_dir).parent / SERVE_EXPORT)
    elif root.exists():
        raise ServeError(f"{root}: neither a run folder (project.json) nor an export folder (report.json) — "
                         "give the folder 'workbench train' or 'workbench export' wrote")
    else:
        raise ServeError(f"{root}: no such folder")
    return _served_folder(export_dir, Path(out_dir), variant, data_info)


def _export_run(run_dir: Path, fallback: Path) -> Path:
    """The run's ONNX export, made now unless an up-to-date one exists.

    It is kept in the run folder for the next start; where the run folder cannot be written
    (a shared, read-only copy), it goes to `fallback` for this start only.
    """
    from workbench.export import ExportOptions, export_run

    out = run_dir / SERVE_EXPORT
    if not os.access(run_dir, os.W_OK):
        log.info("serve: %s is read-only; exporting to %s", run_dir, fallback)
        out = fallback
    checkpoints = [p for p in (run_dir / "checkpoints").glob("*.pt")] if (run_dir / "checkpoints").is_dir() else []
    newest = max((p.stat().st_mtime for p in checkpoints), default=0.0)
    report = out / "report.json"
    if report.is_file() and (out / MODEL_FILE).is_file() and report.stat().st_mtime >= newest:
        log.info("serve: reusing the export in %s", out)
        return out
    if out.exists():
        shutil.rmtree(out)
    log.info("serve: exporting %s to ONNX (checked against PyTorch)", run_dir)
    try:
        export_run(run_dir, out, ExportOptions(formats=("onnx",), latency_repeats=3))
    except WorkbenchError as exc:
        raise ServeError(f"cannot serve {run_dir}: {exc}") from exc
    return out


def _data_info(run_dir: Path) -> dict[str, Any]:
    from workbench.run_records import read_data_info

    try:
        return read_data_info(run_dir / "data.json")
    except WorkbenchError as exc:
        raise ServeError(f"cannot serve {run_dir}: {exc}") from exc


def _read_report(export_dir: Path) -> dict[str, Any]:
    path = export_dir / "report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServeError(f"{path}: not readable JSON ({exc})") from None
    variants = report.get("variants") if isinstance(report, dict) else None
    if not isinstance(variants, list) or not all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in variants):
        raise ServeError(f"{path}: field 'variants' must be a list of records with a name; the export is damaged")
    return report


def choose_variant(report: dict[str, Any], name: str | None, where: Path) -> dict[str, Any]:
    """The named variant, else the recommended one, else the original; it must have an ONNX file."""
    variants = report["variants"]
    with_onnx = [v for v in variants if any(str(f).endswith(".onnx") for f in v.get("files", []))]
    names = ", ".join(repr(v["name"]) for v in with_onnx) or "none"
    if name is not None:
        chosen = next((v for v in variants if v["name"] == name), None)
        if chosen is None or chosen not in with_onnx:
            raise ServeError(f"{where}: no variant {name!r} with an ONNX file; --variant takes one of {names}")
        return chosen
    for pick in (lambda v: v.get("recommended"), lambda v: v["name"] == "original", lambda v: True):
        chosen = next((v for v in with_onnx if pick(v)), None)
        if chosen is not None:
            return chosen
    raise ServeError(f"{where}: the export has no ONNX file; export with --format onnx")


def _served_folder(export_dir: Path, out: Path, variant: str | None, data_info: dict[str, Any]) -> Path:
    from workbench.export import read_metadata

    report = _read_report(export_dir)
    chosen = choose_variant(report, variant, export_dir / "report.json")
    onnx_name = next(str(f) for f in chosen["files"] if str(f).endswith(".onnx"))
    source = export_dir / onnx_name
    if not source.is_file():
        raise ServeError(f"{source}: missing; the export folder is incomplete — export again")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, out / onnx_name)
    external = export_dir / f"{onnx_name}.data"
    for extra in chosen["files"]:
        if str(extra).endswith(".onnx.data"):
            external = export_dir / str(extra)
    if external.is_file():
        shutil.copy2(external, out / external.name)
    try:
        meta = read_metadata(out / onnx_name)
    except Exception as exc:  # noqa: BLE001 - onnx raises its own DecodeError types
        raise ServeError(f"{source}: not a readable ONNX file ({exc})") from None
    shape = tuple(int(d) for d in meta.get("input_shape", ["batch"])[1:])
    if not shape:
        raise ServeError(f"{source}: its metadata has no input_shape; export it again with 'workbench export'")
    dtype = str(meta.get("input_dtype", "float32"))
    task = str(meta.get("task") or data_info.get("task") or report.get("task") or "")
    encoding = data_info.get("encoding")
    preprocessing = meta.get("preprocessing") or data_info.get("preprocessing")
    card = ModelCard(
        task=task,
        loss=str(meta.get("loss", "")),
        input_shape=shape,
        input_dtype=dtype,
        kind=kind_of(task, dtype, encoding, preprocessing, shape),
        class_names=meta.get("class_names") or data_info.get("class_names"),
        vocab=meta.get("vocab") or data_info.get("vocab"),
        encoding=encoding if isinstance(encoding, dict) and encoding.get("features") else None,
        preprocessing=preprocessing if isinstance(preprocessing, dict) else None,
        normalization=meta.get("normalization") or data_info.get("normalization"),
        project_name=str(meta.get("project_name") or report.get("project_name") or ""),
        variant=str(chosen["name"]),
        accuracy=chosen.get("val_accuracy"),
        model_file=onnx_name,
        sha256=file_sha256(out / onnx_name),
    )
    card.write(out)
    return out
