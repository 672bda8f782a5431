"""Settings for benchmarks served by gunicorn: the real settings plus a trivial view's URL."""

import os
import warnings

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-never-used-to-serve-real-people")
# The benchmarks speak plain HTTP to gunicorn on 127.0.0.1: no redirect to HTTPS.
os.environ.setdefault("DJANGO_SECURE_SSL", "0")

from bzpeer.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.web_urls"
# Access and query logs would measure the terminal, not the page.
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# Static files come from the finders (WHITENOISE_USE_FINDERS); no collectstatic needed.
# Attributed to the caller that builds the middleware (Django's handler), not to WhiteNoise.
warnings.filterwarnings("ignore", message="No directory at")
