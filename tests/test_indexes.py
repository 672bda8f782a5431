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


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        # An empty table is read whole otherwise; what matters is which index serves the lookup.
        cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


@pytest.mark.parametrize(
    ("queryset", "served_by"),
    [
        (lambda: Authorship.objects.filter(work_id=1), {"authorship_position_unique"}),
        (lambda: Authorship.objects.filter(author_id=1), {"authorship_author_work"}),
        (lambda: WorkTopic.objects.filter(work_id=1), {"worktopic_unique"}),
        (lambda: WorkVersion.objects.filter(work_id=1), {"workversion_unique"}),
        (lambda: RecordEvent.objects.filter(record_id=1), {"event_record_recent"}),
        (lambda: IdentityConstraint.objects.filter(signature_id=1), {"identity_constraint_unique"}),
        (lambda: IdentityConstraint.objects.filter(record_id=1), {"identity_constraint_record"}),
        (lambda: TrustSnapshot.objects.filter(record_id=1), {"snapshot_record_latest"}),
        (
            lambda: CollaborationEdge.objects.filter(author_id=1),
            {"edge_unique_pair", "edge_strongest"},
        ),
        (lambda: Follow.objects.filter(user_id=1), {"follow_unique"}),
        (lambda: Block.objects.filter(owner_id=1), {"block_unique"}),
        (lambda: DigestDelivery.objects.filter(user_id=1), {"digest_once_per_work"}),
        (lambda: OrcidOffer.objects.filter(user_id=1), {"orcid_offer_once_per_work"}),
    ],
)
def test_foreign_key_lookups_are_served_by_the_composite_indexes(queryset, served_by):
    plan = _plan(queryset())

    assert any(f" {name} " in plan for name in served_by), plan
