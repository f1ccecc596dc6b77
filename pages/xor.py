"""/xor: watch a 2-H-1 network compute XOR in 3D, step by step, and train your own in the browser.

Layout and callbacks only; the work is done by pure functions (figures, components, xor_view,
xor_training). Per-user state lives in dcc.Store components and the URL, never in this module.
"""

from __future__ import annotations

import time

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from singularity_dash.components import (
    build_encoding_legend,
    build_inspector_panel,
    build_layer_notes,
    build_neuron_table,
    compute_inspection,
    compute_neuron_rows,
    parse_row_id,
)
from singularity_dash.errors import InputError
from singularity_dash.figures.charts import build_loss_curve
from singularity_dash.figures.histograms import build_weight_histogram
from singularity_dash.figures.network3d import build_network_figure, build_network_patch, compute_layout
from singularity_dash.figures.surfaces import CURRENT_INPUT_TRACE, build_surface_figure, compute_response_surfaces
from singularity_dash.notes import describe_neuron, format_number
from singularity_dash.runtime import get_jobs_outage, get_service
from singularity_dash.trace import Trace
from singularity_dash.xor_training import (
    HIDDEN_ACTIVATIONS,
    HIDDEN_SIZES,
    INPUTS,
    TRUTH_TABLES,
    TrainingConfig,
    compute_hidden_layer_hint,
    compute_outputs,
    config_from_store,
    export_json,
    export_pytorch_snippet,
    iterate_training,
    result_to_store,
    snapshot_from_store,
)
from singularity_dash.xor_view import (
    NetworkState,
    XorView,
    compute_network_state,
    compute_trace,
    compute_animation_steps,
    compute_prediction_words,
    compute_table_name,
    compute_target_words,
    format_neuron,
    parse_neuron,
    validate_view_against,
)

dash.register_page(__name__, path="/xor", name="XOR", title="Singularity: XOR")


class ID:
    """Every element id of this page, defined once."""

    title = "xor-title"
    url = "xor-url"
    url_error = "xor-url-error"
    rows = ("xor-row-00", "xor-row-01", "xor-row-10", "xor-row-11")
    x1 = "xor-x1"
    x2 = "xor-x2"
    prediction = "xor-prediction"
    target = "xor-target"
    graph = "xor-graph"
    figure_key = "xor-figure-key"
    source = "xor-source"
    selection = "xor-selection"
    inspector = "xor-inspector"
    table = "xor-table"
    surfaces = "xor-surfaces"
    surface = "xor-surface"  # pattern-id type of each surface graph: {"type": surface, "index": i}
    histograms = "xor-histograms"
    notes = "xor-notes"
    # animation
    anim = "xor-anim"
    anim_ids = "xor-anim-ids"
    step = "xor-step"
    play = "xor-play"
    pause = "xor-pause"
    forward = "xor-forward"
    back = "xor-back"
    reset = "xor-reset"
    interval = "xor-interval"
    speed = "xor-speed"
    caption = "xor-caption"
    step_label = "xor-step-label"
    # training
    hidden = "xor-hidden"
    activation = "xor-activation"
    lr = "xor-lr"
    epochs = "xor-epochs"
    seed = "xor-seed"
    table_name = "xor-truth-table"
    custom = "xor-custom"
    hint = "xor-hint"
    train = "xor-train"
    cancel = "xor-cancel"
    replay = "xor-replay"
    pretrained = "xor-pretrained"
    model = "xor-model"
    live = "xor-live"
    progress = "xor-progress"
    loss_graph = "xor-loss-graph"
    loss_summary = "xor-loss-summary"
    loss_start = "xor-loss-start"
    loss_end = "xor-loss-end"
    train_message = "xor-train-message"
    train_request = "xor-train-request"
    train_outage = "xor-train-outage"
    snapshot = "xor-snapshot"
    export_json = "xor-export-json"
    export_torch = "xor-export-torch"
    download_json = "xor-download-json"
    download_torch = "xor-download-torch"


ROW_LABELS = ("0, 0", "0, 1", "1, 0", "1, 1")
TRAINING_REPORTS = 25  # progress updates per run
TRAINING_PACE_SECONDS = 0.04  # a 4-row net trains in milliseconds; pace it so the curve can be watched
MAX_LOSS_POINTS = 1000
SURFACE_RESOLUTION = 41
SURFACE_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
SURFACE_LAYOUT = {"height": 260, "showlegend": False, "margin": {"l": 35, "r": 5, "t": 35, "b": 30}}
ALL_SURFACES = {"type": ID.surface, "index": ALL}


# --- pure helpers (callbacks stay thin; tests call these directly) -------------------------------------


def compute_selection(triggered_id, click_data, active_cell, current):
    """The selected neuron ("layer-index") after a click in 3D or on a table cell."""
    if triggered_id == ID.graph and click_data:
        points = click_data.get("points") or []
        custom = points[0].get("customdata") if points else None
        if isinstance(custom, (list, tuple)) and len(custom) >= 2:
            return format_neuron((int(custom[0]), int(custom[1])))
        return current
    if triggered_id == ID.table and active_cell and active_cell.get("row_id"):
        return format_neuron(parse_row_id(active_cell["row_id"]))
    return current


def compute_table_rows(trace: Trace) -> list[dict]:
    """Rows of every neuron of every layer (the net is small enough for one table)."""
    rows = []
    for layer in range(len(trace.layer_sizes)):
        rows.extend(compute_neuron_rows(trace, layer))
    return rows


def build_inspector(trace: Trace, neuron) -> html.Div | dbc.Card:
    """The inspector card for the selected neuron, or a hint when none is selected."""
    if neuron is None:
        return html.P("Click a neuron in the 3D view or a row of the table to see what it computes.",
                      className="text-muted", id="xor-inspector-empty")
    layer, index = neuron
    inspection = compute_inspection(trace, layer, index)
    return build_inspector_panel(inspection, describe_neuron(trace, layer, index), "xor")


def build_histograms(trace: Trace, neuron) -> list:
    """One weight histogram per computing layer, the selected neuron's incoming weights marked."""
    graphs = []
    for k, lt in enumerate(trace.layers, start=1):
        marked = lt.weight[neuron[1]] if neuron is not None and neuron[0] == k else None
        fig = build_weight_histogram(lt.weight, lt.name, marked=marked, bins=12)
        fig.update_layout(height=240, showlegend=False)
        graphs.append(dcc.Graph(figure=fig, id=f"xor-histogram-{k}", config={"displayModeBar": False}))
    return graphs


def compute_surface_id(index: int) -> dict:
    """The pattern id of the index-th surface graph (hidden neurons first, the output last)."""
    return {"type": ID.surface, "index": int(index)}


def compute_view_neuron(state: NetworkState, selection):
    """The selected (layer, index), or None when nothing (or a neuron this network lacks) is selected."""
    return validate_view_against(XorView(neuron=parse_neuron(selection)), state.layer_sizes).neuron


def build_surfaces(state: NetworkState, x1: float, x2: float) -> list:
    """Response surface of every hidden neuron and the output, the XOR corners and the input marked."""
    surfaces = compute_response_surfaces(state.weights, state.biases, [state.activation, "sigmoid"],
                                         resolution=SURFACE_RESOLUTION)
    hidden = state.layer_sizes[1]
    cards = []
    for i, surface in enumerate(surfaces):
        is_output = i == hidden
        title = "y (output): the decision boundary" if is_output else f"h{i + 1} (hidden)"
        activation = "sigmoid" if is_output else state.activation
        fig = build_surface_figure(surface, title, current_input=(x1, x2), targets=state.targets,
                                   value_range=SURFACE_RANGES.get(activation), layout=SURFACE_LAYOUT)
        cards.append(dbc.Col(dcc.Graph(figure=fig, id=compute_surface_id(i), config={"displayModeBar": False}),
                             md=4, lg=3))
    return cards


def compute_loss_points(losses, max_points: int = MAX_LOSS_POINTS) -> tuple[list[int], list[float]]:
    """(epochs, losses) thinned to at most max_points, the first and last epoch always kept."""
    values = np.asarray(losses or [], dtype=float)
    if values.size == 0:
        return [], []
    keep = np.unique(np.linspace(0, values.size - 1, min(max_points, values.size)).round().astype(int))
    return (keep + 1).tolist(), values[keep].tolist()


def build_loss_figure(epochs, losses, total_epochs=None):
    """The loss curve over epochs (the shared chart builder, with the real epoch numbers on x)."""
    fig = build_loss_curve(losses)
    if epochs:
        fig.update_traces(x=epochs)
    fig.update_layout(height=260, xaxis={"title": {"text": "epoch"}})
    if total_epochs:
        fig.update_xaxes(range=[0, total_epochs])
    return fig


def build_loss_summary(first: float | None, last: float | None, epoch: int, total: int):
    """ "Loss: 0.87 at the start, 0.01 now (epoch 2000 of 2000)" with the numbers in their own spans."""
    if first is None:
        return html.Span("No training run yet: the page shows the pretrained network.", className="text-muted")
    return html.Span([
        "Loss: ", html.Span(format_number(first), id=ID.loss_start), " at the start, ",
        html.Span(format_number(last), id=ID.loss_end), f" at epoch {epoch} of {total}.",
    ])


def compute_training_config(hidden, activation, lr, epochs, seed, table_name, custom_rows) -> TrainingConfig:
    """A validated TrainingConfig from the form's values (custom: the checked rows are the 1s)."""
    if table_name == "custom":
        chosen = set(custom_rows or [])
        targets = tuple(int(r in chosen) for r in ROW_LABELS)
    elif table_name in TRUTH_TABLES:
        targets = TRUTH_TABLES[table_name]
    else:
        raise InputError(f"unknown truth table {table_name!r}; choose {', '.join(TRUTH_TABLES)} or custom")
    for name, value in (("learning rate", lr), ("epochs", epochs), ("seed", seed)):
        if value is None:
            raise InputError(f"please enter a {name}")
    return TrainingConfig(int(hidden), activation, float(lr), int(epochs), int(seed), targets).validated()


def compute_replay_config(config: TrainingConfig, model_store: dict | None) -> TrainingConfig:
    """The config for "Replay": the stored run's seed and hidden size (the same initial weights), the rest from the form."""
    if not model_store:
        raise InputError("train a network first: Replay retrains it from the same initial weights")
    stored = config_from_store(model_store)
    return TrainingConfig(stored.hidden_size, config.activation, config.lr, config.epochs, stored.seed,
                          config.targets).validated()


def build_training_message(store: dict) -> str:
    """One sentence on a finished run: what was trained and how many rows it gets right."""
    config = config_from_store(store)
    snap = snapshot_from_store(store, None)
    outputs = compute_outputs(snap.weights, snap.biases, config.activation)
    correct = int(np.sum((outputs > 0.5).astype(int) == np.asarray(config.targets)))
    return (f"Trained a 2-{config.hidden_size}-1 {config.activation} network on "
            f"{compute_table_name(config.targets)} for {config.epochs} epochs (seed {config.seed}): "
            f"{correct} of 4 rows right.")


def compute_snapshot_slider(model_store: dict | None) -> tuple[int, int, dict, bool]:
    """(max, value, marks, disabled) of the snapshot timeline."""
    if not model_store or not model_store.get("snapshots"):
        return 0, 0, {0: "pretrained"}, True
    snaps = model_store["snapshots"]
    last = len(snaps) - 1
    marks = {i: str(snaps[i]["epoch"]) for i in sorted({0, last // 4, last // 2, 3 * last // 4, last})}
    return last, last, marks, False


def compute_export(state: NetworkState, kind: str, config: TrainingConfig | None) -> dict:
    """The dcc.Download payload (content and filename) of the shown network as JSON or a PyTorch snippet."""
    weights, biases = list(state.weights), list(state.biases)
    if kind == "json":
        return dict(content=export_json(weights, biases, state.activation, config), filename="xor-network.json")
    return dict(content=export_pytorch_snippet(weights, biases, state.activation), filename="xor_network.py")


# --- layout ----------------------------------------------------------------------------------------------


def _input_card(view: XorView) -> dbc.Card:
    buttons = [dbc.Button(f"({label})", id=bid, color="secondary", outline=True, size="sm", className="me-1")
               for label, bid in zip(ROW_LABELS, ID.rows)]
    slider = dict(min=0, max=1, step=0.01, marks={0: "0", 0.5: "0.5", 1: "1"}, tooltip={"placement": "bottom"})
    return dbc.Card(dbc.CardBody([
        html.H5("Input"),
        html.Div([html.Span("Truth-table row (x1, x2): ", className="small text-muted d-block"), *buttons],
                 className="mb-2"),
        html.Label("x1", htmlFor=ID.x1), dcc.Slider(id=ID.x1, value=view.x1, **slider),
        html.Label("x2", htmlFor=ID.x2), dcc.Slider(id=ID.x2, value=view.x2, **slider),
        html.P(id=ID.prediction, className="fw-bold mb-1"),
        html.P(id=ID.target, className="mb-0"),
    ]), className="mb-3")


def _animation_card() -> dbc.Card:
    def button(label, bid, title):
        return dbc.Button(label, id=bid, size="sm", color="primary", outline=True, className="me-1", title=title)

    return dbc.Card(dbc.CardBody([
        html.H5("Forward pass, step by step"),
        html.Div([button("▶ Play", ID.play, "play"), button("⏸ Pause", ID.pause, "pause"),
                  button("◀", ID.back, "step back"), button("▶|", ID.forward, "step forward"),
                  button("⟲ Reset", ID.reset, "back to the first step")], className="mb-2"),
        html.Div([html.Span("Speed: ", className="small me-2"),
                  dbc.RadioItems(id=ID.speed, value=1, inline=True, className="d-inline-block small",
                                 options=[{"label": f"{s}×", "value": s} for s in (0.5, 1, 2, 4)])]),
        html.Div(id=ID.step_label, className="small text-muted"),
        html.Pre(id=ID.caption, className="xor-caption"),
        dcc.Interval(id=ID.interval, interval=1000, disabled=True),
    ]), className="mb-3")


def _training_card() -> dbc.Card:
    radio = dict(inline=True, className="mb-2")
    return dbc.Card(dbc.CardBody([
        html.H5("Train your own network"),
        dbc.Row([
            dbc.Col([
                html.Label("Hidden neurons", className="small d-block"),
                dbc.RadioItems(id=ID.hidden, options=[{"label": str(h), "value": h} for h in HIDDEN_SIZES],
                               value=2, **radio),
                html.Label("Hidden activation", className="small d-block"),
                dbc.RadioItems(id=ID.activation, value="tanh", **radio,
                               options=[{"label": {"relu": "ReLU"}.get(a, a), "value": a} for a in HIDDEN_ACTIVATIONS]),
                dbc.Row([
                    dbc.Col([html.Label("Learning rate", className="small"),
                             dbc.Input(id=ID.lr, type="number", value=0.5, min=0.001, max=10, step=0.001, size="sm")]),
                    dbc.Col([html.Label("Epochs", className="small"),
                             dbc.Input(id=ID.epochs, type="number", value=2000, min=1, max=20000, step=1, size="sm")]),
                    dbc.Col([html.Label("Seed", className="small"),
                             dbc.Input(id=ID.seed, type="number", value=0, min=0, step=1, size="sm")]),
                ], className="mb-2"),
                html.Label("Target truth table", className="small d-block"),
                dbc.RadioItems(id=ID.table_name, value="XOR", **radio,
                               options=[{"label": n, "value": n} for n in TRUTH_TABLES] + [{"label": "custom", "value": "custom"}]),
                html.Div([html.Span("Custom: rows whose target is 1 ", className="small text-muted"),
                          dbc.Checklist(id=ID.custom, options=[{"label": f"({r})", "value": r} for r in ROW_LABELS],
                                        value=["0, 1", "1, 0"], inline=True)]),
                html.P(id=ID.hint, className="small fst-italic mt-2"),
                html.Div([
                    dbc.Button("Train", id=ID.train, color="success", className="me-1"),
                    dbc.Button("Cancel", id=ID.cancel, color="danger", outline=True, disabled=True, className="me-1"),
                    dbc.Button("Replay", id=ID.replay, color="secondary", outline=True, className="me-1",
                               title="retrain from the same initial weights (same seed and hidden size)"),
                    dbc.Button("Show the pretrained model", id=ID.pretrained, color="link", size="sm"),
                ]),
                html.Div(id=ID.train_message, className="small mt-2"),
            ], md=5),
            dbc.Col([
                dbc.Progress(id=ID.progress, value=0, label="", className="mb-2", style={"height": "1.2rem"}),
                html.Div(id=ID.loss_summary, className="small"),
                dcc.Graph(id=ID.loss_graph, config={"displayModeBar": False}, style={"height": "260px"}),
                html.Label("Snapshot timeline (epoch)", className="small"),
                dcc.Slider(id=ID.snapshot, min=0, max=0, step=1, value=0, marks={0: "pretrained"}, disabled=True),
                html.Div([
                    dbc.Button("Export JSON", id=ID.export_json, size="sm", color="secondary", outline=True, className="me-1"),
                    dbc.Button("Export PyTorch", id=ID.export_torch, size="sm", color="secondary", outline=True),
                    dcc.Download(id=ID.download_json), dcc.Download(id=ID.download_torch),
                ], className="mt-2"),
            ], md=7),
        ]),
    ]), className="mb-3")


def layout(**query):
    """The /xor page; the query string (x1, x2, neuron, step) opens a shared view."""
    error = None
    try:
        view = XorView.from_query({k: v for k, v in query.items() if k in ("x1", "x2", "neuron", "step")})
    except InputError as exc:
        view, error = XorView(), f"This link could not be read ({exc}); showing the default view."
    anim_ids = {"play": ID.play, "pause": ID.pause, "forward": ID.forward, "back": ID.back,
                "reset": ID.reset, "interval": ID.interval}
    return html.Div([
        dcc.Location(id=ID.url, refresh=False),
        dcc.Store(id=ID.selection, data=format_neuron(view.neuron)),
        dcc.Store(id=ID.step, data=view.step),
        dcc.Store(id=ID.anim),
        dcc.Store(id=ID.figure_key),
        dcc.Store(id=ID.anim_ids, data=anim_ids),
        dcc.Store(id=ID.model, storage_type="memory"),
        dcc.Store(id=ID.train_request, storage_type="memory"),
        dcc.Store(id=ID.live),
        html.H2("XOR: watch a tiny network think", id=ID.title),
        html.P("Two inputs, a hidden layer and one output. Pick an input, play the forward pass, click a neuron, "
               "then train your own network below.", className="text-muted"),
        dbc.Alert(error, color="warning", id=ID.url_error, is_open=error is not None),
        dbc.Row([
            dbc.Col([_input_card(view), _animation_card()], lg=3),
            dbc.Col([
                html.Div(id=ID.source, className="small text-muted"),
                dcc.Graph(id=ID.graph, style={"height": "520px"}, config={"displayModeBar": False}),
                build_encoding_legend("xor"),
            ], lg=6),
            dbc.Col([
                html.H5("Neuron inspector"),
                html.Div(id=ID.inspector),
                html.H6("All neurons (click a row to inspect it)"),
                build_neuron_table(ID.table, [], page_size=12),
            ], lg=3),
        ]),
        html.H4("What each neuron responds to", className="mt-3"),
        html.P("Each square is the input space: x1 across, x2 up. The colour is the neuron's activation there; "
               "circles are target 0, crosses target 1, the star is the current input.", className="small text-muted"),
        dbc.Row(id=ID.surfaces),
        dbc.Row([
            dbc.Col([html.H5("Weights per layer"), html.Div(id=ID.histograms)], md=6),
            dbc.Col([html.H5("The layers in words"), html.Div(id=ID.notes)], md=6),
        ], className="mt-3"),
        _training_card(),
    ])


# --- callbacks --------------------------------------------------------------------------------------------


@callback(Output(ID.x1, "value"), Output(ID.x2, "value"), *[Input(b, "n_clicks") for b in ID.rows],
          prevent_initial_call=True)
def pick_truth_row(*_clicks):
    """A truth-table button sets both sliders to its row."""
    row = ID.rows.index(ctx.triggered_id)
    return float(INPUTS[row][0]), float(INPUTS[row][1])


@callback(Output(ID.selection, "data"), Input(ID.graph, "clickData"), Input(ID.table, "active_cell"),
          State(ID.selection, "data"), prevent_initial_call=True)
def select_neuron(click_data, active_cell, current):
    """A click on a neuron in 3D or on a table cell selects that neuron."""
    return compute_selection(ctx.triggered_id, click_data, active_cell, current)


@callback(
    Output(ID.graph, "figure"),
    Output(ID.prediction, "children"),
    Output(ID.target, "children"),
    Output(ID.inspector, "children"),
    Output(ID.table, "data"),
    Output(ID.table, "style_data_conditional"),
    Output(ID.notes, "children"),
    Output(ID.anim, "data"),
    Output(ID.source, "children"),
    Output(ID.figure_key, "data"),
    Input(ID.x1, "value"),
    Input(ID.x2, "value"),
    Input(ID.selection, "data"),
    Input(ID.model, "data"),
    Input(ID.snapshot, "value"),
    State(ID.figure_key, "data"),
)
def render_view(x1, x2, selection, model_store, snapshot, shown_key):
    """Everything that follows the input, the selection and the shown weights (but not the surfaces or histograms)."""
    service = get_service()
    state = compute_network_state(model_store, snapshot, service)
    x1, x2 = float(x1 if x1 is not None else 0.0), float(x2 if x2 is not None else 0.0)
    trace = compute_trace(state, x1, x2, service)
    view = validate_view_against(XorView(x1, x2, parse_neuron(selection)), state.layer_sizes)
    net_layout = compute_layout(state.layer_sizes)
    figure_key = "-".join(str(n) for n in state.layer_sizes) + f"-{state.activation}"
    if figure_key != shown_key:  # a new architecture (or the first render) needs the whole figure
        figure = build_network_figure(net_layout, trace, view.neuron)
        notes = build_layer_notes(list(state.layer_sizes), [state.activation, "sigmoid"], id_prefix="xor")
    else:
        figure = build_network_patch(net_layout, trace, view.neuron)
        notes = no_update
    table = build_neuron_table(ID.table, [], selected=view.neuron)
    return (
        figure,
        compute_prediction_words(trace),
        compute_target_words(x1, x2, state.targets),
        build_inspector(trace, view.neuron),
        compute_table_rows(trace),
        table.style_data_conditional,
        notes,
        compute_animation_steps(net_layout, trace),
        state.label,
        figure_key,
    )


@callback(Output(ID.histograms, "children"), Input(ID.selection, "data"), Input(ID.model, "data"),
          Input(ID.snapshot, "value"))
def render_histograms(selection, model_store, snapshot):
    """The weight histograms: they follow the shown weights and the selection, so an input change skips them."""
    service = get_service()
    state = compute_network_state(model_store, snapshot, service)
    # Weights and layer names do not depend on the input: any input's trace carries them.
    trace = compute_trace(state, 0.0, 0.0, service)
    return build_histograms(trace, compute_view_neuron(state, selection))


@callback(Output(ID.surfaces, "children"), Input(ID.model, "data"), Input(ID.snapshot, "value"),
          State(ID.x1, "value"), State(ID.x2, "value"))
def render_surfaces(model_store, snapshot, x1, x2):
    """The response surfaces of the shown network, rebuilt only when the weights change (the star moves clientside)."""
    state = compute_network_state(model_store, snapshot, get_service())
    return build_surfaces(state, float(x1 or 0.0), float(x2 or 0.0))


# An input change moves only the "current input" star of each surface: a Patch of its x and y, built in the
# browser (the heatmaps depend on the weights alone). Re-run after a rebuild too, so a surface built while the
# slider moved ends at the slider's latest value.
MOVE_SURFACE_STARS_JS = """
function (x1, x2, _surfaces, ids) {
    const x = Number(x1 || 0), y = Number(x2 || 0);
    return (ids || []).map(() => new window.dash_clientside.Patch()
        .assign(["data", %d, "x"], [x]).assign(["data", %d, "y"], [y]).build());
}
""" % (CURRENT_INPUT_TRACE, CURRENT_INPUT_TRACE)

clientside_callback(
    MOVE_SURFACE_STARS_JS,
    Output(ALL_SURFACES, "figure"),
    Input(ID.x1, "value"),
    Input(ID.x2, "value"),
    Input(ID.surfaces, "children"),
    State(ALL_SURFACES, "id"),
    prevent_initial_call=True,
)

# The address bar follows the view in the browser (no request per slider move or animation step). It writes
# exactly what XorView.to_query() writes: x1 and x2 rounded to 4 decimals without trailing zeros, then the
# neuron and the step when set. (toFixed and Python's round differ only on exact binary ties such as 0.03125,
# which the 0.01-step sliders never produce.)
SYNC_URL_JS = """
function (x1, x2, selection, step) {
    const short = (v) => String(Number(Number(v || 0).toFixed(4)));
    let query = "?x1=" + short(x1) + "&x2=" + short(x2);
    const neuron = /^(\\d+)-(\\d+)$/.exec(selection == null ? "" : String(selection));
    if (neuron) {
        query += "&neuron=" + Number(neuron[1]) + "-" + Number(neuron[2]);
    }
    if (step !== null && step !== undefined) {
        query += "&step=" + Math.trunc(Number(step));
    }
    return query;
}
"""

clientside_callback(
    SYNC_URL_JS,
    Output(ID.url, "search"),
    Input(ID.x1, "value"),
    Input(ID.x2, "value"),
    Input(ID.selection, "data"),
    Input(ID.step, "data"),
    prevent_initial_call=True,
)


@callback(Output(ID.hint, "children"), Input(ID.table_name, "value"), Input(ID.custom, "value"))
def show_hint(table_name, custom_rows):
    """Whether the chosen truth table needs the hidden layer, in one sentence."""
    try:
        config = compute_training_config(2, "tanh", 0.5, 1, 0, table_name, custom_rows)
    except InputError as exc:
        return str(exc)
    return compute_hidden_layer_hint(config.targets)


@callback(Output(ID.train_request, "data"), Output(ID.train_message, "children", allow_duplicate=True),
          Input(ID.train, "n_clicks"), Input(ID.replay, "n_clicks"), prevent_initial_call=True)
def request_training(train_clicks, replay_clicks):
    """Start a training job only when the job queue can take it; otherwise say why in the page."""
    outage = get_jobs_outage()
    if outage:
        return no_update, dbc.Alert(outage, color="warning", className="py-1 mb-0", id=ID.train_outage)
    # The click count makes every request a new value, so the background job starts each time.
    return {"replay": ctx.triggered_id == ID.replay, "clicks": (train_clicks or 0) + (replay_clicks or 0)}, ""


@callback(
    Output(ID.model, "data"),
    Output(ID.train_message, "children"),
    Input(ID.train_request, "data"),
    State(ID.hidden, "value"),
    State(ID.activation, "value"),
    State(ID.lr, "value"),
    State(ID.epochs, "value"),
    State(ID.seed, "value"),
    State(ID.table_name, "value"),
    State(ID.custom, "value"),
    State(ID.model, "data"),
    background=True,
    running=[(Output(ID.train, "disabled"), True, False), (Output(ID.replay, "disabled"), True, False),
             (Output(ID.cancel, "disabled"), False, True)],
    progress=[Output(ID.live, "data")],
    cancel=[Input(ID.cancel, "n_clicks")],
    interval=300,
    prevent_initial_call=True,
)
def train_in_background(set_progress, request, hidden, activation, lr, epochs, seed, table_name,
                        custom_rows, model_store):
    """Train in a background job, reporting the loss curve as it goes; the result goes to this browser's Store."""
    try:
        config = compute_training_config(hidden, activation, lr, epochs, seed, table_name, custom_rows)
        if request and request.get("replay"):
            config = compute_replay_config(config, model_store)
        report_every = max(1, config.epochs // TRAINING_REPORTS)
        result = None
        for result in iterate_training(config, report_every):
            epochs_axis, values = compute_loss_points(result.losses)
            set_progress({"epoch": result.epochs_done, "epochs": config.epochs, "x": epochs_axis, "y": values})
            time.sleep(TRAINING_PACE_SECONDS)
    except InputError as exc:
        return no_update, dbc.Alert(str(exc), color="danger", className="py-1 mb-0")
    store = result_to_store(result)
    return store, build_training_message(store)


@callback(Output(ID.model, "data", allow_duplicate=True), Output(ID.train_message, "children", allow_duplicate=True),
          Input(ID.pretrained, "n_clicks"), prevent_initial_call=True)
def show_pretrained(_clicks):
    """Forget this browser's run and show the committed model again."""
    return None, ""


@callback(Output(ID.snapshot, "max"), Output(ID.snapshot, "value"), Output(ID.snapshot, "marks"),
          Output(ID.snapshot, "disabled"), Input(ID.model, "data"), prevent_initial_call=True)
def update_timeline(model_store):
    """The timeline spans the stored run's snapshots and starts at its end."""
    return compute_snapshot_slider(model_store)


@callback(Output(ID.loss_graph, "figure"), Output(ID.progress, "value"), Output(ID.progress, "label"),
          Output(ID.loss_summary, "children"), Input(ID.live, "data"), Input(ID.model, "data"))
def render_training(live, model_store):
    """The loss curve and progress: live while a run goes, else the stored run's."""
    if live:
        done, total = int(live["epoch"]), int(live["epochs"])
        y = live["y"]
        first, last = (y[0], y[-1]) if y else (None, None)
        percent = round(100 * done / total)
        return (build_loss_figure(live["x"], y, total), percent, f"{percent}%",
                build_loss_summary(first, last, done, total))
    if model_store and model_store.get("losses"):
        losses = model_store["losses"]
        x, y = compute_loss_points(losses)
        return (build_loss_figure(x, y, len(losses)), 100, "done",
                build_loss_summary(losses[0], losses[-1], len(losses), len(losses)))
    return build_loss_figure([], []), 0, "", build_loss_summary(None, None, 0, 0)


@callback(Output(ID.download_json, "data"), Input(ID.export_json, "n_clicks"), State(ID.model, "data"),
          State(ID.snapshot, "value"), prevent_initial_call=True)
def download_json(_clicks, model_store, snapshot):
    """Download the shown network's weights as JSON."""
    state = compute_network_state(model_store, snapshot, get_service())
    return compute_export(state, "json", config_from_store(model_store) if model_store else None)


@callback(Output(ID.download_torch, "data"), Input(ID.export_torch, "n_clicks"), State(ID.model, "data"),
          State(ID.snapshot, "value"), prevent_initial_call=True)
def download_torch(_clicks, model_store, snapshot):
    """Download a PyTorch script that rebuilds the shown network."""
    state = compute_network_state(model_store, snapshot, get_service())
    return compute_export(state, "torch", None)


# Animation: runs entirely in the browser (assets/animation.js) from the steps in ID.anim.
clientside_callback(
    ClientsideFunction("singularity", "controlAnimation"),
    Output(ID.step, "data"),
    Output(ID.interval, "disabled"),
    Input(ID.play, "n_clicks"),
    Input(ID.pause, "n_clicks"),
    Input(ID.forward, "n_clicks"),
    Input(ID.back, "n_clicks"),
    Input(ID.reset, "n_clicks"),
    Input(ID.interval, "n_intervals"),
    State(ID.step, "data"),
    State(ID.anim, "data"),
    State(ID.anim_ids, "data"),
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("singularity", "intervalForSpeed"),
    Output(ID.interval, "interval"),
    Input(ID.speed, "value"),
)
clientside_callback(
    ClientsideFunction("singularity", "renderAnimationStep"),
    Output(ID.graph, "figure", allow_duplicate=True),
    Input(ID.step, "data"),
    Input(ID.anim, "data"),
    State(ID.graph, "figure"),
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("singularity", "captionForStep"),
    Output(ID.caption, "children"),
    Output(ID.step_label, "children"),
    Input(ID.step, "data"),
    Input(ID.anim, "data"),
)
