"""Image transforms declared in the project file, mapped onto `torchvision.transforms.v2`.

An image dataset's options hold a list of entries, each a type and its parameters:

    "transforms": [
        {"type": "random_resized_crop", "size": [32, 32], "scale": [0.6, 1.0]},
        {"type": "horizontal_flip"},
        {"type": "normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    ]

Every type is declared once in `TRANSFORMS` (its parameters with their ranges and defaults, a
one-line doc, whether it is a train-time augmentation); the checked JSON round trip, the
torchvision pipelines and the app's editor all read that table. Augmentations apply to the
training split only; validation, evaluation, export and serving see the deterministic steps
(a random resized crop becomes a resize to the same size there). Pixels are converted to floats
in [0, 1] after the geometric and colour steps and standardised last: with the mean and std a
`normalize` entry gives, or else with statistics measured on a sample of the training split.

Entries are versioned by their type names: a type is never renamed or given another meaning.
The docs are English; they are marked with `QT_TRANSLATE_NOOP` (context `TRANSLATION_CONTEXT`,
a no-op here) so that lupdate collects them and the app's editor shows them translated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.errors import DataError
from workbench.layers.params import ParamError, ParamSpec, show_value
from workbench.settings_spec import QT_TRANSLATE_NOOP

if TYPE_CHECKING:
    import torch

TRANSLATION_CONTEXT = "ImageTransforms"  # where the app looks up the docs below


@dataclass(frozen=True)
class FloatsSpec:
    """A list of numbers (a mean per channel, a scale range): its length and each item's range."""

    name: str
    default: tuple[float, ...] | None
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    length: tuple[int, int] = (1, 3)

    def validate(self, value: Any) -> tuple[float, ...] | None:
        if value is None and self.default is None:
            return None
        item = ParamSpec(self.name, "float", 0.0, self.doc, minimum=self.minimum, maximum=self.maximum)
        lo, hi = self.length
        if isinstance(value, (list, tuple)) and lo <= len(value) <= hi:
            try:
                return tuple(item.validate(v) for v in value)
            except ParamError:
                pass
        count = str(lo) if lo == hi else f"{lo} to {hi}"
        raise ParamError(f"'{self.name}' must be a list of {count} numbers{item._range_words()}, got {show_value(value)}")


Field = ParamSpec | FloatsSpec


@dataclass(frozen=True)
class TransformType:
    """One kind of transform: its parameters and how torchvision performs it."""

    name: str
    doc: str
    fields: tuple[Field, ...]
    augmentation: bool  # random, training split only
    # (checked params) -> the torchvision transform for the training split, and for the others
    # (None: nothing to do there).
    train: Callable[[Mapping[str, Any]], Any]
    evaluate: Callable[[Mapping[str, Any]], Any] | None

    def check(self, entry: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The entry's params in canonical form, defaults filled in; DataError naming the field."""
        known = {f.name for f in self.fields}
        for key in entry:
            if key != "type" and key not in known:
                listed = ", ".join(sorted(known)) or "none"
                raise DataError(f"{where}: '{self.name}' has no parameter '{key}' (it has: {listed})")
        params: dict[str, Any] = {}
        for spec in self.fields:
            value = entry.get(spec.name, spec.default)
            try:
                params[spec.name] = spec.validate(value)
            except ParamError as exc:
                raise DataError(f"{where}: {exc}") from None
        return params


def _size(doc: str = QT_TRANSLATE_NOOP("ImageTransforms", "output height and width in pixels")) -> ParamSpec:
    return ParamSpec("size", "ints", (224, 224), doc, minimum=1, maximum=8192, length=(2, 2))


def _v2() -> Any:
    from torchvision.transforms import v2  # ~1 s to import: only when images are loaded

    return v2


def _resize(p: Mapping[str, Any]) -> Any:
    return _v2().Resize(list(p["size"]), antialias=True)


def _resize_shorter(p: Mapping[str, Any]) -> Any:
    # An int size: torchvision scales the shorter side to it and keeps the aspect ratio.
    from torchvision.transforms import InterpolationMode

    mode = InterpolationMode.BICUBIC if p["interpolation"] == "bicubic" else InterpolationMode.BILINEAR
    return _v2().Resize(int(p["size"]), interpolation=mode, antialias=True)


def shorter_side_size(height: int, width: int, size: int) -> tuple[int, int]:
    """The (height, width) `resize_shorter` gives an image: its shorter side becomes `size`, the
    longer one keeps the ratio (rounded down, as torchvision's Resize with one number does)."""
    if height <= width:
        return size, int(size * width / height)
    return int(size * height / width), size


def _random_resized_crop(p: Mapping[str, Any]) -> Any:
    lo, hi = p["scale"]
    if lo > hi:
        raise DataError(f"'random_resized_crop' scale must be [smallest, largest], got {list(p['scale'])}")
    return _v2().RandomResizedCrop(list(p["size"]), scale=(lo, hi), ratio=(3 / 4, 4 / 3), antialias=True)


def _color_jitter(p: Mapping[str, Any]) -> Any:
    return _v2().ColorJitter(brightness=p["brightness"], contrast=p["contrast"],
                             saturation=p["saturation"], hue=p["hue"])


TRANSFORMS: dict[str, TransformType] = {t.name: t for t in (
    TransformType(
        "resize", QT_TRANSLATE_NOOP("ImageTransforms", "Resize every image to a fixed height and width"),
        (_size(),),
        augmentation=False, train=_resize, evaluate=_resize),
    TransformType(
        "resize_shorter",
        QT_TRANSLATE_NOOP("ImageTransforms", "Scale every image so that its shorter side has the given length, "
                                             "keeping its aspect ratio (as torchvision's pretrained weights expect)"),
        (ParamSpec("size", "int", 256, QT_TRANSLATE_NOOP("ImageTransforms", "length of the shorter side in pixels"),
                   minimum=1, maximum=8192),
         ParamSpec("interpolation", "choice", "bilinear",
                   QT_TRANSLATE_NOOP("ImageTransforms", "how new pixels are computed (the weights' own choice)"),
                   choices=("bilinear", "bicubic"))),
        augmentation=False, train=_resize_shorter, evaluate=_resize_shorter),
    TransformType(
        "center_crop", QT_TRANSLATE_NOOP("ImageTransforms", "Cut the central region of the given size"),
        (_size(),),
        augmentation=False,
        train=lambda p: _v2().CenterCrop(list(p["size"])),
        evaluate=lambda p: _v2().CenterCrop(list(p["size"]))),
    TransformType(
        "random_resized_crop",
        QT_TRANSLATE_NOOP("ImageTransforms", "Crop a random region (a share `scale` of the area) and resize it; "
                                             "validation resizes the whole image instead"),
        (_size(),
         FloatsSpec("scale", (0.08, 1.0),
                    QT_TRANSLATE_NOOP("ImageTransforms", "smallest and largest share of the area"),
                    minimum=0.01, maximum=1.0, length=(2, 2))),
        augmentation=True, train=_random_resized_crop, evaluate=_resize),
    TransformType(
        "horizontal_flip", QT_TRANSLATE_NOOP("ImageTransforms", "Mirror left to right with probability p"),
        (ParamSpec("p", "float", 0.5, QT_TRANSLATE_NOOP("ImageTransforms", "probability"), minimum=0.0, maximum=1.0),),
        augmentation=True, train=lambda p: _v2().RandomHorizontalFlip(p["p"]), evaluate=None),
    TransformType(
        "vertical_flip", QT_TRANSLATE_NOOP("ImageTransforms", "Mirror top to bottom with probability p"),
        (ParamSpec("p", "float", 0.5, QT_TRANSLATE_NOOP("ImageTransforms", "probability"), minimum=0.0, maximum=1.0),),
        augmentation=True, train=lambda p: _v2().RandomVerticalFlip(p["p"]), evaluate=None),
    TransformType(
        "rotation", QT_TRANSLATE_NOOP("ImageTransforms", "Rotate by a random angle in [-degrees, degrees]"),
        (ParamSpec("degrees", "float", 15.0, QT_TRANSLATE_NOOP("ImageTransforms", "largest angle"),
                   minimum=0.0, maximum=180.0),),
        augmentation=True, train=lambda p: _v2().RandomRotation(p["degrees"]), evaluate=None),
    TransformType(
        "translate",
        QT_TRANSLATE_NOOP("ImageTransforms", "Shift by up to a fraction of the width and height (the border is "
                                             "filled with 0)"),
        (ParamSpec("fraction", "float", 0.1,
                   QT_TRANSLATE_NOOP("ImageTransforms", "largest shift as a share of the size"),
                   minimum=0.0, maximum=1.0),),
        augmentation=True,
        train=lambda p: _v2().RandomAffine(degrees=0.0, translate=(p["fraction"], p["fraction"])),
        evaluate=None),
    TransformType(
        "color_jitter", QT_TRANSLATE_NOOP("ImageTransforms", "Vary brightness, contrast, saturation and hue at random"),
        (ParamSpec("brightness", "float", 0.2, QT_TRANSLATE_NOOP("ImageTransforms", "largest relative change"),
                   minimum=0.0, maximum=10.0),
         ParamSpec("contrast", "float", 0.2, QT_TRANSLATE_NOOP("ImageTransforms", "largest relative change"),
                   minimum=0.0, maximum=10.0),
         ParamSpec("saturation", "float", 0.2, QT_TRANSLATE_NOOP("ImageTransforms", "largest relative change"),
                   minimum=0.0, maximum=10.0),
         ParamSpec("hue", "float", 0.0, QT_TRANSLATE_NOOP("ImageTransforms", "largest hue shift"),
                   minimum=0.0, maximum=0.5)),
        augmentation=True, train=_color_jitter, evaluate=None),
    TransformType(
        "normalize",
        QT_TRANSLATE_NOOP("ImageTransforms", "Standardise each channel: (x - mean) / std; without values, measured "
                                             "on the training split"),
        (FloatsSpec("mean", None, QT_TRANSLATE_NOOP("ImageTransforms", "per-channel mean of pixels in [0, 1]"),
                    minimum=-10.0, maximum=10.0),
         FloatsSpec("std", None, QT_TRANSLATE_NOOP("ImageTransforms", "per-channel standard deviation"),
                    minimum=1e-6, maximum=10.0)),
        augmentation=False, train=lambda p: None, evaluate=lambda p: None),
)}


@dataclass(frozen=True)
class TransformEntry:
    """One checked entry of a dataset's transform list."""

    type: str
    params: Mapping[str, Any]

    @property
    def kind(self) -> TransformType:
        return TRANSFORMS[self.type]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for key, value in self.params.items():
            if value is not None:
                out[key] = list(value) if isinstance(value, tuple) else value
        return out


def parse_transforms(value: Any, where: str) -> list[TransformEntry]:
    """A project file's list of transforms, checked; DataError naming the entry and field."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise DataError(f"{where}: option 'transforms' must be a list of {{\"type\": ...}} entries, got {show_value(value)}")
    entries = []
    for i, item in enumerate(value):
        at = f"{where}: transforms[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise DataError(f"{at} must be an object with a \"type\" (one of {', '.join(TRANSFORMS)}), got {show_value(item)}")
        kind = TRANSFORMS.get(item["type"])
        if kind is None:
            raise DataError(f"{at}: unknown transform type {show_value(item['type'])}; known: {', '.join(TRANSFORMS)}")
        entries.append(TransformEntry(kind.name, kind.check(item, at)))
    normalizers = [e for e in entries if e.type == "normalize"]
    if len(normalizers) > 1:
        raise DataError(f"{where}: more than one 'normalize' transform; keep one")
    if normalizers:
        mean, std = normalizers[0].params["mean"], normalizers[0].params["std"]
        if (mean is None) != (std is None) or (mean is not None and len(mean) != len(std)):
            raise DataError(f"{where}: 'normalize' needs both mean and std with one value per channel, "
                            "or neither (then they are measured on the training split)")
    return entries


def given_normalization(entries: Sequence[TransformEntry]) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The mean and std a `normalize` entry gives, or None (measure them)."""
    for entry in entries:
        if entry.type == "normalize" and entry.params["mean"] is not None:
            return entry.params["mean"], entry.params["std"]
    return None


def build_pipeline(entries: Sequence[TransformEntry], train: bool, resize: tuple[int, int] | None,
                   mean: Sequence[float] | None, std: Sequence[float] | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """Decoded image (C, H, W) uint8/uint16 -> float32 tensor, as the model sees it.

    `resize`: the dataset's `size` option, applied first; `mean`/`std`: the standardisation
    (None: pixels stay in [0, 1], as when measuring the statistics).
    """
    import torch

    v2 = _v2()
    steps: list[Any] = []
    if resize is not None:
        steps.append(v2.Resize(list(resize), antialias=True))
    for entry in entries:
        make = entry.kind.train if train else entry.kind.evaluate
        step = make(entry.params) if make is not None else None
        if step is not None:
            steps.append(step)
    steps.append(v2.ToDtype(torch.float32, scale=True))
    if mean is not None and std is not None:
        steps.append(v2.Normalize(list(mean), list(std)))
    return v2.Compose(steps)


def preprocessing_record(entries: Sequence[TransformEntry], resize: tuple[int, int] | None,
                         channels: int, mean: Sequence[float], std: Sequence[float]) -> dict[str, Any]:
    """What a deployed model's input must go through, as JSON for data.json and export metadata."""
    steps: list[dict[str, Any]] = []
    if resize is not None:
        steps.append({"type": "resize", "size": list(resize)})
    for entry in entries:
        if entry.type == "normalize" or entry.kind.evaluate is None:
            continue
        if entry.type == "random_resized_crop":
            steps.append({"type": "resize", "size": list(entry.params["size"])})
        else:
            steps.append(entry.to_dict())
    return {
        "channels": channels,
        "color": "gray" if channels == 1 else "rgb",
        "steps": steps,
        "scale": "pixels / 255 (uint8) or / 65535 (16-bit)",
        "mean": [float(m) for m in mean],
        "std": [float(s) for s in std],
    }


def measured_stats(samples: Sequence[torch.Tensor]) -> tuple[list[float], list[float]]:
    """Per-channel mean and std over float images in [0, 1] (a std of 0 becomes 1)."""
    import torch

    if not samples:
        raise DataError("no image to measure the normalisation on")
    stacked = torch.stack([s.reshape(s.shape[0], -1) for s in samples]).double()  # (N, C, H*W)
    per_channel = stacked.transpose(0, 1).reshape(stacked.shape[1], -1)
    mean = per_channel.mean(dim=1)
    std = per_channel.std(dim=1, unbiased=False)
    std = torch.where(std > 1e-6, std, torch.ones_like(std))
    return [float(m) for m in mean], [float(s) for s in std]
