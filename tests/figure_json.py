"""Read a figure the way the browser does: plotly JSON with typed arrays ({"dtype", "bdata"}) decoded."""

from __future__ import annotations

import base64

import numpy as np


def decode_figure(figure) -> dict:
    """A go.Figure or plotly JSON dict as plain data: every base64 typed array becomes a numpy array."""
    data = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure
    return _decode(data)


def _decode(node):
    if isinstance(node, dict):
        if "bdata" in node and "dtype" in node:
            values = np.frombuffer(base64.b64decode(node["bdata"]), dtype=np.dtype(node["dtype"]))
            shape = node.get("shape")
            if shape:
                values = values.reshape([int(s) for s in str(shape).split(",")])
            return values
        return {key: _decode(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_decode(value) for value in node]
    return node
