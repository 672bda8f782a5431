"""Worker processes for parallel work on the database (spawned: a forked child would share the
parent's database socket).

The initializer must be importable before Django is set up, so it lives here, away from any
module that imports models.
"""

import django
from django.conf import settings


def start_django(database_name: str | None = None) -> None:
    """Set Django up in a spawned worker, on the database the parent works on (a test database,
    a benchmark's) rather than the one the environment names."""
    django.setup()
    if database_name:
        settings.DATABASES["default"]["NAME"] = database_name
