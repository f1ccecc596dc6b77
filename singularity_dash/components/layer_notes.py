"""Layer notes panel: one accordion item per layer with its explanation, shape, parameters and formula."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from singularity_dash.notes import LayerNote, describe_layer, resolve_architecture


def compute_layer_notes(spec_or_sizes, activations: Sequence[str] | None = None) -> list[LayerNote]:
    """A LayerNote for every layer, the input first (activations default to the spec's)."""
    sizes, acts = resolve_architecture(spec_or_sizes, activations)
    notes = [describe_layer(sizes, 0)]
    for k in range(1, len(sizes)):
        notes.append(describe_layer(sizes, k, acts[k - 1] if acts else None))
    return notes


def _build_note_body(note: LayerNote) -> list:
    """The contents of one layer's item: words, a fact line, the formula in text and typeset form."""
    facts = f"Shape: {note.shape}  ·  Parameters: {note.parameter_count:,}"
    body = [html.P(note.explanation), html.P(facts, className="small text-muted mb-1"),
            html.Code(note.formula, className="d-block")]
    if note.activation is not None:
        # Typeset by MathJax, with the plain-text form above as a fallback that is always readable.
        body.append(dcc.Markdown(f"$${note.formula_latex}$$\n\n$${note.activation_latex}$$", mathjax=True))
    return body


def build_layer_notes(spec_or_sizes, activations: Sequence[str] | None = None,
                      id_prefix: str | None = None) -> dbc.Accordion:
    """An accordion with one item per layer (input first), built from notes.describe_layer."""
    notes = compute_layer_notes(spec_or_sizes, activations)
    items = [dbc.AccordionItem(_build_note_body(n), title=n.title, item_id=f"layer-{n.index}") for n in notes]
    kwargs = {"id": f"{id_prefix}-layer-notes"} if id_prefix else {}
    return dbc.Accordion(items, start_collapsed=True, always_open=True, **kwargs)
