"""The JSON files of a run folder, read back and checked field by field.

A run folder can be edited, truncated or replaced by hand, or copied half; what is read back
from it (summary.json, data.json) is checked against what `workbench.runs` writes before anything
uses it, so that a damaged file ends in one line naming the file and the field instead of a
traceback in sampling or export. project.json goes through `workbench.project.load_project`,
checkpoints through `workbench.training.checkpoint.load_checkpoint`, which check theirs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

from workbench.errors import ProjectFileError

TASKS = ("classification", "regression", "language_model", "seq2seq")
STATUSES = ("finished", "stopped", "early_stopped", "failed", "running")

Check = Callable[[Any], "str | None"]  # None when the value is right, else what it must be


def read_json_object(path: str | Path) -> dict[str, Any]:
    """The JSON object in `path`; ProjectFileError when the file is unreadable, not UTF-8 text,
    not JSON, or holds something else than an object."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ProjectFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ProjectFileError(f"{path}: not a text file (not UTF-8); the run folder is damaged") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); the run folder "
                               f"is damaged") from None
    if not isinstance(record, dict):
        raise ProjectFileError(f"{path}: must hold a JSON object, not a {_json_type(record)}; the run "
                               f"folder is damaged")
    return record


def _json_type(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


# ----- field checks: each returns None when the value is right, else what it must be -------------


def _whole(minimum: int = 0) -> Check:
    def check(v: Any) -> str | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and v >= minimum
        return None if ok else f"a whole number >= {minimum}"
    return check


def _number_or_null(v: Any) -> str | None:
    ok = v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v))
    return None if ok else "a number or null"


def _text_or_null(v: Any) -> str | None:
    return None if v is None or isinstance(v, str) else "text or null"


def _one_of(*choices: str) -> Check:
    def check(v: Any) -> str | None:
        return None if v in choices else "one of " + ", ".join(repr(c) for c in choices)
    return check


def _shape(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in v)
    return None if ok else "a list of whole numbers >= 1"


def _texts_or_null(v: Any) -> str | None:
    ok = v is None or (isinstance(v, list) and all(isinstance(t, str) for t in v))
    return None if ok else "a list of texts or null"


def _stats_or_null(v: Any) -> str | None:
    ok = v is None or (isinstance(v, dict) and all(
        isinstance(vals, list) and all(_number_or_null(x) is None and x is not None for x in vals)
        for vals in v.values()))
    return None if ok else "a record of number lists or null"


def _record(v: Any) -> str | None:
    return None if isinstance(v, dict) else "a record"


def check_fields(record: dict[str, Any], path: str | Path, checks: dict[str, Check],
                 required: tuple[str, ...] = ()) -> None:
    """ProjectFileError naming `path` and the first field that is missing or wrong."""
    for key in required:
        if key not in record:
            raise ProjectFileError(f"{path}: field '{key}' is missing; the run folder is damaged")
    for key, check in checks.items():
        if key in record:
            want = check(record[key])
            if want is not None:
                raise ProjectFileError(f"{path}: field '{key}' must be {want}, got "
                                       f"{_shown(record[key])}; the run folder is damaged")


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


SUMMARY_FIELDS: dict[str, Check] = {
    "status": _one_of(*STATUSES),
    "message": _text_or_null,
    "project": _text_or_null,
    "dataset": _text_or_null,
    "task": _one_of(*TASKS),
    "device": _text_or_null,
    "precision": _text_or_null,
    "epochs": _whole(),
    "global_steps": _whole(),
    "parameters": _whole(),
    "train_loss": _number_or_null,
    "val_loss": _number_or_null,
    "best_val_loss": _number_or_null,
    "val_accuracy": _number_or_null,
    "val_token_accuracy": _number_or_null,
    "val_perplexity": _number_or_null,
    "val_mae": _number_or_null,
    "val_exact_match": _number_or_null,
    "samples_per_second": _number_or_null,
    "duration_s": _number_or_null,
    "best_checkpoint": _text_or_null,
    "last_checkpoint": _text_or_null,
}

DATA_FIELDS: dict[str, Check] = {
    "dataset": _record,
    "task": _one_of(*TASKS),
    "input_shape": _shape,
    "input_dtype": _one_of("float32", "int64"),
    "num_outputs": _whole(1),
    "target_shape": lambda v: None if v == [] else _shape(v),
    "class_names": _texts_or_null,
    "normalization": _stats_or_null,
    "vocab": _texts_or_null,
    "train_size": _whole(),
    "val_size": _whole(),
}


def read_summary(path: str | Path) -> dict[str, Any]:
    """summary.json, checked: the fields it has are of the types the engine writes."""
    record = read_json_object(path)
    check_fields(record, path, SUMMARY_FIELDS)
    return record


def read_data_info(path: str | Path) -> dict[str, Any]:
    """data.json, checked: types, and the class names and vocabulary agree with num_outputs."""
    record = read_json_object(path)
    check_fields(record, path, DATA_FIELDS, required=("task", "input_shape", "input_dtype", "num_outputs"))
    task, outputs = record["task"], record["num_outputs"]
    names, vocab = record.get("class_names"), record.get("vocab")
    if task == "classification" and names is not None and len(names) != outputs:
        raise ProjectFileError(f"{path}: field 'class_names' has {len(names)} names for {outputs} classes "
                               f"(num_outputs); the run folder is damaged")
    if task in ("language_model", "seq2seq"):
        if not vocab:
            raise ProjectFileError(f"{path}: field 'vocab' is missing; a {task.replace('_', ' ')}'s run needs its "
                                   f"vocabulary; the run folder is damaged")
        if len(vocab) != outputs or len(set(vocab)) != len(vocab):
            raise ProjectFileError(f"{path}: field 'vocab' has {len(vocab)} tokens ({len(set(vocab))} "
                                   f"different) for a model of {outputs}; the run folder is damaged")
    return record


__all__ = ["DATA_FIELDS", "SUMMARY_FIELDS", "check_fields", "read_data_info", "read_json_object", "read_summary"]
