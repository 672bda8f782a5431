"""The WSGI module a gunicorn worker imports: the app loaded whole, then frozen for the GC."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import gc, sys
import bzpeer.wsgi
print(gc.get_freeze_count(), int("profiles.views.pages" in sys.modules))
"""


def test_the_worker_loads_every_view_and_freezes_what_it_loaded():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bzpeer.settings", "DJANGO_DEBUG": "1"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    frozen, views_loaded = int(out[0]), int(out[1])

    assert views_loaded == 1
    # The whole application: Django alone is tens of thousands of objects.
    assert frozen > 50_000
