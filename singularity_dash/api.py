"""A small JSON API on the app's Flask server, for researchers and scripts."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from .errors import InputError
from .preprocess import preprocess_image, validate_vector
from .service import FINAL, ModelService, UnknownModel
from .trace import Trace

log = logging.getLogger(__name__)
api = Blueprint("api", __name__, url_prefix="/api")
CACHE_HEADER = "X-Singularity-Cache"


def get_service() -> ModelService:
    """The model service of the running app."""
    return current_app.extensions["singularity"]["service"]


def error(status: int, message: str):
    """A JSON error body {"error": message} with an HTTP status."""
    return jsonify({"error": message, "status": status}), status


def trace_to_json(trace: Trace) -> dict:
    """The public JSON form of a trace: every layer's z and a, the prediction and the probabilities."""
    return {
        "model": trace.model,
        "checkpoint": trace.checkpoint,
        "prediction": trace.prediction,
        "probabilities": [float(p) for p in trace.probabilities],
        "layers": [
            {"name": layer.name, "activation": layer.activation, "size": layer.size,
             "z": layer.z.astype(float).tolist(), "a": layer.a.astype(float).tolist()}
            for layer in trace.layers
        ],
    }


@api.get("/models")
def list_models():
    """Every loaded model: name, layer sizes, parameter count, metrics, checkpoints."""
    service = get_service()
    return jsonify({"models": [service.describe(name) for name in service.model_names]})


@api.post("/models/<name>/forward")
def forward(name: str):
    """Run a forward pass on JSON {"input": [...]} or, for mnist, a multipart image in field `image`."""
    service = get_service()
    try:
        spec = service.spec(name)
        checkpoint = request.args.get("checkpoint", FINAL)
        service.loaded(name, checkpoint)
    except UnknownModel as exc:
        return error(404, str(exc))
    try:
        x = _read_input(spec.name, spec.layer_sizes[0])
        trace = service.forward(name, x, checkpoint)
    except InputError as exc:
        return error(400, str(exc))
    response = jsonify(trace_to_json(trace))
    response.headers[CACHE_HEADER] = trace.cache_status
    return response


def _read_input(model: str, length: int):
    content_type = request.mimetype or ""
    if content_type == "multipart/form-data":
        if model != "mnist":
            raise InputError(f"image upload is only for the mnist model; send JSON {{\"input\": [...]}} to {model}")
        upload = request.files.get("image")
        if upload is None:
            raise InputError("multipart request has no file in the field 'image'")
        limit = current_app.config["SINGULARITY"].max_upload_bytes
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            raise InputError(f"image is larger than the {limit // 1_000_000} MB limit")
        return preprocess_image(data).reshape(-1)
    if content_type != "application/json":
        raise InputError(
            "send JSON (Content-Type: application/json) with {\"input\": [...]}"
            + (" or a multipart form with an image in the field 'image'" if model == "mnist" else "")
        )
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # silent=True only swallows ValueError; deep nesting exhausts the parser's stack
        raise InputError("request body is nested too deeply to be a model input") from None
    if body is None:
        raise InputError("request body is not valid JSON")
    if not isinstance(body, dict) or "input" not in body:
        raise InputError("JSON body must be an object with the field 'input'")
    return validate_vector(body["input"], length)


@api.get("/models/<name>/forward")
def forward_needs_post(name: str):
    """The page router would answer any GET with HTML; say clearly that forward is POST."""
    response, status = error(405, "use POST with JSON {\"input\": [...]} to run a forward pass")
    response.headers["Allow"] = "POST"
    return response, status


@api.route("/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_endpoint(_rest: str):
    """Unknown /api paths answer JSON 404, not the app's HTML page."""
    return error(404, "no such API endpoint; see GET /api/models and POST /api/models/<name>/forward")


@api.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """Any HTTP error under /api answers JSON, never an HTML page."""
    return error(exc.code or 500, exc.description or exc.name)


@api.errorhandler(Exception)
def unexpected_error(exc: Exception):
    """A bug must not leak a traceback: log it, answer a JSON 500."""
    log.exception("API request failed")
    return error(500, "internal error while answering this request; it has been logged")
