"""The /mnist page state (URL round trip), its input store and gallery helpers."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from singularity_dash import mnist_view as mv
from singularity_dash.errors import InputError
from singularity_dash.mnist_data import DigitSet

CHECKPOINTS = ["c0", "c1", "c2", "c3", "c4", "c5"]


def small_digits(n: int = 30, seed: int = 0) -> DigitSet:
    """A synthetic digit set (random images, labels 0-9), no MNIST data needed."""
    rng = np.random.default_rng(seed)
    return DigitSet(images=rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8),
                    labels=(np.arange(n) % 10).astype(np.uint8))


# --- URL state ------------------------------------------------------------------------------------


def test_default_view_has_an_empty_query():
    assert mv.MnistView().to_query() == ""
    assert mv.MnistView.from_query("") == mv.MnistView()


def test_query_names_digit_neuron_and_checkpoint():
    view = mv.MnistView(digit=12, neuron=(1, 37), checkpoint="c2")
    assert view.to_query() == "?digit=12&neuron=1-37&checkpoint=c2"
    assert mv.MnistView.from_query(view.to_query(), n_digits=10_000, checkpoints=CHECKPOINTS) == view


@given(
    digit=st.one_of(st.none(), st.integers(0, 9_999)),
    neuron=st.one_of(st.none(), st.sampled_from(range(len(mv.LAYER_SIZES))).flatmap(
        lambda layer: st.tuples(st.just(layer), st.integers(0, mv.LAYER_SIZES[layer] - 1)))),
    checkpoint=st.one_of(st.none(), st.sampled_from(CHECKPOINTS[:-1])),
)
def test_every_view_round_trips_through_its_query(digit, neuron, checkpoint):
    view = mv.MnistView(digit=digit, neuron=neuron, checkpoint=checkpoint)
    assert mv.MnistView.from_query(view.to_query(), n_digits=10_000, checkpoints=CHECKPOINTS) == view


def test_pages_keyword_arguments_are_read_like_a_query():
    view = mv.MnistView.from_query({"digit": "3", "neuron": "3-9", "checkpoint": "c0"}, 10, CHECKPOINTS)
    assert view == mv.MnistView(digit=3, neuron=(3, 9), checkpoint="c0")


@pytest.mark.parametrize("query", [
    "?digit=-1", "?digit=10", "?digit=abc", "?neuron=4-0", "?neuron=1-128", "?neuron=x", "?neuron=1",
    "?checkpoint=c9", "?checkpoint=c5", "?digit=&neuron=&checkpoint=",
])
def test_bad_or_default_values_in_the_url_are_dropped(query):
    assert mv.MnistView.from_query(query, n_digits=10, checkpoints=CHECKPOINTS) == mv.MnistView()


def test_digit_needs_a_gallery():
    assert mv.MnistView.from_query("?digit=3", n_digits=None, checkpoints=CHECKPOINTS).digit is None
    with pytest.raises(InputError, match="no digit gallery"):
        mv.parse_digit("3", None)


def test_parse_neuron_messages_name_the_limit():
    assert mv.parse_neuron("2-63") == (2, 63)
    with pytest.raises(InputError, match="64 neurons"):
        mv.parse_neuron("2-64")
    with pytest.raises(InputError, match="layer-index"):
        mv.parse_neuron("two")


def test_checkpoint_positions_map_to_ids_with_the_last_as_final():
    assert [mv.compute_checkpoint_id(CHECKPOINTS, p) for p in range(6)] == ["c0", "c1", "c2", "c3", "c4", None]
    assert mv.compute_checkpoint_id(CHECKPOINTS, None) is None
    assert mv.compute_checkpoint_id(CHECKPOINTS, 17) is None
    assert mv.compute_checkpoint_position(CHECKPOINTS, "c2") == 2
    assert mv.compute_checkpoint_position(CHECKPOINTS, None) == 5


# --- input store ----------------------------------------------------------------------------------


def test_gallery_input_resolves_to_the_digit_and_its_label():
    digits = small_digits()
    resolved = mv.resolve_input(mv.build_gallery_input(13), digits)
    np.testing.assert_allclose(resolved.x, digits.images[13].reshape(-1) / 255.0, atol=1e-7)
    assert (resolved.source, resolved.index, resolved.true_label) == ("gallery", 13, 3)


def test_pixel_input_round_trips_rounded():
    image = np.random.default_rng(1).random((28, 28))
    data = mv.build_pixels_input("drawing", image)
    resolved = mv.resolve_input(data, None)
    assert resolved.source == "drawing" and resolved.true_label is None
    np.testing.assert_allclose(resolved.x, image.reshape(-1), atol=10 ** -mv.PIXEL_DECIMALS)


def test_no_input_is_a_blank_image():
    resolved = mv.resolve_input(None, None)
    assert resolved.source == "blank" and resolved.x.shape == (784,) and not resolved.x.any()


@pytest.mark.parametrize("data, message", [
    ({"source": "gallery", "index": 30}, "digits 0 to 29"),
    ({"source": "gallery", "index": "x"}, "whole number"),
    ({"source": "drawing", "pixels": [0.5] * 10}, "784"),
    ({"source": "upload", "pixels": [float("nan")] * 784}, "finite"),
    ({"source": "camera"}, "unknown input source"),
    ([1, 2], "object"),
])
def test_bad_input_store_values_raise_input_error(data, message):
    with pytest.raises(InputError, match=message):
        mv.resolve_input(data, small_digits())


def test_pixel_inputs_come_only_from_drawings_and_uploads():
    with pytest.raises(InputError):
        mv.build_pixels_input("gallery", np.zeros(784))
    with pytest.raises(InputError, match="784"):
        mv.build_pixels_input("upload", np.zeros(10))


# --- gallery --------------------------------------------------------------------------------------


def test_batch_predictions_match_a_per_image_forward_pass():
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=(16, 784)), rng.normal(size=(8, 16)), rng.normal(size=(10, 8))]
    biases = [rng.normal(size=16), rng.normal(size=8), rng.normal(size=10)]
    images = rng.random((50, 784))
    expected = []
    for x in images:
        a = x
        for k, (w, b) in enumerate(zip(weights, biases)):
            z = w @ a + b
            a = np.maximum(z, 0) if k < 2 else np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        expected.append(int(np.argmax(a)))
    assert mv.compute_batch_predictions(weights, biases, images, chunk=7).tolist() == expected


def test_test_predictions_are_computed_once_per_key():
    digits = small_digits()
    rng = np.random.default_rng(4)
    weights, biases = [rng.normal(size=(10, 784))], [np.zeros(10)]
    first = mv.compute_test_predictions(digits, weights, biases, key=("test", "once"))
    again = mv.compute_test_predictions(digits, [np.zeros((10, 784))], biases, key=("test", "once"))
    assert again is first and not first.flags.writeable
    wrong = mv.find_misclassified(digits.labels, first)
    assert np.array_equal(wrong, np.flatnonzero(first != digits.labels))


def test_gallery_pages_cover_the_pool_exactly_once():
    pool = np.arange(0, 100, 2)
    pages = [mv.compute_gallery_page(pool, p, page_size=12)[1] for p in range(mv.compute_page_count(len(pool), 12))]
    assert mv.compute_page_count(len(pool), 12) == 5
    assert np.array_equal(np.concatenate(pages), pool)
    assert mv.compute_gallery_page(pool, 99, page_size=12)[0] == 4  # clamped
    assert mv.compute_gallery_page(pool, -3, page_size=12)[0] == 0
    assert mv.compute_page_of(pool, 50, page_size=12) == 2
    assert mv.compute_page_of(pool, 51, page_size=12) is None


def test_misclassified_filter_and_random_pick():
    wrong = np.array([3, 8, 21])
    assert np.array_equal(mv.compute_gallery_pool(30, wrong, True), wrong)
    assert np.array_equal(mv.compute_gallery_pool(30, wrong, False), np.arange(30))
    rng = np.random.default_rng(5)
    assert {mv.pick_random_digit(wrong, rng) for _ in range(50)} == {3, 8, 21}
    assert mv.pick_random_digit(np.arange(0), rng) is None
    assert mv.compute_page_count(0) == 1


def test_thumbnail_png_decodes_to_the_same_pixels():
    image = small_digits().images[5]
    url = mv.encode_digit_png(image)
    assert url.startswith("data:image/png;base64,")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert np.array_equal(decoded, image)
