"""What the /mnist page shows, as one serializable state, plus its input and gallery helpers.

`MnistView` (gallery digit, selected neuron, checkpoint) round-trips through the URL query. The
input helpers turn the page's input store into model input; the gallery helpers page through the
test digits and find the ones the network gets wrong (computed once per process per checkpoint:
the test set and the weights are the same for every user).
"""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

import numpy as np
from dash import Patch
from PIL import Image

from singularity_dash.errors import InputError
from singularity_dash.mnist_data import DigitSet

LAYER_SIZES = (784, 128, 64, 10)
IMAGE_SIDE = 28
GALLERY_PAGE_SIZE = 24
PIXEL_DECIMALS = 4  # inputs from drawings/uploads travel rounded; enough for 8-bit images
INPUT_SOURCES = ("gallery", "drawing", "upload", "blank")


# --- the page's state and its URL form --------------------------------------------------------------


def parse_neuron(text: str, layer_sizes: Sequence[int] = LAYER_SIZES) -> tuple[int, int]:
    """ "1-37" -> (1, 37) if it names a neuron of a net with these layer sizes; InputError otherwise."""
    parts = str(text).strip().split("-")
    try:
        layer, index = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"a neuron is written 'layer-index' like '1-37', got {text!r}") from None
    if not 0 <= layer < len(layer_sizes):
        raise InputError(f"layer must be between 0 and {len(layer_sizes) - 1}, got {layer}")
    if not 0 <= index < layer_sizes[layer]:
        raise InputError(f"layer {layer} has {layer_sizes[layer]} neurons (0 to {layer_sizes[layer] - 1}), got {index}")
    return layer, index


def parse_digit(text, n_digits: int | None) -> int:
    """A gallery index from text, checked against the gallery size; InputError otherwise."""
    try:
        index = int(str(text).strip())
    except ValueError:
        raise InputError(f"a gallery digit is a whole number, got {text!r}") from None
    if n_digits is None:
        raise InputError("there is no digit gallery: no MNIST data directory is configured")
    if not 0 <= index < n_digits:
        raise InputError(f"the gallery has digits 0 to {n_digits - 1}, got {index}")
    return index


@dataclass(frozen=True)
class MnistView:
    """What /mnist shows: a gallery digit (or None), the selected neuron (or None), the checkpoint id."""

    digit: int | None = None
    neuron: tuple[int, int] | None = None
    checkpoint: str | None = None  # None: the final weights

    def to_query(self) -> str:
        """ "?digit=12&neuron=1-37&checkpoint=c2"; defaults are left out ("" when all are defaults)."""
        params = {}
        if self.digit is not None:
            params["digit"] = int(self.digit)
        if self.neuron is not None:
            params["neuron"] = f"{int(self.neuron[0])}-{int(self.neuron[1])}"
        if self.checkpoint is not None:
            params["checkpoint"] = self.checkpoint
        return f"?{urlencode(params)}" if params else ""

    @classmethod
    def from_query(
        cls,
        query: str | Mapping | None,
        n_digits: int | None = None,
        checkpoints: Sequence[str] | None = None,
        layer_sizes: Sequence[int] = LAYER_SIZES,
    ) -> "MnistView":
        """The view a URL query asks for; values that name nothing real are dropped (a URL never crashes)."""
        params = _query_params(query)
        digit = neuron = checkpoint = None
        try:
            if params.get("digit") not in (None, ""):
                digit = parse_digit(params["digit"], n_digits)
        except InputError:
            digit = None
        try:
            if params.get("neuron") not in (None, ""):
                neuron = parse_neuron(params["neuron"], layer_sizes)
        except InputError:
            neuron = None
        wanted = params.get("checkpoint")
        if wanted and checkpoints and wanted in checkpoints and wanted != checkpoints[-1]:
            checkpoint = str(wanted)  # the last checkpoint is the final weights: the default
        return cls(digit=digit, neuron=neuron, checkpoint=checkpoint)


def _query_params(query) -> dict[str, str]:
    """{name: first value} from "?a=1&b=2", "a=1", or a mapping (Dash Pages passes keyword args)."""
    if query is None:
        return {}
    if isinstance(query, Mapping):
        return {str(k): (v[0] if isinstance(v, (list, tuple)) and v else v) for k, v in query.items()}
    parsed = parse_qs(str(query).lstrip("?"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


# --- checkpoints ----------------------------------------------------------------------------------


def compute_checkpoint_position(checkpoint_ids: Sequence[str], checkpoint: str | None) -> int:
    """Slider position of a checkpoint id (None or unknown: the last, i.e. the final weights)."""
    ids = list(checkpoint_ids)
    if checkpoint in ids:
        return ids.index(checkpoint)
    return len(ids) - 1


def compute_checkpoint_id(checkpoint_ids: Sequence[str], position) -> str | None:
    """Checkpoint id at a slider position; None for the last (final weights) or a bad position."""
    ids = list(checkpoint_ids)
    try:
        position = int(position)
    except (TypeError, ValueError):
        return None
    if not ids or not 0 <= position < len(ids) - 1:
        return None
    return ids[position]


# --- the input store ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedInput:
    """The model input behind the page's input store, and what is known about it."""

    x: np.ndarray  # (784,) float32 in [0, 1]
    source: str  # one of INPUT_SOURCES
    index: int | None = None  # gallery index
    true_label: int | None = None  # gallery digits only


def build_gallery_input(index: int) -> dict:
    """Input-store value for gallery digit `index` (the digit itself stays on the server)."""
    return {"source": "gallery", "index": int(index)}


def build_pixels_input(source: str, image) -> dict:
    """Input-store value for a drawing or upload: its 784 preprocessed pixels, rounded."""
    if source not in ("drawing", "upload"):
        raise InputError(f"pixel inputs come from a drawing or an upload, not {source!r}")
    x = np.asarray(image, dtype=np.float64).reshape(-1)
    if x.size != IMAGE_SIDE * IMAGE_SIDE:
        raise InputError(f"an image input has {IMAGE_SIDE * IMAGE_SIDE} pixels, got {x.size}")
    return {"source": source, "pixels": np.round(np.clip(x, 0.0, 1.0), PIXEL_DECIMALS).tolist()}


def resolve_input(data, digits: DigitSet | None) -> ResolvedInput:
    """The model input an input-store value stands for; a blank image when there is none yet."""
    if not data:
        return ResolvedInput(np.zeros(IMAGE_SIDE * IMAGE_SIDE, dtype=np.float32), "blank")
    if not isinstance(data, Mapping):
        raise InputError(f"the input must be an object with a 'source', got {type(data).__name__}")
    source = data.get("source")
    if source == "gallery":
        index = parse_digit(data.get("index"), None if digits is None else len(digits))
        return ResolvedInput(digits.pixels(index), "gallery", index, int(digits.labels[index]))
    if source in ("drawing", "upload"):
        pixels = data.get("pixels")
        try:
            x = np.asarray(pixels, dtype=np.float32).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(f"the {source}'s pixels must be {IMAGE_SIDE * IMAGE_SIDE} numbers") from None
        if x.size != IMAGE_SIDE * IMAGE_SIDE or not np.all(np.isfinite(x)):
            raise InputError(f"the {source}'s pixels must be {IMAGE_SIDE * IMAGE_SIDE} finite numbers")
        return ResolvedInput(np.clip(x, 0.0, 1.0), source)
    raise InputError(f"unknown input source {source!r}; expected one of {INPUT_SOURCES}")


# --- the gallery ----------------------------------------------------------------------------------


def compute_batch_predictions(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                              images: np.ndarray, chunk: int = 2000) -> np.ndarray:
    """Predicted class of each image (n, 784 in [0, 1]) by a ReLU MLP with a softmax (argmax) output."""
    x_all = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    out = np.empty(len(x_all), dtype=np.intp)
    for start in range(0, len(x_all), chunk):
        a = x_all[start : start + chunk]
        for k, (w, b) in enumerate(zip(weights, biases)):
            a = a @ np.asarray(w, dtype=np.float32).T + np.asarray(b, dtype=np.float32)
            if k < len(weights) - 1:
                a = np.maximum(a, 0.0)
        out[start : start + chunk] = np.argmax(a, axis=1)  # softmax keeps the order: argmax of z
    return out


_PREDICTIONS: dict[Hashable, np.ndarray] = {}
_PREDICTIONS_LOCK = threading.Lock()


def compute_test_predictions(digits: DigitSet, weights, biases, key: Hashable) -> np.ndarray:
    """Predicted class of every gallery digit; computed once per process per `key` (read-only result)."""
    with _PREDICTIONS_LOCK:
        cached = _PREDICTIONS.get(key)
    if cached is not None:
        return cached
    predictions = compute_batch_predictions(weights, biases, digits.images.astype(np.float32) / 255.0)
    predictions.setflags(write=False)
    with _PREDICTIONS_LOCK:
        _PREDICTIONS[key] = predictions
    return predictions


def find_misclassified(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Indices where the prediction differs from the true label."""
    return np.flatnonzero(np.asarray(predictions) != np.asarray(labels).astype(np.intp))


def compute_gallery_pool(n_digits: int, misclassified: np.ndarray | None, only_misclassified: bool) -> np.ndarray:
    """Indices the gallery pages through: all digits, or only the misclassified ones."""
    if only_misclassified and misclassified is not None:
        return np.asarray(misclassified, dtype=np.intp)
    return np.arange(int(n_digits))


def compute_page_count(pool_size: int, page_size: int = GALLERY_PAGE_SIZE) -> int:
    """Number of gallery pages (at least 1, so an empty pool still has a page saying so)."""
    return max(1, -(-int(pool_size) // int(page_size)))


def compute_gallery_page(pool: np.ndarray, page: int, page_size: int = GALLERY_PAGE_SIZE) -> tuple[int, np.ndarray]:
    """(page clamped to the valid range, the indices shown on it)."""
    page = int(np.clip(int(page or 0), 0, compute_page_count(len(pool), page_size) - 1))
    return page, np.asarray(pool[page * page_size : (page + 1) * page_size], dtype=np.intp)


def compute_page_of(pool: np.ndarray, index: int, page_size: int = GALLERY_PAGE_SIZE) -> int | None:
    """The gallery page that shows digit `index`, or None when it is not in the pool."""
    where = np.flatnonzero(np.asarray(pool) == int(index))
    return int(where[0]) // page_size if where.size else None


def pick_random_digit(pool: np.ndarray, rng: np.random.Generator | None = None) -> int | None:
    """A random index from the pool (None for an empty pool)."""
    if len(pool) == 0:
        return None
    rng = rng or np.random.default_rng()
    return int(pool[int(rng.integers(len(pool)))])


def encode_digit_png(image: np.ndarray) -> str:
    """A 28x28 uint8 (or [0, 1] float) image as a PNG data URL, for gallery thumbnails."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(np.rint(np.asarray(array, dtype=float) * 255.0), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array.reshape(IMAGE_SIDE, IMAGE_SIDE)).save(buffer, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# --- Patches for the small side figures (only the numbers that change per input) -----------------
# These mirror the value fields of figures.charts.build_probability_bars and figures.weights'
# heatmaps; the page's tests compare them field by field with those builders.

def build_probability_patch(probabilities: np.ndarray, prediction: int, true_label: int | None,
                            prediction_color: str, other_color: str) -> Patch:
    """Patch of the probability bars for a new input: heights, labels, colours, outline and title."""
    p = np.asarray(probabilities, dtype=float).ravel()
    if p.size == 0 or not np.all(np.isfinite(p)):
        raise InputError("probabilities must be a non-empty array of finite numbers")
    classes = np.arange(p.size)
    line_width = np.zeros(p.size)
    if true_label is not None:
        line_width[int(true_label)] = 3.0
    title = f"Prediction: {int(prediction)}"
    if true_label is not None:
        title += f" (true label {int(true_label)}, outlined)"
    patch = Patch()
    patch["data"][0]["y"] = p
    patch["data"][0]["text"] = [f"{v:.0%}" if v >= 0.005 else "" for v in p]
    patch["data"][0]["marker"]["color"] = np.where(classes == int(prediction), prediction_color, other_color).tolist()
    patch["data"][0]["marker"]["line"]["width"] = line_width
    patch["layout"]["title"]["text"] = title
    return patch


def build_heatmap_values_patch(values_784: np.ndarray, symmetric: bool, figure: Patch | None = None) -> Patch:
    """Patch of a 28x28 heatmap's values (and, if symmetric, its +-max|z| colour range).

    `figure` is where the figure sits inside a larger Patch (a graph nested in a component tree);
    by default the Patch is of the figure itself.
    """
    z = np.asarray(values_784, dtype=float).ravel()
    if z.size != IMAGE_SIDE * IMAGE_SIDE or not np.all(np.isfinite(z)):
        raise InputError(f"a 28x28 image needs {IMAGE_SIDE * IMAGE_SIDE} finite values, got {z.size}")
    patch = Patch() if figure is None else figure
    patch["data"][0]["z"] = z.reshape(IMAGE_SIDE, IMAGE_SIDE)  # an array: the JSON encoder writes it in C
    if symmetric:
        limit = float(np.abs(z).max()) or 1.0  # 0 stays at the diverging scale's white centre
        patch["data"][0]["zmin"] = -limit
        patch["data"][0]["zmax"] = limit
    return patch
