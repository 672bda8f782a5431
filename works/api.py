"""The read API's records part: works and topics (``/api/v1/works/...``, ``/api/v1/topics/...``).

Also the pieces the researcher endpoints above reuse: the work summary schema, one page of works
newest first behind a cursor (``works_page``) and their summaries in a constant number of queries
(``summaries``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import reverse
from ninja import Field, Path, Query, Router, Schema

from bzpeer.lib.api import (
    ERRORS,
    cursor_datetime,
    cursor_id,
    decode_cursor,
    encode_cursor,
    last_modified_header,
)
from works.models import AuthorRecord, Authorship, Topic, Work, WorkTopic
from works.records import resolve_slug

router = Router(tags=["works and topics"])

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# A work in a list names its first authors; its own endpoint names all of them.
AUTHORS_IN_SUMMARY = 10
# What a stored id can be: the model's max_length, printable characters. Anything else (a NUL,
# a control character, a 5,000-character path) is a 404 before it reaches the database, where
# PostgreSQL would refuse a NUL with an error.
_IDENTIFIER_RE = re.compile(r"^[^\x00-\x1f\x7f\s]{1,40}$")
_VERSION_SUFFIX_RE = re.compile(r"^(?P<bare>.+)v\d+$")
_SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,120}$")

ARXIV_ID_EXAMPLES = ["2109.11797", "hep-th/9901001"]
TOPIC_EXAMPLES = ["cs.CL"]


# --- Schemas ---------------------------------------------------------------------------------


class RecordLink(Schema):
    slug: str
    url: str = Field(description="The researcher's page on this site")
    api_url: str


class AuthorOut(Schema):
    position: int = Field(description="0-based place in the author list as printed")
    name: str = Field(description="The name as printed on the paper")
    affiliation: str | None = Field(description="As printed on this paper, when given")
    record: RecordLink | None = Field(description="The author record this signature belongs to")


class CategoryOut(Schema):
    code: str = Field(examples=["cs.CL"])
    name: str
    primary: bool
    url: str
    api_url: str


class WorkSummary(Schema):
    arxiv_id: str = Field(examples=["2109.11797"])
    title: str = Field(description="As printed on arXiv (LaTeX kept)")
    year: int | None = Field(description="Year of the latest version")
    updated: dt.datetime | None = Field(description="Date of the latest version")
    kind: Literal["preprint", "article", "withdrawn"]
    withdrawn: bool
    venue: str = Field(description='The journal reference, or "arXiv"')
    dois: list[str]
    primary_category: str | None
    author_count: int
    authors: list[AuthorOut] = Field(description=f"The first {AUTHORS_IN_SUMMARY} authors")
    url: str
    api_url: str


class VersionOut(Schema):
    number: int
    submitted: dt.datetime
    size_kb: int | None


class WorkLinks(Schema):
    arxiv: str
    pdf: str
    doi: list[str]
    bibtex: str
    ris: str
    csl_json: str


class WorkDetail(Schema):
    arxiv_id: str
    version: int = Field(description="Latest version imported")
    title: str
    abstract: str
    comments: str
    journal_ref: str
    dois: list[str]
    report_no: str
    license: str
    kind: Literal["preprint", "article", "withdrawn"]
    withdrawn: bool
    year: int | None
    submitted: dt.datetime | None = Field(description="Date of version 1")
    updated: dt.datetime | None = Field(description="Date of the latest version")
    categories: list[CategoryOut] = Field(description="Primary category first")
    versions: list[VersionOut]
    author_count: int
    authors: list[AuthorOut] = Field(description="Every author, in printed order")
    links: WorkLinks
    url: str
    api_url: str


class WorkPage(Schema):
    items: list[WorkSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")
    next: str | None = Field(description="The next page's address")


class TopicOut(Schema):
    code: str
    name: str
    group: str
    url: str
    api_url: str
    works_url: str = Field(description="Its works, newest first (API)")
    feed_url: str = Field(description="Atom feed of its new works")


class TopicList(Schema):
    items: list[TopicOut]


class PageParams(Schema):
    cursor: str | None = Field(None, max_length=200, description="From the previous page")
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page")


# --- Addresses -------------------------------------------------------------------------------


class Addresses:
    """Absolute addresses built from one reversed prefix each (reverse() per item is slow)."""

    def __init__(self, request: HttpRequest):
        self.base = request.build_absolute_uri("/")[:-1]
        self.work = self.base + reverse("works:detail", args=["0"])[:-2]
        self.topic = self.base + reverse("works:topic", args=["0"])[:-2]
        self.record = self.base + reverse("profiles:detail", args=["0"])[:-2]
        self.api = self.base + reverse("api:openapi-json").rsplit("/", 1)[0]

    def work_url(self, arxiv_id: str) -> str:
        return f"{self.work}{arxiv_id}/"

    def work_api(self, arxiv_id: str) -> str:
        return f"{self.api}/works/{arxiv_id}"

    def record_link(self, slug: str) -> dict:
        return {
            "slug": slug,
            "url": f"{self.record}{slug}/",
            "api_url": f"{self.api}/researchers/{slug}",
        }

    def topic_out(self, topic: Topic) -> dict:
        return {
            "code": topic.code,
            "name": topic.name,
            "group": topic.group,
            "url": f"{self.topic}{topic.code}/",
            "api_url": f"{self.api}/topics/{topic.code}",
            "works_url": f"{self.api}/topics/{topic.code}/works",
            "feed_url": f"{self.topic}{topic.code}/feed.atom",
        }


def is_identifier(value: str) -> bool:
    return bool(_IDENTIFIER_RE.match(value))


def is_slug(value: str) -> bool:
    return bool(_SLUG_RE.match(value))


def record_or_redirect(
    request: HttpRequest,
    slug: str,
    *,
    url_name: str,
    people_only: bool = False,
    found: AuthorRecord | None = None,
) -> AuthorRecord | HttpResponse:
    """The live record at ``slug``, or a 301 to the same operation for the survivor's slug
    (a merged record, an old slug), or Http404. ``found`` as in ``resolve_slug``."""
    if not is_slug(slug):
        raise Http404("No researcher with this address.")
    record = found if found is not None and not found.merged_into_id else None
    if record is None:
        record = resolve_slug(slug, found=found)
    if record is None or (people_only and not record.is_person):
        raise Http404("No researcher with this address.")
    if record.slug != slug:
        url = reverse(f"api:{url_name}", kwargs={"slug": record.slug})
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)
    return record


# --- Pages of works --------------------------------------------------------------------------

SUMMARY_FIELDS = (
    "arxiv_id",
    "title",
    "year",
    "updated",
    "kind",
    "withdrawn",
    "journal_ref",
    "doi",
    "author_count",
    "primary_topic__code",
)


def newest_first(works: QuerySet[Work]) -> QuerySet[Work]:
    """Latest version first; works without a date last; the id breaks ties (the cursor's key)."""
    return works.order_by(F("updated").desc(nulls_last=True), "-id")


def works_page(
    works: QuerySet[Work], *, cursor: str | None, limit: int
) -> tuple[list[Work], str | None]:
    """One page of ``works`` newest first, after ``cursor``, and the next page's cursor."""
    if cursor:
        updated_raw, last_id = decode_cursor(cursor, length=2)
        updated, last_id = cursor_datetime(updated_raw), cursor_id(last_id)
        if updated is None:
            works = works.filter(updated__isnull=True, id__lt=last_id)
        else:
            works = works.filter(
                Q(updated__lt=updated)
                | Q(updated=updated, id__lt=last_id)
                | Q(updated__isnull=True)
            )
    rows = list(
        newest_first(works).select_related("primary_topic").only(*SUMMARY_FIELDS)[: limit + 1]
    )
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(
        [last.updated.isoformat() if last.updated else None, last.id]
    )


def summaries(works: list[Work], links: Addresses) -> list[dict]:
    """The works with their first authors: two queries whatever the number of works."""
    shown = list(
        Authorship.objects.filter(work__in=[w.id for w in works], position__lt=AUTHORS_IN_SUMMARY)
        .order_by("work_id", "position")
        .values_list("work_id", "position", "author_id", "printed_name", "affiliation")
        if works
        else ()
    )
    # Slugs by id in a second keyed query: joining the records here makes PostgreSQL hash
    # the whole record table when a 500-author paper is on the page (profiles.views.pages).
    slugs = dict(
        AuthorRecord.objects.filter(id__in={row[2] for row in shown}).values_list("id", "slug")
        if shown
        else ()
    )
    by_work: dict[int, list[dict]] = {}
    for work_id, position, author_id, name, affiliation in shown:
        slug = slugs.get(author_id)
        by_work.setdefault(work_id, []).append(
            {
                "position": position,
                "name": name,
                "affiliation": affiliation or None,
                "record": links.record_link(slug) if slug else None,
            }
        )
    return [_summary(work, by_work.get(work.id, []), links) for work in works]


def _summary(work: Work, authors: list[dict], links: Addresses) -> dict:
    return {
        "arxiv_id": work.arxiv_id,
        "title": work.title,
        "year": work.year,
        "updated": work.updated,
        "kind": work.kind,
        "withdrawn": work.withdrawn,
        "venue": work.venue,
        "dois": work.doi_list,
        "primary_category": work.primary_topic.code if work.primary_topic else None,
        "author_count": work.author_count,
        "authors": authors,
        "url": links.work_url(work.arxiv_id),
        "api_url": links.work_api(work.arxiv_id),
    }


def page_out(
    request: HttpRequest, works: list[Work], next_cursor: str | None, links: Addresses
) -> dict:
    following = None
    if next_cursor:
        query = request.GET.copy()
        query["cursor"] = next_cursor
        following = f"{links.base}{request.path}?{query.urlencode()}"
    return {"items": summaries(works, links), "next_cursor": next_cursor, "next": following}


def latest_change(works: list[Work]) -> dt.datetime | None:
    return max((w.updated for w in works if w.updated), default=None)


# --- Operations ------------------------------------------------------------------------------


@router.get(
    "/works/{path:arxiv_id}",
    response={200: WorkDetail, 301: None, 304: None, **ERRORS},
    summary="A work",
    operation_id="work_detail",
    url_name="work_detail",
)
def work_detail(
    request: HttpRequest,
    response: HttpResponse,
    arxiv_id: str = Path(..., examples=ARXIV_ID_EXAMPLES, description="arXiv id, no version"),
):
    """Everything the work's page shows: authors linked to their records, versions,
    categories, DOIs, withdrawn state. A versioned id (2109.11797v2) redirects to the work."""
    work = _work_or_redirect(arxiv_id)
    if isinstance(work, HttpResponse):
        return work
    links = Addresses(request)
    response["Last-Modified"] = last_modified_header(work.changed_at)
    site = links.work_url(work.arxiv_id)
    return {
        **{field: getattr(work, field) for field in _DETAIL_FIELDS},
        "dois": work.doi_list,
        "categories": _detail_categories(work, links),
        "versions": list(work.versions.values("number", "submitted", "size_kb")),
        "authors": _detail_authors(work, links),
        "links": _detail_links(work, site),
        "url": site,
        "api_url": links.work_api(work.arxiv_id),
    }


# The work's own columns that the detail hands out as they are.
_DETAIL_FIELDS = (
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "comments",
    "journal_ref",
    "report_no",
    "license",
    "kind",
    "withdrawn",
    "year",
    "submitted",
    "updated",
    "author_count",
)


def _detail_categories(work: Work, links: Addresses) -> list[dict]:
    categories = (
        WorkTopic.objects.filter(work=work)
        .select_related("topic")
        .order_by("-is_primary", "position")
    )
    return [{**links.topic_out(wt.topic), "primary": wt.is_primary} for wt in categories]


def _detail_authors(work: Work, links: Addresses) -> list[dict]:
    authorships = (
        Authorship.objects.filter(work=work)
        .select_related("author")
        .only("position", "printed_name", "affiliation", "author__slug")
        .order_by("position")
    )
    return [
        {
            "position": a.position,
            "name": a.printed_name,
            "affiliation": a.affiliation or None,
            "record": links.record_link(a.author.slug),
        }
        for a in authorships
    ]


def _detail_links(work: Work, site: str) -> dict:
    return {
        "arxiv": work.abs_url,
        "pdf": work.pdf_url,
        "doi": [f"https://doi.org/{doi}" for doi in work.doi_list],
        "bibtex": f"{site}cite.bib",
        "ris": f"{site}cite.ris",
        "csl_json": f"{site}cite.csl.json",
    }


def _work_or_redirect(arxiv_id: str) -> Work | HttpResponse:
    if not is_identifier(arxiv_id):
        raise Http404("No work with this arXiv identifier has been imported.")
    work = Work.objects.filter(arxiv_id=arxiv_id).first()
    if work is not None:
        return work
    versioned = _VERSION_SUFFIX_RE.match(arxiv_id)
    if versioned and Work.objects.filter(arxiv_id=versioned["bare"]).exists():
        return HttpResponsePermanentRedirect(
            reverse("api:work_detail", kwargs={"arxiv_id": versioned["bare"]})
        )
    raise Http404("No work with this arXiv identifier has been imported.")


@router.get(
    "/topics",
    response={200: TopicList, 304: None, **ERRORS},
    summary="Every topic",
    operation_id="topic_list",
)
def topic_list(request: HttpRequest):
    """The arXiv categories that imported works carry, by code."""
    links = Addresses(request)
    return {"items": [links.topic_out(topic) for topic in Topic.objects.order_by("code")]}


@router.get(
    "/topics/{code}",
    response={200: TopicOut, 304: None, **ERRORS},
    summary="A topic",
    operation_id="topic_detail",
    url_name="topic_detail",
)
def topic_detail(request: HttpRequest, code: str = Path(..., examples=TOPIC_EXAMPLES)):
    return Addresses(request).topic_out(_topic(code))


@router.get(
    "/topics/{code}/works",
    response={200: WorkPage, 304: None, **ERRORS},
    summary="A topic's works, newest first",
    operation_id="topic_works",
)
def topic_works(
    request: HttpRequest,
    response: HttpResponse,
    code: str = Path(..., examples=TOPIC_EXAMPLES),
    page: PageParams = Query(...),
):
    topic = _topic(code)
    works, next_cursor = works_page(
        Work.objects.filter(work_topics__topic=topic), cursor=page.cursor, limit=page.limit
    )
    response["Last-Modified"] = last_modified_header(latest_change(works))
    return page_out(request, works, next_cursor, Addresses(request))


def _topic(code: str) -> Topic:
    topic = Topic.objects.filter(code=code).first() if is_identifier(code) else None
    if topic is None:
        raise Http404("No topic with this code.")
    return topic
