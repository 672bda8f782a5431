"""The demo import, done once per test process and replayed as the rows it wrote.

About seventy tests start from the demo researcher (the ``demo`` fixture in tests/conftest.py).
Importing the file costs a third of a second of ORM work each time (hundreds of author records
created, updated and counted), the same work with the same result: into empty tables, the
importer writes the same rows. So the first import in a process goes through the importer and
its rows are kept; later tests get those rows inserted back with one statement per table, with
the importer's "now" moved to theirs (the import's end at their "now", so that every stamp lies
in the past, as after a real import).

Two snapshots, one per way a test runs: inside a transaction of its own (``django_db``), where
the import's on-commit work (queue the edge rebuild) never runs, and transactional
(``transaction=True``: live_server, browser tests), where it has run by the time the import
returns, so its rows are in that snapshot. With a real broker that work is a queued message,
which a replay does not send again: each test process's queues are emptied before every test,
and no test reads what the demo import queued.

Only when nothing could tell the two apart: every table holds what it held before that first
import (row counts, compared in one query), so the importer would meet the same state and
write the same rows.

Ids are the first import's; PostgreSQL's sequences are moved past them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone


@dataclass
class _Table:
    name: str
    columns: list[str]
    rows: list[tuple]
    # positions of DateTimeField columns: their values at or after the import's start are the
    # importer's "now" and move with it
    datetimes: list[int] = field(default_factory=list)
    pk_column: str | None = None


@dataclass
class _Snapshot:
    vendor: str
    counts: dict[str, int]
    started: dt.datetime  # the import's start: stamps from then on are the importer's "now"
    ended: dt.datetime  # its end: the replay moves it to its own "now", none in the future
    tables: list[_Table]


# one snapshot per way of running: inside a test's transaction (False) or committed (True)
_snapshots: dict[bool, _Snapshot] = {}
_unusable = {False: False, True: False}


def _counts() -> dict[str, int]:
    tables = sorted(connection.introspection.table_names())
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(f"SELECT {i}, COUNT(*) FROM {quote(t)}" for i, t in enumerate(tables))
    with connection.cursor() as cursor:
        cursor.execute(sql)
        by_index = dict(cursor.fetchall())
    return {table: by_index[i] for i, table in enumerate(tables)}


def _models_by_table() -> dict[str, type[models.Model]]:
    return {
        m._meta.db_table: m for m in apps.get_models(include_auto_created=True) if m._meta.managed
    }


def _take(
    counts_before: dict[str, int], started: dt.datetime, ended: dt.datetime
) -> _Snapshot | None:
    """The rows the import wrote, or None when it changed tables that were not empty."""
    after = _counts()
    changed = [t for t in after if after[t] != counts_before.get(t, 0)]
    if any(counts_before.get(t, 0) for t in changed) or set(after) != set(counts_before):
        return None
    by_table = _models_by_table()
    quote = connection.ops.quote_name
    tables = []
    with connection.cursor() as cursor:
        for name in changed:
            model = by_table.get(name)
            if model is None:
                return None
            concrete = model._meta.concrete_fields
            if any(_points_at_bookkeeping(f) for f in concrete):
                return None  # a flush renumbers content types: their ids cannot be replayed
            columns = [f.column for f in concrete]
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(name)}")
            tables.append(
                _Table(
                    name=name,
                    columns=columns,
                    rows=cursor.fetchall(),
                    datetimes=[
                        i for i, f in enumerate(concrete) if isinstance(f, models.DateTimeField)
                    ],
                    pk_column=model._meta.pk.column
                    if isinstance(model._meta.pk, models.AutoField | models.BigAutoField)
                    else None,
                )
            )
    return _Snapshot(connection.vendor, counts_before, started, ended, tables)


def _moved(value, started: dt.datetime, delta: dt.timedelta):
    """A datetime column's value, moved by ``delta`` if the importer stamped it."""
    if value is None or not delta:
        return value
    if isinstance(value, str):  # SQLite hands back its text form
        parsed = dt.datetime.fromisoformat(value)
        aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        if aware < started:
            return value
        moved = aware + delta
        return (moved if parsed.tzinfo else moved.replace(tzinfo=None)).isoformat(" ")
    if timezone.is_naive(value):
        aware = value.replace(tzinfo=dt.UTC)
        return value + delta if aware >= started else value
    return value + delta if value >= started else value


def _replay(snapshot: _Snapshot) -> None:
    delta = timezone.now() - snapshot.ended
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in snapshot.tables:
            rows = table.rows
            if table.datetimes and delta:
                rows = [
                    tuple(
                        _moved(v, snapshot.started, delta) if i in table.datetimes else v
                        for i, v in enumerate(row)
                    )
                    for row in rows
                ]
            columns = ", ".join(map(quote, table.columns))
            if snapshot.vendor == "postgresql":
                # COPY: row by row INSERTs cost 60-250 ms a replay, COPY a few.
                with cursor.cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(table.columns))
                cursor.executemany(
                    f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({placeholders})", rows
                )
            if snapshot.vendor == "postgresql" and table.pk_column:
                # The next id after the replayed ones, never an earlier one than before.
                cursor.execute(
                    "SELECT setval(seq, GREATEST("
                    f"(SELECT MAX({quote(table.pk_column)}) FROM {quote(table.name)}), "
                    "pg_sequence_last_value(seq))) "
                    "FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) AS s",
                    [table.name, table.pk_column],
                )


def import_demo(real_import: Callable[[], None]) -> None:
    """Run ``real_import`` (the demo through the importer), or replay what it wrote before.

    A test inside a transaction and a transactional test each get the rows of the first import
    made the same way: inside a transaction the import's on-commit work never runs, while in a
    transactional test it has run (eagerly, or queued on a real broker) by the time the import
    returns, so the committed snapshot holds its rows too and is replayed in one transaction.
    """
    committed = not connection.in_atomic_block
    if _unusable[committed]:
        real_import()
        return
    counts = _counts()
    snapshot = _snapshots.get(committed)
    if snapshot is not None:
        if snapshot.vendor == connection.vendor and counts == snapshot.counts:
            with transaction.atomic():
                _replay(snapshot)
        else:
            real_import()
        return
    if any(n for t, n in counts.items() if not _is_bookkeeping(t)):
        real_import()  # not the empty state: no snapshot from this one
        return
    started = timezone.now()
    real_import()
    taken = _take(counts, started, timezone.now())
    if taken is None:
        _unusable[committed] = True
    else:
        _snapshots[committed] = taken


def _points_at_bookkeeping(field: models.Field) -> bool:
    return bool(field.is_relation and _is_bookkeeping(field.related_model._meta.db_table))


def _is_bookkeeping(table: str) -> bool:
    """Tables that migrations fill: the rest are empty at the start of a test."""
    return table in {"django_migrations", "django_content_type", "auth_permission"}
