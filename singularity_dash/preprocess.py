"""Turn what a user sends (upload, drawing, JSON vector) into validated model input.

Images follow the recipe used to build MNIST: white ink on black, the ink's bounding box
scaled so its longer side is 20 px (anti-aliased), then pasted into a 28x28 field so that
the centre of mass sits at pixel (14, 14). Every failure raises InputError with a message
that names the problem and, where there is one, the limit.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import numbers
import re
import struct

import numpy as np
from PIL import Image, ImageOps

from singularity_dash.errors import InputError

MAX_UPLOAD_BYTES = 5_000_000
MAX_IMAGE_PIXELS = 25_000_000

# Pillow format names we decode; MPO is what Pillow calls multi-picture JPEGs from cameras.
ACCEPTED_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
_OPENED_FORMATS = ACCEPTED_FORMATS + ("MPO",)
_ACCEPTED_TEXT = "PNG, JPEG, BMP, GIF or WebP"

OUTPUT_SIDE = 28
BOX_SIDE = 20  # MNIST fits each digit's ink into a 20x20 box
CENTRE = 14.0  # MNIST puts the ink's centre of mass at pixel (14, 14)

# Working resolution: large images are reduced to this longer side before any numpy work;
# it is still ~25x the final box, so thin pen strokes survive.
_WORK_SIDE = 512
# Fraction of the ink contrast treated as background (kills JPEG noise and paper texture).
_NOISE_FRACTION = 0.15
# Below this contrast (on a 0..1 scale) the image is considered blank.
_MIN_CONTRAST = 0.08
# MNIST strokes are ~9% of the box side wide (median); thinner strokes are thickened.
_MNIST_STROKE_RATIO = 0.09
_THIN_STROKE_RATIO = 0.05

# Pillow raises many exception types on malformed files; all of them mean "bad file" here.
_PIL_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

# Leading bytes of common files that are not raster images we accept, for a clear refusal.
_KNOWN_SIGNATURES = (
    (b"%PDF", "a PDF document"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x00\x00\x01\x00", "an ICO icon"),
    (b"\x00\x00\x02\x00", "a CUR cursor"),
    (b"8BPS", "a Photoshop (PSD) file"),
    (b"PK\x03\x04", "a ZIP archive (or Office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"icns", "an ICNS icon"),
)


def _format_bytes(n: int) -> str:
    """Return a byte count in the unit a person would use."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.0f} kB"
    return f"{n} bytes"


def decode_upload(contents: str, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """Decode a dcc.Upload data URL ("data:image/png;base64,...") into the file's bytes."""
    if not isinstance(contents, str):
        raise InputError(
            f"The upload must be a data URL string, not {type(contents).__name__}."
        )
    if not contents.strip():
        raise InputError("The upload is empty: no file contents were received.")
    if not contents.startswith("data:"):
        raise InputError(
            "The upload is not a data URL: it must start with 'data:<type>;base64,'."
        )
    header, sep, payload = contents.partition(",")
    if not sep:
        raise InputError("The upload data URL has no ',' separating its header from its data.")
    if not header.endswith(";base64"):
        raise InputError(
            "The upload data URL is not base64-encoded: its header must end with ';base64'."
        )
    # Refuse by length before decoding anything: 4 base64 characters carry 3 bytes.
    max_chars = 4 * math.ceil(max_bytes / 3)
    if len(payload) > max_chars:
        raise InputError(
            f"The file is too large: about {_format_bytes(len(payload) * 3 // 4)}; "
            f"the limit is {_format_bytes(max_bytes)}."
        )
    payload = "".join(payload.split())  # tolerate line-wrapped base64
    if not payload:
        raise InputError("The uploaded file is empty (0 bytes).")
    if len(payload) % 4:
        raise InputError(
            "The upload is not valid base64: its length is not a multiple of 4 (wrong padding)."
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(
            "The upload is not valid base64: it contains characters outside the base64 "
            "alphabet or misplaced '=' padding."
        ) from None
    if not data:
        raise InputError("The uploaded file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise InputError(
            f"The file is too large: {_format_bytes(len(data))}; "
            f"the limit is {_format_bytes(max_bytes)}."
        )
    return data


def _describe_unsupported(data: bytes) -> str:
    """Name what a file that Pillow could not open as an accepted format appears to be."""
    head = data[:512]
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in data[:4096].lower():
        return "an SVG drawing"
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page"
    if lowered.startswith(b"<?xml"):
        return "an XML document"
    for signature, name in _KNOWN_SIGNATURES:
        if head.startswith(signature):
            return name
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
            return "a HEIC/HEIF photo"
        if brand in (b"avif", b"avis"):
            return "an AVIF image"
        return "a video or ISO media file"
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if printable >= 0.95 * len(head):
        return "a text file"
    return "not an image format we recognise"


def _accepted_signature(data: bytes) -> str | None:
    """Name the accepted format whose leading bytes the data carries, if any."""
    if data.startswith(b"\x89PNG"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"GIF8"):
        return "GIF"
    if data.startswith(b"BM"):
        return "BMP"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WebP"
    return None


def _open_image(data: bytes, max_pixels: int) -> Image.Image:
    """Open image bytes, check format and dimensions, and decode the first frame."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"Image data must be bytes, not {type(data).__name__}.")
    data = bytes(data)
    if not data:
        raise InputError("The image file is empty (0 bytes).")
    try:
        # Only reads the header: the pixel data is not decoded yet.
        img = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    except Image.DecompressionBombError as err:
        # Pillow's own hard limit fired while reading the header; report its pixel count.
        found = re.search(r"\((\d+) pixels\)", str(err))
        count = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        raise InputError(f"The image has {count}; the limit is {max_pixels:,} pixels.") from None
    except _PIL_ERRORS:
        damaged = _accepted_signature(data)
        if damaged:
            raise InputError(
                f"The file starts like a {damaged} image but is damaged or truncated, "
                "so it cannot be read."
            ) from None
        kind = _describe_unsupported(data)
        if kind.startswith("not "):
            message = (
                f"The file is {kind}, or it is corrupt; "
                f"please upload a {_ACCEPTED_TEXT} image."
            )
        else:
            message = (
                f"The file is {kind}, which is not supported; "
                f"please upload a {_ACCEPTED_TEXT} image."
            )
        raise InputError(message) from None
    if img.format not in _OPENED_FORMATS:
        raise InputError(
            f"{img.format or 'This'} images are not supported; "
            f"please upload a {_ACCEPTED_TEXT} image."
        )
    width, height = img.size
    if width < 1 or height < 1:
        raise InputError(f"The image has no pixels ({width}x{height}).")
    # Our own per-call bomb limit, checked before any pixel is decoded.
    if width * height > max_pixels:
        raise InputError(
            f"The image is {width}x{height} = {width * height:,} pixels; "
            f"the limit is {max_pixels:,} pixels."
        )
    if img.format in ("JPEG", "MPO") and max(width, height) > 2 * _WORK_SIDE:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale (and straight to grey) when large.
        scale = _WORK_SIDE / max(width, height)
        target = (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))
        try:
            img.draft("L", target)
        except _PIL_ERRORS:
            pass  # draft is only a speed-up
    try:
        img.seek(0)  # first frame of animated images
        img.load()
    except _PIL_ERRORS:
        raise InputError(
            "The image file is truncated or corrupt: its pixel data could not be decoded."
        ) from None
    try:
        img = ImageOps.exif_transpose(img)
    except _PIL_ERRORS:
        pass  # a malformed EXIF block should not block an otherwise good image
    return img


def _reduce(img: Image.Image) -> Image.Image:
    """Shrink an image so its longer side is at most the working side (area-averaged)."""
    width, height = img.size
    longest = max(width, height)
    if longest <= _WORK_SIDE:
        return img
    scale = _WORK_SIDE / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return img.resize(size, Image.Resampling.BOX)


def _to_gray_alpha(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (grey, alpha) float32 arrays in [0, 1] (1 = white / opaque); alpha may be None."""
    mode = img.mode
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(img).astype(np.float32)
        arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
        if mode.startswith("I;16"):
            arr /= 65535.0
        elif mode == "F" and arr.size and arr.max() <= 1.0:
            pass
        else:
            # 32-bit integer images from PNG carry 16-bit samples; others are 8-bit.
            arr /= 65535.0 if arr.size and arr.max() > 255 else 255.0
        arr = np.clip(arr, 0.0, 1.0)
        if max(arr.shape) > _WORK_SIDE:
            arr = np.asarray(_reduce(Image.fromarray(arr)), dtype=np.float32)
        return arr, None

    if mode in ("P", "PA"):
        img = img.convert("RGBA")  # keeps palette transparency
    elif mode == "1":
        img = img.convert("L")
    elif mode in ("La", "LA"):
        img = img.convert("LA")
    elif mode in ("RGBa", "RGBA"):
        img = img.convert("RGBA")
    elif mode not in ("L", "RGB"):
        img = img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...
    img = _reduce(img)

    arr = np.asarray(img, dtype=np.float32) / 255.0
    if img.mode == "L":
        return arr, None
    if img.mode == "LA":
        return arr[..., 0], arr[..., 1]
    gray = arr[..., 0] * 0.299 + arr[..., 1] * 0.587 + arr[..., 2] * 0.114
    alpha = arr[..., 3] if img.mode == "RGBA" else None
    return gray, alpha


def _composite(gray: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Flatten transparency onto a background that contrasts with the visible content."""
    if alpha is None or alpha.min() >= 1.0:
        return gray
    opaque = alpha > 0.5
    # Dark ink on transparent goes on white (the usual case); light ink on transparent on black.
    visible_is_light = opaque.any() and float(gray[opaque].mean()) > 0.5
    background = 0.0 if visible_is_light else 1.0
    return gray * alpha + background * (1.0 - alpha)


def _border(arr: np.ndarray) -> np.ndarray:
    """Return the pixels in a thin ring around the edge of a 2-D array."""
    h, w = arr.shape
    t = max(1, round(0.02 * min(h, w)))
    if 2 * t >= h or 2 * t >= w:
        return arr.ravel()
    return np.concatenate(
        [arr[:t].ravel(), arr[-t:].ravel(), arr[t:-t, :t].ravel(), arr[t:-t, -t:].ravel()]
    )


def _dilate(arr: np.ndarray, radius: int) -> np.ndarray:
    """Grey-level dilation by a square of side 2*radius+1 (separable running maximum)."""
    padded = np.pad(arr, radius)
    window = 2 * radius + 1
    rows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0).max(axis=-1)
    return np.lib.stride_tricks.sliding_window_view(rows, window, axis=1).max(axis=-1)


def _thicken_thin_strokes(ink: np.ndarray) -> np.ndarray:
    """Widen pen-thin strokes so that, at 20 px, they are about as wide as MNIST strokes."""
    mask = ink > 0.5
    area = int(mask.sum())
    if area == 0:
        return ink
    m = mask.astype(np.int8)
    perimeter = int(np.abs(np.diff(m, axis=0)).sum() + np.abs(np.diff(m, axis=1)).sum())
    perimeter += int(m[0].sum() + m[-1].sum() + m[:, 0].sum() + m[:, -1].sum())
    stroke = 2.0 * area / max(perimeter, 1)  # width of a long thin shape
    longest = max(ink.shape)
    if stroke >= _THIN_STROKE_RATIO * longest:
        return ink
    radius = math.ceil((_MNIST_STROKE_RATIO * longest - stroke) / 2)
    return _dilate(ink, radius) if radius >= 1 else ink


def _centre_in_field(patch: np.ndarray) -> np.ndarray:
    """Paste a patch into a 28x28 field with its centre of mass at (14, 14)."""
    h, w = patch.shape
    total = float(patch.sum())
    ys, xs = np.mgrid[0:h, 0:w]
    cy = float((patch * ys).sum()) / total
    cx = float((patch * xs).sum()) / total
    # Clamp so no ink is cut off; MNIST digits always fit, so this rarely moves anything.
    top = min(max(round(CENTRE - cy), 0), OUTPUT_SIDE - h)
    left = min(max(round(CENTRE - cx), 0), OUTPUT_SIDE - w)
    field = np.zeros((OUTPUT_SIDE, OUTPUT_SIDE), dtype=np.float32)
    field[top : top + h, left : left + w] = patch
    return field


def _noise_level(arr: np.ndarray) -> float:
    """Robust pixel-noise estimate from neighbour differences along the border (ignores gradients)."""
    if min(arr.shape) < 3:
        return 0.0
    diffs = np.concatenate(
        [np.diff(arr[0]), np.diff(arr[-1]), np.diff(arr[:, 0]), np.diff(arr[:, -1])]
    )
    return float(1.4826 * np.median(np.abs(diffs)) / math.sqrt(2.0))


def _box_blur3(arr: np.ndarray) -> np.ndarray:
    """3x3 mean filter with edge padding (cuts independent pixel noise threefold)."""
    padded = np.pad(arr, 1, mode="edge")
    h, w = arr.shape
    total = sum(padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3))
    return total / 9.0


def _main_span(profile: np.ndarray) -> tuple[int, int]:
    """Index range [start, stop) of the heaviest run of non-zero profile, plus nearby runs.

    Specks of noise far from the digit form separate runs and are dropped; runs closer than
    15% of the kept span (broken strokes) are merged in.
    """
    nonzero = profile > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], nonzero.astype(np.int8), [0]])))
    runs = list(zip(edges[0::2], edges[1::2]))
    masses = [float(profile[a:b].sum()) for a, b in runs]
    best = int(np.argmax(masses))
    lo_run, hi_run = best, best
    changed = True
    while changed:
        changed = False
        start, stop = runs[lo_run][0], runs[hi_run][1]
        gap_allowed = max(2, 0.15 * (stop - start))
        if lo_run > 0 and start - runs[lo_run - 1][1] <= gap_allowed:
            lo_run -= 1
            changed = True
        if hi_run < len(runs) - 1 and runs[hi_run + 1][0] - stop <= gap_allowed:
            hi_run += 1
            changed = True
    return int(runs[lo_run][0]), int(runs[hi_run][1])


def _crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """Crop to the box around the main body of ink, ignoring far-away specks."""
    for axis in (1, 0, 1):
        start, stop = _main_span(ink.sum(axis=axis))
        ink = ink[start:stop] if axis == 1 else ink[:, start:stop]
    return ink


def _digit_from_gray(gray: np.ndarray) -> np.ndarray:
    """Turn a grey image in [0, 1] (any polarity) into an MNIST-style 28x28 digit."""
    gray = gray.astype(np.float32, copy=False)
    noise = _noise_level(gray)
    if noise > 0.01 and min(gray.shape) >= 16:
        # Photo noise: smooth a little so single noisy pixels do not pass as ink.
        gray = _box_blur3(gray)
        noise /= 3.0
    # A light border means dark ink on light paper: invert to MNIST's white-on-black.
    ink = 1.0 - gray if float(np.median(_border(gray))) > 0.5 else gray
    background = float(np.median(_border(ink)))
    peak = float(ink.max())
    contrast = peak - background
    if contrast < _MIN_CONTRAST:
        raise InputError(
            "No digit found: the image is almost a single flat colour. "
            "Use a dark digit on a light background or a light digit on a dark one."
        )
    low = background + max(_NOISE_FRACTION * contrast, 4.0 * noise)
    if low >= peak:
        raise InputError("No digit found: no ink stands out from the background noise.")
    ink = np.clip((ink - low) / (peak - low), 0.0, 1.0)
    if not ink.any():
        raise InputError("No digit found: no ink stands out from the background.")
    ink = _crop_to_ink(ink)
    ink = _thicken_thin_strokes(ink)

    h, w = ink.shape
    scale = BOX_SIDE / max(h, w)
    size = (max(1, min(BOX_SIDE, round(w * scale))), max(1, min(BOX_SIDE, round(h * scale))))
    patch = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32))
    patch = np.asarray(patch.resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    patch = np.clip(patch, 0.0, 1.0)
    if float(patch.max()) <= 0.0:
        raise InputError("No digit found: the ink vanished when scaled to 20x20 pixels.")
    patch /= patch.max()  # MNIST strokes peak at full intensity
    return _centre_in_field(patch)


def preprocess_image(data: bytes, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Turn image file bytes into a (28, 28) float32 MNIST-style digit in [0, 1]."""
    img = _open_image(data, max_pixels)
    gray, alpha = _to_gray_alpha(img)
    return _digit_from_gray(_composite(gray, alpha))


def preprocess_data_url(
    contents: str,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> np.ndarray:
    """Turn an upload or drawing-pad data URL into a (28, 28) float32 MNIST-style digit."""
    return preprocess_image(decode_upload(contents, max_bytes), max_pixels)


def preprocess_drawing(pixels, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Turn a 2-D grey pixel array (uint8 0..255 or float 0..1) into a 28x28 MNIST-style digit."""
    try:
        arr = np.asarray(pixels)
    except (ValueError, TypeError):
        raise InputError("The drawing must be a rectangular 2-D array of numbers.") from None
    if arr.ndim != 2:
        raise InputError(f"The drawing must be a 2-D array of pixels; got {arr.ndim} dimensions.")
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise InputError(f"The drawing's pixels must be numbers; got {arr.dtype} values.")
    if arr.size == 0:
        raise InputError(f"The drawing has no pixels ({arr.shape[1]}x{arr.shape[0]}).")
    if arr.size > max_pixels:
        raise InputError(
            f"The drawing has {arr.size:,} pixels; the limit is {max_pixels:,} pixels."
        )
    if np.issubdtype(arr.dtype, np.integer):
        if arr.min() < 0 or arr.max() > 255:
            raise InputError("Integer drawing pixels must be in 0..255.")
        gray = arr.astype(np.float32) / 255.0
    else:
        if not np.isfinite(arr).all():
            raise InputError("The drawing contains NaN or infinite pixel values.")
        if arr.min() < 0 or arr.max() > 1:
            raise InputError("Floating-point drawing pixels must be in [0, 1].")
        gray = arr.astype(np.float32)
    if max(gray.shape) > _WORK_SIDE:
        gray = np.asarray(_reduce(Image.fromarray(gray)), dtype=np.float32)
    return _digit_from_gray(gray)


def _describe_value(value) -> str:
    """Short description of a JSON value for an error message."""
    text = repr(value)
    return text if len(text) <= 20 else text[:17] + "..."


def validate_vector(values, length: int) -> np.ndarray:
    """Check a JSON list of exactly `length` finite numbers in [0, 1]; return it as float32."""
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise InputError(
                f"Expected a flat list of {length} numbers; got an array of shape {values.shape}."
            )
        values = values.tolist()
    if not isinstance(values, (list, tuple)):
        raise InputError(
            f"Expected a list of {length} numbers; got {type(values).__name__}."
        )
    if len(values) != length:
        raise InputError(f"Expected exactly {length} numbers; got {len(values)}.")
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)):
            raise InputError(f"Value at index {i} is a boolean ({v}), not a number.")
        if isinstance(v, (list, tuple, dict, np.ndarray)):
            raise InputError(
                f"Value at index {i} is a nested {type(v).__name__}; "
                f"send a flat list of {length} numbers."
            )
        if isinstance(v, str):
            raise InputError(f"Value at index {i} is a string ({_describe_value(v)}), not a number.")
        if v is None:
            raise InputError(f"Value at index {i} is null, not a number.")
        if not isinstance(v, numbers.Real):
            raise InputError(
                f"Value at index {i} is a {type(v).__name__}, not a number."
            )
        if isinstance(v, numbers.Integral):
            if not 0 <= v <= 1:  # compare as int: huge ints would overflow a float
                raise InputError(
                    f"Value at index {i} is {_describe_value(v)}, outside the range [0, 1]."
                )
            continue
        f = float(v)
        if math.isnan(f):
            raise InputError(f"Value at index {i} is NaN; values must be finite numbers in [0, 1].")
        if math.isinf(f):
            raise InputError(
                f"Value at index {i} is infinite; values must be finite numbers in [0, 1]."
            )
        if not 0.0 <= f <= 1.0:
            raise InputError(
                f"Value at index {i} is {_describe_value(f)}, outside the range [0, 1]."
            )
    return np.asarray([float(v) for v in values], dtype=np.float32)
