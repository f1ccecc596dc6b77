"""WSGI entry point: `gunicorn singularity_dash.wsgi:server` (the Procfile's web line)."""

from .app import create_app, warm_up

app = create_app()
server = app.server
# With preload_app this runs once in the gunicorn master, so every forked worker starts set up.
warm_up(app)
