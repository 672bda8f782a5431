"""Settings for the test suite: the real settings, with a throwaway secret key, over plain HTTP.

The real module refuses to start without a strong DJANGO_SECRET_KEY when DEBUG is off, and
tests run with DEBUG off; the test client speaks plain HTTP, so HTTPS-only settings (on by
default without DEBUG) are off. tests/test_production_settings.py checks the production
defaults themselves. Everything else comes from the environment as in production
(DATABASE_URL, REDIS_URL), so CI exercises both configurations.
"""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "tests-only-secret-key-long-enough-for-the-start-up-check-0123456789"
)
os.environ.setdefault("DJANGO_SECURE_SSL", "0")

from bzpeer.settings import *  # noqa: E402,F403

# Tests serve static files through the finders; there is no collected folder.
STATIC_ROOT = None
