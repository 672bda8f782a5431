"""Homonyms in the open: the records that share a printed name, and what tells them apart.

Many people share "Wei Wang". Every live person record whose name key (the display name,
normalised: works.arxiv.names.name_key) is the same is a namesake; each profile says how many
there are and links to a page listing them, each with a one-line distinguisher: main topics,
years active, strongest co-author and latest affiliation. Search shows the same line.
Everything here costs a fixed number of queries for any number of records.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, OuterRef, QuerySet, Subquery

from graph.models import CollaborationEdge
from works.models import AuthorRecord, Authorship, WorkTopic

MAIN_TOPICS = 3


def namesakes(record: AuthorRecord) -> QuerySet[AuthorRecord]:
    """Every live person record with this record's name, itself included, most works first."""
    return (
        AuthorRecord.objects.live()
        .people()
        .filter(name_key=record.name_key)
        .order_by("-work_count", "id")
    )


def namesake_count(record: AuthorRecord) -> int:
    """How many live person records carry this record's name (itself included)."""
    if not record.is_person:
        return 0
    return namesakes(record).count()


@dataclass
class Distinguisher:
    """What tells one record apart from its namesakes, for a one-line summary."""

    topics: list[tuple[str, str]] = field(default_factory=list)  # (code, name), main first
    first_year: int | None = None
    last_year: int | None = None
    coauthor_name: str = ""
    coauthor_url: str = ""
    affiliation: str = ""

    @property
    def years(self) -> str:
        if self.first_year is None:
            return ""
        if self.first_year == self.last_year:
            return str(self.first_year)
        return f"{self.first_year}–{self.last_year}"


def distinguishers(records: list[AuthorRecord]) -> dict[int, Distinguisher]:
    """Record id → its distinguisher; four queries whatever the number of records."""
    ids = [r.pk for r in records]
    found = {r.pk: Distinguisher(affiliation=r.shown_affiliation) for r in records}
    if not ids:
        return found
    _add_topics(found, ids)
    _add_years(found, ids)
    _add_strongest_coauthors(found, ids)
    return found


def _add_topics(found: dict[int, Distinguisher], ids: list[int]) -> None:
    rows = (
        WorkTopic.objects.filter(work__authorships__author_id__in=ids)
        .values("work__authorships__author_id", "topic__code", "topic__name")
        .annotate(works=Count("work", distinct=True))
        .order_by("work__authorships__author_id", "-works", "topic__code")
    )
    by_record: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        shown = by_record[row["work__authorships__author_id"]]
        if len(shown) < MAIN_TOPICS:
            shown.append((row["topic__code"], row["topic__name"]))
    for record_id, topics in by_record.items():
        found[record_id].topics = topics


def _add_years(found: dict[int, Distinguisher], ids: list[int]) -> None:
    rows = (
        Authorship.objects.filter(author_id__in=ids, work__year__isnull=False)
        .values("author_id")
        .annotate(first=Min("work__year"), last=Max("work__year"))
    )
    for row in rows:
        found[row["author_id"]].first_year = row["first"]
        found[row["author_id"]].last_year = row["last"]


def _add_strongest_coauthors(found: dict[int, Distinguisher], ids: list[int]) -> None:
    strongest = (
        CollaborationEdge.objects.filter(author=OuterRef("pk"))
        .order_by("-weight", "coauthor_id")
        .values("coauthor_id")[:1]
    )
    top = dict(
        AuthorRecord.objects.filter(pk__in=ids)
        .annotate(top=Subquery(strongest))
        .exclude(top=None)
        .values_list("pk", "top")
    )
    coauthors = AuthorRecord.objects.in_bulk(set(top.values()))
    for record_id, coauthor_id in top.items():
        coauthor = coauthors.get(coauthor_id)
        if coauthor is not None:
            found[record_id].coauthor_name = coauthor.display_name
            found[record_id].coauthor_url = coauthor.get_absolute_url()
