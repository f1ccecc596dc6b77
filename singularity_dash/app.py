"""The app factory: `create_app(config) -> Dash`, and `server` for gunicorn."""

from __future__ import annotations

import importlib
import logging
import sys
import time
from pathlib import Path

import dash
import plotly.io.json
import dash_bootstrap_components as dbc
from dash import Dash, html
from flask import jsonify, request, send_from_directory

from .api import api
from .cache import build_cache
from .config import PROJECT_ROOT, Config
from .jobs import build_background_manager
from .memo import LruMemo
from .runtime import EXTENSION
from .service import ModelService

log = logging.getLogger(__name__)
BOOTSTRAP_URL = "/vendor/bootstrap.min.css"
PAGE_MODULES = ("pages.home", "pages.xor", "pages.mnist")
# Callback answers are compressed on every request, so speed beats the last few percent of size:
# on a ~100 KB answer gzip 3 takes a third of the default level 6's time for ~15% more bytes, and
# brotli 1 (what browsers get) a quarter of the default quality 4's time, still smaller than gzip 6.
GZIP_LEVEL = 3
BROTLI_QUALITY = 1
FIGURE_MEMO_SIZE = 512  # weight-only figures (histograms ~3 KB, weight templates ~9 KB): a few MB at most
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


def _bootstrap_css_dir() -> Path:
    """Bootstrap 5's CSS as shipped in the bootstrap-flask wheel, so no CDN is needed."""
    import flask_bootstrap

    return Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5" / "css"


def build_navbar() -> dbc.Navbar:
    """The navigation bar shown on every page."""
    links = [
        dbc.NavItem(dbc.NavLink("Home", href="/", active="exact")),
        dbc.NavItem(dbc.NavLink("XOR", href="/xor", active="exact", id="nav-xor")),
        dbc.NavItem(dbc.NavLink("MNIST", href="/mnist", active="exact", id="nav-mnist")),
    ]
    return dbc.Navbar(
        dbc.Container([dbc.NavbarBrand("Singularity", href="/"), dbc.Nav(links, navbar=True)], fluid=True),
        color="dark",
        dark=True,
        className="mb-3",
    )


def register_pages() -> None:
    """Import (or, for a further app in this process, re-run) every page module under its package name.

    Re-running a page module registers its callbacks again for the new app: Dash hands the callbacks
    registered with `dash.callback` to the first app that starts, so each app needs its own round.
    """
    for name in PAGE_MODULES:
        module = sys.modules.get(name)
        module = importlib.reload(module) if module is not None else importlib.import_module(name)
        for page in dash.page_registry.values():
            if page["module"] == name and hasattr(module, "layout"):
                page["layout"] = module.layout  # register_page runs before the module defines layout


def create_app(config: Config | None = None) -> Dash:
    """A fresh Dash app with the model service, the activation cache and the JSON API."""
    config = config or Config.from_env()
    started = time.monotonic()
    # orjson writes numpy arrays in C; the figures and Patches keep their numbers in arrays (not
    # lists, which plotly would walk element by element in Python first). benchmarks/run.py
    # measures both engines on a real answer.
    plotly.io.json.config.default_engine = "orjson"
    cache = build_cache(config.redis_url, config.cache_timeout, config.cache_threshold)
    service = ModelService(config.models_dir, cache)
    jobs = build_background_manager(config)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",  # pages are imported by name below, never twice under two names
        assets_folder=str(PROJECT_ROOT / "assets"),
        external_stylesheets=[BOOTSTRAP_URL],
        suppress_callback_exceptions=True,
        title="Singularity",
        update_title=None,
        compress=True,
        background_callback_manager=jobs,
    )
    server = app.server
    server.config["SINGULARITY"] = config
    server.config["COMPRESS_LEVEL"] = GZIP_LEVEL
    server.config["COMPRESS_BR_LEVEL"] = BROTLI_QUALITY
    server.config["MAX_CONTENT_LENGTH"] = config.max_upload_bytes * 2  # base64 and form overhead
    server.extensions[EXTENSION] = {"service": service, "cache": cache, "config": config, "jobs": jobs,
                                    "figures": LruMemo(FIGURE_MEMO_SIZE)}
    register_pages()
    server.register_blueprint(api)
    _add_routes(server, service, cache)
    app.layout = html.Div(
        [build_navbar(), dbc.Container(dash.page_container, fluid=True, className="pb-4")],
    )
    log.info("app ready in %.2fs (cache: %s)", time.monotonic() - started, cache.kind)
    return app


def warm_up(app: Dash) -> None:
    """Run Dash's lazy first-request setup now: under threaded workers, concurrent first requests race it
    (some answered 500 "Callback function not found" in the benchmark)."""
    response = app.server.test_client().get("/_dash-dependencies")
    if response.status_code != 200:
        raise RuntimeError(f"the app failed its warm-up request: HTTP {response.status_code}")


def _add_routes(server, service: ModelService, cache) -> None:
    css_dir = _bootstrap_css_dir()

    @server.get(BOOTSTRAP_URL)
    def bootstrap_css():
        return send_from_directory(css_dir, "bootstrap.min.css", max_age=7 * 24 * 3600)

    @server.get("/healthz")
    def healthz():
        stats = cache.stats
        return jsonify(
            {
                "status": "ok",
                "models": service.model_names,
                "cache": {"backend": cache.kind, "healthy": cache.healthy,
                          "hits": stats.hits, "misses": stats.misses, "errors": stats.errors},
            }
        )

    @server.after_request
    def add_response_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # Dash fingerprints asset URLs with ?m=<mtime>: a changed file gets a new URL, so cache for long.
        if request.path.startswith("/assets/") and "m" in request.args and response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
