"""Per-neuron table: one row per neuron of a layer (bias, z, a), sortable and filterable in the browser."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dash_table
from dash.dash_table.Format import Format

from singularity_dash.errors import InputError
from singularity_dash.notes import SIGNIFICANT_DIGITS, compute_neuron_labels, round_significant, validate_neuron
from singularity_dash.trace import Trace

COLUMN_NAMES = {"layer": "layer", "neuron": "#", "label": "neuron", "bias": "bias", "z": "z", "a": "a"}
NUMERIC_COLUMNS = ("layer", "neuron", "bias", "z", "a")


def compute_row_id(layer: int, index: int) -> str:
    """The DataTable row id of a neuron, so a clicked cell's `row_id` names it even after sorting."""
    return f"{int(layer)}-{int(index)}"


def parse_row_id(row_id: str) -> tuple[int, int]:
    """(layer, index) from a row id made by compute_row_id; InputError if it is not one."""
    try:
        layer, index = (int(part) for part in str(row_id).split("-"))
    except ValueError:
        raise InputError(f"not a neuron row id: {row_id!r} (expected 'layer-index')") from None
    return layer, index


def compute_neuron_rows(trace: Trace, layer: int, labels: Sequence[str] | None = None) -> list[dict]:
    """One dict per neuron of `layer` (layer, neuron, label, bias, z, a); the input layer has only a."""
    layer, _ = validate_neuron(trace, layer, 0)
    n = trace.layer_sizes[layer]
    if labels is None:
        labels = compute_neuron_labels(trace.layer_sizes, layer)
    labels = [str(s) for s in labels]
    if len(labels) != n:
        raise InputError(f"layer {layer} has {n} neurons but {len(labels)} labels were given")
    if layer == 0:
        return [
            {"id": compute_row_id(0, i), "layer": 0, "neuron": i, "label": labels[i],
             "a": round_significant(trace.input[i])}
            for i in range(n)
        ]
    lt = trace.layers[layer - 1]
    return [
        {"id": compute_row_id(layer, i), "layer": layer, "neuron": i, "label": labels[i],
         "bias": round_significant(lt.bias[i]), "z": round_significant(lt.z[i]), "a": round_significant(lt.a[i])}
        for i in range(n)
    ]


def build_neuron_table(table_id: str, rows: list[dict], page_size: int = 10,
                       selected: tuple[int, int] | None = None) -> dash_table.DataTable:
    """A native sortable, filterable, paged DataTable of neuron rows; click a cell to select its neuron."""
    keys = [k for k in COLUMN_NAMES if rows and k in rows[0]] or list(COLUMN_NAMES)
    number_format = Format(precision=SIGNIFICANT_DIGITS)  # d3 ".4g", same digits as the rest of the UI
    columns = [
        {"name": COLUMN_NAMES[k], "id": k, "type": "numeric", "format": number_format}
        if k in ("bias", "z", "a") else
        {"name": COLUMN_NAMES[k], "id": k, "type": "numeric" if k in NUMERIC_COLUMNS else "text"}
        for k in keys
    ]
    highlight = []
    if selected is not None:
        layer, index = (int(v) for v in selected)
        # Match on visible numeric columns: conditional filters read the table's columns.
        highlight = [{"if": {"filter_query": f"{{layer}} = {layer} && {{neuron}} = {index}"},
                      "backgroundColor": "rgba(255, 193, 7, 0.25)", "fontWeight": "bold"}]
    return dash_table.DataTable(
        id=table_id,
        data=rows,
        columns=columns,
        sort_action="native",
        filter_action="native",
        page_action="native",
        page_size=int(page_size),
        cell_selectable=True,
        row_selectable=False,
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "monospace", "fontSize": "0.85rem", "padding": "2px 6px"},
        style_header={"fontWeight": "bold"},
        style_data_conditional=highlight,
    )
