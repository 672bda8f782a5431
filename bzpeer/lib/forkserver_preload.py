"""Imported once by the fork server of `bzpeer.lib.processes`: Django set up there, so every
worker process forked from it starts with the settings, the apps and their modules loaded.

Not a failure of its own: a server that could not set Django up still forks workers, whose
initializer (`processes.start_django`) sets it up again and reports what is wrong.
"""

import contextlib

import django

with contextlib.suppress(Exception):
    django.setup()
