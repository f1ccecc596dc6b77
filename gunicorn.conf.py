"""gunicorn settings for a Heroku-style dyno (the Procfile's `web:` line reads this file)."""

import os

wsgi_app = "singularity_dash.wsgi:server"
bind = f"0.0.0.0:{os.environ.get('PORT', '8050')}"
# 2 workers x 4 threads fits a 512 MB dyno with the CPU torch build; raise WEB_CONCURRENCY on bigger ones.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Load the models once in the master; workers share those pages copy-on-write.
preload_app = True
timeout = 60
graceful_timeout = 20
# Short keep-alive: a client held on one worker cannot starve the others of work.
keepalive = 2
# Recycle workers rarely (each recycle drops its warm cache and pauses that worker for seconds),
# but do recycle, so a slow leak can never take a dyno down mid-class.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = 5000
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
forwarded_allow_ips = "*"
