"""Public pages of works and topics."""

from __future__ import annotations

import re

from django.core.cache import cache
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from bzpeer.lib.paging import page_number
from works import citations
from works.catalogue_pages import shared_page
from works.exports import cited
from works.listing import LIST_FIELDS, with_bylines
from works.models import AuthorRecord, Authorship, Topic, Work, WorkTopic

# A work page lists this many authors before "show all": a detector paper has
# 3,000, and nobody reads them in one go.
AUTHORS_ON_WORK_PAGE = 30
WORKS_PER_PAGE = 20
TOPIC_ACTIVE_RESEARCHERS = 12
# Counting a topic's authorships is a big GROUP BY on a large corpus; the
# answer changes slowly, so it is cached.
TOPIC_ACTIVE_CACHE_SECONDS = 15 * 60
# schema.org's author list on a work page stops here (the citation_author tags list everyone:
# reference managers build the citation from them).
JSON_LD_AUTHORS = 100

_VERSION_SUFFIX_RE = re.compile(r"^(?P<bare>.+)v\d+$")
# No arXiv id or category code holds a control character, and PostgreSQL refuses a NUL in a
# text parameter (the driver raises, the page answered 500): such a path names nothing.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@require_safe
@shared_page("authors")
def work_detail(request: HttpRequest, arxiv_id: str) -> TemplateResponse:
    _refuse_control_characters(arxiv_id)
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
@shared_page("page")
def topic_detail(request: HttpRequest, code: str) -> TemplateResponse:
    _refuse_control_characters(code)
    topic = get_object_or_404(Topic, code=code)
    page = page_number(request)
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


def _refuse_control_characters(identifier: str) -> None:
    if _CONTROL_RE.search(identifier):
        raise Http404("No record has this identifier.")
