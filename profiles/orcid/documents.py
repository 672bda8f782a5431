"""ORCID public API v3.0 documents read into plain dataclasses. Pure: no Django, no HTTP.

`/{orcid}/works` answers a works summary: ``group[]``, one group per work (ORCID groups the
summaries that share an identifier), each with ``external-ids.external-id[]`` (type, value,
normalised value, relationship) and ``work-summary[]`` (title, put-code, its own external ids).
`/{orcid}/record` answers the whole public record; its ``person.name`` (given names, family
name, credit name) and ``person.other-names`` are the names the holder shows.

Identifiers that count: ``arxiv`` and ``doi`` whose relationship is ``self`` (the work itself)
or ``version-of`` (ORCID's way to tie a journal article to its arXiv preprint, which is the work
BZPEER holds). ``part-of`` (a book's ISBN on a chapter, a journal's ISSN) and ``funded-by`` name
something else. A DOI arXiv registered for a preprint (``10.48550/arXiv.2101.00001``) counts as
that arXiv id.

Who put a work there matters: anyone can type any arXiv id into their own ORCID record, or pick
any DOI in a search-and-link wizard. A summary whose ``source`` is a member organisation's client
(``source-client-id``: Crossref or DataCite auto-update, a publisher, a university) acting on
its own, not on the holder's behalf (no ``assertion-origin-orcid``), was asserted by a third
party that knows the work: `OrcidWork.asserted_by` names it. Works only the holder asserted have
``asserted_by == ""``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from works.arxiv.parsers import normalise_arxiv_id
from works.arxiv.records import ArxivFormatError

# Relationships whose identifier names the work itself (or a version of it).
COUNTED_RELATIONSHIPS = frozenset({"self", "version-of", ""})
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|doi\.org/)", re.IGNORECASE)
_DOI_SHAPE = re.compile(r"10\.\d{4,9}/\S+")
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(.+)", re.IGNORECASE)
_ARXIV_ORG = re.compile(r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/", re.IGNORECASE)


class OrcidDocumentError(ValueError):
    """The JSON is not the document the endpoint documents (a list, a string, no groups)."""


def normalise_doi(value: str) -> str | None:
    """``https://doi.org/10.1000/ABC`` -> ``10.1000/abc`` (DOIs are case-insensitive), or None."""
    text = _DOI_PREFIX.sub("", (value or "").strip(), count=1).strip().lower()
    return text if _DOI_SHAPE.fullmatch(text) else None


def normalise_arxiv(value: str) -> str | None:
    """An arXiv id as BZPEER stores it (no version, no prefix, old ids without their subject
    class), from what ORCID holds: ``arXiv:2101.00001v2``, ``https://arxiv.org/abs/...``,
    ``hep-th/9901001``. None when it is not an arXiv id."""
    text = (value or "").strip()
    if _ARXIV_ORG.match(text) and "/abs/" not in text and "/pdf/" not in text:
        return None
    try:
        arxiv_id, _version = normalise_arxiv_id(text)
    except ArxivFormatError:
        # ORCID users type ids in every case ("ARXIV:HEP-TH/9901001").
        try:
            arxiv_id, _version = normalise_arxiv_id(text.lower())
        except ArxivFormatError:
            return None
    return arxiv_id


@dataclass(frozen=True)
class OrcidWork:
    """One work (one group) of an ORCID record, with its normalised identifiers."""

    title: str
    arxiv_ids: frozenset[str]
    dois: frozenset[str]
    put_code: int | None = None
    # The member organisation that added it (a registry or publisher), "" when only the holder
    # (or a wizard acting for them) did.
    asserted_by: str = ""

    @property
    def has_identifiers(self) -> bool:
        return bool(self.arxiv_ids or self.dois)


@dataclass(frozen=True)
class OrcidPerson:
    """The public names of an ORCID record."""

    orcid: str
    given_names: str = ""
    family_name: str = ""
    credit_name: str = ""
    other_names: tuple[str, ...] = ()

    @property
    def display_name(self) -> str:
        return self.credit_name or " ".join(p for p in (self.given_names, self.family_name) if p)

    @property
    def names(self) -> list[str]:
        """Every form of the name the record shows, the main one first, without repeats."""
        found = [
            " ".join(p for p in (self.given_names, self.family_name) if p),
            self.credit_name,
            *self.other_names,
        ]
        return list(dict.fromkeys(name.strip() for name in found if name and name.strip()))


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    """ORCID wraps strings as {"value": "..."}; anything else reads as ''."""
    if isinstance(value, dict):
        value = value.get("value")
    return value.strip() if isinstance(value, str) else ""


def _identifiers(external_ids: Any) -> tuple[set[str], set[str]]:
    arxiv_ids: set[str] = set()
    dois: set[str] = set()
    for item in _list(_dict(external_ids).get("external-id")):
        item = _dict(item)
        relationship = str(item.get("external-id-relationship") or "").lower()
        if relationship not in COUNTED_RELATIONSHIPS:
            continue
        kind = str(item.get("external-id-type") or "").lower()
        values = [_text(item.get("external-id-normalized")), _text(item.get("external-id-value"))]
        for value in filter(None, values):
            if kind == "arxiv":
                if found := normalise_arxiv(value):
                    arxiv_ids.add(found)
            elif kind == "doi" and (doi := normalise_doi(value)):
                arxiv = _ARXIV_DOI.fullmatch(doi)
                found = normalise_arxiv(arxiv.group(1)) if arxiv else None
                if found:
                    arxiv_ids.add(found)
                else:
                    dois.add(doi)
    return arxiv_ids, dois


def _third_party_source(summary: dict) -> str:
    """The name of the member organisation that asserted this summary on its own, or ''."""
    source = _dict(summary.get("source"))
    if not _dict(source.get("source-client-id")).get("path"):
        return ""  # the holder, or a trusted individual, typed it
    if _dict(source.get("assertion-origin-orcid")).get("path"):
        return ""  # a wizard acting for the holder (search and link): still the holder's word
    return _text(source.get("source-name")) or "an ORCID member organisation"


def parse_works(document: Any) -> list[OrcidWork]:
    """The works of a works summary (`/works`, or a record's ``activities-summary.works``)."""
    if not isinstance(document, dict) or not isinstance(document.get("group", []), list):
        raise OrcidDocumentError("not an ORCID works summary (no list of groups)")
    works = []
    for group in _list(document.get("group")):
        group = _dict(group)
        arxiv_ids, dois = _identifiers(group.get("external-ids"))
        summaries = [_dict(s) for s in _list(group.get("work-summary"))]
        for summary in summaries:
            more_arxiv, more_dois = _identifiers(summary.get("external-ids"))
            arxiv_ids |= more_arxiv
            dois |= more_dois
        first = summaries[0] if summaries else {}
        title = _text(_dict(first.get("title")).get("title"))
        put_code = first.get("put-code")
        asserted_by = next(filter(None, map(_third_party_source, summaries)), "")
        works.append(
            OrcidWork(
                title=title[:500],
                arxiv_ids=frozenset(arxiv_ids),
                dois=frozenset(dois),
                put_code=put_code if isinstance(put_code, int) else None,
                asserted_by=asserted_by[:200],
            )
        )
    return works


def parse_person(document: Any, *, orcid: str) -> OrcidPerson:
    """The names of a public record (`/record`); empty names when the holder hides them."""
    if not isinstance(document, dict):
        raise OrcidDocumentError("not an ORCID record (not a JSON object)")
    path = _dict(document.get("orcid-identifier")).get("path")
    if path is not None and path != orcid:
        raise OrcidDocumentError(f"the record answered is {path!r}, not {orcid!r}")
    person = _dict(document.get("person"))
    name = _dict(person.get("name"))
    other_names = tuple(
        _text(_dict(item).get("content"))
        for item in _list(_dict(person.get("other-names")).get("other-name"))
    )
    return OrcidPerson(
        orcid=orcid,
        given_names=_text(name.get("given-names"))[:200],
        family_name=_text(name.get("family-name"))[:200],
        credit_name=_text(name.get("credit-name"))[:200],
        other_names=tuple(n[:200] for n in other_names if n)[:20],
    )
