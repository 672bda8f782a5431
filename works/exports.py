"""Citation exports: one work, or all of a researcher's works, as BibTeX, RIS or CSL-JSON.

A researcher's file is streamed in chunks of works, two queries a chunk, so a record with
thousands of works never sits in memory at once. In that file a work lists its first
``AUTHORS_IN_RESEARCHER_EXPORT`` authors and then "and others" (a 3,000-author detector paper
times a few hundred such papers would otherwise be millions of names); a single work's file
lists every author.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import orjson
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_safe

from works import citations
from works.api import is_identifier
from works.models import AuthorRecord, Authorship, Work
from works.records import record_from_slug

AUTHORS_IN_RESEARCHER_EXPORT = 500
WORKS_PER_CHUNK = 100
WORK_FIELDS = (
    "arxiv_id",
    "title",
    "abstract",
    "year",
    "updated",
    "doi",
    "journal_ref",
    "withdrawn",
    "primary_topic__code",
)

FORMATS: dict[str, tuple[str, str, Callable[[Iterable[citations.CitedWork]], Iterator[str]]]] = {
    "bib": ("bib", citations.BIBTEX_CONTENT_TYPE, citations.bibtex),
    "ris": ("ris", citations.RIS_CONTENT_TYPE, citations.ris),
    "csl.json": ("json", citations.CSL_JSON_CONTENT_TYPE, lambda works: _csl_json(works)),
}


def _csl_json(works: Iterable[citations.CitedWork]) -> Iterator[str]:
    yield "["
    for index, work in enumerate(works):
        item = orjson.dumps(citations.csl_item(work)).decode()
        yield ("," if index else "") + "\n" + item
    yield "\n]\n"


def cited(work: Work, authors: list[tuple[str, str]], *, total: int | None = None):
    """A work and its (printed name, record kind) pairs as a ``CitedWork``."""
    return citations.CitedWork(
        arxiv_id=work.arxiv_id,
        title=work.title,
        authors=[
            citations.CitedAuthor(name, kind == AuthorRecord.Kind.PERSON) for name, kind in authors
        ],
        year=work.year,
        updated=work.updated,
        primary_category=work.primary_topic.code if work.primary_topic else "",
        dois=work.doi_list,
        journal_ref=work.journal_ref,
        abstract=work.abstract,
        withdrawn=work.withdrawn,
        more_authors=total is not None and total > len(authors),
    )


def work_authors(work: Work) -> list[tuple[str, str]]:
    return list(
        Authorship.objects.filter(work=work)
        .order_by("position")
        .values_list("printed_name", "author__kind")
    )


def _download(content, fmt: str, name: str, *, streaming: bool = False) -> HttpResponse:
    extension, content_type, _ = FORMATS[fmt]
    response_class = StreamingHttpResponse if streaming else HttpResponse
    response = response_class(content, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{citations.filename(name, extension)}"'
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def work_citation(request: HttpRequest, arxiv_id: str, fmt: str) -> HttpResponse:
    work = (
        Work.objects.select_related("primary_topic").filter(arxiv_id=arxiv_id).first()
        if is_identifier(arxiv_id)
        else None
    )
    if work is None or fmt not in FORMATS:
        raise Http404("No work with this arXiv identifier has been imported.")
    write = FORMATS[fmt][2]
    return _download("".join(write([cited(work, work_authors(work))])), fmt, work.arxiv_id)


@require_safe
@record_from_slug("works:researcher-citations", people_only=False)
def researcher_citations(request: HttpRequest, record: AuthorRecord, fmt: str):
    write = FORMATS[fmt][2]
    return _download(write(_researcher_works(record)), fmt, record.slug, streaming=True)


def _researcher_works(record: AuthorRecord) -> Iterator[citations.CitedWork]:
    """Newest first, as the profile lists them, in chunks of WORKS_PER_CHUNK."""
    own = Authorship.objects.filter(author=record).values("work_id")
    ordered = (
        Work.objects.filter(id__in=own)
        .select_related("primary_topic")
        .order_by(F("year").desc(nulls_last=True), "title", "id")
        .only(*WORK_FIELDS, "author_count")
    )
    start = 0
    while True:
        chunk = list(ordered[start : start + WORKS_PER_CHUNK])
        if not chunk:
            return
        names: dict[int, list[tuple[str, str]]] = {}
        rows = (
            Authorship.objects.filter(
                work__in=[w.id for w in chunk], position__lt=AUTHORS_IN_RESEARCHER_EXPORT
            )
            .order_by("work_id", "position")
            .values_list("work_id", "printed_name", "author__kind")
        )
        for work_id, name, kind in rows:
            names.setdefault(work_id, []).append((name, kind))
        for work in chunk:
            yield cited(work, names.get(work.id, []), total=work.author_count)
        start += WORKS_PER_CHUNK
