"""/mnist callbacks called directly: every number shown equals an independent numpy recomputation."""

from __future__ import annotations

import base64
import sys

import dash
import numpy as np
import pytest
from dash import no_update
from PIL import Image

from singularity_dash import mnist_view as mv
from singularity_dash.app import create_app
from singularity_dash.config import Config
from singularity_dash.figures.network3d import build_network_figure, compute_layout, compute_trace_index
from singularity_dash.memo import LruMemo
from singularity_dash.notes import format_number
from tests.figure_json import decode_figure
from tests.image_bytes import encode_image, to_data_url


def find(component, element_id):
    """The component with this id anywhere in a component tree (or list of trees), else None."""
    stack = list(component) if isinstance(component, (list, tuple)) else [component]
    while stack:
        node = stack.pop()
        if getattr(node, "id", None) == element_id:
            return node
        children = getattr(node, "children", None)
        if isinstance(children, (list, tuple)):
            stack.extend(children)
        elif children is not None and hasattr(children, "to_plotly_json"):
            stack.append(children)
    return None


def numpy_forward(service, x, checkpoint="final"):
    """(z per layer, a per layer) by plain numpy over the service's weights."""
    model = service.loaded("mnist", checkpoint)
    a, zs, activations = x.astype(np.float64), [], []
    for k, (w, b) in enumerate(zip(model.weights, model.biases)):
        z = w.astype(np.float64) @ a + b
        a = np.maximum(z, 0) if k < 2 else np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        zs.append(z)
        activations.append(a)
    return zs, activations


def png_data_url(image: np.ndarray, fmt: str = "PNG") -> str:
    """A test digit enlarged to 112x112 as an upload data URL."""
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return to_data_url(encode_image(Image.fromarray(image).resize((112, 112)), fmt), mime)


def patch_values(patch) -> dict[tuple, object]:
    """What each Assign operation of a Patch writes, by location."""
    return {tuple(op["location"]): op["params"]["value"] for op in patch.to_plotly_json()["operations"]
            if op["operation"] == "Assign"}


def patch_locations(patch) -> list[tuple]:
    """Where each operation of a Patch writes, e.g. ("data", 0, "marker", "color")."""
    return [tuple(op["location"]) for op in patch.to_plotly_json()["operations"]]


def test_prediction_panel_matches_numpy(page, service, digits):
    module, _ = page
    index = 8
    out = module.compute_view_outputs(service, digits, mv.build_gallery_input(index), None, 5, 1, None)
    summary, caption = out["prediction"], out["checkpoint_label"]
    _, activations = numpy_forward(service, digits.pixels(index))
    p = activations[-1]
    label = int(digits.labels[index])
    assert find(summary, module.PREDICTED_DIGIT).children == str(int(np.argmax(p)))
    assert find(summary, module.CONFIDENCE).children == f"{format_number(100 * p.max())}% sure"
    right = "right" if int(np.argmax(p)) == label else "wrong"
    assert find(summary, module.VERDICT).children == f"True label {label}: {right}"
    bars = patch_values(out["probabilities"])
    np.testing.assert_allclose(bars[("data", 0, "y")], p, rtol=1e-5, atol=1e-7)
    image = patch_values(out["input_image"])
    np.testing.assert_allclose(np.asarray(image[("data", 0, "z")]).ravel(), digits.images[index].ravel() / 255.0,
                               atol=1e-6)
    assert "final" in caption and "98.56%" in caption


def test_side_figure_patches_equal_the_figure_builders(page, service, digits):
    """The Patches sent per input carry exactly the values the full figure builders would draw."""
    module, _ = page
    from singularity_dash.figures.charts import build_probability_bars
    from singularity_dash.figures.weights import build_contribution_image, build_digit_image

    for index in (0, 8, 247):  # 247: a digit the final network gets wrong
        trace, resolved = module.compute_trace(service, digits, mv.build_gallery_input(index), None)
        full = build_probability_bars(trace.probabilities, trace.prediction, resolved.true_label)
        sent = patch_values(module.compute_view_outputs(service, digits, mv.build_gallery_input(index), None, 5, 1,
                                                        module.INPUT)["probabilities"])
        bar = full.data[0]
        assert sent[("data", 0, "text")] == list(bar.text)
        assert sent[("data", 0, "marker", "color")] == list(bar.marker.color)
        np.testing.assert_array_equal(sent[("data", 0, "marker", "line", "width")], bar.marker.line.width)
        assert sent[("layout", "title", "text")] == full.layout.title.text
        image = patch_values(mv.build_heatmap_values_patch(trace.input, symmetric=False))
        np.testing.assert_allclose(image[("data", 0, "z")], build_digit_image(trace.input).data[0].z)
        w = service.loaded("mnist").weights[0][37]
        contribution = build_contribution_image(w, trace.input)
        values = patch_values(mv.build_heatmap_values_patch(w * trace.input, symmetric=True))
        np.testing.assert_allclose(values[("data", 0, "z")], contribution.data[0].z, rtol=1e-6, atol=1e-9)
        assert values[("data", 0, "zmin")] == pytest.approx(contribution.data[0].zmin)
        assert values[("data", 0, "zmax")] == pytest.approx(contribution.data[0].zmax)


def test_timeline_position_changes_the_weights(page, service, digits):
    module, _ = page
    out = module.compute_view_outputs(service, digits, mv.build_gallery_input(0), None, 0, 1, module.CHECKPOINT)
    _, activations = numpy_forward(service, digits.pixels(0), "c0")
    np.testing.assert_allclose(patch_values(out["probabilities"])[("data", 0, "y")], activations[-1],
                               rtol=1e-5, atol=1e-7)
    assert out["checkpoint_label"].startswith("Weights random init")
    assert out["input_image"] is no_update  # the same input at other weights
    rows = out["table_rows"]
    zs, _ = numpy_forward(service, digits.pixels(0), "c0")
    np.testing.assert_allclose([r["z"] for r in rows], zs[0], rtol=1e-3, atol=1e-6)


def test_network_patch_carries_no_neuron_positions(page, service, digits):
    module, _ = page
    patch = module.compute_view_outputs(service, digits, mv.build_gallery_input(4), [2, 5], 5, 1, module.INPUT)["graph"]
    locations = patch_locations(patch)
    for layer in range(4):  # neuron traces 0-3: colours and sizes only
        assert not [loc for loc in locations if loc[:2] == ("data", layer) and loc[2] in ("x", "y", "z")]
    colors = next(op["params"]["value"] for op in patch.to_plotly_json()["operations"]
                  if tuple(op["location"]) == ("data", 2, "marker", "color"))
    _, activations = numpy_forward(service, digits.pixels(4))
    np.testing.assert_allclose(colors, activations[1], atol=1e-4)  # sent rounded to 4 decimals


def test_input_and_checkpoint_patches_leave_the_fixed_parts_of_the_selection_alone(page, service, digits):
    module, _ = page
    index = compute_trace_index(compute_layout(mv.LAYER_SIZES))
    selection = [1, 5]
    new_input = module.compute_view_outputs(service, digits, mv.build_gallery_input(4), selection, 5, 1,
                                            module.INPUT)["graph"]
    touched = {loc[1] for loc in patch_locations(new_input)}
    assert index.selected_edges not in touched and index.selected_neuron not in touched  # same neuron, same weights

    at_init = module.compute_view_outputs(service, digits, mv.build_gallery_input(4), selection, 0, 1,
                                          module.CHECKPOINT)["graph"]
    sent = {tuple(op["location"]): op["params"]["value"] for op in at_init.to_plotly_json()["operations"]}
    assert [loc for loc in sent if loc[1] == index.selected_edges] == [("data", index.selected_edges, "line", "color")]
    assert not [loc for loc in sent if loc[1] == index.selected_neuron]  # the ring stays where it is
    # The colours are those a full figure at the random init would draw for that neuron's 784 edges.
    trace, _ = module.compute_trace(service, digits, mv.build_gallery_input(4), "c0")
    full = build_network_figure(compute_layout(trace.layer_sizes), trace, (1, 5))
    assert list(sent[("data", index.selected_edges, "line", "color")]) == list(full.data[index.selected_edges].line.color)
    assert len(full.data[index.selected_edges].line.color) == 784 * 3


def test_a_new_selection_patches_only_the_selection_traces(page, service, digits):
    module, _ = page
    out = module.compute_view_outputs(service, digits, mv.build_gallery_input(4), [3, 1], 5, 1, module.SELECTION)
    patch = out["graph"]
    assert out["prediction"] is no_update and out["probabilities"] is no_update  # the input did not change
    assert out["table_layer"] == 3 and len(out["table_rows"]) == 10  # the table follows the neuron's layer
    assert out["query"] == "?digit=4&neuron=3-1"  # position 5 is the final weights
    touched = {loc[1] for loc in patch_locations(patch)}
    assert touched == {13, 14}  # selected edges, selected ring (see network3d's trace order)
    ring = {loc[2]: op["params"]["value"] for loc, op in
            zip(patch_locations(patch), patch.to_plotly_json()["operations"]) if loc[1] == 14}
    assert len(ring["x"]) == 1


def test_inspector_first_layer_numbers_equal_numpy(page, service, digits):
    module, _ = page
    index, neuron = 21, 37
    x = digits.pixels(index)
    out = module.compute_view_outputs(service, digits, mv.build_gallery_input(index), [1, neuron], 5, 1, module.SELECTION)
    children, histogram = out["inspector"], decode_figure(out["histogram"])
    zs, activations = numpy_forward(service, x)
    model = service.loaded("mnist")
    w, b = model.weights[0][neuron].astype(np.float64), float(model.biases[0][neuron])
    assert find(children, "mnist-inspector-bias").children == format_number(b)
    assert find(children, "mnist-inspector-z").children == format_number(zs[0][neuron])
    assert find(children, "mnist-inspector-a").children == format_number(activations[0][neuron])
    assert find(children, "mnist-inspector-z-formula").children.endswith(f"= {format_number(zs[0][neuron])}")
    weight_map = decode_figure(find(children, module.WEIGHT_IMAGE).figure)
    np.testing.assert_allclose(weight_map["data"][0]["z"], w.reshape(28, 28), rtol=1e-6)
    contribution = find(children, module.CONTRIBUTION_IMAGE).figure
    np.testing.assert_allclose(np.asarray(contribution.data[0].z), (w * x).reshape(28, 28), rtol=1e-5, atol=1e-7)
    # The histogram covers the whole layer and marks the neuron's 784 weights.
    assert "selected" in histogram["data"][1]["name"] and "(784)" in histogram["data"][1]["name"]


def test_weight_only_figures_are_built_once_per_checkpoint_and_neuron(page, service, digits):
    module, _ = page
    memo = LruMemo(16)
    args = (service, digits, mv.build_gallery_input(3), [1, 7], 5, 1, module.SELECTION)
    first = module.compute_view_outputs(*args, memo=memo)
    again = module.compute_view_outputs(*args[:2], mv.build_gallery_input(4), *args[3:], memo=memo)
    assert again["histogram"] is first["histogram"]  # another input, the same weights: not rebuilt
    assert find(again["inspector"], module.WEIGHT_IMAGE).figure is find(first["inspector"], module.WEIGHT_IMAGE).figure
    assert (memo.misses, memo.hits) == (2, 2)
    at_init = module.compute_view_outputs(*args[:4], 0, 1, module.CHECKPOINT, memo=memo)
    w_init = service.loaded("mnist", "c0").weights[0][7].astype(np.float64)
    np.testing.assert_allclose(decode_figure(find(at_init["inspector"], module.WEIGHT_IMAGE).figure)["data"][0]["z"],
                               w_init.reshape(28, 28), rtol=1e-6)  # the random init's weights, not the final ones
    assert memo.misses == 4


def test_inspector_later_layer_and_output_explain_themselves(page, service, digits):
    module, _ = page
    x = digits.pixels(0)
    zs, activations = numpy_forward(service, x)
    children = module.compute_view_outputs(service, digits, mv.build_gallery_input(0), [2, 9], 5, 2, None)["inspector"]
    bar = find(children, module.SORTED_WEIGHTS).figure
    w = service.loaded("mnist").weights[1][9].astype(np.float64)
    np.testing.assert_allclose(bar.data[0].y, np.sort(w)[::-1], rtol=1e-6)
    assert find(children, module.WEIGHT_IMAGE) is None

    winner = int(np.argmax(activations[-1]))
    loser = (winner + 1) % 10
    children = module.build_inspector_view(module.compute_trace(service, digits, mv.build_gallery_input(0), None)[0],
                                           [3, winner])
    sentence = find(children, "mnist-inspector-sentence").children
    assert "largest z" in sentence and f"answers '{winner}'" in sentence
    children = module.build_inspector_view(module.compute_trace(service, digits, mv.build_gallery_input(0), None)[0],
                                           [3, loser])
    sentence = find(children, "mnist-inspector-sentence").children
    assert "does not pick it" in sentence and format_number(zs[-1][loser]) in sentence


def test_no_selection_shows_a_hint(page, service, digits):
    module, _ = page
    out = module.compute_view_outputs(service, digits, mv.build_gallery_input(0), None, 5, 1, None)
    assert find(out["inspector"], module.INSPECTOR_HINT) is not None
    assert len(out["histogram"]["data"]) == 1
    # A new input with nothing selected leaves the inspector and the histogram alone.
    out = module.compute_view_outputs(service, digits, mv.build_gallery_input(1), None, 5, 1, module.INPUT)
    assert out["inspector"] is no_update and out["histogram"] is no_update


def test_a_new_input_patches_the_inspector_card_and_contributions(page, service, digits):
    module, _ = page
    index, neuron = 33, 12
    x = digits.pixels(index)
    out = module.compute_view_outputs(service, digits, mv.build_gallery_input(index), [1, neuron], 5, 1, module.INPUT)
    assert out["histogram"] is no_update  # the weights did not change
    values = patch_values(out["inspector"])
    zs, activations = numpy_forward(service, x)
    card = values[(0,)]
    assert find(card, "mnist-inspector-z").children == format_number(zs[0][neuron])
    assert find(card, "mnist-inspector-a").children == format_number(activations[0][neuron])
    w = service.loaded("mnist").weights[0][neuron].astype(np.float64)
    z_at = (1, "props", "children", 1, "props", "children", "props", "figure", "data", 0, "z")
    np.testing.assert_allclose(values[z_at], (w * x).reshape(28, 28), rtol=1e-5, atol=1e-7)
    # The path of the Patch is where the full inspector keeps its contribution image.
    trace, _ = module.compute_trace(service, digits, mv.build_gallery_input(index), None)
    full = module.build_inspector_view(trace, [1, neuron])
    assert full[1].children[1].children.id == module.CONTRIBUTION_IMAGE


def test_table_rows_equal_numpy_and_follow_the_selection(page, service, digits):
    module, _ = page
    trace, _ = module.compute_trace(service, digits, mv.build_gallery_input(2), None)
    rows, style = module.build_table_update(trace, 2, [2, 11])
    zs, activations = numpy_forward(service, digits.pixels(2))
    assert len(rows) == 64
    np.testing.assert_allclose([r["z"] for r in rows], zs[1], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose([r["a"] for r in rows], activations[1], rtol=1e-3, atol=1e-6)
    assert "{neuron} = 11" in style[0]["if"]["filter_query"]
    assert module.compute_table_layer([3, 1], 1) == 3
    assert module.compute_table_layer(None, 2) == 2


def test_upload_good_and_bad_files(page, service, digits):
    module, _ = page
    choose = module.compute_input_choice
    data, _, message, is_open = choose(service, digits, 5_000_000, module.UPLOAD, None,
                                       png_data_url(digits.images[0]), False, 5)
    assert data["source"] == "upload" and len(data["pixels"]) == 784 and not is_open
    trace, _ = module.compute_trace(service, digits, data, None)
    assert trace.prediction == int(digits.labels[0])

    text = "data:image/png;base64," + base64.b64encode(b"just some text, not an image\n" * 10).decode()
    data, page_out, message, is_open = choose(service, digits, 5_000_000, module.UPLOAD, None, text, False, 5)
    assert data is no_update and is_open and "PNG" in message


def test_random_and_drawing(page, service, digits):
    module, _ = page
    choose = module.compute_input_choice

    data, page_number, _, _ = choose(service, digits, 1, module.RANDOM, None, None, True, 5)
    predictions = mv.compute_batch_predictions(service.loaded("mnist").weights, service.loaded("mnist").biases,
                                               digits.images.reshape(len(digits), -1) / 255.0)
    wrong = np.flatnonzero(predictions != digits.labels)
    assert data["index"] in wrong
    assert page_number == int(np.flatnonzero(wrong == data["index"])[0]) // mv.GALLERY_PAGE_SIZE

    stroke = np.zeros((56, 56), dtype=int)
    stroke[8:48, 26:31] = 255
    data = choose(service, digits, 1, module.DRAWING, {"pixels": stroke.tolist()}, None, False, 5)[0]
    assert data["source"] == "drawing"
    assert module.compute_trace(service, digits, data, None)[0].prediction == 1
    assert choose(service, digits, 1, module.DRAWING, None, None, False, 5)[0] is no_update
    message = choose(service, digits, 1, module.DRAWING, {"pixels": [["a"]]}, None, False, 5)[2]
    assert "0 to 255" in message


def test_gallery_page_shows_labels_and_wrong_predictions(page, service, digits):
    module, _ = page
    items, label = module.build_gallery_page(service, digits, 0, True, None, None)
    assert len(items) == mv.GALLERY_PAGE_SIZE and label.startswith("page 1 of ")
    first = items[0]
    index = first.id["index"]
    caption = first.children[1].children
    assert caption.startswith(f"{int(digits.labels[index])}→")
    assert module.compute_current_digit({"source": "gallery", "index": 50}) == 50
    assert module.compute_current_digit({"source": "drawing", "pixels": []}) is None
    items, _ = module.build_gallery_page(service, digits, 2, False, None, 50)
    assert [i.id["index"] for i in items] == list(range(48, 72))
    assert "mnist-current" in items[2].className
    assert module.compute_next_page(module.GALLERY_NEXT, 2) == 3
    assert module.compute_next_page(module.GALLERY_PREV, 0) == 0
    assert module.compute_next_page(module.MISCLASSIFIED_ONLY, 7) == 0


def test_query_follows_the_state(page, service):
    module, _ = page
    assert module.compute_query(service, mv.build_gallery_input(12), [1, 37], 2) == "?digit=12&neuron=1-37&checkpoint=c2"
    assert module.compute_query(service, {"source": "drawing", "pixels": [0] * 784}, None, 5) == ""


def test_layout_reads_the_url_state(page, digits):
    module, app = page
    with app.server.test_request_context("/mnist?digit=12&neuron=3-4&checkpoint=c3"):
        tree = module.layout(digit="12", neuron="3-4", checkpoint="c3")
    assert find(tree, module.INPUT).data == {"source": "gallery", "index": 12}
    assert find(tree, module.SELECTION).data == [3, 4]
    assert find(tree, module.CHECKPOINT).value == 3
    assert find(tree, module.GALLERY_MISSING).is_open is False
    figure = find(tree, module.GRAPH).figure
    assert sum(len(figure.data[k].x) for k in range(4)) == 986


def test_layout_without_data_explains_how_to_get_it(tmp_path):
    from tests.conftest import PROJECT_ROOT

    app = create_app(Config(models_dir=PROJECT_ROOT / "models", data_dir=None, extra={"jobs_dir": str(tmp_path)}))
    module = sys.modules[next(p for p in dash.page_registry.values() if p["path"] == "/mnist")["module"]]
    with app.server.test_request_context("/mnist?digit=3"):
        tree = module.layout(digit="3")
    missing = find(tree, module.GALLERY_MISSING)
    assert missing.is_open and "SINGULARITY_DATA_DIR" in str(missing.children)
    assert find(tree, module.GALLERY_CONTROLS).hidden is True
    assert find(tree, module.INPUT).data is None
    assert find(tree, module.SOURCE).children.startswith("A blank image")
