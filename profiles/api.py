"""The read API's researchers part: search, detail, a researcher's works.

The detail is the API's hot path, built like the profile page a visitor without a session gets:
one query for the record and its latest trust snapshot's id, then a body rendered once and shared
from the cache under a key that holds every column of the record and that snapshot id (so a
change made through the app shows at once; homonyms and topics, which live in other rows, can lag
by at most ``DETAIL_CACHE_SECONDS``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

import orjson
from django.core.cache import cache
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from ninja import Field, Path, Query, Router, Schema

from bzpeer.lib.api import (
    ERRORS,
    ApiError,
    body_etag,
    decode_cursor,
    encode_cursor,
    json_response,
    last_modified_header,
)
from profiles import trust
from profiles.levels import ClaimState, Level
from profiles.models import Claim, TrustSnapshot
from profiles.public_links import public_links
from profiles.trust import record_with_latest_snapshot
from works import search
from works.api import (
    Addresses,
    PageParams,
    WorkPage,
    is_slug,
    page_out,
    record_or_redirect,
    works_page,
)
from works.models import AuthorRecord, Authorship, Topic, Work

router = Router(tags=["researchers"])

DETAIL_CACHE_SECONDS = 60
# A page of a researcher's works is rendered once per change of their works (see
# researcher_works); a co-author's renamed slug can lag this long (the old one redirects).
WORKS_CACHE_SECONDS = 10 * 60
# Homonyms listed in a detail; "Wei Wang" has hundreds, the rest are a search away.
MAX_HOMONYMS = 50
# Evidence rows per trust component in the detail ("Why this score?" on the site lists all).
EVIDENCE_ROWS = 8
# Search pages: the site search's own bound on how deep one can page.
MAX_SEARCH_OFFSET = 10_000
SLUG_EXAMPLES = ["zhengyan-zhang"]


# --- Schemas ---------------------------------------------------------------------------------


class ResearcherSummary(Schema):
    slug: str
    name: str
    kind: Literal["person", "organisation"]
    affiliation: str | None
    work_count: int
    verification_level: int
    url: str
    api_url: str


class ResearcherList(Schema):
    items: list[ResearcherSummary] = Field(description="Best match first")
    next_cursor: str | None
    next: str | None


class Verification(Schema):
    level: int = Field(ge=0, le=3)
    label: str = Field(examples=["L1"])
    name: str = Field(examples=["Public record"])


class Evidence(Schema):
    what: str
    source: str
    date: str


class TrustComponent(Schema):
    key: str
    label: str
    points: int
    cap: int
    explanation: str
    how_to_raise: str
    evidence_count: int
    evidence: list[Evidence] = Field(description=f"The first {EVIDENCE_ROWS} rows")


class Trust(Schema):
    score: int = Field(ge=0, le=100)
    band: Literal["Emerging", "Developing", "Established", "Trusted"]
    formula_version: str
    computed_at: dt.datetime
    components: list[TrustComponent]
    explanation_url: str = Field(description='"Why this score?" on the site, every evidence row')


class TrustPoint(Schema):
    computed_at: dt.datetime
    score: int
    band: str
    level: int


class TrustDetail(Schema):
    latest: Trust | None = Field(description="Every evidence row of every component")
    history: list[TrustPoint] = Field(description="Past snapshots, oldest first (the chart)")


class Counts(Schema):
    works: int
    followers: int
    topics: int
    close_collaborators: int


class ResearcherTopic(Schema):
    code: str
    name: str
    works: int = Field(description="The researcher's works in this category")
    primary_works: int = Field(description="...of which it is the primary category")
    url: str
    api_url: str


class Homonym(Schema):
    slug: str
    name: str
    url: str


class ResearcherLinks(Schema):
    works: str
    graph: str
    trust: str
    feed: str
    bibtex: str
    ris: str
    csl_json: str


class ResearcherDetail(Schema):
    slug: str
    name: str
    kind: Literal["person", "organisation"]
    description: str
    affiliation: str | None = Field(description="The owner's own words, else the metadata's")
    open_to_collaborate: bool
    verification: Verification
    claim_state: Literal["unclaimed", "pending", "claimed"]
    claim_state_label: str
    possibly_several_people: bool
    trust: Trust | None = Field(description="From the latest trust snapshot; null before one")
    counts: Counts
    topics: list[ResearcherTopic] = Field(description="Most works first")
    homonyms: list[Homonym] = Field(
        description=f"Other live records printed with the same name (at most {MAX_HOMONYMS})"
    )
    same_as: list[str] = Field(description="Public links to the same person (ORCID)")
    links: ResearcherLinks
    updated_at: dt.datetime
    url: str
    api_url: str


# --- Search --------------------------------------------------------------------------------


@router.get(
    "/researchers",
    response={200: ResearcherList, 304: None, **ERRORS},
    summary="Search researchers by name",
    operation_id="researcher_search",
)
def researcher_search(
    request: HttpRequest,
    q: str = Query(..., max_length=500, examples=["Zhengyan Zhang"], description="A name"),
    page: PageParams = Query(...),
):
    """The site search's matching (accents, case and word order folded; on PostgreSQL typos
    forgiven), best match first."""
    offset = 0
    if page.cursor:
        (offset,) = decode_cursor(page.cursor, length=1)
        if not isinstance(offset, int) or offset > MAX_SEARCH_OFFSET:
            raise ApiError(400, "The cursor is not one this API gave out; start again without it.")
    query = search.clean_query(q)
    found = list(search.researchers(query)[offset : offset + page.limit + 1]) if query else []
    next_cursor = None
    if len(found) > page.limit and offset + page.limit <= MAX_SEARCH_OFFSET:
        next_cursor = encode_cursor([offset + page.limit])
    links = Addresses(request)
    following = None
    if next_cursor:
        params = request.GET.copy()
        params["cursor"] = next_cursor
        following = f"{links.base}{request.path}?{params.urlencode()}"
    return {
        "items": [
            {
                "slug": record.slug,
                "name": record.display_name,
                "kind": record.kind,
                "affiliation": record.affiliation or None,
                "work_count": record.work_count,
                "verification_level": record.verification_level,
                **links.record_link(record.slug),
            }
            for record in found[: page.limit]
        ],
        "next_cursor": next_cursor,
        "next": following,
    }


# --- Detail --------------------------------------------------------------------------------


@router.get(
    "/researchers/{slug}",
    response={200: ResearcherDetail, 301: None, 304: None, **ERRORS},
    summary="A researcher",
    operation_id="researcher_detail",
    url_name="researcher_detail",
)
def researcher_detail(request: HttpRequest, slug: str = Path(..., examples=SLUG_EXAMPLES)):
    """Name, affiliation, level, claim state, trust score and band with its components (from
    the latest trust snapshot), counts, topics and homonyms. A merged record's or an old slug
    redirects (301) to the survivor."""
    found = record_with_latest_snapshot(slug) if is_slug(slug) else None
    record = record_or_redirect(request, slug, url_name="researcher_detail", found=found)
    if isinstance(record, HttpResponse):
        return record
    if found is None or found.pk != record.pk:
        # Reached through resolve_slug (not the hot path): load the snapshot id as the page does.
        record = record_with_latest_snapshot(record.slug)
    key = _detail_key(record, f"{request.scheme}://{request.get_host()}")
    cached = cache.get(key)
    if cached is None:
        detail = _detail(record, Addresses(request))
        body = orjson.dumps(ResearcherDetail.model_validate(detail).model_dump(mode="json"))
        cached = (body_etag(body), _last_change(record), body)
        cache.set(key, cached, DETAIL_CACHE_SECONDS)
    etag, last_modified, body = cached
    return json_response(request, body, etag=etag, last_modified=last_modified)


def _detail_key(record: AuthorRecord, base: str) -> str:
    state = [getattr(record, f.attname) for f in record._meta.concrete_fields]
    state += [record.latest_snapshot_id, base]
    digest = hashlib.blake2b(repr(state).encode(), digest_size=16).hexdigest()
    return f"api:researcher:v1:{record.pk}:{digest}"


def _last_change(record: AuthorRecord) -> dt.datetime:
    stamps = [record.updated_at, record.works_changed_at, getattr(record, "snapshot_at", None)]
    return max(stamp for stamp in stamps if stamp is not None)


def _detail(record: AuthorRecord, links: Addresses) -> dict:
    level = Level(record.verification_level)
    claim_state = ClaimState(record.claim_state)
    me = links.record_link(record.slug)
    score = _trust(record, me["url"])  # first: it stamps snapshot_at, read by _last_change
    return {
        "slug": record.slug,
        "name": record.display_name,
        "kind": record.kind,
        "description": record.shown_description,
        "affiliation": record.shown_affiliation or None,
        "open_to_collaborate": record.open_to_collaborate,
        "verification": {"level": int(level), "label": level.name, "name": level.label},
        "claim_state": claim_state.value,
        "claim_state_label": claim_state.label,
        "possibly_several_people": record.possibly_several_people,
        "trust": score,
        "counts": {
            "works": record.work_count,
            "followers": record.follower_count,
            "topics": record.topic_count,
            "close_collaborators": record.close_collaborator_count,
        },
        "topics": _topics(record, links),
        "homonyms": _homonyms(record, links),
        "same_as": public_links(approved=_approved_claim(record)),
        "links": {
            "works": f"{me['api_url']}/works",
            "graph": f"{me['api_url']}/graph",
            "trust": f"{me['api_url']}/trust",
            "feed": f"{me['url']}feed.atom",
            "bibtex": f"{me['url']}works.bib",
            "ris": f"{me['url']}works.ris",
            "csl_json": f"{me['url']}works.csl.json",
        },
        "updated_at": _last_change(record),
        **me,
    }


def _trust(record: AuthorRecord, page_url: str) -> dict | None:
    if not record.is_person or record.latest_snapshot_id is None:
        return None
    # The inputs (as large again as the components) are never shown.
    snapshot = TrustSnapshot.objects.defer("inputs").filter(pk=record.latest_snapshot_id).first()
    if snapshot is None:
        return None
    record.snapshot_at = snapshot.computed_at
    return _snapshot_out(snapshot, page_url, evidence_rows=EVIDENCE_ROWS)


def _snapshot_out(snapshot: TrustSnapshot, page_url: str, *, evidence_rows: int | None) -> dict:
    return {
        "score": snapshot.score,
        "band": snapshot.band,
        "formula_version": snapshot.formula_version,
        "computed_at": snapshot.computed_at,
        "components": [
            {
                "key": component["key"],
                "label": component["label"],
                "points": component["points"],
                "cap": component["cap"],
                "explanation": component.get("explanation", ""),
                "how_to_raise": component.get("how_to_raise", ""),
                "evidence_count": len(component.get("evidence", [])),
                "evidence": component.get("evidence", [])[:evidence_rows],
            }
            for component in snapshot.components
        ],
        "explanation_url": f"{page_url}trust/",
    }


def _topics(record: AuthorRecord, links: Addresses) -> list[dict]:
    own_works = Authorship.objects.filter(author=record).values("work_id")
    topics = (
        Topic.objects.filter(work_topics__work_id__in=own_works)
        .annotate(
            work_total=Count("work_topics__work", distinct=True),
            primary_total=Count(
                "work_topics__work", distinct=True, filter=Q(work_topics__is_primary=True)
            ),
        )
        .order_by("-work_total", "code")
    )
    return [
        {
            "code": topic.code,
            "name": topic.name,
            "works": topic.work_total,
            "primary_works": topic.primary_total,
            "url": f"{links.topic}{topic.code}/",
            "api_url": f"{links.api}/topics/{topic.code}",
        }
        for topic in topics
    ]


def _homonyms(record: AuthorRecord, links: Addresses) -> list[dict]:
    if not record.is_person or not record.name_key:
        return []
    others = (
        AuthorRecord.objects.live()
        .people()
        .filter(name_key=record.name_key)
        .exclude(pk=record.pk)
        .order_by("-work_count", "id")
        .only("slug", "display_name")[:MAX_HOMONYMS]
    )
    return [
        {"slug": other.slug, "name": other.display_name, "url": f"{links.record}{other.slug}/"}
        for other in others
    ]


def _approved_claim(record: AuthorRecord) -> Claim | None:
    if record.claim_state != AuthorRecord.ClaimState.CLAIMED:
        return None
    return Claim.objects.filter(record=record, state=Claim.State.APPROVED).first()


# --- Trust ---------------------------------------------------------------------------------


@router.get(
    "/researchers/{slug}/trust",
    response={200: TrustDetail, 301: None, 304: None, **ERRORS},
    summary="A researcher's trust score, with all its evidence",
    operation_id="researcher_trust",
    url_name="researcher_trust",
)
def researcher_trust(
    request: HttpRequest, response: HttpResponse, slug: str = Path(..., examples=SLUG_EXAMPLES)
):
    """What "Why this score?" and the score-history chart show: the latest snapshot's
    components with every evidence row, and the past scores (at most 60). Organisations have
    no score (404)."""
    record = record_or_redirect(request, slug, url_name="researcher_trust", people_only=True)
    if isinstance(record, HttpResponse):
        return record
    latest = trust.latest_snapshot(record, without=("inputs",))
    page_url = Addresses(request).record_link(record.slug)["url"]
    response["Last-Modified"] = last_modified_header(latest.computed_at if latest else None)
    return {
        "latest": _snapshot_out(latest, page_url, evidence_rows=None) if latest else None,
        "history": [
            {"computed_at": s.computed_at, "score": s.score, "band": s.band, "level": s.level}
            for s in trust.history(record)
        ],
    }


# --- Works ---------------------------------------------------------------------------------


@router.get(
    "/researchers/{slug}/works",
    response={200: WorkPage, 301: None, 304: None, **ERRORS},
    summary="A researcher's works, newest first",
    operation_id="researcher_works",
    url_name="researcher_works",
)
def researcher_works(
    request: HttpRequest,
    slug: str = Path(..., examples=SLUG_EXAMPLES),
    page: PageParams = Query(...),
):
    """Newest version first, then by id; next_cursor leads to the next page (stable while
    works are added: a cursor is a position, not an offset)."""
    record = record_or_redirect(request, slug, url_name="researcher_works")
    if isinstance(record, HttpResponse):
        return record
    # As the profile page's works list: the importer and the corrections stamp
    # works_changed_at and recount work_count, so both in the key make a change show at once.
    stamp = record.works_changed_at.timestamp() if record.works_changed_at else 0
    where = hashlib.blake2b(
        f"{request.scheme}://{request.get_host()}{request.get_full_path()}".encode(),
        digest_size=12,
    ).hexdigest()
    key = f"api:works:v1:{record.pk}:{record.work_count}:{stamp}:{where}"
    cached = cache.get(key)
    if cached is None:
        own_works = Work.objects.filter(
            id__in=Authorship.objects.filter(author=record).values("work_id")
        )
        works, next_cursor = works_page(own_works, cursor=page.cursor, limit=page.limit)
        body = orjson.dumps(
            WorkPage.model_validate(
                page_out(request, works, next_cursor, Addresses(request))
            ).model_dump(mode="json")
        )
        cached = (body_etag(body), body)
        cache.set(key, cached, WORKS_CACHE_SECONDS)
    etag, body = cached
    return json_response(request, body, etag=etag, last_modified=record.works_changed_at)
