"""/mnist: every neuron of a digit classifier in 3D, fed from a gallery, a drawing pad or an upload.

The page's state lives in stores and the URL (input, selected neuron, checkpoint); the 3D figure is
built once per page load and later inputs send a Patch of colours, sizes and edges only. Callbacks
are thin: they fetch the app's shared resources and call the pure `compute_*` / `build_*` below.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from singularity_dash import mnist_view as mv
from singularity_dash.components import (
    build_encoding_legend,
    build_inspector_panel,
    build_layer_notes,
    build_neuron_table,
    compute_inspection,
    compute_neuron_rows,
)
from singularity_dash.errors import InputError
from singularity_dash.figures.charts import OTHER_COLOR, PREDICTION_COLOR, build_probability_bars
from singularity_dash.figures.histograms import build_weight_histogram
from singularity_dash.figures.network3d import (
    build_network_figure,
    build_patch_from_update,
    compute_layout,
    compute_network_update,
    compute_selection_update,
    compute_trace_index,
)
from singularity_dash.figures.weights import (
    build_contribution_image,
    build_digit_image,
    build_sorted_weights_bar,
    build_weight_image,
)
from singularity_dash.memo import LruMemo
from singularity_dash.notes import compute_layer_name, compute_neuron_labels, describe_neuron, format_percent
from singularity_dash.preprocess import decode_upload, preprocess_drawing, preprocess_image
from singularity_dash.runtime import get_config, get_digits, get_figure_memo, get_service
from singularity_dash.service import FINAL

dash.register_page(__name__, path="/mnist", name="MNIST", title="Singularity: MNIST")

MODEL = "mnist"
PREFIX = "mnist"
TOP_WEIGHTS = 10

# --- element ids (each defined once) --------------------------------------------------------------
TITLE = "mnist-title"
INPUT = "mnist-input"
SELECTION = "mnist-selection"
DRAWING = "mnist-drawing"
QUERY = "mnist-query"
URL_SYNC = "mnist-url-sync"
TRACE_INDEX = "mnist-trace-index"
GALLERY = "mnist-gallery"
GALLERY_ITEM = "mnist-gallery-item"  # pattern-matching type: {"type": GALLERY_ITEM, "index": digit}
GALLERY_PAGE = "mnist-gallery-page"
GALLERY_CHECKPOINT = "mnist-gallery-checkpoint"
GALLERY_PAGE_LABEL = "mnist-gallery-page-label"
GALLERY_PREV = "mnist-gallery-prev"
GALLERY_NEXT = "mnist-gallery-next"
GALLERY_CONTROLS = "mnist-gallery-controls"
GALLERY_MISSING = "mnist-gallery-missing"
RANDOM = "mnist-random"
MISCLASSIFIED_ONLY = "mnist-misclassified-only"
PAD = "mnist-pad"
PAD_CLEAR = "mnist-pad-clear"
UPLOAD = "mnist-upload"
UPLOAD_ORIGINAL = "mnist-upload-original"
INPUT_ERROR = "mnist-input-error"
GRAPH = "mnist-graph"
ANIMATE = "mnist-animate"
PREDICTION = "mnist-prediction"
PREDICTED_DIGIT = "mnist-predicted-digit"
CONFIDENCE = "mnist-confidence"
VERDICT = "mnist-verdict"
SOURCE = "mnist-source"
PROBABILITIES = "mnist-probabilities"
INPUT_IMAGE = "mnist-input-image"
CHECKPOINT = "mnist-checkpoint"
CHECKPOINT_LABEL = "mnist-checkpoint-label"
INSPECTOR = "mnist-inspector"
INSPECTOR_HINT = "mnist-inspector-hint"
WEIGHT_IMAGE = "mnist-weight-image"
CONTRIBUTION_IMAGE = "mnist-contribution-image"
SORTED_WEIGHTS = "mnist-sorted-weights"
HISTOGRAM = "mnist-histogram"
TABLE = "mnist-neuron-table"
TABLE_LAYER = "mnist-table-layer"

SOURCE_WORDS = {
    "gallery": "Test digit #{index}",
    "drawing": "Your drawing",
    "upload": "Your upload",
    "blank": "A blank image: pick, draw or upload a digit",
}
NO_DATA_HELP = [
    html.Strong("No MNIST data directory is configured, so there is no gallery. "),
    "To get one, download MNIST (for example ",
    html.Code("python -m singularity_dash.train mnist --data-dir data --download"),
    ") and start the app with ",
    html.Code("SINGULARITY_DATA_DIR=data"),
    " (the folder that holds MNIST/raw). Drawing and uploading work without it.",
]
GRAPH_CONFIG = {"displaylogo": False, "responsive": True}
SMALL_GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


# --- pure helpers: state -> numbers -> components -------------------------------------------------


def load_checkpoints(service) -> list[dict]:
    """The MNIST training checkpoints in order; the last one is the final weights."""
    return service.checkpoints(MODEL)


def compute_checkpoint(checkpoints: list[dict], position) -> str | None:
    """Checkpoint id at a timeline position (None: the final weights)."""
    return mv.compute_checkpoint_id([c["id"] for c in checkpoints], position)


def compute_trace(service, digits, input_data, checkpoint: str | None):
    """(Trace, ResolvedInput) for an input-store value at a checkpoint; InputError for bad input."""
    resolved = mv.resolve_input(input_data, digits)
    return service.forward(MODEL, resolved.x, checkpoint=checkpoint or FINAL), resolved


def compute_selection_tuple(selection, layer_sizes=mv.LAYER_SIZES) -> tuple[int, int] | None:
    """A selection store value as (layer, index), or None if it names no neuron."""
    if not selection:
        return None
    try:
        return mv.parse_neuron(f"{int(selection[0])}-{int(selection[1])}", layer_sizes)
    except (InputError, TypeError, ValueError, IndexError):
        return None


def build_prediction_summary(trace, resolved: mv.ResolvedInput) -> list:
    """The predicted digit, its confidence, and for gallery digits the true label and right/wrong."""
    prediction = int(trace.prediction)
    confidence = float(trace.probabilities[prediction])
    source = SOURCE_WORDS[resolved.source].format(index=resolved.index)
    parts = [
        html.Div(source, id=SOURCE, className="small text-muted"),
        html.Div(
            [html.Span("Prediction ", className="me-2"),
             html.Span(str(prediction), id=PREDICTED_DIGIT, className="mnist-predicted-digit"),
             html.Span(f"{format_percent(confidence)} sure", id=CONFIDENCE, className="ms-3")],
            className="d-flex align-items-baseline",
        ),
    ]
    if resolved.true_label is not None:
        right = resolved.true_label == prediction
        words = f"True label {resolved.true_label}: " + ("right" if right else "wrong")
        parts.append(html.Div(words, id=VERDICT, className="mnist-right" if right else "mnist-wrong"))
    else:
        parts.append(html.Div("No true label for this input.", id=VERDICT, className="text-muted small"))
    return parts


def build_checkpoint_caption(checkpoints: list[dict], checkpoint: str | None) -> str:
    """ "after 200 batches: step 200, 67.03% test accuracy" for the timeline."""
    ids = [c["id"] for c in checkpoints]
    meta = checkpoints[mv.compute_checkpoint_position(ids, checkpoint)]
    text = f"Weights {meta.get('label', meta['id'])}: step {meta.get('step', '?')}"
    if meta.get("test_accuracy") is not None:
        text += f", {format_percent(meta['test_accuracy'])} test accuracy"
    return text


def build_checkpoint_marks(checkpoints: list[dict]) -> dict:
    """Timeline marks: the training step of each checkpoint ("final" for the last)."""
    last = len(checkpoints) - 1
    return {i: ("final" if i == last else f"step {c.get('step', i)}") for i, c in enumerate(checkpoints)}


def build_weight_figure(memo: LruMemo | None, key: tuple, build) -> dict:
    """A figure that depends on the weights only, as plotly JSON: built once per key with a memo.

    The key starts with the weights' sha256, so every checkpoint has its own entries.
    """
    if memo is None:
        return build().to_plotly_json()
    return memo.get_or_build(key, lambda: build().to_plotly_json())


def build_inspector_view(trace, selection, memo: LruMemo | None = None) -> list:
    """The inspector for the selected neuron: numbers card plus weight images or sorted weights."""
    selection = compute_selection_tuple(selection, trace.layer_sizes)
    if selection is None:
        return [html.P("Click a neuron in the 3D view, or a row of the table, to see its weights and numbers.",
                       id=INSPECTOR_HINT, className="text-muted")]
    layer, index = selection
    inspection = compute_inspection(trace, layer, index)
    children = [build_inspector_panel(inspection, describe_neuron(trace, layer, index), PREFIX)]
    if layer == 1:
        children.append(dbc.Row([
            dbc.Col(dcc.Graph(id=WEIGHT_IMAGE, config=SMALL_GRAPH_CONFIG, className="mnist-square-graph",
                              figure=build_weight_figure(
                                  memo, (trace.weights_sha256, "weight image", index),
                                  lambda: build_weight_image(inspection.weights,
                                                             f"What {inspection.label} looks for (weights)"))), md=6),
            dbc.Col(dcc.Graph(id=CONTRIBUTION_IMAGE, config=SMALL_GRAPH_CONFIG, className="mnist-square-graph",
                              figure=build_contribution_image(inspection.weights, trace.input,
                                                              "This input's contributions w·x")), md=6),
        ]))
    elif layer >= 2:
        labels = compute_neuron_labels(trace.layer_sizes, layer - 1)
        children.append(dcc.Graph(
            id=SORTED_WEIGHTS, config=SMALL_GRAPH_CONFIG,
            figure=build_sorted_weights_bar(inspection.weights, inspection.contributions, labels, top=TOP_WEIGHTS,
                                            title=f"Incoming weights of {inspection.label}, sorted"),
        ))
    return children


def build_histogram(trace, selection, memo: LruMemo | None = None) -> dict:
    """Weight histogram of the selected neuron's layer, its incoming (or, for a pixel, outgoing) weights marked."""
    selection = compute_selection_tuple(selection, trace.layer_sizes)
    n_layers = len(trace.layer_sizes)
    if selection is None:
        layer, marked = 1, None
    elif selection[0] == 0:
        layer, marked = 1, trace.layers[0].weight[:, selection[1]]  # a pixel's outgoing weights
    else:
        layer, marked = selection[0], trace.layers[selection[0] - 1].weight[selection[1]]
    name = f"{compute_layer_name(n_layers, layer - 1)} → {compute_layer_name(n_layers, layer)}"
    return build_weight_figure(memo, (trace.weights_sha256, "histogram", selection),
                               lambda: build_weight_histogram(trace.layers[layer - 1].weight, name, marked))


def compute_table_layer(selection, current) -> int:
    """The layer the neuron table shows: the selected neuron's, else the current one (hidden 1 at first)."""
    chosen = compute_selection_tuple(selection)
    if chosen is not None:
        return chosen[0]
    return int(current) if current is not None else 1


def build_table_update(trace, layer, selection) -> tuple[list[dict], list[dict]]:
    """(rows, row highlight) of the neuron table for a layer, the selected neuron highlighted."""
    layer = int(np.clip(int(layer if layer is not None else 1), 0, len(trace.layer_sizes) - 1))
    rows = compute_neuron_rows(trace, layer)
    chosen = compute_selection_tuple(selection, trace.layer_sizes)
    table = build_neuron_table(TABLE, rows, selected=chosen)
    return rows, table.style_data_conditional


def compute_uploaded_input(contents, max_bytes: int) -> dict:
    """Input-store value for an uploaded image file; InputError with a user message if unusable."""
    image = preprocess_image(decode_upload(contents, max_bytes))
    return mv.build_pixels_input("upload", image)


def compute_drawn_input(drawing) -> dict | None:
    """Input-store value for the drawing pad's pixels (None for an empty or cleared pad)."""
    if not drawing or not drawing.get("pixels"):
        return None
    try:
        pixels = np.asarray(drawing["pixels"], dtype=np.uint8)
    except (TypeError, ValueError, OverflowError):
        raise InputError("The drawing pad sent pixels that are not numbers from 0 to 255.") from None
    if pixels.ndim != 2 or not pixels.any():
        return None
    return mv.build_pixels_input("drawing", preprocess_drawing(pixels))


def compute_gallery_predictions(service, digits, checkpoint: str | None) -> np.ndarray | None:
    """Predictions for every gallery digit at a checkpoint (cached per process), or None without data."""
    if digits is None:
        return None
    loaded = service.loaded(MODEL, checkpoint or FINAL)
    key = (id(digits), loaded.sha256)  # the digit set is loaded once per process and shared read-only
    return mv.compute_test_predictions(digits, loaded.weights, loaded.biases, key)


def compute_pool(service, digits, checkpoint: str | None, only_misclassified: bool) -> np.ndarray:
    """The gallery's indices: all test digits, or those the network gets wrong at this checkpoint."""
    if digits is None:
        return np.arange(0)
    misclassified = None
    if only_misclassified:
        misclassified = mv.find_misclassified(digits.labels, compute_gallery_predictions(service, digits, checkpoint))
    return mv.compute_gallery_pool(len(digits), misclassified, bool(only_misclassified))


def build_gallery_items(digits, indices, predictions, current: int | None) -> list:
    """Thumbnail buttons of gallery digits with their labels (and the wrong prediction, if any)."""
    items = []
    for i in (int(v) for v in indices):
        label = int(digits.labels[i])
        caption = str(label)
        wrong = predictions is not None and int(predictions[i]) != label
        if wrong:
            caption = f"{label}→{int(predictions[i])}"
        classes = "mnist-gallery-item" + (" mnist-current" if i == current else "") + (" mnist-wrong" if wrong else "")
        items.append(html.Button(
            [html.Img(src=mv.encode_digit_png(digits.images[i]), alt=f"test digit {i}"),
             html.Span(caption, className="mnist-gallery-caption")],
            id={"type": GALLERY_ITEM, "index": i}, className=classes, n_clicks=0,
            title=f"test digit #{i}, true label {label}" + (f", predicted {int(predictions[i])}" if wrong else ""),
        ))
    if not items:
        items.append(html.P("No digits match this filter.", className="text-muted small"))
    return items


def build_gallery_page(service, digits, page, only_misclassified, checkpoint, current):
    """(thumbnails, "page i of n" label) for one page of the gallery."""
    if digits is None:
        return [], ""
    pool = compute_pool(service, digits, checkpoint, only_misclassified)
    page, indices = mv.compute_gallery_page(pool, page or 0)
    predictions = compute_gallery_predictions(service, digits, checkpoint) if only_misclassified else None
    label = f"page {page + 1} of {mv.compute_page_count(len(pool))} · {len(pool):,} digits"
    return build_gallery_items(digits, indices, predictions, current), label


# --- layout ---------------------------------------------------------------------------------------


def _build_gallery_card(has_data: bool) -> dbc.Card:
    controls = html.Div([
        html.Div([
            dbc.Button("Random digit", id=RANDOM, size="sm", color="primary", className="me-2"),
            dbc.Switch(id=MISCLASSIFIED_ONLY, label="misclassified only", value=False, className="d-inline-block"),
        ], className="d-flex align-items-center flex-wrap mb-2"),
        html.Div(id=GALLERY, className="mnist-gallery"),
        html.Div([
            dbc.Button("‹", id=GALLERY_PREV, size="sm", color="secondary", outline=True, title="previous page"),
            html.Span(id=GALLERY_PAGE_LABEL, className="small text-muted mx-2"),
            dbc.Button("›", id=GALLERY_NEXT, size="sm", color="secondary", outline=True, title="next page"),
        ], className="d-flex align-items-center mt-2"),
    ], id=GALLERY_CONTROLS, hidden=not has_data)
    missing = dbc.Alert(NO_DATA_HELP, id=GALLERY_MISSING, color="info", className="small mb-0", is_open=not has_data)
    return dbc.Card([dbc.CardHeader("Test digits"), dbc.CardBody([missing, controls])], className="mb-3")


def _build_draw_card() -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader("Draw a digit"),
        dbc.CardBody([
            html.Canvas(id=PAD, className="mnist-drawing-pad", width=280, height=280,
                        title="Draw a digit here with the mouse or a finger"),
            html.Div([
                dbc.Button("Clear", id=PAD_CLEAR, size="sm", color="secondary", outline=True),
                html.Span("The prediction follows your pen.", className="small text-muted ms-2"),
            ], className="mt-2"),
        ]),
    ], className="mb-3")


def _build_upload_card(max_bytes: int) -> dbc.Card:
    limit = f"{max_bytes / 1_000_000:.0f} MB" if max_bytes >= 1_000_000 else f"{max_bytes // 1000} kB"
    return dbc.Card([
        dbc.CardHeader("Upload a picture"),
        dbc.CardBody([
            # assets/upload_limit.js reads these attributes to explain a file the browser refused as too big
            html.Div(dcc.Upload(
                html.Div(["Drop an image here or ", html.A("choose a file")]),
                id=UPLOAD, max_size=max_bytes, multiple=False,
                accept="image/png,image/jpeg,image/bmp,image/gif,image/webp,.png,.jpg,.jpeg,.bmp,.gif,.webp",
                className="mnist-upload",
            ), **{"data-max-bytes": str(max_bytes), "data-error-id": INPUT_ERROR}),
            html.Div(f"PNG, JPEG, BMP, GIF or WebP, up to {limit}: one digit, any colours.",
                     className="small text-muted mt-1"),
            html.Div([
                html.Figure([html.Img(id=UPLOAD_ORIGINAL, className="mnist-upload-original", alt="your upload"),
                             html.Figcaption("your file", className="small text-muted")]),
            ], className="mt-2"),
        ]),
    ], className="mb-3")


def layout(digit=None, neuron=None, checkpoint=None, **_other):
    """The /mnist page for the state in the URL query (digit, neuron, checkpoint)."""
    service, digits, config, memo = get_service(), get_digits(), get_config(), get_figure_memo()
    checkpoints = load_checkpoints(service)
    ids = [c["id"] for c in checkpoints]
    view = mv.MnistView.from_query({"digit": digit, "neuron": neuron, "checkpoint": checkpoint},
                                   n_digits=None if digits is None else len(digits), checkpoints=ids)
    start = view.digit if view.digit is not None else (0 if digits is not None else None)
    input_data = mv.build_gallery_input(start) if start is not None else None
    trace, resolved = compute_trace(service, digits, input_data, view.checkpoint)
    selection = list(view.neuron) if view.neuron else None
    net_layout = compute_layout(trace.layer_sizes)
    trace_index = compute_trace_index(net_layout)
    rows, _ = build_table_update(trace, compute_table_layer(selection, None), selection)
    page = 0
    if digits is not None and start is not None:
        page = mv.compute_page_of(np.arange(len(digits)), start) or 0

    stores = [
        dcc.Store(id=INPUT, data=input_data),
        dcc.Store(id=SELECTION, data=selection),
        dcc.Store(id=DRAWING, data=None),
        dcc.Store(id=GALLERY_PAGE, data=page),
        dcc.Store(id=GALLERY_CHECKPOINT, data=None),
        dcc.Store(id=QUERY, data=None),
        dcc.Store(id=URL_SYNC, data=None),
        dcc.Store(id=TRACE_INDEX, data={"sizes": list(trace.layer_sizes), "neurons": list(trace_index.neurons),
                                        "edges": [list(e) for e in trace_index.edges],
                                        "selected": [trace_index.selected_edges, trace_index.selected_neuron]}),
    ]
    header = html.Div([
        html.H2("MNIST: every neuron of a digit classifier", id=TITLE),
        html.P("784 pixels → 128 → 64 → 10 digits, all 986 neurons. Pick, draw or upload a digit; click any "
               "neuron to see what it computes; move the timeline to watch the network learn.",
               className="text-muted"),
    ])
    inputs_col = dbc.Col([
        _build_gallery_card(digits is not None),
        _build_draw_card(),
        _build_upload_card(config.max_upload_bytes),
        dbc.Alert(id=INPUT_ERROR, color="warning", is_open=False, dismissable=True, className="small"),
    ], lg=3)
    timeline = html.Div([
        html.Div("Learning timeline", className="fw-bold small"),
        dcc.Slider(id=CHECKPOINT, allow_direct_input=False, min=0, max=len(checkpoints) - 1, step=1, value=ids.index(view.checkpoint)
                   if view.checkpoint else len(checkpoints) - 1, marks=build_checkpoint_marks(checkpoints)),
        html.Div(build_checkpoint_caption(checkpoints, view.checkpoint), id=CHECKPOINT_LABEL,
                 className="small text-muted"),
    ], className="mb-2")
    network_col = dbc.Col([
        dbc.Card(dbc.CardBody(build_prediction_summary(trace, resolved), id=PREDICTION), className="mb-2"),
        timeline,
        dcc.Graph(id=GRAPH, figure=build_network_figure(net_layout, trace, selection), config=GRAPH_CONFIG,
                  className="mnist-network", clear_on_unhover=True),
        html.Div([
            dbc.Button("Play the forward pass", id=ANIMATE, size="sm", color="secondary", outline=True),
            html.Span("Layer by layer, as the numbers flow from the pixels to the answer.",
                      className="small text-muted ms-2"),
        ], className="my-2"),
        build_encoding_legend(PREFIX),
    ], lg=6)
    side_col = dbc.Col([
        dcc.Graph(id=PROBABILITIES, config=SMALL_GRAPH_CONFIG, className="mnist-probabilities",
                  figure=build_probability_bars(trace.probabilities, trace.prediction, resolved.true_label)),
        dcc.Graph(id=INPUT_IMAGE, config=SMALL_GRAPH_CONFIG, className="mnist-square-graph",
                  figure=build_digit_image(trace.input, "What the network sees (28x28)")),
    ], lg=3)
    detail = dbc.Row([
        dbc.Col([html.H4("Neuron inspector"),
                 html.Div(build_inspector_view(trace, selection, memo), id=INSPECTOR)], lg=6),
        dbc.Col([
            dcc.Graph(id=HISTOGRAM, figure=build_histogram(trace, selection, memo), config=SMALL_GRAPH_CONFIG),
            html.Div([
                html.Span("Neurons of layer ", className="small me-2"),
                dbc.RadioItems(id=TABLE_LAYER, inline=True, value=compute_table_layer(selection, None),
                               options=[{"label": compute_layer_name(4, k), "value": k} for k in range(4)]),
            ], className="d-flex align-items-center flex-wrap"),
            build_neuron_table(TABLE, rows, selected=compute_selection_tuple(selection)),
        ], lg=6),
    ], className="mt-3")
    notes = html.Div([html.H4("The layers", className="mt-3"), build_layer_notes(service.spec(MODEL), id_prefix=PREFIX)])
    return html.Div([*stores, header, dbc.Row([inputs_col, network_col, side_col]), detail, notes],
                    className="mnist-page")


# --- callbacks (thin) -----------------------------------------------------------------------------


@callback(
    Output(INPUT, "data"),
    Output(GALLERY_PAGE, "data", allow_duplicate=True),
    Output(INPUT_ERROR, "children"),
    Output(INPUT_ERROR, "is_open"),
    Input(RANDOM, "n_clicks"),
    Input(DRAWING, "data"),
    Input(UPLOAD, "contents"),
    State(MISCLASSIFIED_ONLY, "value"),
    State(CHECKPOINT, "value"),
    prevent_initial_call=True,
)
def choose_input(_random, drawing, contents, only_misclassified, position):
    """A new input from whichever way in fired: the random button, the pad or an upload (thumbnails: clientside)."""
    service, digits = get_service(), get_digits()
    return compute_input_choice(service, digits, get_config().max_upload_bytes, ctx.triggered_id,
                                drawing, contents, only_misclassified, position)


def compute_input_choice(service, digits, max_bytes, trigger, drawing, contents, only_misclassified, position):
    """(input, gallery page, message, message open) for the control that fired."""
    keep = (no_update, no_update, no_update, no_update)
    checkpoint = compute_checkpoint(load_checkpoints(service), position)
    try:
        if trigger == RANDOM:
            pool = compute_pool(service, digits, checkpoint, only_misclassified)
            index = mv.pick_random_digit(pool)
            if index is None:
                return no_update, no_update, "There are no digits to pick from.", True
            return mv.build_gallery_input(index), mv.compute_page_of(pool, index), "", False
        if trigger == DRAWING:
            drawn = compute_drawn_input(drawing)
            return (drawn, no_update, "", False) if drawn else keep
        if trigger == UPLOAD:
            if not contents:
                return keep
            return compute_uploaded_input(contents, max_bytes), no_update, "", False
    except InputError as exc:
        return no_update, no_update, str(exc), True
    return keep


@callback(
    Output(GALLERY_PAGE, "data"),
    Input(GALLERY_PREV, "n_clicks"),
    Input(GALLERY_NEXT, "n_clicks"),
    Input(MISCLASSIFIED_ONLY, "value"),
    State(GALLERY_PAGE, "data"),
    prevent_initial_call=True,
)
def turn_gallery_page(_prev, _next, _only_misclassified, page):
    """Previous / next page; back to the first page when the filter changes."""
    return compute_next_page(ctx.triggered_id, page)


def compute_next_page(trigger, page) -> int:
    """The gallery page after a navigation control fired (clamped when the gallery renders)."""
    page = int(page or 0)
    if trigger == GALLERY_PREV:
        return max(0, page - 1)
    if trigger == GALLERY_NEXT:
        return page + 1
    return 0


@callback(
    Output(GALLERY, "children"),
    Output(GALLERY_PAGE_LABEL, "children"),
    Input(GALLERY_PAGE, "data"),
    Input(MISCLASSIFIED_ONLY, "value"),
    Input(GALLERY_CHECKPOINT, "data"),
    State(CHECKPOINT, "value"),
    State(INPUT, "data"),
)
def render_gallery(page, only_misclassified, _gated_position, position, input_data):
    """One page of thumbnails (the current digit outlined); re-rendered only when the page's digits change."""
    service, digits = get_service(), get_digits()
    checkpoint = compute_checkpoint(load_checkpoints(service), position)
    return build_gallery_page(service, digits, page, only_misclassified, checkpoint, compute_current_digit(input_data))


# The thumbnails' captions depend on the checkpoint only when the misclassified filter is on, so a
# timeline step reaches the gallery callback only then (no request at all otherwise).
clientside_callback(
    dash.ClientsideFunction(namespace="mnist_controls", function_name="gateGalleryCheckpoint"),
    Output(GALLERY_CHECKPOINT, "data"),
    Input(CHECKPOINT, "value"),
    State(MISCLASSIFIED_ONLY, "value"),
    prevent_initial_call=True,
)

# A thumbnail click only names a digit: answered in the browser (the page callback validates it).
clientside_callback(
    dash.ClientsideFunction(namespace="mnist_controls", function_name="chooseGalleryDigit"),
    Output(INPUT, "data", allow_duplicate=True),
    Output(INPUT_ERROR, "children", allow_duplicate=True),
    Output(INPUT_ERROR, "is_open", allow_duplicate=True),
    Input({"type": GALLERY_ITEM, "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)


def compute_current_digit(input_data) -> int | None:
    """The gallery index of the input shown, or None for a drawing, an upload or no input."""
    if isinstance(input_data, dict) and input_data.get("source") == "gallery":
        return input_data.get("index")
    return None


# The "current" outline moves in the browser: no thumbnail is re-sent, and the ALL-pattern input
# callback is not fired again by a re-rendered gallery.
clientside_callback(
    """
    function (input, classes) {
        const current = (input && input.source === "gallery") ? input.index : null;
        const outputs = window.dash_clientside.callback_context.outputs_list || [];
        return outputs.map(function (output, i) {
            const kept = String(classes[i] || "").split(" ").filter(c => c && c !== "mnist-current");
            if (output.id.index === current) { kept.push("mnist-current"); }
            return kept.join(" ");
        });
    }
    """,
    Output({"type": GALLERY_ITEM, "index": ALL}, "className"),
    Input(INPUT, "data"),
    State({"type": GALLERY_ITEM, "index": ALL}, "className"),
    prevent_initial_call=True,
)


VIEW_OUTPUTS = ("graph", "prediction", "probabilities", "input_image", "checkpoint_label", "inspector",
                "histogram", "table_layer", "table_rows", "table_style", "query")


@callback(
    Output(GRAPH, "figure"),
    Output(PREDICTION, "children"),
    Output(PROBABILITIES, "figure"),
    Output(INPUT_IMAGE, "figure"),
    Output(CHECKPOINT_LABEL, "children"),
    Output(INSPECTOR, "children"),
    Output(HISTOGRAM, "figure"),
    Output(TABLE_LAYER, "value"),
    Output(TABLE, "data"),
    Output(TABLE, "style_data_conditional"),
    Output(QUERY, "data"),
    Input(INPUT, "data"),
    Input(SELECTION, "data"),
    Input(CHECKPOINT, "value"),
    Input(TABLE_LAYER, "value"),
    prevent_initial_call=True,
)
def update_views(input_data, selection, position, table_layer):
    """The 3D view and every side view that follows the input, the neuron and the checkpoint: one forward pass.

    One callback, so one user action is one request (the answer is mostly Patches of numbers).
    """
    # Two inputs changing in one wave (not caused by any one control today) recompute everything.
    trigger = ctx.triggered_id if len(ctx.triggered_prop_ids) == 1 else None
    outputs = compute_view_outputs(get_service(), get_digits(), input_data, selection, position, table_layer,
                                   trigger, get_figure_memo())
    return tuple(outputs[name] for name in VIEW_OUTPUTS)


def compute_view_outputs(service, digits, input_data, selection, position, table_layer, trigger,
                         memo: LruMemo | None = None) -> dict:
    """Every view's new value (a Patch where only numbers change, no_update where nothing does).

    `trigger` is the id that changed: INPUT, SELECTION, CHECKPOINT or TABLE_LAYER (None: all of them).
    `memo` keeps weight-only figures across requests (None: build them every time).
    """
    out = dict.fromkeys(VIEW_OUTPUTS, no_update)
    checkpoints = load_checkpoints(service)
    checkpoint = compute_checkpoint(checkpoints, position)
    try:
        trace, resolved = compute_trace(service, digits, input_data, checkpoint)
    except InputError:
        return out
    new_input, new_weights = trigger in (INPUT, None), trigger in (CHECKPOINT, None)
    new_selection = trigger in (SELECTION, None)
    if trigger == TABLE_LAYER:
        out["table_rows"], out["table_style"] = build_table_update(trace, table_layer, selection)
        return out

    chosen = compute_selection_tuple(selection, trace.layer_sizes)
    out["graph"] = build_graph_update(trace, chosen, trigger)

    if new_input or new_weights:
        out["prediction"] = build_prediction_summary(trace, resolved)
        out["probabilities"] = mv.build_probability_patch(trace.probabilities, trace.prediction, resolved.true_label,
                                                          PREDICTION_COLOR, OTHER_COLOR)
    if new_input:
        out["input_image"] = mv.build_heatmap_values_patch(trace.input, symmetric=False)
    if new_weights:
        out["checkpoint_label"] = build_checkpoint_caption(checkpoints, checkpoint)

    if new_input and not (new_selection or new_weights):
        out["inspector"] = build_inspector_input_update(trace, chosen)  # weights and histogram unchanged
    else:
        out["inspector"] = build_inspector_view(trace, selection, memo)
        out["histogram"] = build_histogram(trace, selection, memo)

    layer = compute_table_layer(selection, table_layer) if new_selection else table_layer
    if layer != table_layer:
        out["table_layer"] = layer
    rows, style = build_table_update(trace, layer, selection)
    if new_input or new_weights or layer != table_layer:
        out["table_rows"] = rows
    if new_selection or layer != table_layer:
        out["table_style"] = style
    out["query"] = compute_query(service, input_data, selection, position)
    return out


def build_graph_update(trace, chosen, trigger=None):
    """The 3D view's Patch for what changed (`trigger` as in compute_view_outputs): never neuron positions.

    The selected neuron's ring and incoming edges depend on the selection and the weights only: a
    new input leaves them out, a new checkpoint sends only the edges' colours (their ends stay put),
    and a new selection sends only those two traces.
    """
    net_layout = compute_layout(trace.layer_sizes)
    if trigger == SELECTION:
        return build_patch_from_update(compute_selection_update(net_layout, trace, chosen))
    index = compute_trace_index(net_layout)
    update = compute_network_update(net_layout, trace, chosen)
    if trigger == INPUT:
        update = {i: props for i, props in update.items() if i not in (index.selected_edges, index.selected_neuron)}
    elif trigger == CHECKPOINT:
        update = {i: props for i, props in update.items() if i != index.selected_neuron}
        update[index.selected_edges] = {"line.color": update[index.selected_edges]["line.color"]}
    return build_patch_from_update(update)


def build_inspector_input_update(trace, chosen):
    """The inspector after a new input with the same neuron and weights (no_update when nothing is selected).

    For a first-layer neuron only the numbers card and the contribution image change, so a Patch
    replaces the card and the image's values; the weight image stays as it is.
    """
    if chosen is None:
        return no_update
    if chosen[0] != 1:
        return build_inspector_view(trace, list(chosen))
    layer, index = chosen
    inspection = compute_inspection(trace, layer, index)
    patch = dash.Patch()
    patch[0] = build_inspector_panel(inspection, describe_neuron(trace, layer, index), PREFIX)
    # children[1] is the Row of images; its second Col holds the contribution Graph (build_inspector_view).
    figure = patch[1]["props"]["children"][1]["props"]["children"]["props"]["figure"]
    mv.build_heatmap_values_patch(inspection.weights * trace.input, symmetric=True, figure=figure)
    return patch


# A neuron click (3D marker or table row) only names a neuron: answered in the browser (the page
# callback still validates the store: a tampered value shows as no selection).
clientside_callback(
    dash.ClientsideFunction(namespace="mnist_controls", function_name="selectNeuron"),
    Output(SELECTION, "data"),
    Output(TABLE, "active_cell"),
    Input(GRAPH, "clickData"),
    Input(TABLE, "active_cell"),
    State(TRACE_INDEX, "data"),
    prevent_initial_call=True,
)


def compute_query(service, input_data, selection, position) -> str:
    """ "?digit=..&neuron=..&checkpoint=.." for the state (drawings and uploads have no digit)."""
    digit = input_data.get("index") if isinstance(input_data, dict) and input_data.get("source") == "gallery" else None
    view = mv.MnistView(digit=digit, neuron=compute_selection_tuple(selection),
                        checkpoint=compute_checkpoint(load_checkpoints(service), position))
    return view.to_query()


# The URL follows the state without a navigation (a navigation would rebuild the page).
clientside_callback(
    """
    function (query) {
        if (query === null || query === undefined) { return window.dash_clientside.no_update; }
        const url = window.location.pathname + query + window.location.hash;
        window.history.replaceState(window.history.state, "", url);
        return query;
    }
    """,
    Output(URL_SYNC, "data"),
    Input(QUERY, "data"),
    prevent_initial_call=True,
)

# The original upload is shown from the browser's own copy: no round trip for a large file.
clientside_callback(
    """
    function (contents) {
        return (typeof contents === "string" && contents.startsWith("data:image/")) ? contents : "";
    }
    """,
    Output(UPLOAD_ORIGINAL, "src"),
    Input(UPLOAD, "contents"),
    prevent_initial_call=True,
)

clientside_callback(
    dash.ClientsideFunction(namespace="mnist", function_name="playForwardPass"),
    Output(ANIMATE, "disabled"),
    Input(ANIMATE, "n_clicks"),
    State(TRACE_INDEX, "data"),
    prevent_initial_call=True,
)
