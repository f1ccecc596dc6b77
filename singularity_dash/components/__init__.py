"""Reusable side panels shared by the pages: neuron inspector, per-neuron table, layer notes, legend."""

from singularity_dash.components.inspector import (
    NeuronInspection,
    build_inspector_id,
    build_inspector_panel,
    compute_inspection,
)
from singularity_dash.components.layer_notes import build_layer_notes, compute_layer_notes
from singularity_dash.components.legend import build_encoding_legend
from singularity_dash.components.neuron_table import (
    build_neuron_table,
    compute_neuron_rows,
    compute_row_id,
    parse_row_id,
)

__all__ = [
    "NeuronInspection",
    "build_encoding_legend",
    "build_inspector_id",
    "build_inspector_panel",
    "build_layer_notes",
    "build_neuron_table",
    "compute_inspection",
    "compute_layer_notes",
    "compute_neuron_rows",
    "compute_row_id",
    "parse_row_id",
]
