"""PNG and BMP decoding in NumPy, so that image folders load without Pillow or Qt.

Pillow is not a dependency of Workbench and the core may not import Qt, so the two lossless
formats people keep datasets in are decoded here (PNG: every colour type and bit depth,
Adam7 interlacing; BMP: 1/4/8-bit palette, 24-bit, 32-bit). JPEG needs a real codec: it is
read through Pillow when Pillow happens to be installed and refused with a clear message
otherwise. Decoders return (H, W, C) uint8 arrays with C = 1 (gray), 2 (gray + alpha),
3 (RGB) or 4 (RGBA).
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))  # (x0, y0, dx, dy) of the seven interlace passes
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


class ImageDecodeError(ValueError):
    """The bytes are not an image this module can decode; the message says why."""


def decode_image(data: bytes) -> np.ndarray:
    """Decode PNG, BMP or (with Pillow) JPEG bytes, recognised by content, not by name."""
    if data.startswith(PNG_SIGNATURE):
        decoder = decode_png
    elif data.startswith(b"BM"):
        decoder = decode_bmp
    elif data.startswith(b"\xff\xd8"):
        return _decode_with_pillow(data, "JPEG")
    else:
        raise ImageDecodeError("not a PNG, BMP or JPEG file (unrecognised header)")
    try:
        return decoder(data)
    except ImageDecodeError:
        # An unusual variant our decoder does not cover may still be fine for Pillow.
        if _pillow() is None:
            raise
        return _decode_with_pillow(data, "image")


def _pillow():  # type: ignore[no-untyped-def]
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def _decode_with_pillow(data: bytes, kind: str) -> np.ndarray:
    image_mod = _pillow()
    if image_mod is None:
        raise ImageDecodeError(
            f"reading {kind} files needs Pillow (pip install pillow), or convert the images to PNG"
        )
    try:
        with image_mod.open(io.BytesIO(data)) as img:
            img = img.convert("L") if img.mode in ("1", "L", "I", "I;16", "F") else img.convert("RGB")
            arr = np.asarray(img, dtype=np.uint8)
    except Exception as exc:  # Pillow raises many types for broken files
        raise ImageDecodeError(f"Pillow cannot decode it: {exc}") from exc
    return arr[:, :, None] if arr.ndim == 2 else arr


# ---------------------------------------------------------------------------------------- PNG

def decode_png(data: bytes) -> np.ndarray:
    if not data.startswith(PNG_SIGNATURE):
        raise ImageDecodeError("missing PNG signature")
    pos = len(PNG_SIGNATURE)
    header = None
    palette = None
    idat = []
    while True:
        if pos + 8 > len(data):
            raise ImageDecodeError("file ends before the IEND chunk (truncated)")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            raise ImageDecodeError(f"chunk {ctype!r} is truncated")
        if struct.unpack(">I", crc)[0] != zlib.crc32(ctype + body):
            raise ImageDecodeError(f"chunk {ctype!r} fails its CRC check (corrupted file)")
        pos += 12 + length
        if ctype == b"IHDR":
            if length != 13:
                raise ImageDecodeError("bad IHDR chunk")
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if header is None:
        raise ImageDecodeError("no IHDR chunk")
    width, height, depth, ctype_code, comp, filt, interlace = header
    if width == 0 or height == 0:
        raise ImageDecodeError("image has zero width or height")
    if ctype_code not in _PNG_CHANNELS or depth not in _PNG_DEPTHS[ctype_code]:
        raise ImageDecodeError(f"unsupported colour type {ctype_code} with bit depth {depth}")
    if comp != 0 or filt != 0 or interlace not in (0, 1):
        raise ImageDecodeError("unknown compression, filter or interlace method")
    if ctype_code == 3 and palette is None:
        raise ImageDecodeError("palette image without a PLTE chunk")
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise ImageDecodeError(f"image data cannot be decompressed ({exc})") from exc

    channels = _PNG_CHANNELS[ctype_code]
    if interlace == 0:
        samples, used = _png_pass(raw, 0, width, height, channels, depth)
    else:
        samples = np.zeros((height, width, channels), dtype=np.uint16 if depth == 16 else np.uint8)
        used = 0
        for x0, y0, dx, dy in _ADAM7:
            pw, ph = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
            if pw <= 0 or ph <= 0:
                continue
            part, n = _png_pass(raw, used, pw, ph, channels, depth)
            samples[y0::dy, x0::dx] = part
            used += n

    if depth == 16:
        samples = (samples >> 8).astype(np.uint8)
    elif ctype_code == 3:
        idx = samples[:, :, 0]
        if idx.max() >= len(palette):
            raise ImageDecodeError("palette index out of range")
        return palette[idx]
    elif depth < 8 and ctype_code == 0:
        samples = (samples.astype(np.uint16) * 255 // ((1 << depth) - 1)).astype(np.uint8)
    return samples.astype(np.uint8, copy=False)


def _png_pass(raw: bytes, offset: int, width: int, height: int, channels: int,
              depth: int) -> tuple[np.ndarray, int]:
    """Unfilter one (sub-)image; return its samples (H, W, C) and the bytes it used."""
    bits = width * channels * depth
    stride = (bits + 7) // 8
    bpp = max(1, channels * depth // 8)
    need = height * (stride + 1)
    if offset + need > len(raw):
        raise ImageDecodeError("image data is shorter than the image size says (truncated)")
    rows = np.frombuffer(raw, dtype=np.uint8, count=need, offset=offset).reshape(height, stride + 1)
    out = np.empty((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for r in range(height):
        ftype = int(rows[r, 0])
        line = rows[r, 1:]
        if ftype == 0:
            cur = line.copy()
        elif ftype == 1:  # Sub: running sum per byte position within a pixel, mod 256
            if stride % bpp == 0:
                cur = np.cumsum(line.reshape(-1, bpp), axis=0, dtype=np.uint8).reshape(-1)
            else:
                cur = _sequential(line, prev, bpp, 1)
        elif ftype == 2:  # Up
            cur = line + prev
        elif ftype in (3, 4):  # Average, Paeth: each byte depends on the one to its left
            cur = _sequential(line, prev, bpp, ftype)
        else:
            raise ImageDecodeError(f"unknown filter type {ftype} in row {r}")
        out[r] = cur
        prev = cur
    if depth >= 8:
        samples = out.view(">u2").astype(np.uint16) if depth == 16 else out
        return samples.reshape(height, width, channels), need
    # Sub-byte depths (gray or palette, one channel): unpack the bits of each row.
    unpacked = np.unpackbits(out, axis=1)[:, :width * depth].reshape(height, width, depth)
    weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
    return (unpacked * weights).sum(axis=2, dtype=np.uint8)[:, :, None], need


def _sequential(line: np.ndarray, prev: np.ndarray, bpp: int, ftype: int) -> np.ndarray:
    cur = line.tolist()
    up = prev.tolist()
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        b = up[i]
        if ftype == 1:
            pred = a
        elif ftype == 3:
            pred = (a + b) >> 1
        else:
            c = up[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        cur[i] = (cur[i] + pred) & 0xFF
    return np.array(cur, dtype=np.uint8)


# ---------------------------------------------------------------------------------------- BMP

def decode_bmp(data: bytes) -> np.ndarray:
    if len(data) < 26 or not data.startswith(b"BM"):
        raise ImageDecodeError("not a BMP file (too short or no 'BM' header)")
    pixel_offset = struct.unpack_from("<I", data, 10)[0]
    dib_size = struct.unpack_from("<I", data, 14)[0]
    if dib_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height, _, bpp = struct.unpack_from("<HHHH", data, 18)
        compression, colors_used, entry = 0, 0, 3
    elif dib_size >= 40 and len(data) >= 14 + 40:
        width, height, _, bpp, compression = struct.unpack_from("<iiHHI", data, 18)
        colors_used = struct.unpack_from("<I", data, 46)[0]
        entry = 4
    else:
        raise ImageDecodeError(f"unsupported BMP header size {dib_size}")
    top_down = height < 0
    height = abs(height)
    if width <= 0 or height == 0:
        raise ImageDecodeError("image has zero width or height")
    if compression not in (0, 3) or (compression == 3 and bpp != 32):
        raise ImageDecodeError(f"compressed BMP (method {compression}) is not supported; save it "
                               "uncompressed or as PNG")
    if bpp not in (1, 4, 8, 24, 32):
        raise ImageDecodeError(f"{bpp}-bit BMP is not supported")
    row_size = (bpp * width + 31) // 32 * 4
    if pixel_offset + row_size * height > len(data):
        raise ImageDecodeError("pixel data is shorter than the image size says (truncated)")
    rows = np.frombuffer(data, dtype=np.uint8, count=row_size * height,
                         offset=pixel_offset).reshape(height, row_size)
    if not top_down:
        rows = rows[::-1]  # BMP stores the bottom row first

    if bpp <= 8:
        n_colors = colors_used or (1 << bpp)
        start = 14 + dib_size
        table = np.frombuffer(data, dtype=np.uint8, count=n_colors * entry, offset=start)
        palette = table.reshape(n_colors, entry)[:, 2::-1]  # BGR(A) -> RGB
        bits = np.unpackbits(rows, axis=1)[:, :width * bpp].reshape(height, width, bpp)
        weights = (1 << np.arange(bpp - 1, -1, -1)).astype(np.uint16)
        idx = (bits * weights).sum(axis=2)
        if idx.max() >= n_colors:
            raise ImageDecodeError("palette index out of range")
        rgb = palette[idx]
        if (palette[:, 0] == palette[:, 1]).all() and (palette[:, 1] == palette[:, 2]).all():
            return np.ascontiguousarray(rgb[:, :, :1])  # a gray palette: keep one channel
        return np.ascontiguousarray(rgb)
    px = rows[:, :width * bpp // 8].reshape(height, width, bpp // 8)
    if bpp == 32 and compression == 3:
        masks = struct.unpack_from("<III", data, 54)
        words = px.copy().view("<u4")[:, :, 0]
        chans = []
        for mask in masks:
            shift = (mask & -mask).bit_length() - 1 if mask else 0
            chans.append(((words & mask) >> shift).astype(np.uint8))
        return np.stack(chans, axis=2)
    return np.ascontiguousarray(px[:, :, 2::-1])  # BGR(X) -> RGB, alpha byte dropped


# ------------------------------------------------------------------------------ writing (tests)

def encode_png(img: np.ndarray, filters: bool = True) -> bytes:
    """A PNG (8-bit gray or RGB) from an (H, W) or (H, W, C) uint8 array.

    Row filters cycle through all five types when `filters` is set, so the decoder is
    exercised on each; used by tests and by anyone exporting sample images.
    """
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    h, w, c = arr.shape
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rows = arr.reshape(h, w * c).astype(np.int16)
    out = bytearray()
    prev = np.zeros(w * c, dtype=np.int16)
    for r in range(h):
        line = rows[r]
        ftype = r % 5 if filters else 0
        left = np.concatenate([np.zeros(c, dtype=np.int16), line[:-c]])
        upleft = np.concatenate([np.zeros(c, dtype=np.int16), prev[:-c]])
        if ftype == 0:
            pred = np.zeros_like(line)
        elif ftype == 1:
            pred = left
        elif ftype == 2:
            pred = prev
        elif ftype == 3:
            pred = (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = np.abs(p - left), np.abs(p - prev), np.abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        out.append(ftype)
        out += ((line - pred) & 0xFF).astype(np.uint8).tobytes()
        prev = line

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b""))


def encode_bmp(img: np.ndarray) -> bytes:
    """An uncompressed BMP: 8-bit gray palette for (H, W[, 1]), 24-bit for (H, W, 3)."""
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        bpp, palette = 8, np.repeat(np.arange(256, dtype=np.uint8), 4).reshape(256, 4)
        palette[:, 3] = 0
        pixels = arr
    else:
        bpp, palette = 24, np.zeros((0, 4), dtype=np.uint8)
        pixels = arr[:, :, ::-1].reshape(h, w * 3)
    row_size = (bpp * w + 31) // 32 * 4
    body = np.zeros((h, row_size), dtype=np.uint8)
    body[:, :pixels.shape[1]] = pixels
    body = body[::-1].tobytes()
    offset = 14 + 40 + palette.size
    header = struct.pack("<2sIHHI", b"BM", offset + len(body), 0, 0, offset)
    dib = struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, 0, len(body), 2835, 2835,
                      len(palette), 0)
    return header + dib + palette.tobytes() + body
