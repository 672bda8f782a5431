"""Lists of works as pages show them: a few columns and a short byline, in one query."""

from __future__ import annotations

from dataclasses import dataclass

from works.models import Authorship, Work

# Lists of works (topic, search) show a short byline.
BYLINE_AUTHORS = 3
LIST_FIELDS = ("arxiv_id", "title", "year", "kind", "journal_ref", "author_count")


@dataclass
class Byline:
    authorships: list[Authorship]
    more_count: int


@dataclass
class ListedWork:
    work: Work
    byline: Byline


def with_bylines(works: list[Work]) -> list[ListedWork]:
    """Works with their first authors, in one query whatever the list's length."""
    firsts = (
        Authorship.objects.filter(work__in=[w.id for w in works], position__lt=BYLINE_AUTHORS)
        .select_related("author")
        .only("work_id", "position", "printed_name", "author__slug")
        .order_by("work_id", "position")
    )
    by_work: dict[int, list[Authorship]] = {}
    for authorship in firsts if works else ():
        by_work.setdefault(authorship.work_id, []).append(authorship)
    listed = []
    for work in works:
        authorships = by_work.get(work.id, [])
        listed.append(
            ListedWork(work, Byline(authorships, max(work.author_count - len(authorships), 0)))
        )
    return listed
