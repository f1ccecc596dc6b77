"""Home page: what Singularity is and where to start."""

import dash
import dash_bootstrap_components as dbc
from dash import html

dash.register_page(__name__, path="/", name="Home", title="Singularity")

PAGES = [
    ("XOR: watch a tiny network think", "/xor", "home-link-xor",
     "A 2-2-1 network that learned XOR. Pick a truth-table row or slide the inputs, play the forward pass "
     "step by step, see every neuron's response over the whole input square, and train your own network "
     "in the browser."),
    ("MNIST: all 986 neurons of a digit classifier", "/mnist", "home-link-mnist",
     "A 784-128-64-10 network reading handwritten digits. Pick a test digit, draw one or upload a photo, "
     "watch the activations flow in 3D and click any neuron to see what it looks for."),
]


def _card(title: str, href: str, link_id: str, text: str) -> dbc.Col:
    return dbc.Col(
        dbc.Card(dbc.CardBody([html.H4(title), html.P(text), dbc.Button("Open", href=href, id=link_id)])),
        md=6,
        className="mb-3",
    )


def layout(**_query):
    """The home page."""
    return html.Div(
        [
            html.H1("Singularity", id="home-title"),
            html.P(
                "Singularity opens the black box of a neural network. Choose an input and watch the "
                "activations flow through the network layer by layer, in 3D; then click any neuron to see "
                "exactly what it computes: its weights, its weighted sum z = W·x + b and its activation.",
                className="lead",
            ),
            dbc.Row([_card(*page) for page in PAGES]),
            html.P(
                ["Researchers can also query the models as JSON: ", html.Code("GET /api/models"), " and ",
                 html.Code("POST /api/models/<name>/forward"), "."],
                className="text-muted",
            ),
        ]
    )
