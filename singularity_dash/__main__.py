"""`python -m singularity_dash`: run the development server."""

from __future__ import annotations

import argparse
import logging

from .app import create_app
from .config import Config


def main(argv: list[str] | None = None) -> None:
    """Parse host/port/debug flags and serve the app."""
    parser = argparse.ArgumentParser(prog="python -m singularity_dash", description="Run Singularity locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--debug", action="store_true", help="Dash dev tools and auto-reload")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = Config.from_env()
    app = create_app(config.with_changes(debug=args.debug or config.debug))
    app.run(host=args.host, port=args.port, debug=args.debug or config.debug)


if __name__ == "__main__":
    main()
