"""Image folders: one sub-folder per class, PNG / BMP (and JPEG with Pillow) inside.

Every image is decoded to (C, H, W) floats in [0, 1], brought to one size and channel count,
then standardised per channel with statistics of the train split. Augmentation (random flip
and shift) applies to the train split only.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from workbench.data.assemble import assemble
from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.image_codecs import ImageDecodeError, decode_image
from workbench.data.options import Options
from workbench.errors import DataError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg")
AUGMENTATIONS = ("flip", "shift")


def _augment_option(value: object, where: str) -> tuple[bool, bool]:
    """`augment`: true (flip and shift), false, or a list such as ["shift"]."""
    if value is None or value is False:
        return False, False
    if value is True:
        return True, True
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)) and all(v in AUGMENTATIONS for v in value):
        return "flip" in value, "shift" in value
    raise DataError(f"{where}: option 'augment' must be true, false or a list of "
                    f"{list(AUGMENTATIONS)}, got {value!r}")


def _class_folders(folder: Path) -> list[tuple[str, list[Path]]]:
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subdirs:
        loose = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        hint = f" ({len(loose)} images lie directly in it)" if loose else ""
        raise DataError(
            f"image folder {folder} has no class sub-folders{hint}; put the images of each "
            f"class in a sub-folder named after the class (e.g. cats/, dogs/)"
        )
    classes = []
    for sub in subdirs:
        files = sorted(p for p in sub.rglob("*")
                       if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                       and not p.name.startswith("."))
        if files:
            classes.append((sub.name, files))
        else:
            log.warning("image folder %s: class folder '%s' has no images; left out", folder, sub.name)
    if not classes:
        raise DataError(
            f"image folder {folder} contains no images (looked for {', '.join(IMAGE_SUFFIXES)} "
            f"files in its sub-folders {', '.join(p.name for p in subdirs[:5])})"
        )
    if len(classes) < 2:
        raise DataError(
            f"image folder {folder}: only class '{classes[0][0]}' has images; a classifier "
            f"needs at least two class sub-folders with images"
        )
    return classes


def _read(path: Path) -> np.ndarray:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageDecodeError(exc.strerror or str(exc)) from exc
    if not data:
        raise ImageDecodeError("the file is empty")
    return decode_image(data)


def _to_channels(img: np.ndarray, channels: int) -> np.ndarray:
    """(H, W, C) uint8 with optional alpha -> (channels, H, W) float32 in [0, 1]."""
    color = img[:, :, :3] if img.shape[2] >= 3 else img[:, :, :1]  # alpha dropped
    x = color.astype(np.float32) / 255.0
    if channels == 1 and x.shape[2] == 3:
        x = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma
        x = x[:, :, None]
    elif channels == 3 and x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def load_image_folder(spec: DatasetSpec, folder: Path, base_dir: Path | None = None) -> DataBundle:
    where = f"image folder {folder}"
    opts = Options(spec.options, where)
    size = opts.int_pair("size")
    channels = opts.raw("channels")
    if channels is not None and channels not in (1, 3):
        raise DataError(f"{where}: option 'channels' must be 1 (gray) or 3 (RGB), got {channels!r}")
    augment = _augment_option(opts.raw("augment"), where)
    on_error = opts.choice("on_error", "error", ("error", "skip"))
    opts.finish()

    classes = _class_folders(folder)
    images: list[np.ndarray] = []
    labels: list[int] = []
    paths: list[Path] = []
    skipped: list[str] = []
    for label, (_, files) in enumerate(classes):
        for path in files:
            try:
                img = _read(path)
            except ImageDecodeError as exc:
                if on_error == "skip":
                    skipped.append(str(path.relative_to(folder)))
                    log.warning("skipped unreadable image %s: %s", path, exc)
                    continue
                raise DataError(
                    f"cannot read image {path}: {exc}; fix or remove it, or set option "
                    f"on_error='skip' to leave unreadable images out"
                ) from exc
            images.append(img)
            labels.append(label)
            paths.append(path)
    if not images:
        raise DataError(f"{where}: none of the images could be read ({len(skipped)} skipped)")

    if channels is None:
        channels = 1 if all(img.shape[2] <= 2 for img in images) else 3
    if size is None:
        sizes = {img.shape[:2] for img in images}
        if len(sizes) > 1:
            first = paths[0]
            other = next(p for p, img in zip(paths, images) if img.shape[:2] != images[0].shape[:2])
            raise DataError(
                f"{where}: images differ in size ({first.name} is {images[0].shape[0]}x"
                f"{images[0].shape[1]}, {other.name} is "
                f"{images[paths.index(other)].shape[0]}x{images[paths.index(other)].shape[1]}); "
                f"set option size: [height, width] to resize them all"
            )
        size = images[0].shape[:2]

    x = np.empty((len(images), channels, size[0], size[1]), dtype=np.float32)
    for i, img in enumerate(images):
        arr = _to_channels(img, channels)
        if arr.shape[1:] != tuple(size):
            # antialias: shrinking a photo to 32x32 should average pixels, not alias them.
            arr = F.interpolate(torch.from_numpy(arr)[None], size=tuple(size), mode="bilinear",
                                align_corners=False, antialias=True)[0].numpy()
        x[i] = arr
    y = np.asarray(labels, dtype=np.int64)
    note = f", {len(skipped)} unreadable skipped" if skipped else ""
    return assemble(
        x, y, spec=spec, where=where, task="classification",
        class_names=[name for name, _ in classes], norm="channel", augment=augment,
        description=(f"{folder.name}: {len(images)} images in {len(classes)} classes, "
                     f"{channels}x{size[0]}x{size[1]}{note}"),
        encoding={"skipped": skipped} if skipped else None,
    )
