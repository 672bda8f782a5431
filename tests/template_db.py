"""One migrated PostgreSQL database that every test process of a parallel run copies.

pytest-django gives each xdist process its own test database (test_bzpeer_gw0, ...), and each
built it by running every migration: about 4.5 s of CPU a process, three times over on a
machine with two cores. Instead the controller migrates one template database while the
processes start and collect, and each process creates its database as a copy of it
(``CREATE DATABASE ... TEMPLATE``, half a second of file copying); Django's own migrate then
finds nothing to apply.

The template is named after a digest of the migrations (a changed migration makes a new one)
and built under an advisory lock: a process that gets there before the controller's build
builds it itself, the others wait and copy. It is marked complete only after its migrations
ran, so an interrupted build is built again. The controller drops it when the run ends;
.ci/run drops one an interrupted run left behind.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from django.conf import settings
from django.db import connection
from psycopg import sql

PROJECT = Path(__file__).resolve().parent.parent
COMPLETE = "bzpeer test template: migrated"


def wanted() -> bool:
    """Only PostgreSQL and only through DATABASE_URL (the address the build migrates through)."""
    return connection.vendor == "postgresql" and bool(os.environ.get("DATABASE_URL"))


@functools.cache
def name() -> str:
    """Kept from the first call: a test process then renames its database settings."""
    base = settings.DATABASES["default"]["NAME"]
    return f"test_{base}_tpl_{migrations_digest(PROJECT)}"


def migrations_digest(project: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(project.glob("*/migrations/*.py")):
        digest.update(path.relative_to(project).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def ensure() -> str:
    """The template's name, once it is built (by this process if nobody has)."""
    template = name()
    lock_key = int(hashlib.sha256(template.encode()).hexdigest()[:15], 16)
    # psycopg itself, not a Django connection: pytest-django blocks those outside tests.
    with _maintenance_connection() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key])
        try:
            if not _is_complete(cursor, template):
                _build(cursor, template)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key])
    return template


def build_in_background() -> threading.Thread:
    """Start building the template beside the test processes' start-up."""
    thread = threading.Thread(target=_build_quietly, name="template-db", daemon=True)
    thread.start()
    return thread


def drop(build: threading.Thread) -> None:
    """Drop the template once the controller's ``build`` of it has ended."""
    build.join()
    with _maintenance_connection() as cursor:
        cursor.execute(_drop(name()))


def _build_quietly() -> None:
    # A failed build here is left to the test processes: they build it themselves under the
    # lock and report what failed.
    with contextlib.suppress(Exception):
        ensure()


@contextlib.contextmanager
def _maintenance_connection():
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    with psycopg.connect(**params, autocommit=True) as conn, conn.cursor() as cursor:
        yield cursor


def _drop(template: str) -> sql.Composed:
    return sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(template))


def _is_complete(cursor, template: str) -> bool:
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [template],
    )
    row = cursor.fetchone()
    return row is not None and row[0] == COMPLETE


def _build(cursor, template: str) -> None:
    cursor.execute(_drop(template))
    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
    address = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{template}").geturl()
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--run-syncdb", "--noinput", "-v0"],
        cwd=PROJECT,
        env={**os.environ, "DATABASE_URL": address, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"migrating the test template {template} failed:\n{done.stderr}")
    cursor.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(template), sql.Literal(COMPLETE)
        )
    )
