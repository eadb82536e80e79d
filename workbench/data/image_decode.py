"""Decoding image files with the libraries the field uses, and reading their headers cheaply.

Pillow decodes every format (JPEG through libjpeg-turbo, PNG 8/16-bit with palette or alpha,
WebP, GIF's first frame, BMP, TIFF); torchvision's own decoders are deprecated from 0.29 in
favour of TorchCodec, and Pillow's JPEG path is the same libjpeg-turbo. Every image comes back as
a (C, H, W) tensor with C = 1 (gray) or 3 (RGB), uint8, or uint16 for 16-bit gray files; alpha is
dropped. Anything that is not a readable image raises ImageDecodeError with the reason, never
another exception.

`read_header` opens a file with Pillow without decoding its pixels (a few tens of microseconds),
so that a folder of 50,000 images can be checked and measured before the first step.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from workbench.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F", "La"}
# A decompression bomb (a tiny file that decodes to gigapixels) is refused, as Pillow does.
MAX_PIXELS = 178_956_970


class ImageDecodeError(DataError):
    """A file is not a readable image; the message says why (the caller names the file)."""


@dataclass(frozen=True)
class ImageHeader:
    """What an image file says about itself without being decoded."""

    height: int
    width: int
    channels: int  # 1 (gray) or 3 (colour) as decoded here
    format: str  # "JPEG", "PNG", ...


def read_header(path: Path) -> ImageHeader:
    """Size and colour of an image file from its header; ImageDecodeError if it is not one."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about odd but readable metadata
            with Image.open(path) as img:
                width, height = img.size
                mode, fmt = img.mode, img.format or "?"
                if mode == "P":  # a palette: gray only if every palette entry is
                    palette = img.getpalette() or []
                    rgb = np.asarray(palette[: len(palette) // 3 * 3]).reshape(-1, 3)
                    mode = "L" if len(rgb) and (rgb == rgb[:, :1]).all() else "RGB"
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image in a format Workbench reads "
                               f"({', '.join(s[1:].upper() for s in IMAGE_SUFFIXES)})") from None
    except OSError as exc:  # unreadable, or a truncated header
        raise ImageDecodeError(exc.strerror or str(exc)) from None
    except (ValueError, SyntaxError, Image.DecompressionBombError) as exc:  # Pillow's words for a broken header
        raise ImageDecodeError(f"broken image header ({exc})") from None
    if width < 1 or height < 1:
        raise ImageDecodeError(f"the image has no pixels ({width}x{height})")
    if width * height > MAX_PIXELS:
        raise ImageDecodeError(f"the image is {width}x{height} pixels, more than Workbench decodes "
                               f"({MAX_PIXELS:,}); shrink it first")
    return ImageHeader(height, width, 1 if mode in _GRAY_MODES else 3, fmt)


def decode_file(path: Path, channels: int) -> torch.Tensor:
    """The image in `path` as a (channels, H, W) uint8 or uint16 tensor."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImageDecodeError(exc.strerror or str(exc)) from None
    return decode_bytes(data, channels)


def decode_bytes(data: bytes, channels: int) -> torch.Tensor:
    """Encoded image bytes as a (channels, H, W) uint8 or uint16 tensor (channels 1 or 3)."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if not data:
        raise ImageDecodeError("the file is empty")
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise ImageDecodeError(f"the image is {width}x{height} pixels, more than Workbench "
                                           f"decodes ({MAX_PIXELS:,}); shrink it first")
                img.seek(0)  # an animated GIF or a multi-page TIFF: its first frame
                if img.mode.startswith("I;16") and channels == 1:
                    pixels = np.array(img, dtype=np.uint16)  # keep 16-bit depth
                else:
                    mode = "L" if channels == 1 else "RGB"
                    # convert() copies even to the same mode: only when the colours differ.
                    pixels = np.array(img if img.mode == mode else img.convert(mode))
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image in a format Workbench reads "
                               f"({', '.join(s[1:].upper() for s in IMAGE_SUFFIXES)})") from None
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot decode it ({_first_line(exc)})") from None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    # (H, W, C) -> (C, H, W) as a view, as torchvision's PILToTensor does: the transforms that
    # follow make their own copy anyway.
    return torch.from_numpy(pixels).permute(2, 0, 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
