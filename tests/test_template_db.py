"""The migrated template the processes of a parallel PostgreSQL run copy (tests/template_db.py)."""

import os

import pytest
import template_db
from django.db import connection


def test_the_template_is_named_after_the_migrations(tmp_path):
    migration = tmp_path / "works" / "migrations" / "0001_initial.py"
    migration.parent.mkdir(parents=True)
    migration.write_text("operations = []\n")
    before = template_db.migrations_digest(tmp_path)

    migration.write_text("operations = ['changed']\n")

    assert template_db.migrations_digest(tmp_path) != before
    assert template_db.name().endswith(f"_tpl_{template_db.migrations_digest(template_db.PROJECT)}")


@pytest.mark.django_db
def test_a_parallel_process_copied_the_migrated_template():
    if not (os.environ.get("PYTEST_XDIST_WORKER") and template_db.wanted()):
        pytest.skip("only the processes of a parallel run on PostgreSQL copy the template")
    template = connection.settings_dict["TEST"]["TEMPLATE"]
    assert template == template_db.name()
    with template_db._maintenance_connection() as cursor:
        assert template_db._is_complete(cursor, template)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations")
        applied = cursor.fetchone()[0]
    from django.db.migrations.loader import MigrationLoader

    assert applied == len(MigrationLoader(connection).graph.nodes)
