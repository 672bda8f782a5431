"""The demo replay (tests/demo_rows.py) writes exactly the rows the importer wrote."""

import pytest
from django.core.management import call_command
from django.db import connection, models
from support import DEMO_FILE

from tests import demo_rows
from works.models import AuthorRecord, Authorship, Work
from works.services import import_stream


def _real_import():
    with DEMO_FILE.open("rb") as stream:
        import_stream(stream, source_label="Demo data")


def _rows_without_stamps() -> dict[str, list[tuple]]:
    """Every table's rows, datetime columns left out (the replay moves them to its own now)."""
    rows = {}
    with connection.cursor() as cursor:
        for table, model in sorted(demo_rows._models_by_table().items()):
            if demo_rows._is_bookkeeping(table):
                continue  # filled by migrations, renumbered by a flush
            columns = [
                f.column
                for f in model._meta.concrete_fields
                if not isinstance(f, models.DateTimeField)
            ]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            rows[table] = sorted(map(repr, cursor.fetchall()))
    return rows


@pytest.fixture
def fresh_snapshots(monkeypatch):
    monkeypatch.setattr(demo_rows, "_snapshots", {})
    monkeypatch.setattr(demo_rows, "_unusable", {False: False, True: False})


@pytest.mark.django_db(transaction=True)
def test_a_transactional_replay_writes_what_the_committed_import_wrote(fresh_snapshots):
    demo_rows.import_demo(_real_import)
    assert True in demo_rows._snapshots, "the first committed import is kept"
    imported = _rows_without_stamps()
    assert Authorship.objects.exists() and Work.objects.count() == 9

    call_command("flush", interactive=False, verbosity=0)
    calls = []
    demo_rows.import_demo(lambda: calls.append("real"))

    assert calls == [], "the second import is a replay"
    assert _rows_without_stamps() == imported
    assert AuthorRecord.objects.get(slug="zhengyan-zhang").work_count == 9


@pytest.mark.django_db(transaction=True)
def test_a_database_that_is_not_empty_imports_for_real(fresh_snapshots):
    demo_rows.import_demo(_real_import)
    Work.objects.filter(pk=Work.objects.order_by("pk").first().pk).delete()

    calls = []
    demo_rows.import_demo(lambda: calls.append("real"))

    assert calls == ["real"]
