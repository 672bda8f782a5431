"""Resumable harvest loops (pure: no Django models): each yields ``(page, checkpoint)`` pairs.

A page comes with the checkpoint naming the NEXT page to fetch. The caller stores the two
together (``works.runs`` writes both in one transaction) before it asks for the next pair, so a
harvest resumed from the last stored checkpoint fetches exactly the pages not stored yet. A
caller that stored a page but not its checkpoint repeats at most that page on restart, and never
skips one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from works.arxiv.records import OaiError, ParsedPage

log = logging.getLogger(__name__)


@dataclass
class Checkpoint:
    """Where an OAI harvest stands.

    ``resumption_token`` is the token of the next page to fetch ("" = start
    from ``from_date``, or finished when ``pages_done > 0``). ``last_datestamp``
    is the newest record datestamp seen so far (a good ``from_date`` for the
    next incremental harvest).
    """

    from_date: dt.date | None
    resumption_token: str = ""
    last_datestamp: dt.date | None = None
    pages_done: int = 0


def _max_datestamp(page: ParsedPage, current: dt.date | None) -> dt.date | None:
    stamps = [r.datestamp for r in page.records if r.datestamp is not None]
    if current is not None:
        stamps.append(current)
    return max(stamps) if stamps else None


def harvest_oai(
    client,
    *,
    checkpoint: Checkpoint,
    metadata_prefix: str = "arXivRaw",
    set_spec: str | None = None,
    until_date: dt.date | None = None,
    restart_from_last_datestamp: bool = False,
) -> Iterator[tuple[ParsedPage | None, Checkpoint]]:
    """Run (or resume) an OAI-PMH ListRecords harvest: each page with the checkpoint after it.

    A checkpoint with a token resumes from that token. If the server rejects
    the token (``badResumptionToken``: tokens expire), the harvest restarts
    once without a token from ``checkpoint.from_date``; a second rejection
    raises. The restart yields ``(None, checkpoint)`` before any page: that
    checkpoint, without the rejected token, is to be stored like the others, so
    a crash right after does not try the token again.
    ``restart_from_last_datestamp=True`` restarts from
    ``last_datestamp or from_date`` instead, which is faster but only safe if
    the server returns records in datestamp order: the legacy arXiv service
    did not (see oai_listrecords_arxivraw_page1_resumptiontoken.xml, where
    2014-12-22 comes before 2014-11-21), so it could skip records.
    """
    cp = dataclasses.replace(checkpoint)
    restarted = False
    while True:
        try:
            for page in client.list_records(
                metadata_prefix=metadata_prefix,
                from_date=cp.from_date,
                until_date=until_date,
                set_spec=set_spec,
                resumption_token=cp.resumption_token or None,
            ):
                cp = _after_page(cp, page)
                yield page, cp
            return
        except OaiError as exc:
            if exc.code != "badResumptionToken" or restarted or not cp.resumption_token:
                raise
            restarted = True
            cp = _restart(cp, exc, from_last_datestamp=restart_from_last_datestamp)
        yield None, cp


def _after_page(cp: Checkpoint, page: ParsedPage) -> Checkpoint:
    """The checkpoint once ``page`` is stored: it names the page after it."""
    return Checkpoint(
        from_date=cp.from_date,
        resumption_token=page.resumption_token or "",
        last_datestamp=_max_datestamp(page, cp.last_datestamp),
        pages_done=cp.pages_done + 1,
    )


def _restart(cp: Checkpoint, rejection: OaiError, *, from_last_datestamp: bool) -> Checkpoint:
    """The checkpoint that starts again without the token the server rejected."""
    restart_date = cp.from_date
    if from_last_datestamp:
        restart_date = cp.last_datestamp or cp.from_date
    log.warning(
        "OAI resumption token %r rejected (%s); restarting from %s",
        cp.resumption_token,
        rejection.message,
        restart_date,
    )
    return dataclasses.replace(cp, from_date=restart_date, resumption_token="")


def harvest_api(
    client,
    *,
    query: str | None = None,
    ids: Sequence[str] | None = None,
    checkpoint_offset: int = 0,
    page_size: int = 1000,
    max_results: int = 30000,
) -> Iterator[tuple[ParsedPage, int]]:
    """Page through the query API from ``checkpoint_offset``: each page with the next offset.

    ``max_results`` is the absolute end offset (results ``[0, max_results)``
    of the query), so resuming does not move the end: a harvest resumed at or
    past it yields nothing and sends no request.
    """
    if checkpoint_offset >= max_results:
        return
    yield from client.iter_query(
        query=query,
        ids=ids,
        start=checkpoint_offset,
        page_size=page_size,
        max_results=max_results - checkpoint_offset,
    )
