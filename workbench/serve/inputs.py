"""A request's instances -> the model's input array, and its outputs -> answers.

Each kind of model takes its samples in its own terms:

- table: an object of the named raw features the run was trained on (numbers, categories as
  text), encoded with the run's saved encoding: numbers standardised with the training mean and
  std, categories one-hot in the training order. Never re-fitted.
- image: a base64 PNG/JPEG (a string, or {"image": "..."}) or a nested array of pixels in
  [0, 1] (H×W, H×W×C or C×H×W); resized / cropped and standardised as the run's validation
  images were.
- array: a nested array of the model's input shape (or flat) in the data's own units,
  standardised with the run's statistics.

Every mistake is an InputError naming the field (`instances[2].age`) and what was expected.
Nothing from a request is executed or unpickled: JSON values and image bytes decoded by Pillow.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np


from .card import ModelCard

MAX_PIXELS = 4096 * 4096  # a larger image is refused before it is decoded
MAX_LISTED = 10


class InputError(ValueError):
    """A request the model cannot take; `field` says where, the message what was expected."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def prepare(card: ModelCard, instances: Sequence[Any]) -> np.ndarray:
    """The model's input for `instances` as a (N, *input_shape) array of its dtype."""
    if card.kind == "table":
        rows = [encode_row(card, item, f"instances[{i}]") for i, item in enumerate(instances)]
    elif card.kind == "image":
        rows = [image_sample(card, item, f"instances[{i}]") for i, item in enumerate(instances)]
    elif card.kind == "array":
        rows = [array_sample(card, item, f"instances[{i}]") for i, item in enumerate(instances)]
    else:
        raise InputError("instances", "a language model takes a prompt, not instances")
    return np.stack(rows).astype(np.float32, copy=False)


# ----- tables -------------------------------------------------------------------------------------


def _category_text(value: Any) -> str | None:
    """A category as the CSV reader read it: text as given, a whole number without '.0'."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def encode_row(card: ModelCard, item: Any, where: str) -> np.ndarray:
    """One table row (an object of raw features) encoded as the run encoded its rows."""
    encoding = card.encoding or {}
    features = encoding["features"]
    names = [f["name"] for f in features]
    if not isinstance(item, dict):
        raise InputError(where, f"expected an object of the features {_listing(names)}, got {_json_type(item)}")
    unknown = [k for k in item if k not in names and k != encoding.get("target", {}).get("name")]
    if unknown:
        raise InputError(f"{where}.{unknown[0]}", f"not a feature of this model; it reads {_listing(names)}")
    fill_missing = encoding.get("missing", "error") == "fill"
    parts: list[np.ndarray] = []
    for info in features:
        name = info["name"]
        at = f"{where}.{name}"
        value = item.get(name)
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "na", "n/a", "nan", "null", "none", "?")):
            if not fill_missing:
                expected = "a number" if info["kind"] == "numeric" else f"one of {_listing(info['categories'])}"
                raise InputError(at, f"missing; expected {expected}")
            value = info.get("fill", info.get("mean") if info["kind"] == "numeric" else "")
        if info["kind"] == "numeric":
            number = _to_number(value)
            if number is None:
                raise InputError(at, f"expected a number, got {_shown(value)}")
            parts.append(np.array([(number - info["mean"]) / info["std"]]))
        else:
            text = _category_text(value)
            categories = info["categories"]
            onehot = np.zeros(len(categories))
            if text is None:
                raise InputError(at, f"expected a category (text), got {_shown(value)}")
            if text in categories:
                onehot[categories.index(text)] = 1.0
            elif text:  # an empty fill value stays all zeros, as in training
                raise InputError(at, f"unknown category {text!r}; the run was trained on {_listing(categories)}")
            parts.append(onehot)
    row = np.concatenate(parts).astype(np.float32)
    if row.shape != tuple(card.input_shape):
        raise InputError(where, f"the encoding makes {row.size} values but the model reads {list(card.input_shape)}")
    return row


def _to_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


# ----- images -------------------------------------------------------------------------------------


def image_sample(card: ModelCard, item: Any, where: str) -> np.ndarray:
    """One image (base64 bytes or a pixel array in [0, 1]) as the model reads it."""
    channels = card.input_shape[0]
    pre = card.preprocessing
    if isinstance(item, dict):
        if "image" in item:
            item, where = item["image"], f"{where}.image"
        elif "pixels" in item:
            item, where = item["pixels"], f"{where}.pixels"
        else:
            raise InputError(where, "expected {\"image\": base64 PNG/JPEG} or {\"pixels\": nested array}")
    if isinstance(item, str):
        pixels = decode_image(item, channels, where)  # (C, H, W) float in [0, 1]
        uint8 = True
    else:
        pixels = _pixel_array(item, channels, card.input_shape, where)
        uint8 = False
    for step in (pre or {}).get("steps", []):
        kind, size = step.get("type"), step.get("size")
        if kind == "resize":
            pixels = _resize(pixels, (int(size[0]), int(size[1])), uint8)
        elif kind == "resize_shorter":
            pixels = _resize(pixels, _shorter_side_size(pixels.shape[1], pixels.shape[2], int(size)), uint8,
                             bicubic=step.get("interpolation") == "bicubic")
        elif kind == "center_crop":
            pixels = _center_crop(pixels, (int(size[0]), int(size[1])), where)
    if pixels.shape != tuple(card.input_shape):
        h, w = card.input_shape[1:]
        raise InputError(where, f"the image is {pixels.shape[1]}×{pixels.shape[2]} pixels but the model reads "
                                f"{h}×{w} and its preprocessing does not resize; send an image of {h}×{w} pixels")
    if pre is not None:
        mean = np.asarray(pre["mean"], dtype=np.float32)[:, None, None]
        std = np.asarray(pre["std"], dtype=np.float32)[:, None, None]
        return ((pixels - mean) / std).astype(np.float32)
    return normalize(card, pixels)


def decode_image(text: str, channels: int, where: str) -> np.ndarray:
    """A base64 image (optionally a data: URL) as a (channels, H, W) float32 array in [0, 1]."""
    from PIL import Image, UnidentifiedImageError

    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(where, "expected base64 bytes of a PNG or JPEG image; this is not base64") from None
    if not data:
        raise InputError(where, "expected a PNG or JPEG image; the data is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as img:
                if img.size[0] * img.size[1] > MAX_PIXELS:
                    raise InputError(where, f"the image is {img.size[0]}×{img.size[1]} pixels; at most "
                                            f"{MAX_PIXELS:,} are decoded")
                img.seek(0)
                if img.mode.startswith("I;16") and channels == 1:
                    array = np.array(img, dtype=np.float32) / 65535.0
                else:
                    array = np.array(img.convert("L" if channels == 1 else "RGB"), dtype=np.float32) / 255.0
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(where, "not an image Pillow reads; send a PNG or JPEG") from None
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise InputError(where, f"cannot decode the image ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if array.ndim == 2:
        array = array[:, :, None]
    return np.ascontiguousarray(array.transpose(2, 0, 1))


def _pixel_array(item: Any, channels: int, shape: tuple[int, ...], where: str) -> np.ndarray:
    array = _numbers(item, where)
    if array.ndim == 2 and channels == 1:
        array = array[None]
    elif array.ndim == 3 and array.shape[0] != channels and array.shape[2] == channels:
        array = array.transpose(2, 0, 1)  # H×W×C as images are usually written
    if array.ndim != 3 or array.shape[0] != channels:
        raise InputError(where, f"expected pixels as H×W{'' if channels == 1 else '×3'} or "
                                f"{'×'.join(map(str, shape))} numbers in [0, 1], got shape {list(array.shape)}")
    if array.size and (array.min() < 0 or array.max() > 1):
        raise InputError(where, "expected pixel values in [0, 1] (send 0-255 images as PNG)")
    return array


def _shorter_side_size(height: int, width: int, size: int) -> tuple[int, int]:
    """workbench.data.transforms.shorter_side_size, restated: this module also runs in the standalone
    server (`--write-dockerfile`), which has no Workbench to import; a test checks the two agree."""
    if height <= width:
        return size, int(size * width / height)
    return int(size * height / width), size


def _resize(pixels: np.ndarray, size: tuple[int, int], uint8: bool, bicubic: bool = False) -> np.ndarray:
    """Bilinear (or bicubic) resize with antialiasing (Pillow's, which torchvision's antialiased Resize follows)."""
    from PIL import Image

    if pixels.shape[1:] == size:
        return pixels
    h, w = size
    method = Image.BICUBIC if bicubic else Image.BILINEAR
    out = np.empty((pixels.shape[0], h, w), dtype=np.float32)
    for c, plane in enumerate(pixels):
        if uint8:  # decoded images are resized as 8-bit pixels, as training resized them
            img = Image.fromarray(np.rint(plane * 255.0).astype(np.uint8), mode="L")
            out[c] = np.asarray(img.resize((w, h), method), dtype=np.float32) / 255.0
        else:
            img = Image.fromarray(plane.astype(np.float32), mode="F")
            out[c] = np.asarray(img.resize((w, h), method), dtype=np.float32)
    return out


def _center_crop(pixels: np.ndarray, size: tuple[int, int], where: str) -> np.ndarray:
    h, w = size
    _, height, width = pixels.shape
    if height < h or width < w:
        raise InputError(where, f"the image is {height}×{width} pixels, smaller than the {h}×{w} crop the model reads")
    top, left = int(round((height - h) / 2.0)), int(round((width - w) / 2.0))
    return pixels[:, top:top + h, left:left + w]


# ----- arrays -------------------------------------------------------------------------------------


def array_sample(card: ModelCard, item: Any, where: str) -> np.ndarray:
    """One nested array in the data's units, shaped as the model's input and standardised."""
    array = _numbers(item, where)
    shape = tuple(card.input_shape)
    if array.shape != shape:
        if array.size == int(np.prod(shape)) and array.ndim == 1:
            array = array.reshape(shape)
        else:
            raise InputError(where, f"expected numbers of shape {list(shape)} (or {int(np.prod(shape))} in a flat "
                                    f"list), got shape {list(array.shape)}")
    return normalize(card, array)


def normalize(card: ModelCard, array: np.ndarray) -> np.ndarray:
    """Standardise with the run's statistics: one value, one per channel or one per element."""
    stats = card.normalization
    if not stats or not stats.get("mean"):
        return array.astype(np.float32)
    mean = np.asarray(stats["mean"], dtype=np.float64)
    std = np.asarray(stats["std"], dtype=np.float64)
    shape = tuple(card.input_shape)
    if mean.size == 1:
        out = (array - mean[0]) / std[0]
    elif len(shape) >= 2 and mean.size == shape[0]:
        extra = (1,) * (len(shape) - 1)
        out = (array - mean.reshape(-1, *extra)) / std.reshape(-1, *extra)
    else:
        out = ((array.reshape(-1) - mean) / std).reshape(shape)
    return out.astype(np.float32)


def _numbers(item: Any, where: str) -> np.ndarray:
    """A nested list of numbers as a float array; InputError for ragged lists or non-numbers."""
    if not isinstance(item, list):
        raise InputError(where, f"expected a nested array of numbers, got {_json_type(item)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy warns, then refuses, on ragged lists
            array = np.asarray(item, dtype=np.float64)
    except (ValueError, TypeError, Warning):
        raise InputError(where, "expected a rectangular nested array of numbers (every row the same length, "
                                "no text, null or booleans)") from None
    if array.dtype == object or not np.isfinite(array).all():
        raise InputError(where, "expected finite numbers")
    if _has_bool(item):
        raise InputError(where, "expected numbers, got true/false")
    return array


def _has_bool(item: Any) -> bool:
    if isinstance(item, bool):
        return True
    return isinstance(item, list) and any(_has_bool(v) for v in item[:64])


# ----- outputs ------------------------------------------------------------------------------------


def answers(card: ModelCard, outputs: np.ndarray, top: int = 5) -> list[dict[str, Any]]:
    """The model's outputs (N, ...) as answers: class names with probabilities, or values."""
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    names = card.class_names
    result: list[dict[str, Any]] = []
    if card.loss == "cross_entropy" and names:
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        for row in probs:
            order = np.argsort(-row, kind="stable")[:top]
            result.append({"class": names[int(order[0])], "probability": float(row[order[0]]),
                           "top": [{"class": names[int(k)], "probability": float(row[k])} for k in order]})
    elif card.loss == "bce_with_logits":
        probs = 1.0 / (1.0 + np.exp(-outputs))
        for row in probs:
            if row.size == 1 and names and len(names) == 2:
                p = float(row[0])
                result.append({"class": names[1] if p >= 0.5 else names[0], "probability": max(p, 1.0 - p),
                               "probabilities": {names[0]: 1.0 - p, names[1]: p}})
            else:
                labels = names if names and len(names) == row.size else [str(k) for k in range(row.size)]
                result.append({"probabilities": {labels[k]: float(p) for k, p in enumerate(row)}})
    else:
        target = ((card.encoding or {}).get("target") or {}).get("name")
        for row in outputs:
            entry: dict[str, Any] = {"value": float(row[0])} if row.size == 1 else {"values": row.tolist()}
            if target:
                entry["target"] = target
            result.append(entry)
    return result


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else _json_type(value)
    return text if len(text) <= 40 else text[:37] + "..."
