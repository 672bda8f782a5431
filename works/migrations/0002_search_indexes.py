"""Search indexes, PostgreSQL only (SQLite searches with plain LIKE).

* pg_trgm and a GIN trigram index on AuthorRecord.search_key: name search that
  forgives typos ("%" similarity) and serves LIKE '%word%'.
* A GIN full-text index on works' title and abstract. The expression must stay
  identical to works.search.WORK_DOCUMENT_SQL, or the planner will not use it.
"""

from django.db import migrations

WORK_DOCUMENT = (
    "to_tsvector('english'::regconfig, "
    "coalesce(\"title\", '') || ' ' || coalesce(\"abstract\", ''))"
)

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS record_search_key_trgm "
    "ON profiles_authorrecord USING gin (search_key gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS work_search_document ON works_work USING gin (({WORK_DOCUMENT}))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS work_search_document",
    "DROP INDEX IF EXISTS record_search_key_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("works", "0001_initial"),
        ("profiles", "0001_initial"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
