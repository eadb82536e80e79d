"""IDX files, the format MNIST and Fashion-MNIST ship in: an images file and a labels file.

Header: two zero bytes, a type code, the number of dimensions, then one big-endian uint32 per
dimension. gzip-compressed files (.gz as downloaded) are recognised by their content.
"""

from __future__ import annotations

import gzip
import logging
import struct
import zlib
from pathlib import Path

import numpy as np

from workbench.data.assemble import assemble
from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.labels import encode_classes
from workbench.data.options import Options
from workbench.data.paths import read_bytes, resolve_file
from workbench.errors import DataError

log = logging.getLogger(__name__)

IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file (plain or gzipped), checked against its header."""
    raw = read_bytes(path)
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"IDX file {path} is a damaged gzip file ({exc}); download it again "
                            f"or unpack it yourself") from exc
    if len(raw) < 4:
        raise DataError(f"IDX file {path} is empty or shorter than its 4-byte header")
    zero, code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in IDX_TYPES or ndim == 0:
        raise DataError(
            f"{path} is not an IDX file: wrong magic number 0x{raw[:4].hex()} (expected 0x0000 "
            f"then a type code 08/09/0B/0C/0D/0E and a dimension count, e.g. 0x00000803 for "
            f"MNIST images, 0x00000801 for labels)"
        )
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"IDX file {path} is truncated inside its header")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = IDX_TYPES[code]
    count = int(np.prod(dims, dtype=np.int64))
    payload = len(raw) - 4 - 4 * ndim
    if payload != count * dtype.itemsize:
        raise DataError(
            f"IDX file {path}: the header promises {'x'.join(map(str, dims))} values "
            f"({count * dtype.itemsize} bytes) but the file holds {payload} bytes of data; "
            f"it is truncated or not the file it claims to be"
        )
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)


def _images(arr: np.ndarray, path: Path) -> np.ndarray:
    """(N, H, W) -> (N, 1, H, W) floats; bytes scaled to [0, 1] as pixels."""
    if arr.ndim < 2:
        raise DataError(f"IDX file {path} holds a 1-D array (labels?); the dataset path must be "
                        f"the images file and option labels the labels file")
    x = arr.astype(np.float32)
    if arr.dtype == np.dtype(">u1"):
        x /= 255.0
    return x[:, None] if arr.ndim == 3 else x


def _labels(arr: np.ndarray, path: Path, n_images: int, images_path: Path) -> np.ndarray:
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise DataError(f"IDX file {path} is not a labels file: it holds a {arr.ndim}-D "
                        f"{arr.dtype} array, labels are 1-D integers (magic 0x00000801)")
    if len(arr) != n_images:
        raise DataError(f"IDX count mismatch: {images_path} has {n_images} images but {path} "
                        f"has {len(arr)} labels; pair each images file with its own labels file")
    return arr.astype(np.int64)


def load_idx(spec: DatasetSpec, path: Path, base_dir: Path | None = None) -> DataBundle:
    where = f"IDX file {path}"
    opts = Options(spec.options, where)
    labels_opt = opts.str("labels", None)
    val_images_opt = opts.str("val_images", None)
    val_labels_opt = opts.str("val_labels", None)
    opts.finish()
    if labels_opt is None:
        # MNIST naming (train-images-idx3-ubyte -> train-labels-idx1-ubyte) lets the command
        # line's `--data images-file` work without naming the labels file too.
        guess = path.with_name(path.name.replace("images", "labels").replace("idx3", "idx1"))
        if guess == path or not guess.is_file():
            raise DataError(f"{where}: set option labels to the matching labels file "
                            f"(e.g. train-labels-idx1-ubyte.gz)")
        log.info("%s: using labels file %s", where, guess)
        labels_opt = str(guess)
    if (val_images_opt is None) != (val_labels_opt is None):
        raise DataError(f"{where}: options val_images and val_labels must be set together")

    x = _images(read_idx(path), path)
    labels_path = resolve_file(labels_opt, base_dir, f"{where}, option 'labels'")
    y = _labels(read_idx(labels_path), labels_path, len(x), path)
    val = None
    y_val = None
    if val_images_opt is not None and val_labels_opt is not None:
        vx_path = resolve_file(val_images_opt, base_dir, f"{where}, option 'val_images'")
        vy_path = resolve_file(val_labels_opt, base_dir, f"{where}, option 'val_labels'")
        x_val = _images(read_idx(vx_path), vx_path)
        if x_val.shape[1:] != x.shape[1:]:
            raise DataError(f"{vx_path} holds images of shape {x_val.shape[1:]}, but {path} "
                            f"holds {x.shape[1:]}; they must match")
        y_val = _labels(read_idx(vy_path), vy_path, len(x_val), vx_path)
        val = (x_val, None)
    y, class_names, y_val = encode_classes(y, where, "the labels", y_val)
    return assemble(
        x, y, spec=spec, where=where, task="classification", class_names=class_names,
        norm="channel", val=None if val is None else (val[0], y_val),
        description=f"{path.name}: {len(x)} images {tuple(x.shape[1:])}, {len(class_names)} classes",
    )
