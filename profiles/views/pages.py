"""Public pages of author records: the profile page and the home page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from profiles import claims, follows, trust
from profiles.models import AuthorRecord, SlugRedirect
from works.models import Authorship, Work

WORKS_PER_PAGE = 20
# A work lists every author up to this many; a longer list shows the first
# LEADING_AUTHORS, the researcher wherever they sit, then "and N more". Two
# more names are cheaper to read than "and 2 more".
FULL_AUTHOR_LIST_MAX = 12
LEADING_AUTHORS = 9
# A chain of merges (A into B, B into C) is followed this far; a cycle, which
# only a broken admin edit could make, ends in a 404 instead of a loop.
MAX_MERGE_HOPS = 10
RECENT_RESEARCHERS_ON_HOME = 12


@dataclass
class AuthorLine:
    """The authors shown under a work: a few names, maybe a gap, then a count."""

    leading: list[Authorship] = field(default_factory=list)
    researcher_after_gap: Authorship | None = None
    more_count: int = 0


@dataclass
class WorkItem:
    work: Work
    authors: AuthorLine


def home(request: HttpRequest) -> TemplateResponse:
    recent = (
        AuthorRecord.objects.live()
        .people()
        .filter(works_changed_at__isnull=False)
        .order_by("-works_changed_at", "-work_count", "id")
        .only("slug", "display_name", "affiliation", "work_count", "kind")[
            :RECENT_RESEARCHERS_ON_HOME
        ]
    )
    return TemplateResponse(request, "home.html", {"recent_researchers": recent})


def researcher_detail(request: HttpRequest, slug: str):
    record = AuthorRecord.objects.filter(slug=slug).first()
    if record is None:
        redirect = SlugRedirect.objects.select_related("record").filter(old_slug=slug).first()
        if redirect is None:
            raise Http404("No researcher with this address.")
        return HttpResponsePermanentRedirect(_surviving(redirect.record).get_absolute_url())
    if record.merged_into_id:
        return HttpResponsePermanentRedirect(_surviving(record).get_absolute_url())

    page = _page_number(request)
    works, has_next = works_page(record, page=page)
    context = {
        "record": record,
        "work_items": works,
        "page": page,
        "first_position": (page - 1) * WORKS_PER_PAGE + 1,
        "next_page": page + 1 if has_next else None,
    }
    if request.htmx and request.htmx.target == "works-more":
        return TemplateResponse(request, "profiles/detail.html#works-more", context)

    if record.is_person:
        context |= trust.page_context(record)
        context |= follows.page_context(record, request.user)
        context |= claims.page_context(record, request.user)
    return TemplateResponse(request, "profiles/detail.html", context)


def works_page(record: AuthorRecord, *, page: int) -> tuple[list[WorkItem], bool]:
    """One page of the record's works with their shortened author lines: two queries."""
    own_work_ids = Authorship.objects.filter(author=record).values("work_id")
    start = (page - 1) * WORKS_PER_PAGE
    # One row past the page tells whether a next page exists without a COUNT
    # over a prolific author's thousands of works.
    rows = list(
        Work.objects.filter(id__in=own_work_ids)
        .newest_first()
        .defer("comments", "report_no", "license", "content_hash", "source")[
            start : start + WORKS_PER_PAGE + 1
        ]
    )
    has_next = len(rows) > WORKS_PER_PAGE
    rows = rows[:WORKS_PER_PAGE]
    return [
        WorkItem(work, line) for work, line in zip(rows, _author_lines(rows, record), strict=True)
    ], has_next


def _author_lines(works: list[Work], record: AuthorRecord) -> list[AuthorLine]:
    # The first names of each work and the researcher's own place, in ONE
    # query: a 3,000-author paper costs a dozen rows, not 3,000.
    shown = (
        Authorship.objects.filter(work__in=[w.id for w in works])
        .filter(Q(position__lt=FULL_AUTHOR_LIST_MAX) | Q(author=record))
        .select_related("author")
        .only(
            "work_id",
            "position",
            "printed_name",
            "author__slug",
            "author__display_name",
            "author__kind",
        )
        .order_by("work_id", "position")
    )
    by_work: dict[int, list[Authorship]] = {}
    for authorship in shown:
        by_work.setdefault(authorship.work_id, []).append(authorship)

    lines = []
    for work in works:
        authorships = by_work.get(work.id, [])
        total = max(work.author_count, len(authorships))
        if total <= FULL_AUTHOR_LIST_MAX:
            lines.append(AuthorLine(leading=authorships))
            continue
        leading = [a for a in authorships if a.position < LEADING_AUTHORS]
        own = next(
            (a for a in authorships if a.author_id == record.id and a.position >= LEADING_AUTHORS),
            None,
        )
        shown_count = len(leading) + (1 if own else 0)
        lines.append(
            AuthorLine(leading=leading, researcher_after_gap=own, more_count=total - shown_count)
        )
    return lines


def _surviving(record: AuthorRecord) -> AuthorRecord:
    seen = {record.pk}
    for _ in range(MAX_MERGE_HOPS):
        if record.merged_into_id is None:
            return record
        record = get_object_or_404(AuthorRecord, pk=record.merged_into_id)
        if record.pk in seen:
            break
        seen.add(record.pk)
    raise Http404("This record was merged, but its surviving record cannot be found.")


def _page_number(request: HttpRequest) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    # A page far past the end simply lists nothing; the bound keeps OFFSET sane.
    return min(max(page, 1), 10_000)
