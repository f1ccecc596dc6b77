"""Hostile and odd uploads: each yields a valid digit or an InputError with a readable sentence."""

from __future__ import annotations

import gzip
import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from singularity_dash.errors import InputError
from singularity_dash.preprocess import decode_upload, preprocess_image

OK, ERROR = "ok", "error"
from tests.image_bytes import encode_image, to_data_url


# ---------------------------------------------------------------- builders (all in memory)


def _digit(size: int = 120, mode: str = "L") -> Image.Image:
    """A dark hand-drawn-looking '4' on light paper."""
    img = Image.new("L", (size, size), 235)
    draw = ImageDraw.Draw(img)
    s = size / 120
    draw.line([(70 * s, 15 * s), (25 * s, 75 * s), (95 * s, 75 * s)], fill=20, width=max(1, int(10 * s)))
    draw.line([(75 * s, 40 * s), (75 * s, 110 * s)], fill=20, width=max(1, int(10 * s)))
    return img.convert(mode) if mode != "L" else img


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions but carries no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")


def _png_zero_bomb(side: int = 20_000) -> bytes:
    """A real 1-bit all-black PNG of side x side: ~50 MB of pixels compressed to tens of kB."""
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    chunks = [comp.compress(row * 500) for _ in range(side // 500)]
    chunks.append(comp.flush())
    idat = b"".join(chunks)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _gif_huge_screen() -> bytes:
    """A GIF whose logical screen claims 65535x65535 pixels."""
    data = bytearray(encode_image(_digit(32), "GIF"))
    data[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


def _jpeg_huge_sof() -> bytes:
    """A small JPEG whose frame header is edited to claim 60000x60000 pixels."""
    data = bytearray(encode_image(_digit(64).convert("RGB"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)
    return bytes(data)


def _animated_gif() -> bytes:
    frames = [_digit(64), Image.new("L", (64, 64), 235), _digit(64).rotate(90)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    return buf.getvalue()


def _rgba_transparent() -> bytes:
    rgba = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).line([(20, 20), (80, 80)], fill=(0, 0, 0, 255), width=8)
    return encode_image(rgba)


def _exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode_image(_digit(200).convert("RGB").rotate(90, expand=True), "JPEG", exif=exif)


def _bad_exif_jpeg() -> bytes:
    """A JPEG whose EXIF segment is garbage."""
    data = encode_image(_digit(80).convert("RGB"), "JPEG")
    app1 = b"Exif\x00\x00" + b"MM\x00*\x00\x00\x00\x08\xff\xff" + b"\x00" * 20
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]


def _png_bad_crc() -> bytes:
    data = bytearray(encode_image(_digit(64)))
    data[29] ^= 0xFF  # inside the IHDR CRC
    return bytes(data)


def _sixteen_bit_png() -> bytes:
    arr = 65535 - (np.asarray(_digit(90), dtype=np.uint16) * 257)
    return encode_image(Image.fromarray(arr.astype(np.uint16)))


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _contents(data: bytes, mime: str = "image/png") -> str:
    return to_data_url(data, mime)


# name -> (builder of dcc.Upload contents, expected outcome or None for "either")
CASES = {
    "empty_string": (lambda: "", ERROR),
    "empty_payload": (lambda: "data:image/png;base64,", ERROR),
    "zero_bytes_file": (lambda: "data:application/octet-stream;base64,", ERROR),
    "not_a_data_url": (lambda: "hello world", ERROR),
    "no_comma": (lambda: "data:image/png;base64", ERROR),
    "not_base64_header": (lambda: "data:text/plain,hello", ERROR),
    "wrong_padding": (lambda: _contents(encode_image(_digit()))[:-1], ERROR),
    "bad_base64_characters": (lambda: "data:image/png;base64,@@@@####", ERROR),
    "non_ascii_base64": (lambda: "data:image/png;base64,ééééé===", ERROR),
    "huge_base64_string": (lambda: "data:image/png;base64," + "A" * 7_000_000, ERROR),
    "text_renamed_png": (lambda: _contents(b"this is a shopping list\nmilk\neggs\n"), ERROR),
    "random_bytes": (lambda: _contents(np.random.default_rng(5).bytes(3000)), ERROR),
    "svg": (lambda: _contents(b'<svg xmlns="http://www.w3.org/2000/svg"><text>4</text></svg>', "image/svg+xml"), ERROR),
    "html": (lambda: _contents(b"<!doctype html><html><body>4</body></html>", "text/html"), ERROR),
    "pdf": (lambda: _contents(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF", "application/pdf"), ERROR),
    "tiff_refused": (lambda: _contents(encode_image(_digit(), "TIFF"), "image/tiff"), ERROR),
    "ico_refused": (lambda: _contents(encode_image(_digit(64), "ICO"), "image/x-icon"), ERROR),
    "heic_signature": (lambda: _contents(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64), ERROR),
    "truncated_png": (lambda: _contents(_half(encode_image(_digit(300)))), ERROR),
    "png_header_only_8_bytes": (lambda: _contents(b"\x89PNG\r\n\x1a\n"), ERROR),
    "truncated_jpeg": (lambda: _contents(_half(encode_image(_digit(300).convert("RGB"), "JPEG")), "image/jpeg"), ERROR),
    "png_bad_crc": (lambda: _contents(_png_bad_crc()), ERROR),
    "png_bomb_header_only": (lambda: _contents(_png_header_only(20_000, 20_000)), ERROR),
    "png_bomb_compressed_zeros": (lambda: _contents(_png_zero_bomb()), ERROR),
    "gif_bomb_screen": (lambda: _contents(_gif_huge_screen(), "image/gif"), ERROR),
    "jpeg_bomb_sof": (lambda: _contents(_jpeg_huge_sof(), "image/jpeg"), ERROR),
    "png_bomb_just_over_limit": (lambda: _contents(_png_header_only(6000, 5000)), ERROR),
    "png_zero_width": (lambda: _contents(_png_header_only(0, 10)), ERROR),
    "one_by_one_black": (lambda: _contents(encode_image(Image.new("L", (1, 1), 0))), ERROR),
    "one_by_one_white": (lambda: _contents(encode_image(Image.new("L", (1, 1), 255))), ERROR),
    "all_black": (lambda: _contents(encode_image(Image.new("RGB", (200, 150), "black"))), ERROR),
    "all_white": (lambda: _contents(encode_image(Image.new("RGB", (200, 150), "white"))), ERROR),
    "all_transparent": (lambda: _contents(encode_image(Image.new("RGBA", (50, 50), (0, 0, 0, 0)))), ERROR),
    "plain_png": (lambda: _contents(encode_image(_digit())), OK),
    "sixteen_bit_png": (lambda: _contents(_sixteen_bit_png()), OK),
    "one_bit_png": (lambda: _contents(encode_image(_digit().point(lambda v: 255 if v > 128 else 0).convert("1"))), OK),
    "la_png": (lambda: _contents(encode_image(_digit(mode="LA"))), OK),
    "interlaced_png": (lambda: _contents(encode_image(_digit(), interlace=1)), OK),
    "rgba_transparent_background": (lambda: _contents(_rgba_transparent()), OK),
    "cmyk_jpeg": (lambda: _contents(encode_image(_digit(mode="CMYK"), "JPEG"), "image/jpeg"), OK),
    "progressive_jpeg": (lambda: _contents(encode_image(_digit(mode="RGB"), "JPEG", progressive=True), "image/jpeg"), OK),
    "grayscale_jpeg": (lambda: _contents(encode_image(_digit(), "JPEG"), "image/jpeg"), OK),
    "exif_rotated_jpeg": (lambda: _contents(_exif_rotated_jpeg(), "image/jpeg"), OK),
    "garbage_exif_jpeg": (lambda: _contents(_bad_exif_jpeg(), "image/jpeg"), OK),
    "jpeg_with_garbage_appended": (
        lambda: _contents(encode_image(_digit(mode="RGB"), "JPEG") + b"\x00GARBAGE" * 500, "image/jpeg"),
        OK,
    ),
    "palette_gif": (lambda: _contents(encode_image(_digit(mode="P"), "GIF"), "image/gif"), OK),
    "animated_gif": (lambda: _contents(_animated_gif(), "image/gif"), OK),
    "bmp": (lambda: _contents(encode_image(_digit(mode="RGB"), "BMP"), "image/bmp"), OK),
    "webp": (lambda: _contents(encode_image(_digit(mode="RGB"), "WEBP"), "image/webp"), OK),
    "webp_rgba": (lambda: _contents(encode_image(Image.open(io.BytesIO(_rgba_transparent())), "WEBP"), "image/webp"), OK),
    "wrong_mime_for_png": (lambda: _contents(encode_image(_digit()), "application/octet-stream"), OK),
    "thin_strip_1x2000": (lambda: _contents(encode_image(Image.new("L", (2000, 1), 128))), ERROR),
    "gzip_file": (lambda: _contents(gzip.compress(b"not an image" * 50)), ERROR),
    "single_dark_pixel_on_white": (
        lambda: _contents(encode_image(Image.fromarray(np.pad(np.zeros((1, 1), np.uint8), 20, constant_values=255)))),
        OK,
    ),
    "noise_png": (lambda: _contents(encode_image(Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8)))), None),
}


def _is_sentence(message: str) -> bool:
    return len(message) > 15 and message[0].isupper() and message.rstrip().endswith(".")


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_upload_gives_digit_or_clear_input_error(name):
    build, expected = CASES[name]
    contents = build()
    try:
        out = preprocess_image(decode_upload(contents))
    except InputError as err:
        message = str(err)
        assert _is_sentence(message), f"unclear message: {message!r}"
        assert expected != OK, f"{name} was refused: {message}"
        assert "Traceback" not in message and "PIL" not in message
    else:
        assert expected != ERROR, f"{name} was accepted"
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
        assert out.max() > 0.0


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    "name, words",
    [
        ("svg", ["SVG"]),
        ("html", ["HTML"]),
        ("pdf", ["PDF"]),
        ("tiff_refused", ["TIFF"]),
        ("ico_refused", ["ICO"]),
        ("heic_signature", ["HEIC"]),
        ("text_renamed_png", ["text"]),
        ("huge_base64_string", ["too large", "5.0 MB"]),
        ("wrong_padding", ["padding"]),
        ("png_bomb_header_only", ["400,000,000 pixels", "limit is 25,000,000"]),
        ("png_bomb_compressed_zeros", ["400,000,000 pixels", "limit is 25,000,000"]),
        ("png_bomb_just_over_limit", ["6000x5000", "limit is 25,000,000"]),
        ("jpeg_bomb_sof", ["3,600,000,000 pixels", "limit is 25,000,000"]),
        ("gif_bomb_screen", ["4,294,836,225 pixels", "limit is 25,000,000"]),
        ("truncated_png", ["truncated"]),
        ("png_header_only_8_bytes", ["PNG", "damaged or truncated"]),
        ("png_bad_crc", ["PNG", "damaged"]),
        ("random_bytes", ["not an image format we recognise"]),
        ("truncated_jpeg", ["truncated"]),
        ("all_black", ["No digit found"]),
        ("all_white", ["No digit found"]),
        ("empty_payload", ["empty"]),
    ],
)
def test_refusal_messages_name_the_problem(name, words):
    build, _ = CASES[name]
    with pytest.raises(InputError) as info:
        preprocess_image(decode_upload(build()))
    for word in words:
        assert word in str(info.value)


def test_bomb_is_refused_before_pixels_are_decoded():
    contents = CASES["png_bomb_compressed_zeros"][0]()
    start = time.perf_counter()
    with pytest.raises(InputError):
        preprocess_image(decode_upload(contents))
    assert time.perf_counter() - start < 0.5  # decoding 400M pixels would take far longer
