"""Settings for the Celery worker process that tests/works/test_worker_e2e.py starts.

The test settings (everything else comes from the environment the test passes:
the test database, a Redis database of its own, the fake arXiv), with trust
recomputed a second after an import instead of thirty: the debounce is not what
that test checks, and waiting for it would make the suite half a minute slower.
The spacing of arXiv requests is the one the test gives the worker in its environment
(the test settings turn spacing off for the test process).
"""

from bzpeer.lib.env import env_float
from tests.settings import *  # noqa: F403

TRUST_DEBOUNCE_SECONDS = 1
ARXIV_REQUEST_INTERVAL = env_float("ARXIV_REQUEST_INTERVAL", 3.0)
