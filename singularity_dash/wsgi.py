"""WSGI entry point: `gunicorn singularity_dash.wsgi:server`."""

from .app import create_app

app = create_app()
server = app.server
