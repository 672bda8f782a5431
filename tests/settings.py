"""Settings for the test suite: the real settings, with a throwaway secret key.

The real module refuses to start without DJANGO_SECRET_KEY when DEBUG is off,
and tests run with DEBUG off. Everything else comes from the environment as in
production (DATABASE_URL, REDIS_URL), so CI exercises both configurations.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key")

from bzpeer.settings import *  # noqa: E402,F403

# Tests serve static files through the finders; there is no collected folder.
STATIC_ROOT = None
