"""Settings for the Celery worker process that tests/works/test_worker_e2e.py starts.

The test settings (everything else comes from the environment the test passes:
the test database, a Redis database of its own, the fake arXiv), with trust
recomputed a second after an import instead of thirty: the debounce is not what
that test checks, and waiting for it would make the suite half a minute slower.
"""

from tests.settings import *  # noqa: F403

TRUST_DEBOUNCE_SECONDS = 1
