"""No index that another index already serves, and the lookups still find theirs."""

import pytest
from django.apps import apps
from django.db import connection

from graph.models import CollaborationEdge
from profiles.models import Block, DigestDelivery, Follow, OrcidOffer, TrustSnapshot
from works.models import Authorship, IdentityConstraint, RecordEvent, WorkTopic, WorkVersion

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="reads PostgreSQL's catalogue (pg_index) and plans: PostgreSQL only",
    ),
]

OUR_APPS = ("works", "profiles", "graph")

# Indexes that may sit under another one, and why. Partial, unique, expression and non-btree
# indexes are never counted as redundant (they enforce a rule or answer another kind of
# query), so this list is for the rest.
ALLOWED: dict[str, str] = {}

_INDEXES_SQL = """
SELECT i.relname, x.indkey::int2[], x.indclass::oid[], am.amname, x.indisunique,
       x.indpred IS NOT NULL, x.indexprs IS NOT NULL
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_am am ON am.oid = i.relam
WHERE t.relname = %s AND t.relnamespace = 'public'::regnamespace
"""


def redundant_indexes(table: str) -> list[tuple[str, str]]:
    """(index, the index that serves it) for each plain btree index whose key columns (with
    their operator classes) are a strict prefix of another plain btree index's, or equal."""
    with connection.cursor() as cursor:
        cursor.execute(_INDEXES_SQL, [table])
        indexes = cursor.fetchall()
    plain = [
        (name, list(zip(keys, classes, strict=True)), unique)
        for name, keys, classes, method, unique, partial, expression in indexes
        if method == "btree" and not partial and not expression
    ]
    found = []
    for name, columns, unique in plain:
        if unique or name in ALLOWED:
            continue
        for other, other_columns, _ in plain:
            if other != name and other_columns[: len(columns)] == columns:
                found.append((name, other))
                break
    return found


def test_no_index_is_a_prefix_of_another_on_the_same_table():
    tables = {
        model._meta.db_table
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models(include_auto_created=True)
    }

    redundant = {table: redundant_indexes(table) for table in sorted(tables)}

    assert {table: found for table, found in redundant.items() if found} == {}


def test_the_check_finds_a_redundant_index():
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX test_redundant_author ON works_authorship (author_id)")

    assert redundant_indexes("works_authorship") == [
        ("test_redundant_author", "authorship_author_work")
    ]


# Enough rows, spread over enough parents, that the planner's choice means something (an empty
# table is planned on guesses). The foreign keys are deferred and the rows are deleted before
# the test ends, so the parents need not exist. Columns not given take the model's defaults.
ROWS = 20_000
FILLS = {
    Authorship: {"work_id": "i / 10", "position": "mod(i, 10)", "author_id": "mod(i, 3001)"},
    WorkTopic: {"work_id": "i / 3", "topic_id": "mod(i, 3) + 1"},
    WorkVersion: {"work_id": "i / 3", "number": "mod(i, 3) + 1", "submitted": "now()"},
    RecordEvent: {"record_id": "mod(i, 2000)", "kind": "'import'", "summary": "'x'"},
    IdentityConstraint: {"signature_id": "i", "record_id": "mod(i, 2000)", "kind": "'must'"},
    TrustSnapshot: {
        "record_id": "mod(i, 2000)",
        "score": "50",
        "level": "1",
        "inputs": "'{}'",
        "components": "'{}'",
        "computed_at": "now()",
    },
    CollaborationEdge: {
        "author_id": "i / 10",
        "coauthor_id": "mod(i, 10) + 1000000",
        "weight": "1",
        "shared_works": "1",
    },
    Follow: {"user_id": "i / 10", "record_id": "mod(i, 10)"},
    Block: {"owner_id": "i / 10", "blocked_id": "mod(i, 10) + 1000000"},
    DigestDelivery: {"user_id": "i / 10", "work_id": "mod(i, 10)"},
    OrcidOffer: {"user_id": "i / 10", "work_id": "mod(i, 10)", "record_id": "mod(i, 7)"},
}


def _fill(model) -> None:
    given = FILLS[model]
    columns, select, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.attname in given:
            select.append(given[field.attname])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            select.append("now()")
        else:
            select.append(f"CAST(%s AS {field.cast_db_type(connection)})")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {', '.join(select)} FROM generate_series(1, {ROWS}) AS i",
            params,
        )
        cursor.execute(f"ANALYZE {table}")


@pytest.mark.parametrize(
    ("model", "lookup", "served_by"),
    [
        (Authorship, {"work_id": 7}, {"authorship_position_unique"}),
        (Authorship, {"author_id": 7}, {"authorship_author_work"}),
        (WorkTopic, {"work_id": 7}, {"worktopic_unique"}),
        (WorkVersion, {"work_id": 7}, {"workversion_unique"}),
        (RecordEvent, {"record_id": 7}, {"event_record_recent"}),
        (IdentityConstraint, {"signature_id": 7}, {"identity_constraint_unique"}),
        (IdentityConstraint, {"record_id": 7}, {"identity_constraint_record"}),
        (TrustSnapshot, {"record_id": 7}, {"snapshot_record_latest"}),
        (CollaborationEdge, {"author_id": 7}, {"edge_unique_pair", "edge_strongest"}),
        (Follow, {"user_id": 7}, {"follow_unique"}),
        (Block, {"owner_id": 7}, {"block_unique"}),
        (DigestDelivery, {"user_id": 7}, {"digest_once_per_work"}),
        (OrcidOffer, {"user_id": 7}, {"orcid_offer_once_per_work"}),
    ],
    # Sorted: a set's order changes with the hash seed, and every xdist worker must collect
    # the same test ids.
    ids=lambda value: (
        getattr(value, "__name__", None)
        or (",".join(sorted(value)) if isinstance(value, set) else str(value))
    ),
)
def test_foreign_key_lookups_are_served_by_the_composite_indexes(model, lookup, served_by):
    _fill(model)

    plan = model.objects.filter(**lookup).order_by().explain()

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {model._meta.db_table}")

    assert any(f" {name} " in plan for name in served_by), plan
