"""The model card of a served folder (`serve.json`): read and checked before anything is loaded."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CARD_FILE = "serve.json"
MODEL_FILE = "model.onnx"


class CardError(ValueError):
    """serve.json is missing or damaged; the message names the field."""


@dataclass(frozen=True)
class ModelCard:
    """What a served model reads and answers, and where it came from."""

    task: str  # classification, regression, language_model, ...
    loss: str  # cross_entropy, mse, bce_with_logits: how outputs become answers
    input_shape: tuple[int, ...]  # one sample, without the batch axis
    input_dtype: str  # float32 or int64
    kind: str  # how a request gives a sample: table, image, array, text
    class_names: list[str] | None = None
    vocab: list[str] | None = None
    encoding: dict[str, Any] | None = None  # tables: the run's column encoding
    preprocessing: dict[str, Any] | None = None  # images: channels, steps, mean, std
    normalization: dict[str, list[float]] | None = None  # arrays: the training statistics
    project_name: str = ""
    variant: str = "original"
    accuracy: float | None = None
    model_file: str = MODEL_FILE
    sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON record (serve.json)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["input_shape"] = list(self.input_shape)
        return out

    def write(self, folder: Path) -> Path:
        """Write serve.json into `folder`."""
        path = Path(folder) / CARD_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
        return path


def kind_of(task: str, input_dtype: str, encoding: Any, preprocessing: Any, shape: tuple[int, ...]) -> str:
    """How requests give samples to a model of this task and input."""
    if task == "language_model" or input_dtype == "int64":
        return "text"
    if isinstance(encoding, dict) and encoding.get("features"):
        return "table"
    if isinstance(preprocessing, dict) or (len(shape) == 3 and shape[0] in (1, 3) and shape[1] >= 8 and shape[2] >= 8):
        return "image"
    return "array"


def file_sha256(path: Path) -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_card(folder: str | Path) -> ModelCard:
    """serve.json of a served folder, checked field by field; CardError names the field."""
    path = Path(folder) / CARD_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CardError(f"{path}: no such file — make the folder with 'workbench serve RUN_OR_EXPORT'") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CardError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(record, dict):
        raise CardError(f"{path}: must hold a JSON object")

    def need(ok: bool, name: str, what: str) -> None:
        if not ok:
            raise CardError(f"{path}: field '{name}' must be {what}")

    for name in ("task", "loss", "input_dtype", "kind"):
        need(isinstance(record.get(name), str), name, "a text")
    need(record["kind"] in ("table", "image", "array", "text"), "kind", "'table', 'image', 'array' or 'text'")
    need(record["input_dtype"] in ("float32", "int64"), "input_dtype", "'float32' or 'int64'")
    shape = record.get("input_shape")
    need(isinstance(shape, list) and len(shape) > 0 and all(isinstance(d, int) and d > 0 for d in shape),
         "input_shape", "a list of whole numbers > 0")
    for name in ("class_names", "vocab"):
        value = record.get(name)
        need(value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value)), name,
             "a list of texts or null")
    for name in ("encoding", "preprocessing", "normalization"):
        need(record.get(name) is None or isinstance(record[name], dict), name, "a record or null")
    if record["kind"] == "text":
        need(bool(record.get("vocab")), "vocab", "the model's characters")
    if record["kind"] == "image" and record.get("preprocessing") is not None:
        pre = record["preprocessing"]
        need(pre.get("channels") in (1, 3), "preprocessing.channels", "1 or 3")
        for stat in ("mean", "std"):
            values = pre.get(stat)
            need(isinstance(values, list) and len(values) == pre["channels"]
                 and all(_number(v) for v in values), f"preprocessing.{stat}", f"{pre['channels']} number(s)")
        need(all(v > 0 for v in pre["std"]), "preprocessing.std", "numbers > 0")
        need(isinstance(pre.get("steps", []), list), "preprocessing.steps", "a list")
    accuracy = record.get("accuracy")
    need(accuracy is None or _number(accuracy), "accuracy", "a number or null")
    model_file = record.get("model_file", MODEL_FILE)
    need(isinstance(model_file, str) and "/" not in model_file and "\\" not in model_file and model_file not in ("", ".", ".."),
         "model_file", "a file name in the folder")
    known = {k: record[k] for k in ModelCard.__dataclass_fields__ if k in record}
    known["input_shape"] = tuple(shape)
    return ModelCard(**known)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
