"""Public pages of works and topics, and the site search."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from works import citations
from works import search as site_search
from works.api import is_identifier
from works.exports import cited
from works.models import AuthorRecord, Authorship, Topic, Work, WorkTopic

# A work page lists this many authors before "show all": a detector paper has
# 3,000, and nobody reads them in one go.
AUTHORS_ON_WORK_PAGE = 30
# Lists of works elsewhere (topic, search) show a short byline.
BYLINE_AUTHORS = 3
WORKS_PER_PAGE = 20
RESEARCHERS_PER_PAGE = 20
RESEARCHERS_ON_MIXED_RESULTS = 8
TOPIC_ACTIVE_RESEARCHERS = 12
# Counting a topic's authorships is a big GROUP BY on a large corpus; the
# answer changes slowly, so it is cached.
TOPIC_ACTIVE_CACHE_SECONDS = 15 * 60
LIST_FIELDS = ("arxiv_id", "title", "year", "kind", "journal_ref", "author_count")
# schema.org's author list on a work page stops here (the citation_author tags list everyone:
# reference managers build the citation from them).
JSON_LD_AUTHORS = 100

_VERSION_SUFFIX_RE = re.compile(r"^(?P<bare>.+)v\d+$")


@dataclass
class Byline:
    authorships: list[Authorship]
    more_count: int


@dataclass
class ListedWork:
    work: Work
    byline: Byline


@require_safe
def work_detail(request: HttpRequest, arxiv_id: str) -> TemplateResponse:
    if not is_identifier(arxiv_id):  # a NUL would make PostgreSQL raise
        raise Http404("No work with this arXiv identifier has been imported.")
    work = Work.objects.select_related("primary_topic").filter(arxiv_id=arxiv_id).first()
    if work is None:
        # arXiv's own links carry a version ("2501.12948v2"): one work here.
        versioned = _VERSION_SUFFIX_RE.match(arxiv_id)
        if versioned and Work.objects.filter(arxiv_id=versioned["bare"]).exists():
            return HttpResponsePermanentRedirect(
                Work(arxiv_id=versioned["bare"]).get_absolute_url()
            )
        raise Http404("No work with this arXiv identifier has been imported.")

    show_all_authors = request.GET.get("authors") == "all"
    authorships = (
        Authorship.objects.filter(work=work)
        .select_related("author")
        .only("position", "printed_name", "affiliation", "author__slug", "author__kind")
        .order_by("position")
    )
    if not show_all_authors:
        authorships = authorships[:AUTHORS_ON_WORK_PAGE]
    authorships = list(authorships)
    topics = list(
        WorkTopic.objects.filter(work=work)
        .select_related("topic")
        .order_by("-is_primary", "position")
    )
    # Every author's name, for the citation_author tags and the citations: one more query,
    # a 3,000-author paper reads 3,000 short rows.
    everyone = list(
        Authorship.objects.filter(work=work)
        .order_by("position")
        .values_list("printed_name", "author__kind", "author__slug")
    )
    citation = cited(work, [(name, kind) for name, kind, _ in everyone])
    preview = cited(
        work,
        [(name, kind) for name, kind, _ in everyone[:AUTHORS_ON_WORK_PAGE]],
        total=len(everyone),
    )
    context = {
        "work": work,
        "authorships": authorships,
        "hidden_author_count": max(work.author_count - len(authorships), 0),
        "versions": list(work.versions.all()),
        "work_topics": topics,
        "citation_authors": [
            ", ".join(part for part in author.parts if part) for author in citation.authors
        ],
        "citation_text": citations.plain_citation(citation),
        "bibtex_preview": citations.bibtex_entry(preview, citations.bibtex_key(preview)),
        "json_ld": _scholarly_article(request, work, topics, everyone),
    }
    return TemplateResponse(request, "works/detail.html", context)


def _scholarly_article(
    request: HttpRequest, work: Work, topics: list[WorkTopic], authors: list[tuple[str, str, str]]
) -> dict:
    """schema.org ScholarlyArticle for the work page (rendered by the jsonld filter)."""
    absolute = request.build_absolute_uri
    profiles = absolute(reverse("profiles:detail", args=["0"])[:-2])
    identifiers = [{"@type": "PropertyValue", "propertyID": "arXiv", "value": work.arxiv_id}]
    identifiers += [
        {"@type": "PropertyValue", "propertyID": "DOI", "value": doi} for doi in work.doi_list
    ]
    article = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "@id": absolute(work.get_absolute_url()),
        "url": absolute(work.get_absolute_url()),
        "name": work.title,
        "headline": work.title[:110],
        "abstract": work.abstract,
        "author": [
            {
                "@type": "Person" if kind == AuthorRecord.Kind.PERSON else "Organization",
                "name": name,
                "url": f"{profiles}{slug}/",
            }
            for name, kind, slug in authors[:JSON_LD_AUTHORS]
        ],
        "datePublished": work.submitted.date().isoformat() if work.submitted else None,
        "dateModified": work.updated.date().isoformat() if work.updated else None,
        "identifier": identifiers,
        "sameAs": [work.abs_url, *(f"https://doi.org/{doi}" for doi in work.doi_list)],
        "about": [
            {"@type": "DefinedTerm", "termCode": wt.topic.code, "name": wt.topic.name}
            for wt in topics
        ],
        "publisher": {"@type": "Organization", "name": "arXiv", "url": "https://arxiv.org/"},
        "isAccessibleForFree": True,
        "creativeWorkStatus": "Withdrawn" if work.withdrawn else "Published",
    }
    if work.license.startswith("http"):
        article["license"] = work.license
    return {key: value for key, value in article.items() if value is not None}


@require_safe
def topic_detail(request: HttpRequest, code: str) -> TemplateResponse:
    if not is_identifier(code):
        raise Http404("No topic with this code.")
    topic = get_object_or_404(Topic, code=code)
    page = _page_number(request)
    start = (page - 1) * WORKS_PER_PAGE
    rows = list(
        Work.objects.filter(work_topics__topic=topic)
        .only(*LIST_FIELDS)
        .newest_first()[start : start + WORKS_PER_PAGE + 1]
    )
    context = {
        "topic": topic,
        "active_researchers": _active_researchers(topic),
        "works": with_bylines(rows[:WORKS_PER_PAGE]),
        "page": page,
        "next_page": page + 1 if len(rows) > WORKS_PER_PAGE else None,
    }
    return TemplateResponse(request, "works/topic.html", context)


@require_safe
def search(request: HttpRequest) -> TemplateResponse:
    query = site_search.clean_query(request.GET.get("q"))
    kind = request.GET.get("type")
    kind = kind if kind in {"researchers", "works"} else "all"
    page = _page_number(request) if kind != "all" else 1
    context = {"query": query, "kind": kind, "page": page}
    if not query:
        return TemplateResponse(request, "search/results.html", context)

    if kind in {"all", "researchers"}:
        size = RESEARCHERS_PER_PAGE if kind == "researchers" else RESEARCHERS_ON_MIXED_RESULTS
        start = (page - 1) * size
        found = list(site_search.researchers(query)[start : start + size + 1])
        context["researchers"] = found[:size]
        context["more_researchers"] = len(found) > size
    if kind in {"all", "works"}:
        start = (page - 1) * WORKS_PER_PAGE
        found = list(site_search.works(query)[start : start + WORKS_PER_PAGE + 1])
        context["works"] = with_bylines(found[:WORKS_PER_PAGE])
        context["more_works"] = len(found) > WORKS_PER_PAGE
    return TemplateResponse(request, "search/results.html", context)


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


def _active_researchers(topic: Topic) -> list[AuthorRecord]:
    key = f"works:topic-active:{topic.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    active = list(
        AuthorRecord.objects.live()
        .people()
        .filter(authorships__work__work_topics__topic=topic)
        .annotate(works_in_topic=Count("authorships"))
        .only("slug", "display_name", "affiliation", "work_count")
        .order_by("-works_in_topic", "display_name", "id")[:TOPIC_ACTIVE_RESEARCHERS]
    )
    cache.set(key, active, TOPIC_ACTIVE_CACHE_SECONDS)
    return active


def _page_number(request: HttpRequest) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), 10_000)
