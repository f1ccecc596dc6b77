"""The app's two colour scales and vectorised value -> colour mapping."""

from __future__ import annotations

import numpy as np

from singularity_dash.errors import InputError

# ColorBrewer RdBu, reversed so negative = blue and positive = red; white at 0.
# Colour-blind safe (no red/green opposition) and symmetric around its middle stop.
_DIVERGING_STOPS = (
    "#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
    "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f",
)
# Cividis: designed to read the same for the common colour-vision deficiencies.
_SEQUENTIAL_STOPS = (
    "#00224e", "#123570", "#3b496c", "#575d6d", "#707173",
    "#8a8678", "#a59c74", "#c3b369", "#e1cc55", "#fee838",
)

LUT_SIZE = 257  # odd, so the middle entry is exactly the scale's centre (0 -> white)


def _to_colorscale(stops: tuple[str, ...]) -> list[list]:
    """Evenly spaced plotly colorscale [[position, colour], ...] from a tuple of hex stops."""
    positions = np.linspace(0.0, 1.0, len(stops))
    return [[float(p), c] for p, c in zip(positions, stops)]


DIVERGING_SCALE: list[list] = _to_colorscale(_DIVERGING_STOPS)
SEQUENTIAL_SCALE: list[list] = _to_colorscale(_SEQUENTIAL_STOPS)
NEGATIVE_COLOR = _DIVERGING_STOPS[1]  # legend swatch for "w < 0"
POSITIVE_COLOR = _DIVERGING_STOPS[-2]  # legend swatch for "w > 0"


def _hex_to_rgb(stops: tuple[str, ...]) -> np.ndarray:
    """(n, 3) float array of the stops' RGB channels."""
    return np.array([[int(s[i : i + 2], 16) for i in (1, 3, 5)] for s in stops], dtype=float)


def _build_lut(stops: tuple[str, ...]) -> np.ndarray:
    """LUT_SIZE hex strings linearly interpolated between the stops (computed once at import)."""
    rgb = _hex_to_rgb(stops)
    stop_pos = np.linspace(0.0, 1.0, len(stops))
    lut_pos = np.linspace(0.0, 1.0, LUT_SIZE)
    channels = np.stack([np.interp(lut_pos, stop_pos, rgb[:, k]) for k in range(3)], axis=1)
    channels = np.rint(channels).astype(int)
    # Fixed-width text, not objects: the JSON encoder turns the whole array into a list in one call.
    lut = np.array([f"#{r:02x}{g:02x}{b:02x}" for r, g, b in channels], dtype="U7")
    lut.setflags(write=False)
    return lut


DIVERGING_LUT = _build_lut(_DIVERGING_STOPS)
SEQUENTIAL_LUT = _build_lut(_SEQUENTIAL_STOPS)


def compute_lut_indices(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Index into a LUT_SIZE table for each value, clipped to [vmin, vmax] (NaN -> the low end)."""
    values = np.asarray(values, dtype=float)
    span = float(vmax) - float(vmin)
    if not np.isfinite(span):
        raise InputError(f"colour range must be finite, got vmin={vmin}, vmax={vmax}")
    if span <= 0:
        # A flat range carries no information: put everything in the middle of the scale.
        return np.full(values.shape, LUT_SIZE // 2, dtype=np.intp)
    scaled = (np.nan_to_num(values, nan=vmin) - vmin) / span
    return np.clip(np.rint(scaled * (LUT_SIZE - 1)), 0, LUT_SIZE - 1).astype(np.intp)


def map_signed_colors(values: np.ndarray, vmax: float) -> np.ndarray:
    """Hex colours on the diverging scale for signed values, symmetric in [-vmax, vmax] (0 -> white)."""
    vmax = abs(float(vmax))
    return DIVERGING_LUT[compute_lut_indices(values, -vmax, vmax)]


def map_sequential_colors(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Hex colours on the sequential (activation) scale for values in [vmin, vmax]."""
    return SEQUENTIAL_LUT[compute_lut_indices(values, vmin, vmax)]
