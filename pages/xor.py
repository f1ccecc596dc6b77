"""/xor page (its full content comes with its own issue)."""

import dash
from dash import html

dash.register_page(__name__, path="/xor", name="XOR", title="Singularity: XOR")


def layout(**_query):
    """The /xor page."""
    return html.Div([html.H2("XOR", id="xor-title")])
