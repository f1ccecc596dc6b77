"""Tests for turning uploads, drawings and JSON vectors into model input."""

from __future__ import annotations

import base64
import io
import os
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from singularity_dash.errors import InputError
from singularity_dash.preprocess import (
    decode_upload,
    preprocess_data_url,
    preprocess_drawing,
    preprocess_image,
    validate_vector,
)

N_DIGITS = 200
from tests.image_bytes import encode_image, to_data_url


# ---------------------------------------------------------------- helpers

def load_mnist_test_images() -> np.ndarray:
    """The MNIST test images (N, 28, 28) uint8 from the data directory the test command provides."""
    root = os.environ.get("SINGULARITY_DATA_DIR")
    if not root:
        pytest.fail("SINGULARITY_DATA_DIR is not set: run the tests through the README's test command")
    from singularity_dash.mnist_data import load_digits

    return load_digits(root, "test").images


def make_photo_like(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """Render a 28x28 uint8 MNIST digit like a phone photo of ink on paper; return JPEG bytes.

    Dark ink on light, uneven paper, scaled to 400x400, placed off-centre on a larger canvas,
    with sensor noise and JPEG compression.
    """
    paper = int(rng.integers(170, 246))
    ink = int(rng.integers(0, 70))
    level = digit.astype(np.float32) / 255.0
    dark_on_light = (paper + (ink - paper) * level).astype(np.uint8)
    big = Image.fromarray(dark_on_light).resize((400, 400), Image.Resampling.BICUBIC)
    width, height = int(rng.integers(500, 900)), int(rng.integers(500, 900))
    canvas = Image.new("L", (width, height), paper)
    left = int(rng.integers(0, width - 400 + 1))
    top = int(rng.integers(0, height - 400 + 1))
    canvas.paste(big, (left, top))
    arr = np.asarray(canvas, dtype=np.float32)
    # A gentle lighting gradient and sensor noise, as in a real photo.
    ramp = np.linspace(-8.0, 8.0, width, dtype=np.float32)[None, :]
    arr = arr + ramp + rng.normal(0.0, 4.0, size=arr.shape).astype(np.float32)
    rgb = np.repeat(np.clip(arr, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    rgb[..., 2] = np.clip(rgb[..., 2].astype(int) - 6, 0, 255)  # slightly warm paper
    return encode_image(Image.fromarray(rgb), "JPEG", quality=int(rng.integers(60, 92)))


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """(row, col) centre of mass, computed independently of the module under test."""
    total = img.sum()
    rows = (img.sum(axis=1) * np.arange(img.shape[0])).sum() / total
    cols = (img.sum(axis=0) * np.arange(img.shape[1])).sum() / total
    return float(rows), float(cols)


def ink_bbox(img: np.ndarray, level: float = 0.0) -> tuple[int, int]:
    """(height, width) of the box around pixels brighter than level."""
    rows = np.nonzero((img > level).any(axis=1))[0]
    cols = np.nonzero((img > level).any(axis=0))[0]
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images."""
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def assert_digit_or_input_error(data: bytes) -> None:
    """Preprocessing either yields a valid digit or refuses with an InputError that has a message."""
    try:
        out = preprocess_image(data)
    except InputError as err:
        assert str(err)
    else:
        assert_digit(out)


def assert_digit(out: np.ndarray) -> None:
    """A valid model input: (28, 28) float32 in [0, 1] with some ink."""
    assert out.shape == (28, 28)
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > 0.0


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """The first MNIST test digits."""
    return load_mnist_test_images()[:N_DIGITS]


@pytest.fixture(scope="module")
def plain_outputs(digits) -> list[np.ndarray]:
    """Each digit preprocessed straight from a lossless white-on-black PNG."""
    return [preprocess_image(encode_image(Image.fromarray(d))) for d in digits]


# ---------------------------------------------------------------- MNIST geometry

def test_mnist_digit_round_trips_to_itself(digits, plain_outputs):
    cors = []
    for digit, out in zip(digits, plain_outputs):
        assert_digit(out)
        cy, cx = centre_of_mass(out)
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # integer shift, as in MNIST
        assert max(ink_bbox(out)) == 20
        cors.append(correlation(out, digit.astype(np.float32)))
    assert np.mean(cors) > 0.93
    assert np.median(cors) > 0.95


def test_aspect_ratio_is_kept():
    img = np.zeros((100, 100), np.uint8)
    img[10:90, 40:60] = 255  # a bar 80 tall, 20 wide
    out = preprocess_drawing(img)
    height, width = ink_bbox(out, 0.5)
    assert height == 20
    assert 4 <= width <= 6


def test_off_centre_digit_is_centred_by_mass():
    img = np.zeros((300, 300), np.uint8)
    img[5:60, 230:290] = 255  # a blob in the top-right corner
    out = preprocess_drawing(img)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_photo_like_digits_match_direct_preprocessing(digits, plain_outputs):
    rng = np.random.default_rng(1234)
    cors = []
    for digit, plain in zip(digits, plain_outputs):
        out = preprocess_image(make_photo_like(digit, rng))
        assert_digit(out)
        cors.append(correlation(out, plain))
    assert np.mean(cors) > 0.8, f"mean correlation {np.mean(cors):.3f}"


def test_photo_like_helper_really_is_dark_on_light(digits):
    img = Image.open(io.BytesIO(make_photo_like(digits[0], np.random.default_rng(0))))
    arr = np.asarray(img.convert("L"))
    assert img.format == "JPEG"
    assert min(img.size) >= 500
    assert np.median(arr) > 150  # light paper dominates


# ---------------------------------------------------------------- encodings of the same digit

@pytest.fixture(scope="module")
def digit7(digits) -> np.ndarray:
    return digits[0]


@pytest.fixture(scope="module")
def plain7(digit7) -> np.ndarray:
    return preprocess_image(encode_image(Image.fromarray(digit7)))


def test_dark_on_light_equals_light_on_dark(digit7, plain7):
    out = preprocess_image(encode_image(Image.fromarray(255 - digit7)))
    np.testing.assert_allclose(out, plain7, atol=1e-5)


# Stored pixels that EXIF orientation n turns back into the upright image.
_EXIF_UNDO = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", sorted(_EXIF_UNDO))
def test_exif_orientation_is_applied(digit7, plain7, orientation):
    stored = Image.fromarray(digit7).transpose(_EXIF_UNDO[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = preprocess_image(encode_image(stored, "PNG", exif=exif))
    np.testing.assert_allclose(out, plain7, atol=1e-5)


def test_exif_rotated_jpeg_matches_upright_jpeg(digit7):
    big = Image.fromarray(255 - digit7).resize((280, 280)).convert("RGB")
    upright = preprocess_image(encode_image(big, "JPEG", quality=95))
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = big.transpose(Image.Transpose.ROTATE_90)
    out = preprocess_image(encode_image(rotated, "JPEG", quality=95, exif=exif))
    assert correlation(out, upright) > 0.97
    # Without honouring the tag the digit would lie on its side.
    unrotated = preprocess_image(encode_image(rotated, "JPEG", quality=95))
    assert correlation(unrotated, upright) < 0.8


def test_rgba_ink_on_transparent_matches_plain(digit7, plain7):
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = digit7  # black ink whose opacity is the stroke
    # Stripes of colour under fully transparent pixels must not show through.
    rgba[..., :3] = 255 * (np.arange(28)[:, None] % 2)[..., None]
    rgba[digit7 > 0, :3] = 0
    out = preprocess_image(encode_image(Image.fromarray(rgba, "RGBA")))
    np.testing.assert_allclose(out, plain7, atol=1e-5)


def test_light_ink_on_transparent_is_not_lost(digit7, plain7):
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = digit7
    out = preprocess_image(encode_image(Image.fromarray(rgba, "RGBA")))
    np.testing.assert_allclose(out, plain7, atol=1e-5)


def test_palette_png_matches_plain(digit7, plain7):
    img = Image.fromarray(digit7).convert("P")
    assert img.mode == "P"
    out = preprocess_image(encode_image(img))
    np.testing.assert_allclose(out, plain7, atol=1e-5)


def test_16bit_png_matches_plain(digit7, plain7):
    img = Image.fromarray(digit7.astype(np.uint16) * 257)
    data = encode_image(img)
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    np.testing.assert_allclose(preprocess_image(data), plain7, atol=1e-5)


def test_cmyk_jpeg_matches_rgb_jpeg(digit7):
    rgb = Image.fromarray(255 - digit7).resize((140, 140)).convert("RGB")
    plain = preprocess_image(encode_image(rgb, "JPEG", quality=95))
    data = encode_image(rgb.convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    assert correlation(preprocess_image(data), plain) > 0.97


def test_animated_gif_uses_first_frame(digits):
    first, second = Image.fromarray(digits[0]), Image.fromarray(digits[1])
    buf = io.BytesIO()
    first.save(buf, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    animated = buf.getvalue()
    assert Image.open(io.BytesIO(animated)).n_frames == 2
    expected = preprocess_image(encode_image(first, "GIF"))
    np.testing.assert_allclose(preprocess_image(animated), expected, atol=1e-5)
    assert correlation(preprocess_image(animated), preprocess_image(encode_image(second, "GIF"))) < 0.9


@pytest.mark.parametrize("fmt", ["BMP", "WEBP", "GIF"])
def test_other_raster_formats_are_accepted(digit7, plain7, fmt):
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    out = preprocess_image(encode_image(Image.fromarray(digit7), fmt, **kwargs))
    assert correlation(out, plain7) > 0.99


def test_thin_pen_strokes_are_thickened_like_mnist():
    img = Image.new("L", (600, 600), 255)
    draw = ImageDraw.Draw(img)
    draw.line([(150, 100), (450, 100), (250, 520)], fill=0, width=4)  # a thin-pen "7"
    out = preprocess_image(encode_image(img))
    assert_digit(out)
    # MNIST digits have ~100 pixels above 0.5; a 4 px line scaled by 1/21 would have almost none.
    assert (out > 0.5).sum() >= 40


def test_large_jpeg_is_fast(digit7):
    big = Image.fromarray(255 - digit7).resize((2800, 2800)).convert("RGB")
    canvas = Image.new("RGB", (4000, 3000), (225, 222, 215))
    canvas.paste(big, (700, 100))
    data = encode_image(canvas, "JPEG", quality=90)
    preprocess_image(data)  # warm up imports and caches
    start = time.perf_counter()
    out = preprocess_image(data)
    assert time.perf_counter() - start < 0.5
    assert_digit(out)


def test_large_png_is_reasonably_fast(digit7):
    big = Image.fromarray(digit7).resize((3000, 3000))
    data = encode_image(big, "PNG", compress_level=1)
    start = time.perf_counter()
    out = preprocess_image(data)
    assert time.perf_counter() - start < 1.5
    assert_digit(out)


# ---------------------------------------------------------------- refusals

@pytest.mark.parametrize(
    "arr",
    [np.zeros((40, 40), np.uint8), np.full((40, 40), 255, np.uint8), np.full((40, 40), 128, np.uint8)],
    ids=["black", "white", "grey"],
)
def test_blank_images_say_no_digit_found(arr):
    with pytest.raises(InputError, match="No digit found"):
        preprocess_image(encode_image(Image.fromarray(arr)))


def test_fully_transparent_image_has_no_digit():
    img = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    with pytest.raises(InputError, match="No digit found"):
        preprocess_image(encode_image(img))


def test_pixel_limit_is_checked_before_decoding():
    img = Image.fromarray(np.zeros((200, 300), np.uint8))
    with pytest.raises(InputError, match=r"200 = 60,000 pixels; the limit is 50,000"):
        preprocess_image(encode_image(img), max_pixels=50_000)


def test_truncated_png_is_an_input_error(digit7):
    data = encode_image(Image.fromarray(digit7).resize((200, 200)))
    with pytest.raises(InputError, match="truncated or corrupt"):
        preprocess_image(data[: len(data) // 2])


def test_truncated_jpeg_is_an_input_error(digit7):
    data = encode_image(Image.fromarray(digit7).resize((200, 200)), "JPEG")
    with pytest.raises(InputError, match="truncated or corrupt"):
        preprocess_image(data[: len(data) // 2])


@pytest.mark.parametrize(
    "data, name",
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', "SVG"),
        (b"<?xml version='1.0'?>\n<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
        (b"<!DOCTYPE html><html><body><img src=x></body></html>", "HTML"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "PDF"),
        (b"just some notes, not a picture\n", "text"),
    ],
)
def test_non_raster_files_are_refused_by_name(data, name):
    with pytest.raises(InputError, match=name) as info:
        preprocess_image(data)
    assert "PNG, JPEG, BMP, GIF or WebP" in str(info.value)


def test_tiff_is_refused_by_name(digit7):
    with pytest.raises(InputError, match="TIFF"):
        preprocess_image(encode_image(Image.fromarray(digit7), "TIFF"))


@pytest.mark.parametrize("bad", [None, "a string", 12, [1, 2, 3]])
def test_preprocess_image_rejects_non_bytes(bad):
    with pytest.raises(InputError, match="must be bytes"):
        preprocess_image(bad)


def test_empty_bytes_are_refused():
    with pytest.raises(InputError, match="empty"):
        preprocess_image(b"")


# ---------------------------------------------------------------- decode_upload

def test_decode_upload_round_trips_bytes():
    payload = bytes(range(256)) * 3
    assert decode_upload(to_data_url(payload)) == payload


def test_decode_upload_accepts_extra_header_parameters_and_wrapped_lines():
    payload = b"\x89PNG whatever" * 20
    b64 = base64.encodebytes(payload).decode("ascii")  # wrapped at 76 columns
    assert "\n" in b64
    assert decode_upload(f"data:image/png;name=a.png;base64,{b64}") == payload


def test_decode_upload_refuses_large_payload_before_decoding():
    # Not valid base64 at all: if it were decoded first we would get a base64 error instead.
    contents = "data:image/png;base64," + "!" * 8_000_000
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"too large.*the limit is 5\.0 MB"):
        decode_upload(contents)
    assert time.perf_counter() - start < 0.5


def test_decode_upload_limit_is_configurable():
    contents = to_data_url(b"x" * 3000)
    assert len(decode_upload(contents, max_bytes=3000)) == 3000
    with pytest.raises(InputError, match="limit is 2 kB"):
        decode_upload(contents, max_bytes=2000)


@pytest.mark.parametrize(
    "contents, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("data:image/png;base64,", "empty"),
        ("iVBORw0KGgo=", "not a data URL"),
        ("data:image/png;base64", "no ','"),
        ("data:image/png,iVBORw0KGgo=", "not base64-encoded"),
        ("data:image/png;base64,iVBORw0KGgo", "padding"),
        ("data:image/png;base64,iVBO*w0KGgo=", "not valid base64"),
        ("data:image/png;base64,iV=BORw0KGgo", "not valid base64"),
        ("data:image/png;base64,ïïïï", "not valid base64"),
        ("data:image/png;base64,====", "not valid base64"),
    ],
)
def test_decode_upload_refusals(contents, message):
    with pytest.raises(InputError, match=message):
        decode_upload(contents)


@pytest.mark.parametrize("bad", [None, b"data:image/png;base64,AAAA", 42])
def test_decode_upload_rejects_non_strings(bad):
    with pytest.raises(InputError, match="data URL string"):
        decode_upload(bad)


def test_preprocess_data_url_matches_two_steps(digit7, plain7):
    out = preprocess_data_url(to_data_url(encode_image(Image.fromarray(digit7))))
    np.testing.assert_allclose(out, plain7, atol=1e-6)


# ---------------------------------------------------------------- drawings as arrays

def test_drawing_array_matches_png(digit7, plain7):
    np.testing.assert_allclose(preprocess_drawing(digit7), plain7, atol=1e-5)
    floats = digit7.astype(np.float64) / 255.0
    np.testing.assert_allclose(preprocess_drawing(floats), plain7, atol=1e-5)
    np.testing.assert_allclose(preprocess_drawing((255 - digit7).tolist()), plain7, atol=1e-5)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((2, 3, 4)), "2-D"),
        (np.zeros((0, 5)), "no pixels"),
        (np.array([[0.5, np.nan]]), "NaN"),
        (np.array([[0.5, 2.0]]), r"\[0, 1\]"),
        (np.array([[300, 0]]), "0..255"),
        (np.array([["a", "b"]]), "numbers"),
        (np.array([[True, False]]), "numbers"),
        ([[1, 2], [3]], "rectangular"),
    ],
)
def test_drawing_array_refusals(bad, message):
    with pytest.raises(InputError, match=message):
        preprocess_drawing(bad)


# ---------------------------------------------------------------- validate_vector

def test_validate_vector_accepts_valid_numbers():
    values = [0, 1, 0.5, 0.25] + [0.0] * 780
    out = validate_vector(values, 784)
    assert out.dtype == np.float32 and out.shape == (784,)
    np.testing.assert_array_equal(out[:4], np.array([0, 1, 0.5, 0.25], np.float32))
    np.testing.assert_array_equal(validate_vector((0.1, 0.9), 2), np.float32([0.1, 0.9]))
    np.testing.assert_array_equal(validate_vector(np.float64([0.2, 0.3]), 2), np.float32([0.2, 0.3]))


@pytest.mark.parametrize(
    "bad, message",
    [
        ([0.5, float("nan")], r"index 1 is NaN"),
        ([float("inf"), 0.5], r"index 0 is infinite"),
        ([0.5, float("-inf")], r"index 1 is infinite"),
        ([0.5, "0.5"], r"index 1 is a string"),
        ([[0.5], 0.5], r"index 0 is a nested list"),
        ([0.5, {"a": 1}], r"index 1 is a nested dict"),
        ([True, 0.5], r"index 0 is a boolean"),
        ([0.5, None], r"index 1 is null"),
        ([0.5, 1.5], r"index 1 is 1\.5, outside the range \[0, 1\]"),
        ([-0.1, 0.5], r"index 0 is -0\.1, outside the range"),
        ([0.5, 10**400], r"index 1 is .*outside the range"),
        ([0.5, 2], r"index 1 is 2, outside the range"),
        ([0.5, 1j], r"index 1 is a complex"),
        ([0.5], r"exactly 2 numbers; got 1"),
        ([0.5, 0.5, 0.5], r"exactly 2 numbers; got 3"),
        ("0.5,0.5", r"list of 2 numbers; got str"),
        ({"a": 0.5}, r"list of 2 numbers; got dict"),
        (None, r"list of 2 numbers; got NoneType"),
        (np.zeros((1, 2)), r"flat list"),
    ],
)
def test_validate_vector_refusals(bad, message):
    with pytest.raises(InputError, match=message):
        validate_vector(bad, 2)


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)


# ---------------------------------------------------------------- property tests

_MODES = ["L", "RGB", "RGBA", "LA", "P", "1", "I;16", "CMYK"]
_FORMAT_MODES = {
    "PNG": {"L", "RGB", "RGBA", "LA", "P", "1", "I;16"},
    "JPEG": {"L", "RGB", "CMYK"},
    "BMP": {"L", "RGB", "RGBA", "P", "1"},
    "GIF": {"L", "P", "1"},
    "WEBP": {"RGB", "RGBA"},
}


def _random_image(mode: str, width: int, height: int, content: str, seed: int) -> Image.Image:
    """A small image of the given mode filled with noise, blocks or a flat colour."""
    rng = np.random.default_rng(seed)
    bands = len(Image.new(mode if mode != "I;16" else "L", (1, 1)).getbands())
    shape = (height, width, bands)
    if content == "noise":
        arr = rng.integers(0, 256, size=shape)
    elif content == "flat":
        arr = np.broadcast_to(rng.integers(0, 256, size=bands), shape)
    else:  # a bright block on a dark field, or the reverse
        arr = np.full(shape, int(rng.integers(0, 256)))
        r0, c0 = rng.integers(0, height), rng.integers(0, width)
        arr[r0 : r0 + max(1, height // 2), c0 : c0 + max(1, width // 3)] = int(rng.integers(0, 256))
    arr = np.ascontiguousarray(arr).astype(np.uint8)
    if mode == "I;16":
        return Image.fromarray(arr[..., 0].astype(np.uint16) * 257)
    if mode in ("L", "1", "P"):
        img = Image.fromarray(arr[..., 0])
        return img.convert(mode) if mode != "L" else img
    if mode == "CMYK":
        return Image.fromarray(arr[..., :3]).convert("CMYK")
    return Image.fromarray(arr, mode)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(sorted(_FORMAT_MODES)),
    mode=st.sampled_from(_MODES),
    width=st.integers(1, 48),
    height=st.integers(1, 48),
    content=st.sampled_from(["noise", "flat", "block"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_small_image_gives_a_digit_or_an_input_error(fmt, mode, width, height, content, seed):
    if mode not in _FORMAT_MODES[fmt]:
        mode = sorted(_FORMAT_MODES[fmt])[0]
    data = encode_image(_random_image(mode, width, height, content, seed), fmt)
    assert_digit_or_input_error(data)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2000))
def test_any_bytes_give_a_digit_or_an_input_error(data):
    assert_digit_or_input_error(data)


@settings(max_examples=150, deadline=None)
@given(
    fmt=st.sampled_from(["PNG", "JPEG", "GIF", "BMP", "WEBP"]),
    cut=st.floats(0.0, 1.0),
    flip=st.integers(0, 10_000),
)
def test_damaged_files_give_a_digit_or_an_input_error(fmt, cut, flip):
    img = Image.new("RGB", (40, 40), "white")
    ImageDraw.Draw(img).line([(8, 8), (30, 30)], fill="black", width=4)
    data = bytearray(encode_image(img.convert("P") if fmt == "GIF" else img, fmt))
    data[flip % len(data)] ^= 0xFF  # corrupt one byte
    data = bytes(data[: max(1, int(len(data) * cut))])
    assert_digit_or_input_error(data)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-5, 5),
            st.booleans(),
            st.none(),
            st.text(max_size=3),
            st.lists(st.floats(0, 1), max_size=2),
        ),
        max_size=6,
    ),
    length=st.integers(0, 6),
)
def test_validate_vector_accepts_exactly_the_valid_vectors(values, length):
    valid = len(values) == length and all(
        not isinstance(v, bool) and isinstance(v, (int, float)) and 0 <= v <= 1 for v in values
    )
    if valid:
        out = validate_vector(values, length)
        np.testing.assert_array_equal(out, np.asarray(values, dtype=np.float32))
    else:
        with pytest.raises(InputError):
            validate_vector(values, length)
