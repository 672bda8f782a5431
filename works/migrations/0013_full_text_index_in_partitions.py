"""The works' full-text index in four partial GIN indexes, one per residue of the work id.

PostgreSQL 15 builds a GIN index in one process, and this one was most of a first load's
schema phase (to_tsvector of every title and abstract: 125 of 129 s at a million works). Four
partitions build side by side, one connection per core (works.first_load), and each row still
lands in exactly one of them, so writes cost what they did. Search asks each partition
(works.search.work_matches_sql) and PostgreSQL combines them in one BitmapOr.

The planner ignores a partial index's statistics, so the document and the residue get
statistics objects of their own (without them a common word was estimated at 5 rows and
searched through a bitmap of every match: 368 ms against 4 ms at 200,000 works), and the
partitions compute none (statistics target 0): ANALYZE would otherwise run to_tsvector over
its sample twice.

PostgreSQL only, like 0002; the expression stays identical to works.search.WORK_DOCUMENT_SQL.
"""

from django.db import migrations, models

WORK_DOCUMENT = (
    "to_tsvector('english'::regconfig, "
    "coalesce(\"title\", '') || ' ' || coalesce(\"abstract\", ''))"
)
PARTITIONS = 4


def _partition_statements(k):
    name = f"work_search_document_{k}"
    return [
        f"CREATE INDEX IF NOT EXISTS {name} ON works_work USING gin (({WORK_DOCUMENT})) "
        f"WHERE mod(id, {PARTITIONS}) = {k}",
        f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS 0",
    ]


FORWARD = [
    "DROP INDEX IF EXISTS work_search_document",
    # An interrupted first load must not put the whole index back beside its partitions.
    "DELETE FROM works_deferredschemaobject WHERE name = 'work_search_document'",
    *(statement for k in range(PARTITIONS) for statement in _partition_statements(k)),
    f"CREATE STATISTICS IF NOT EXISTS work_search_document_stats ON (({WORK_DOCUMENT})) "
    "FROM works_work",
    f"CREATE STATISTICS IF NOT EXISTS work_search_partition_stats ON ((mod(id, {PARTITIONS}))) "
    "FROM works_work",
]
BACKWARD = [
    "DROP STATISTICS IF EXISTS work_search_partition_stats",
    "DROP STATISTICS IF EXISTS work_search_document_stats",
    *(f"DROP INDEX IF EXISTS work_search_document_{k}" for k in range(PARTITIONS)),
    f"CREATE INDEX IF NOT EXISTS work_search_document ON works_work USING gin (({WORK_DOCUMENT}))",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("works", "0012_work_snapshot_digest")]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
        # A first load sets the statistics objects aside with the indexes (works.first_load).
        migrations.AlterField(
            model_name="deferredschemaobject",
            name="kind",
            field=models.CharField(
                choices=[
                    ("index", "index"),
                    ("constraint", "constraint"),
                    ("statistics", "statistics object"),
                ],
                max_length=10,
            ),
        ),
    ]
