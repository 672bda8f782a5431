"""The one way down for "who wrote what changed": counters here, then the layers above.

Every change of authorships (the importer, the bulk loader, corrections, merges, re-clustering)
ends in :func:`authorships_changed`, inside the transaction that made it: the records' counters
are recounted from rows and stamped, and the ``authorships_changed`` signal tells the layers
above, whose receivers queue their follow-ups (edges, then trust) once, on commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from works import signals
from works.models import AuthorRecord, Authorship, Work, WorkTopic

# Records per UPDATE: bounds each statement's memory on a harvest touching 100,000 records.
RECOUNT_CHUNK = 5000


def authorships_changed(record_ids: Iterable[int], *, now: dt.datetime | None = None) -> list[int]:
    """Recount these records, stamp ``works_changed_at`` and tell the layers above; the ids."""
    ids = sorted({int(record_id) for record_id in record_ids})
    if not ids:
        return ids
    refresh_record_counts(ids, now=now or timezone.now())
    signals.authorships_changed.send(sender=Authorship, record_ids=ids)
    return ids


def refresh_record_counts(record_ids: list[int], *, now: dt.datetime | None = None) -> None:
    """Recount works and topics and take the latest affiliation, set-based.

    ``now`` also stamps ``works_changed_at`` (which keys the pages' caches and the nightly
    trust sweep); without it only the counters move (the nightly reconciliation).
    """
    recount = _recount_postgresql if connection.vendor == "postgresql" else _recount_orm
    for start in range(0, len(record_ids), RECOUNT_CHUNK):
        recount(record_ids[start : start + RECOUNT_CHUNK], now)


def _recount_orm(chunk: list[int], now: dt.datetime | None) -> None:
    works = (
        Authorship.objects.filter(author=OuterRef("pk"))
        .values("author")
        .annotate(n=Count("work", distinct=True))
        .values("n")
    )
    topics = (
        WorkTopic.objects.filter(work__authorships__author=OuterRef("pk"))
        .values("work__authorships__author")
        .annotate(n=Count("topic", distinct=True))
        .values("n")
    )
    affiliation = (
        Authorship.objects.filter(author=OuterRef("pk"))
        .exclude(affiliation="")
        .order_by("-work__updated", "-work_id")
        .values("affiliation")[:1]
    )
    # Coalesce: a record whose works all moved away has no rows left.
    changes = {
        "work_count": Coalesce(Subquery(works), 0),
        "topic_count": Coalesce(Subquery(topics), 0),
        "affiliation": Coalesce(Subquery(affiliation), Value("")),
    }
    if now is not None:
        changes["works_changed_at"] = Value(now)
    AuthorRecord.objects.filter(id__in=chunk).update(**changes)


# One statement per chunk: the correlated subqueries above make PostgreSQL walk each record's
# authorships three times; grouped joins over the chunk's ids read them once.
_RECOUNT_TEMPLATE = f"""
WITH ids AS ({{ids}}),
work_counts AS (
    SELECT a.author_id, count(DISTINCT a.work_id) AS n
    FROM {Authorship._meta.db_table} a JOIN ids ON ids.id = a.author_id
    GROUP BY a.author_id
), topic_counts AS (
    SELECT a.author_id, count(DISTINCT wt.topic_id) AS n
    FROM {Authorship._meta.db_table} a
    JOIN ids ON ids.id = a.author_id
    JOIN {WorkTopic._meta.db_table} wt ON wt.work_id = a.work_id
    GROUP BY a.author_id
), affiliations AS (
    SELECT DISTINCT ON (a.author_id) a.author_id, a.affiliation
    FROM {Authorship._meta.db_table} a
    JOIN ids ON ids.id = a.author_id
    JOIN {Work._meta.db_table} w ON w.id = a.work_id
    WHERE a.affiliation <> ''
    ORDER BY a.author_id, w.updated DESC NULLS LAST, a.work_id DESC
)
UPDATE {AuthorRecord._meta.db_table} r SET
    work_count = COALESCE(work_counts.n, 0),
    topic_count = COALESCE(topic_counts.n, 0),
    affiliation = COALESCE(affiliations.affiliation, ''),
    works_changed_at = CASE WHEN ids.stamp THEN %(now)s ELSE r.works_changed_at END
FROM ids
LEFT JOIN work_counts ON work_counts.author_id = ids.id
LEFT JOIN topic_counts ON topic_counts.author_id = ids.id
LEFT JOIN affiliations ON affiliations.author_id = ids.id
WHERE r.id = ids.id
"""
_RECOUNT_SQL = _RECOUNT_TEMPLATE.format(
    ids="SELECT unnest(%(ids)s::bigint[]) AS id, %(now)s IS NOT NULL AS stamp"
)
# Every record, for a first load (works.first_load): the same statement over the whole table,
# hash joins instead of a lookup per record. A record never stamped was loaded by an earlier,
# interrupted part of the same first load.
_RECOUNT_ALL_SQL = _RECOUNT_TEMPLATE.format(
    ids=f"""
    SELECT r.id, (r.works_changed_at IS NULL OR s.id IS NOT NULL) AS stamp
    FROM {AuthorRecord._meta.db_table} r
    LEFT JOIN (SELECT DISTINCT unnest(%(stamp)s::bigint[]) AS id) s ON s.id = r.id
    """
)


def _recount_postgresql(chunk: list[int], now: dt.datetime | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_RECOUNT_SQL, {"ids": chunk, "now": now})


def refresh_all_record_counts(*, stamp: Iterable[int], now: dt.datetime) -> None:
    """Recount every record in one statement (PostgreSQL); stamp ``works_changed_at`` on the
    ``stamp`` ids and on records never stamped. The layers above are not told: the caller
    knows what changed."""
    with connection.cursor() as cursor:
        cursor.execute(_RECOUNT_ALL_SQL, {"stamp": sorted(stamp), "now": now})
