"""Public pages of author records: the profile page and the home page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from bzpeer.lib.paging import page_number
from bzpeer.lib.visitor_pages import varies
from profiles import page_cache
from profiles.namesakes import namesake_count
from profiles.public_links import public_links
from profiles.trust import record_with_latest_snapshot
from profiles.views.sections import follow_section, identity_section, trust_section
from works.models import AuthorRecord, Authorship, Work
from works.records import record_from_slug

WORKS_PER_PAGE = 20
# A work lists every author up to this many; a longer list shows the first
# LEADING_AUTHORS, the researcher wherever they sit, then "and N more". Two
# more names are cheaper to read than "and 2 more".
FULL_AUTHOR_LIST_MAX = 12
LEADING_AUTHORS = 9
RECENT_RESEARCHERS_ON_HOME = 12
RECENT_RESEARCHERS_KEY = "profiles:home:recent:v1"
RECENT_RESEARCHERS_SECONDS = 60
WORKS_CACHE_SECONDS = 10 * 60
WORK_LIST_FIELDS = (
    "arxiv_id",
    "title",
    "abstract",
    "year",
    "kind",
    "journal_ref",
    "doi",
    "author_count",
)


@dataclass(frozen=True, slots=True)
class ShownAuthor:
    name: str
    url: str
    position: int
    is_researcher: bool


@dataclass
class AuthorLine:
    """The authors shown under a work: a few names, maybe a gap, then a count."""

    leading: list[ShownAuthor] = field(default_factory=list)
    researcher_after_gap: ShownAuthor | None = None
    more_count: int = 0


@dataclass
class WorkItem:
    work: Work
    url: str
    authors: AuthorLine


@require_safe
def home(request: HttpRequest) -> TemplateResponse:
    # A bulk import stamps thousands of records with the same time: picking the top
    # dozen means sorting all of them, so the list is computed once a minute.
    recent = cache.get(RECENT_RESEARCHERS_KEY)
    if recent is None:
        recent = list(
            AuthorRecord.objects.live()
            .people()
            .filter(works_changed_at__isnull=False)
            .order_by("-works_changed_at", "-work_count", "id")
            .only("slug", "display_name", "affiliation", "work_count", "kind")[
                :RECENT_RESEARCHERS_ON_HOME
            ]
        )
        cache.set(RECENT_RESEARCHERS_KEY, recent, RECENT_RESEARCHERS_SECONDS)
    return TemplateResponse(request, "home.html", {"recent_researchers": recent})


@require_safe
def researcher_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # Visitors without a session: the shared page, without asking the database at all.
    html = page_cache.cached_page(request)
    if html is not None:
        return varies(HttpResponse(html))
    return _researcher_detail(request, slug)


# Organisations ("DeepSeek-AI") have a page too: their works, without a person's sections.
@record_from_slug("profiles:detail", people_only=False, load=record_with_latest_snapshot)
def _researcher_detail(request: HttpRequest, record: AuthorRecord) -> HttpResponse:
    page = page_number(request)
    if request.htmx and request.htmx.target == "works-more":
        # "Show more": the next works and the next "Show more", appended in place.
        response = HttpResponse(published_works_html(record, page=page))
        patch_vary_headers(response, ["HX-Request", "HX-Target"])
        return response

    shared = page_cache.shareable(request)
    # Without a cache shared by every process, the record was loaded to be compared.
    html = page_cache.cached_page_for(request, record)
    if html is not None:
        return varies(HttpResponse(html))
    tokens = page_cache.tokens(record.pk) if shared else None
    context = {
        "record": record,
        "page": page,
        "first_position": (page - 1) * WORKS_PER_PAGE + 1,
        "works_html": published_works_html(record, page=page),
    }
    if record.is_person:
        context["namesake_count"] = namesake_count(record)
        context |= trust_section(record)
        context |= follow_section(record, request.user)
        context |= identity_section(record, request.user)
    approved = context["claim_panel"].approved if "claim_panel" in context else None
    context["json_ld"] = _person_json_ld(request, record, approved=approved)
    if not shared:
        return varies(TemplateResponse(request, "profiles/detail.html", context))
    # Stored with markers where the follower count goes: a follow then changes only that.
    response = TemplateResponse(
        request, "profiles/detail.html", {**context, "follower_markers": True}
    )
    marked = response.render().content.decode()
    # A page that asked for a CSRF token belongs to this visitor alone.
    if not request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        page_cache.store(request, record, tokens, marked)
    response.content = page_cache.fill(marked, record.follower_count)
    return varies(response)


def _person_json_ld(request: HttpRequest, record: AuthorRecord, *, approved) -> dict:
    """schema.org Person (Organization for an organisation's record) for search engines;
    ``sameAs`` lists the links profiles.public_links says are public."""
    url = request.build_absolute_uri(record.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "Person" if record.is_person else "Organization",
        "@id": url,
        "url": url,
        "name": record.display_name,
        "description": record.shown_description,
    }
    if record.is_person and record.shown_affiliation:
        data["affiliation"] = {"@type": "Organization", "name": record.shown_affiliation}
    same_as = public_links(approved=approved)
    if same_as:
        data["sameAs"] = same_as
    return data


def published_works_html(record: AuthorRecord, *, page: int) -> SafeString:
    """The rendered items of one page of works (and its "Show more"), cached.

    Rendering twenty works with their author lines is most of the profile page's cost,
    and it changes only when the record's works do: the importer and the corrections
    stamp ``works_changed_at`` and recount ``work_count``, so both are in the key. A
    co-author's renamed slug can stay stale for WORKS_CACHE_SECONDS; the old slug
    redirects meanwhile.
    """
    stamp = record.works_changed_at.timestamp() if record.works_changed_at else 0
    key = f"profiles:works:v1:{record.pk}:{record.work_count}:{stamp}:{page}"
    html = cache.get(key)
    if html is None:
        items, has_next = works_page(record, page=page)
        html = render_to_string(
            "profiles/detail.html#works-page",
            {
                "record": record,
                "work_items": items,
                "page": page,
                "next_page": page + 1 if has_next else None,
            },
        )
        cache.set(key, str(html), WORKS_CACHE_SECONDS)
    # Our own template's output, escaped when it was rendered (a cache backend may
    # hand back a plain str).
    return mark_safe(html)  # noqa: S308


def works_page(record: AuthorRecord, *, page: int) -> tuple[list[WorkItem], bool]:
    """One page of the record's works with their shortened author lines: three queries."""
    own_work_ids = Authorship.objects.filter(author=record).values("work_id")
    start = (page - 1) * WORKS_PER_PAGE
    # Newest first as Work.objects.newest_first(), but NULLS LAST, which the work_newest
    # index cannot provide: PostgreSQL then reads the researcher's few thousand works
    # through their authorships and sorts them (milliseconds on any page), instead of
    # walking the whole corpus in index order until it has found page N of them.
    # One row past the page tells whether a next page exists without a COUNT.
    rows = list(
        Work.objects.filter(id__in=own_work_ids)
        .order_by(F("year").desc(nulls_last=True), "title", "id")
        .only(*WORK_LIST_FIELDS)[start : start + WORKS_PER_PAGE + 1]
    )
    has_next = len(rows) > WORKS_PER_PAGE
    rows = rows[:WORKS_PER_PAGE]
    # URLs built from one reversed prefix: reverse() for each of 200 names cost more
    # than the queries. arXiv ids and slugs are URL-safe as they are.
    works_prefix = reverse("works:detail", args=["0"])[:-2]
    return [
        WorkItem(work, f"{works_prefix}{work.arxiv_id}/", line)
        for work, line in zip(rows, _author_lines(rows, record), strict=True)
    ], has_next


def _author_lines(works: list[Work], record: AuthorRecord) -> list[AuthorLine]:
    if not works:
        return []
    # The first names of each work and the researcher's own place, in ONE query: a
    # 3,000-author paper costs a dozen rows, not 3,000. No join to the records here:
    # with a 500-author paper on the page PostgreSQL expects thousands of rows and
    # would hash the whole record table; the slugs come in a second, keyed query.
    shown = list(
        Authorship.objects.filter(work__in=[w.id for w in works])
        .filter(Q(position__lt=FULL_AUTHOR_LIST_MAX) | Q(author=record))
        .order_by("work_id", "position")
        .values_list("work_id", "position", "author_id", "printed_name")
    )
    slugs = dict(
        AuthorRecord.objects.filter(id__in={row[2] for row in shown}).values_list("id", "slug")
    )
    profiles_prefix = reverse("profiles:detail", args=["0"])[:-2]
    by_work: dict[int, list[ShownAuthor]] = {}
    for work_id, position, author_id, printed_name in shown:
        slug = slugs.get(author_id)
        by_work.setdefault(work_id, []).append(
            ShownAuthor(
                name=printed_name,
                url=f"{profiles_prefix}{slug}/" if slug else "",
                position=position,
                is_researcher=author_id == record.id,
            )
        )

    lines = []
    for work in works:
        authors = by_work.get(work.id, [])
        total = max(work.author_count, len(authors))
        if total <= FULL_AUTHOR_LIST_MAX:
            lines.append(AuthorLine(leading=authors))
            continue
        leading = [a for a in authors if a.position < LEADING_AUTHORS]
        own = next((a for a in authors if a.is_researcher and a.position >= LEADING_AUTHORS), None)
        shown_count = len(leading) + (1 if own else 0)
        lines.append(
            AuthorLine(leading=leading, researcher_after_gap=own, more_count=total - shown_count)
        )
    return lines
