"""What a load notes on the records it touched, set-based (PostgreSQL): the names each was
printed as (``variants``) and one import event per record.

The bulk loader (works.bulk) notes each batch's works once their signatures are linked; a
first load (works.first_load) notes the person signatures it links at the end, block by block.
Both read the signatures as stored, in the order of works.importer.note_variants_and_events
(work, then position), so the rows are the ORM importer's.
"""

from __future__ import annotations

from django.db import connection

from works.importer import MAX_VARIANTS
from works.models import AuthorRecord, Authorship, RecordEvent

# TEMP tables, per connection: the signatures noted (in order) and one row per record.
STAGING = {
    "bulk_final": "seq bigint, author_id bigint, printed text",
    "bulk_touched": "author_id bigint PRIMARY KEY, first_seq bigint, works integer, names integer",
}


def create_staging(cursor) -> None:
    for name, columns in STAGING.items():
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})")


def note(cursor, *, source_label: str, now, joins: str = "", where: str = "", params=()) -> None:
    """Variants and import events for the linked signatures that ``joins``/``where`` select
    from the signatures ``t``; the touched records are left in bulk_touched."""
    cursor.execute("TRUNCATE bulk_final, bulk_touched")
    cursor.execute(
        f"""
        INSERT INTO bulk_final (seq, author_id, printed)
        SELECT row_number() OVER (ORDER BY t.work_id, t.position), t.author_id, t.printed_name
        FROM {_table(Authorship)} t {joins}
        WHERE t.author_id IS NOT NULL {where}
        """,
        list(params),
    )
    cursor.execute(
        """
        INSERT INTO bulk_touched (author_id, first_seq, works, names)
        SELECT author_id, min(seq), count(*), count(DISTINCT printed)
        FROM bulk_final GROUP BY author_id
        """
    )
    cursor.execute("ANALYZE bulk_touched")
    _add_variants(cursor)
    _add_import_events(cursor, source_label, now)


def touched_records(cursor) -> set[int]:
    """The records the last :func:`note` touched."""
    cursor.execute("SELECT author_id FROM bulk_touched")
    return {row[0] for row in cursor.fetchall()}


def _add_variants(cursor) -> None:
    """Each record's new names as printed joined to its variants: in order of appearance,
    at most MAX_VARIANTS in all."""
    records = _table(AuthorRecord)
    cursor.execute(
        f"""
        WITH printed AS (
            SELECT author_id, printed, min(seq) AS first_seq
            FROM bulk_final GROUP BY author_id, printed
        ), fresh AS (
            SELECT p.author_id, p.printed, p.first_seq,
                   row_number() OVER (PARTITION BY p.author_id ORDER BY p.first_seq) AS rn,
                   jsonb_array_length(r.variants) AS had
            FROM printed p JOIN {records} r ON r.id = p.author_id
            WHERE NOT (r.variants ? p.printed)
        ), added AS (
            SELECT author_id, jsonb_agg(to_jsonb(printed) ORDER BY first_seq) AS names
            FROM fresh WHERE had + rn <= {MAX_VARIANTS} GROUP BY author_id
        )
        UPDATE {records} r SET variants = r.variants || added.names
        FROM added
        WHERE r.id = added.author_id
        """
    )


def _add_import_events(cursor, source_label: str, now) -> None:
    """One import event per touched record, in the order the signatures first name them."""
    columns, select, params = insert_columns(
        RecordEvent,
        {
            "record_id": "t.author_id",
            "kind": ("%s", [RecordEvent.Kind.IMPORT.value]),
            "summary": ("%s || t.names || ' work(s) added or updated'", [f"{source_label}: "]),
            "data": "jsonb_build_object('works', t.works)",
        },
        now,
    )
    cursor.execute(
        f"INSERT INTO {_table(RecordEvent)} ({columns}) "
        f"SELECT {select} FROM bulk_touched t ORDER BY t.first_seq",
        params,
    )


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def insert_columns(model, given: dict, now) -> tuple[str, str, list]:
    """Column list, SELECT list and parameters inserting every column of ``model``.

    ``given`` maps attnames to SQL expressions (or ``(expression, params)``).
    The other columns get the model's defaults, and auto_now(_add) ones
    ``now``, so a field added to the model later does not break the loader.
    """
    columns, select, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in given:
            expression = given[field.attname]
            if isinstance(expression, tuple):
                expression, values = expression
                params.extend(values)
            select.append(expression)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            select.append("%s")
            params.append(now)
        else:
            select.append(f"CAST(%s AS {field.cast_db_type(connection)})")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    return ", ".join(columns), ", ".join(select), params
