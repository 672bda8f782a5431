"""Search: researchers by name, works by title and abstract.

PostgreSQL does the real work: researchers through trigram similarity on
``AuthorRecord.search_key`` (tolerates typos) and works through full-text
search on title and abstract, both backed by GIN indexes (migration
``works/0002_search_indexes``). SQLite, the embedded default, gets a plain
"every word appears" match so the page behaves the same, only less forgiving.

Both sides fold the query like the importer folds names (accents, case, word
order: ``order_free_key``), so "Zhang Zhengyan" and "zhéngyan ZHANG" find the
record of "Zhengyan Zhang".
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import BooleanField, F, FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL

from works.arxiv.names import order_free_key
from works.models import AuthorRecord, Work

# Longer queries are cut: nobody types 200 characters into a name box, and a
# bound keeps tsquery parsing and trigram extraction cheap.
MAX_QUERY_LENGTH = 200
MAX_TERMS = 12

# Must match, character for character, the expression of the GIN indexes in
# works/migrations/0013_full_text_index_in_partitions.py, or PostgreSQL will not use them.
WORK_DOCUMENT_SQL = (
    "to_tsvector('english'::regconfig, "
    'coalesce("works_work"."title", \'\') || \' \' || coalesce("works_work"."abstract", \'\'))'
)
# The full-text index is four partial indexes, one per residue of the work id, so that a
# first load builds them side by side (migration 0013 says why).
DOCUMENT_PARTITIONS = 4

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def clean_query(raw: str | None) -> str:
    """What is left of a query after dropping control characters and extra length."""
    text = _CONTROL_RE.sub(" ", raw or "")
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def researchers(query: str) -> QuerySet[AuthorRecord]:
    """Live records whose name matches the query, best match first."""
    key = order_free_key(query)
    terms = key.split()[:MAX_TERMS]
    if not terms:
        return AuthorRecord.objects.none()
    records = AuthorRecord.objects.live().only(
        "slug",
        "display_name",
        "name_key",
        "kind",
        "affiliation",
        "owner_affiliation",
        "work_count",
        "verification_level",
        "possibly_several_people",
    )
    every_term = Q()
    for term in terms:
        every_term &= Q(search_key__contains=term)
    if not _is_postgresql():
        return records.filter(every_term).order_by("-work_count", "display_name", "id")
    # "%" uses the trigram index and forgives typos ("Zhengyan Zang"); ILIKE on
    # each word (also served by the trigram index) keeps exact partial names
    # ("zheng") that are too short to be similar to a whole key.
    similarity = RawSQL("similarity(search_key, %s)", [key], output_field=FloatField())
    similar = RawSQL("search_key %% %s", [key], output_field=BooleanField())
    return (
        records.annotate(similarity=similarity)
        .filter(Q(similar) | every_term)
        .order_by(F("similarity").desc(), "-work_count", "id")
    )


def works(query: str) -> QuerySet[Work]:
    """Works whose title or abstract matches the query, best match first."""
    query = clean_query(query)
    words = re.findall(r"\w+", query)[:MAX_TERMS]
    if not words:
        return Work.objects.none()
    fields = ("arxiv_id", "title", "year", "kind", "journal_ref", "author_count", "abstract")
    if not _is_postgresql():
        every_word = Q()
        for word in words:
            every_word &= Q(title__icontains=word) | Q(abstract__icontains=word)
        return Work.objects.filter(every_word).only(*fields).newest_first()
    # websearch_to_tsquery never raises on user input (quotes, "or", "-word").
    # Newest first rather than ts_rank: ranking recomputes the document of every
    # match, seconds for a common word over a large corpus; the GIN index finds
    # the matches and a top-N sort on year is cheap.
    matches = RawSQL(work_matches_sql(), [query] * DOCUMENT_PARTITIONS, output_field=BooleanField())
    return Work.objects.filter(matches).only(*fields).newest_first()


def work_matches_sql() -> str:
    """The full-text match, asked of each partition of the index: one arm per partition,
    each carrying that partial index's own predicate, which PostgreSQL combines in one
    BitmapOr (or, for a word most works hold, walks the newest-first index instead)."""
    match = f"{WORK_DOCUMENT_SQL} @@ websearch_to_tsquery('english'::regconfig, %s)"
    arms = (
        f'({match} AND mod("works_work"."id", {DOCUMENT_PARTITIONS}) = {k})'
        for k in range(DOCUMENT_PARTITIONS)
    )
    return "(" + " OR ".join(arms) + ")"
