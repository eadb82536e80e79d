"""Image data: a list of files and labels in memory, each image read and decoded when it is used.

The reader lists the images (`image_layouts`), checks every file's header (size, colour; a few
tens of microseconds each, with progress and an ETA), splits, measures the normalisation on a
sample of the training split, and hands the engine two lazy datasets: each item is read,
decoded (`image_decode`) and transformed (`transforms`) in the DataLoader's workers. A small set
(decoded size under `CACHE_LIMIT_BYTES`) is decoded once and kept in memory instead; the log says
which path was taken and why. The official files of MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100
(`official`) are read straight into one uint8 tensor and go through the same datasets and
transforms.

Options (project file `dataset.options`, all optional):
    size: [H, W]          resize every image first (the CLI's --image-size)
    channels: 1 | 3       gray or RGB (default: gray when every image is)
    transforms: [...]     augmentation and preprocessing entries (see workbench.data.transforms)
    on_error: error|skip  an unreadable image stops the load (default) or is left out and counted
    cache: auto|true|false keep decoded images in memory (auto: under CACHE_LIMIT_BYTES)
    augment: true | ["flip", "shift"]   older projects' augmentation, read as transforms
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.image_decode import ImageDecodeError, ImageHeader, decode_file, read_header
from workbench.data.image_layouts import ImageIndex, index_images
from workbench.data.official import OfficialLayout, find_official, read_official
from workbench.data.options import Options
from workbench.data.progress import Tracker
from workbench.data.splits import split_indices
from workbench.data.transforms import (
    TransformEntry,
    build_pipeline,
    given_normalization,
    measured_stats,
    parse_transforms,
    preprocessing_record,
)
from workbench.errors import DataError

log = logging.getLogger(__name__)

CACHE_LIMIT_BYTES = 256 * 1024**2  # decoded pixels kept in memory below this
STATS_SAMPLE = 512  # training images the normalisation is measured on
# Older projects' `augment` option, as transform entries.
LEGACY_AUGMENT = {"flip": {"type": "horizontal_flip"}, "shift": {"type": "translate", "fraction": 0.1}}


class ImageFileDataset(Dataset):
    """Images read from files (or from a cache of decoded images) and transformed per item.

    With `skip_unreadable`, a file that fails to decode here (its header was fine when the
    folder was checked, e.g. a truncated JPEG) is replaced by the next readable one and logged,
    so a run keeps its batch shapes. `cache` may also be one uint8 tensor (N, C, H, W) of images
    decoded elsewhere (the official sets); `files` then only names them.
    """

    per_sample_work = True  # DataLoader workers pay off (training.loaders.auto_workers)

    def __init__(self, files: Sequence[Path | str], labels: np.ndarray, channels: int,
                 pipeline: Callable[[torch.Tensor], torch.Tensor], resize: tuple[int, int] | None,
                 cache: Sequence[torch.Tensor] | None = None, skip_unreadable: bool = False,
                 augments: bool = False) -> None:
        self.files = [str(f) for f in files]  # str: cheaper to share with worker processes
        self.labels = torch.from_numpy(np.ascontiguousarray(labels, dtype=np.int64))
        self.channels = channels
        self.pipeline = pipeline
        self.resize = resize
        self.cache = cache
        self.skip_unreadable = skip_unreadable
        self.augments = augments  # the pipeline draws random augmentations

    def __len__(self) -> int:
        return len(self.files)

    def decoded(self, index: int) -> torch.Tensor:
        """The image as decoded (and brought to `size`), before any transform."""
        if self.cache is not None:
            return _resized(self.cache[index], self.resize)  # decoded files are brought to size already
        return _decode_resized(Path(self.files[index]), self.channels, self.resize)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        for attempt in range(len(self.files)):
            i = (index + attempt) % len(self.files)
            try:
                return self.pipeline(self.decoded(i)), self.labels[i]
            except ImageDecodeError as exc:
                if not self.skip_unreadable:
                    raise DataError(f"cannot read image {self.files[i]}: {exc}; fix or remove it, or set "
                                    "the dataset option on_error to 'skip'") from None
                log.warning("skipped unreadable image %s: %s", self.files[i], exc)
        raise DataError("none of the images could be read")


def _decode_resized(path: Path, channels: int, resize: tuple[int, int] | None) -> torch.Tensor:
    return _resized(decode_file(path, channels), resize)


def _resized(image: torch.Tensor, resize: tuple[int, int] | None) -> torch.Tensor:
    if resize is not None and tuple(image.shape[1:]) != tuple(resize):
        from torchvision.transforms.v2.functional import resize as resize_image

        image = resize_image(image, list(resize), antialias=True)
    return image


@dataclass(frozen=True)
class ImageOptions:
    size: tuple[int, int] | None
    channels: int | None
    transforms: list[TransformEntry]
    on_error: str
    cache: str  # "auto", "true", "false"


def read_options(spec: DatasetSpec, where: str) -> ImageOptions:
    """The image reader's options, checked, with older projects' `augment` read as transforms."""
    opts = Options(spec.options, where)
    size = opts.int_pair("size")
    channels = opts.raw("channels")
    if channels is not None and (isinstance(channels, bool) or channels not in (1, 3)):
        raise DataError(f"{where}: option 'channels' must be 1 (gray) or 3 (RGB), got {channels!r}")
    transforms = parse_transforms(opts.raw("transforms"), where)
    augment = opts.raw("augment")
    if augment not in (None, False):
        names = ["flip", "shift"] if augment is True else [augment] if isinstance(augment, str) else augment
        if not isinstance(names, (list, tuple)) or not all(n in LEGACY_AUGMENT for n in names):
            raise DataError(f"{where}: option 'augment' must be true, false or a list of "
                            f"{list(LEGACY_AUGMENT)}, got {augment!r}")
        transforms = parse_transforms([LEGACY_AUGMENT[n] for n in names], where) + transforms
    on_error = opts.choice("on_error", "error", ("error", "skip"))
    cache = opts.raw("cache")
    if cache not in (None, "auto", True, False):
        raise DataError(f"{where}: option 'cache' must be \"auto\", true or false, got {cache!r}")
    opts.finish()
    return ImageOptions(size, channels, transforms, on_error,
                        "auto" if cache in (None, "auto") else str(bool(cache)).lower())


def check_headers(index: ImageIndex, on_error: str, where: str) -> tuple[list[int], list[ImageHeader], list[str]]:
    """Every file's header: (kept positions, their headers, skipped files relative to the root)."""
    kept: list[int] = []
    headers: list[ImageHeader] = []
    skipped: list[str] = []
    tracker = Tracker("checking images", len(index.files))
    for i, path in enumerate(index.files):
        try:
            headers.append(read_header(path))
            kept.append(i)
        except ImageDecodeError as exc:
            if on_error != "skip":
                raise DataError(f"cannot read image {path}: {exc}; fix or remove it, or set the dataset "
                                f"option on_error to 'skip' to leave unreadable images out") from None
            skipped.append(_relative(path, index.root))
            log.warning("skipped unreadable image %s: %s", path, exc)
        tracker.update(i + 1)
    tracker.finish(len(index.files))
    if not kept:
        raise DataError(f"{where}: none of the images could be read ({len(skipped)} skipped)")
    return kept, headers, skipped


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def load_image_folder(spec: DatasetSpec, folder: Path, base_dir: Path | None = None) -> DataBundle:
    """An image classification set from a folder layout or a manifest (see image_layouts)."""
    where = f"image data {folder}"
    options = read_options(spec, where)
    official = find_official(folder)
    if official is not None:
        return _load_official(spec, folder, official, options, where)
    index = index_images(folder)
    kept, headers, skipped = check_headers(index, options.on_error, where)
    files = [index.files[i] for i in kept]
    labels = np.asarray([index.labels[i] for i in kept], dtype=np.int64)
    splits = [index.splits[i] for i in kept] if index.splits is not None else None
    channels = options.channels or (1 if all(h.channels == 1 for h in headers) else 3)
    _check_one_size(files, headers, options, where)
    cache = None
    if _should_cache(headers, channels, options, len(files)):
        cache, readable = _decode_all(files, channels, options, index.root, skipped, where)
        files = [files[i] for i in readable]
        labels = labels[readable]
        splits = [splits[i] for i in readable] if splits is not None else None
    return _assemble(spec, folder, where, options, files, labels, splits, channels, cache, index.class_names,
                     index.layout, skipped)


def _load_official(spec: DatasetSpec, folder: Path, found: OfficialLayout, options: ImageOptions,
                   where: str) -> DataBundle:
    """An official set: its pixels in one uint8 tensor, its train part trains, its test part validates."""
    data = read_official(found)
    images = torch.from_numpy(data.images)  # (N, C, H, W) uint8
    channels = options.channels or images.shape[1]
    if channels != images.shape[1]:
        from torchvision.transforms.v2.functional import rgb_to_grayscale

        images = rgb_to_grayscale(images) if channels == 1 else images.expand(-1, 3, -1, -1).contiguous()
    if options.cache == "false":
        log.info("%s: option cache is false, but the official files are read whole; kept in memory", where)
    splits = ["train" if part == "train" else "val" for part, n in data.counts.items() for _ in range(n)]
    names = [f"{data.name} {part} #{i}" for part, n in data.counts.items() for i in range(n)]
    parts = (f"{found.layout}: the {data.counts['train']:,} training images train, the "
             f"{data.counts['test']:,} test images are the validation split")
    return _assemble(spec, folder, where, options, names, data.labels, splits, channels, images, data.class_names,
                     found.layout, [], parts=parts)


def _take(cache: Sequence[torch.Tensor] | None, idx: np.ndarray) -> Sequence[torch.Tensor] | None:
    """The cached images at `idx`: a view when they are a tensor and `idx` a run (an official part)."""
    if cache is None:
        return None
    if isinstance(cache, torch.Tensor):
        if len(idx) and np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
            return cache[int(idx[0]):int(idx[0]) + len(idx)]
        return cache[torch.from_numpy(np.asarray(idx, dtype=np.int64))]
    return [cache[i] for i in idx]


def _assemble(spec: DatasetSpec, folder: Path, where: str, options: ImageOptions, files: Sequence[Path | str],
              labels: np.ndarray, splits: list[str] | None, channels: int, cache: Sequence[torch.Tensor] | None,
              class_names: list[str], layout: str, skipped: list[str], parts: str | None = None) -> DataBundle:
    """Split, measure the normalisation, and wrap both parts in datasets (any layout)."""
    if splits is None:
        train_idx, val_idx = split_indices(len(files), spec.val_fraction, spec.seed, where, stratify=labels)
    else:
        train_idx = np.asarray([i for i, s in enumerate(splits) if s == "train"], dtype=np.int64)
        val_idx = np.asarray([i for i, s in enumerate(splits) if s == "val"], dtype=np.int64)
    if len(train_idx) == 0:
        raise DataError(f"{where}: no training images")

    plain = build_pipeline(options.transforms, train=False, resize=None, mean=None, std=None)
    probe = ImageFileDataset([files[0]], labels[:1], channels, plain, options.size,
                             cache=cache[:1] if cache is not None else None)
    shape = tuple(probe[0][0].shape)
    mean_std = given_normalization(options.transforms)
    if mean_std is None:
        mean_std = _measure(files, labels, train_idx, channels, options, cache, spec.seed)
    mean, std = mean_std
    if len(mean) != channels:
        raise DataError(f"{where}: 'normalize' gives {len(mean)} mean value(s) but the images have "
                        f"{channels} channel(s); give one value per channel")

    def part(idx: np.ndarray, train: bool) -> ImageFileDataset:
        pipeline = build_pipeline(options.transforms, train=train, resize=None, mean=mean, std=std)
        return ImageFileDataset([files[i] for i in idx], labels[idx], channels, pipeline, options.size,
                                cache=_take(cache, idx), skip_unreadable=options.on_error == "skip",
                                augments=train and any(e.kind.augmentation for e in options.transforms))

    # Augmentations keep the size (a random resized crop is a resize of the same size at
    # validation), so `shape` holds for both parts.
    train_set, val_set = part(train_idx, True), part(val_idx, False)
    note = f", {len(skipped)} unreadable skipped" if skipped else ""
    how = ("decoded once and kept in memory" if cache is not None
           else "read from disk per batch")
    log.info("%s: %d images (%s, %s); %s", where, len(files), layout, _dims(shape), how)
    preprocessing = preprocessing_record(options.transforms, options.size, channels, mean, std)
    return DataBundle(
        train=train_set,
        val=val_set,
        task="classification",
        input_shape=shape,
        input_dtype="float32",
        num_outputs=len(class_names),
        class_names=list(class_names),
        normalization={"mean": list(mean), "std": list(std)},
        description=(f"{folder.name}: {len(files)} images in {len(class_names)} classes "
                     f"({parts or layout}), {_dims(shape)}{note}; {how}"),
        encoding={"skipped": skipped, "layout": layout, "preprocessing": preprocessing,
                  "cached": cache is not None},
    )


def _dims(shape: Sequence[int]) -> str:
    return "×".join(str(d) for d in shape)


def _check_one_size(files: list[Path], headers: list[ImageHeader], options: ImageOptions, where: str) -> None:
    """Without a size option or a resizing transform, every image must have the same size."""
    sizing = {"resize", "random_resized_crop", "center_crop"}
    if options.size is not None or any(e.type in sizing for e in options.transforms):
        return
    first = headers[0]
    for path, header in zip(files, headers):
        if (header.height, header.width) != (first.height, first.width):
            raise DataError(
                f"{where}: images differ in size ({files[0].name} is {first.height}x{first.width}, "
                f"{path.name} is {header.height}x{header.width}); set option size: [height, width] "
                f"(--image-size H W) or add a resize transform"
            )


def _decoded_bytes(headers: list[ImageHeader], channels: int, options: ImageOptions) -> int:
    if options.size is not None:
        return len(headers) * channels * options.size[0] * options.size[1]
    return sum(h.height * h.width for h in headers) * channels


def _should_cache(headers: list[ImageHeader], channels: int, options: ImageOptions, n: int) -> bool:
    if options.cache != "auto":
        return options.cache == "true"
    size = _decoded_bytes(headers, channels, options)
    if size >= CACHE_LIMIT_BYTES:
        log.info("%d images decode to %.0f MB, over the %.0f MB kept in memory: each is read from disk "
                 "when a batch needs it", n, size / 1e6, CACHE_LIMIT_BYTES / 1e6)
        return False
    return True


def _decode_all(files: list[Path], channels: int, options: ImageOptions, root: Path, skipped: list[str],
                where: str) -> tuple[list[torch.Tensor], list[int]]:
    """Every image decoded (and brought to `size`): (the images, the positions that could be read).

    Unreadable files are added to `skipped` with on_error 'skip', and stop the load otherwise.
    """
    tracker = Tracker("decoding images", len(files))
    cache: list[torch.Tensor] = []
    readable: list[int] = []
    for i, path in enumerate(files):
        try:
            cache.append(_decode_resized(path, channels, options.size))
            readable.append(i)
        except ImageDecodeError as exc:
            if options.on_error != "skip":
                raise DataError(f"cannot read image {path}: {exc}; fix or remove it, or set the dataset "
                                f"option on_error to 'skip' to leave unreadable images out") from None
            skipped.append(_relative(path, root))
            log.warning("skipped unreadable image %s: %s", path, exc)
        tracker.update(i + 1)
    tracker.finish(len(files))
    if not cache:
        raise DataError(f"{where}: none of the images could be read ({len(skipped)} skipped)")
    log.info("%s: %d images decoded to %.1f MB and kept in memory (under %.0f MB)", where, len(cache),
             sum(t.numel() * t.element_size() for t in cache) / 1e6, CACHE_LIMIT_BYTES / 1e6)
    return cache, readable


def _measure(files: Sequence[Path | str], labels: np.ndarray, train_idx: np.ndarray, channels: int,
             options: ImageOptions, cache: Sequence[torch.Tensor] | None, seed: int) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of up to STATS_SAMPLE training images, as validation sees them."""
    chosen = sorted(random.Random(seed).sample(list(train_idx), min(STATS_SAMPLE, len(train_idx))))
    plain = build_pipeline(options.transforms, train=False, resize=None, mean=None, std=None)
    dataset = ImageFileDataset([files[i] for i in chosen], labels[chosen], channels, plain, options.size,
                               cache=_take(cache, np.asarray(chosen, dtype=np.int64)),
                               skip_unreadable=options.on_error == "skip")
    tracker = Tracker("measuring the normalisation", len(dataset))
    samples = []
    for i in range(len(dataset)):
        samples.append(dataset[i][0])
        tracker.update(i + 1)
    tracker.finish(len(dataset))
    return measured_stats(samples)
