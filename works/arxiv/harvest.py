"""Resumable harvest loops (pure: no Django models, everything via callbacks).

Order per page: ``on_page(page)`` first (the importer upserts idempotently),
THEN the checkpoint naming the NEXT page is saved. A crash between the two
therefore repeats at most one page on restart and never skips one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence
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
    on_page: Callable[[ParsedPage], None],
    save_checkpoint: Callable[[Checkpoint], None],
    metadata_prefix: str = "arXivRaw",
    set_spec: str | None = None,
    until_date: dt.date | None = None,
    restart_from_last_datestamp: bool = False,
) -> Checkpoint:
    """Run (or resume) an OAI-PMH ListRecords harvest; return the final checkpoint.

    A checkpoint with a token resumes from that token. If the server rejects
    the token (``badResumptionToken``: tokens expire), the harvest restarts
    once without a token from ``checkpoint.from_date``; a second rejection
    raises. ``restart_from_last_datestamp=True`` restarts from
    ``last_datestamp or from_date`` instead, which is faster but only safe if
    the server returns records in datestamp order: the legacy arXiv service
    did not (see oai_listrecords_arxivraw_page1_resumptiontoken.xml, where
    2014-12-22 comes before 2014-11-21), so it could skip records.
    """
    cp = dataclasses.replace(checkpoint)
    restarted = False
    while True:
        try:
            pages = client.list_records(
                metadata_prefix=metadata_prefix,
                from_date=cp.from_date,
                until_date=until_date,
                set_spec=set_spec,
                resumption_token=cp.resumption_token or None,
            )
            for page in pages:
                on_page(page)
                cp = Checkpoint(
                    from_date=cp.from_date,
                    resumption_token=page.resumption_token or "",
                    last_datestamp=_max_datestamp(page, cp.last_datestamp),
                    pages_done=cp.pages_done + 1,
                )
                save_checkpoint(cp)
            return cp
        except OaiError as exc:
            if exc.code != "badResumptionToken" or restarted or not cp.resumption_token:
                raise
            restarted = True
            restart_date = cp.from_date
            if restart_from_last_datestamp:
                restart_date = cp.last_datestamp or cp.from_date
            log.warning(
                "OAI resumption token %r rejected (%s); restarting from %s",
                cp.resumption_token,
                exc.message,
                restart_date,
            )
            cp = dataclasses.replace(cp, from_date=restart_date, resumption_token="")
            save_checkpoint(cp)


def harvest_api(
    client,
    *,
    query: str | None = None,
    ids: Sequence[str] | None = None,
    checkpoint_offset: int = 0,
    on_page: Callable[[ParsedPage], None],
    save_offset: Callable[[int], None],
    page_size: int = 1000,
    max_results: int = 30000,
) -> int:
    """Page through the query API from ``checkpoint_offset``; return the final offset.

    ``max_results`` is the absolute end offset (results ``[0, max_results)``
    of the query), so resuming does not move the end. After each page,
    ``on_page`` runs first, then ``save_offset(next_offset)``.
    """
    offset = checkpoint_offset
    if offset >= max_results:
        return offset
    for page, next_offset in client.iter_query(
        query=query,
        ids=ids,
        start=offset,
        page_size=page_size,
        max_results=max_results - offset,
    ):
        on_page(page)
        offset = next_offset
        save_offset(offset)
    return offset
