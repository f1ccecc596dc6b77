"""/mnist page (its full content comes with its own issue)."""

import dash
from dash import html

dash.register_page(__name__, path="/mnist", name="MNIST", title="Singularity: MNIST")


def layout(**_query):
    """The /mnist page."""
    return html.Div([html.H2("MNIST", id="mnist-title")])
