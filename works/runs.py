"""Import runs: start one, execute it, resume it after a crash.

One set of workflows for ``import_arxiv``, the admin's "Start a harvest" and the
workers (``works.tasks``), so a run behaves the same wherever it was started.

Exactly once per page: a page's records, the run's counts and the checkpoint
naming the next page are written in ONE transaction. A worker killed at any
moment leaves either all of a page or none of it, so a resumed run fetches
exactly the pages not yet committed and ends with the same rows and the same
counts as a run that was never interrupted. (The harvest loops in
``works.arxiv.harvest`` yield each page with the checkpoint that follows it;
the run loop here, ``_harvest``, commits each pair before asking for the next.)

Ownership: a worker claims a run with a conditional UPDATE (queued → running)
and keeps ``heartbeat_at`` fresh while it works. A run still "running" whose
heartbeat is older than ``STALE_AFTER`` belongs to a dead worker: it may be
claimed again, and ``resume_stale_runs`` (beat) queues it again.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import DateTimeField, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from bzpeer.lib.tasks import enqueue
from works.arxiv.client import API_TOTAL_MAX, ArxivClient, ArxivUnavailable
from works.arxiv.harvest import Checkpoint, harvest_api, harvest_oai
from works.arxiv.ratelimit import default_spacing
from works.arxiv.records import ParsedPage
from works.importer import Importer
from works.models import ImportRun
from works.services import import_records

log = logging.getLogger(__name__)

Source = ImportRun.Source
State = ImportRun.State

# A live worker refreshes the heartbeat before and after every HTTP request
# (see _HeartbeatSpacing); the longest silence is one Retry-After pause (capped
# at 10 minutes by the client) plus one request time-out and one page import.
# Half an hour of silence therefore means the worker is gone.
STALE_AFTER = dt.timedelta(minutes=30)
HEARTBEAT_EVERY_SECONDS = 20.0
# The run row keeps the latest messages only: a harvest of a million records
# with a broken feed must not grow one JSON field without bound.
MAX_STORED_ERRORS = 200
# One API request URL carries the whole id list (arXiv: "a few hundred per call").
MAX_IDS = 500
MAX_QUERY_LENGTH = 1000
DEFAULT_MAX_RESULTS = 2000
API_PAGE_SIZE = 500
OAI_PREFIXES = ("arXivRaw", "arXiv")
# Without a previous successful harvest the daily harvest looks one day back:
# the initial bulk load comes from the metadata snapshot, not from OAI-PMH.
FIRST_HARVEST_LOOKBACK = dt.timedelta(days=1)

_SET_RE = re.compile(r"^[A-Za-z][A-Za-z0-9.-]*(:[A-Za-z0-9.-]+)*$")  # math, physics:hep-th
_ID_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")


# What a PostgreSQL restart (or a connection cut under the run) raises. The page in flight
# rolls back with its checkpoint, so the run can continue exactly where it stood.
DATABASE_LOST = (OperationalError, InterfaceError)


class InvalidRunParameters(ValueError):
    """What was asked for cannot be harvested (one line for the admin or the command)."""


class RunStopped(Exception):
    """The run was cancelled, or handed to another worker, while this one worked on it."""


# --------------------------------------------------------------- parameters


def author_query(name: str) -> str:
    """The API query for an author's name: ``au:"Zhengyan Zhang"``."""
    cleaned = " ".join(name.replace('"', " ").split())
    if not cleaned:
        raise InvalidRunParameters("give an author name")
    return f'au:"{cleaned}"'


def parse_ids(raw: str | list[str]) -> list[str]:
    """arXiv ids from a list or from text separated by commas, spaces or lines."""
    items = raw if isinstance(raw, list) else re.split(r"[\s,]+", raw)
    ids: list[str] = []
    for item in items:
        arxiv_id = str(item).strip().removeprefix("arXiv:").removeprefix("arxiv:")
        if arxiv_id and arxiv_id not in ids:
            ids.append(arxiv_id)
    return ids


def _as_date(value: Any, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidRunParameters(
            f"{name} must be a date like 2024-05-31, got {value!r}"
        ) from None


def _max_results(value: Any) -> int:
    if value in (None, ""):
        return DEFAULT_MAX_RESULTS
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidRunParameters(f"max results must be a whole number, got {value!r}") from None
    if not 1 <= number <= API_TOTAL_MAX:
        raise InvalidRunParameters(f"max results must be between 1 and {API_TOTAL_MAX:,}")
    return number


def clean_parameters(source: str, parameters: dict) -> dict:
    """Validated, normalised parameters for a run of ``source``."""
    if source == Source.API_QUERY:
        query = " ".join(str(parameters.get("query") or "").split())
        if not query:
            raise InvalidRunParameters('give a query, e.g. au:"Zhengyan Zhang" or cat:cs.CL')
        if len(query) > MAX_QUERY_LENGTH:
            raise InvalidRunParameters(f"the query is longer than {MAX_QUERY_LENGTH} characters")
        return {"query": query, "max_results": _max_results(parameters.get("max_results"))}
    if source == Source.API_IDS:
        ids = parse_ids(parameters.get("ids") or [])
        if not ids:
            raise InvalidRunParameters("give at least one arXiv id")
        if len(ids) > MAX_IDS:
            raise InvalidRunParameters(f"at most {MAX_IDS} ids per run (got {len(ids)})")
        bad = [arxiv_id for arxiv_id in ids if not _ID_RE.match(arxiv_id)]
        if bad:
            raise InvalidRunParameters(f"not an arXiv id: {', '.join(bad[:5])}")
        return {"ids": ids}
    if source == Source.OAI:
        from_date = _as_date(parameters.get("from"), "from")
        until_date = _as_date(parameters.get("until"), "until")
        if from_date and until_date and from_date > until_date:
            raise InvalidRunParameters("the from date is after the until date")
        set_spec = str(parameters.get("set") or "").strip()
        if set_spec and not _SET_RE.match(set_spec):
            raise InvalidRunParameters(f"not an OAI set: {set_spec!r} (e.g. cs, physics:hep-th)")
        prefix = parameters.get("metadata_prefix") or OAI_PREFIXES[0]
        if prefix not in OAI_PREFIXES:
            raise InvalidRunParameters(f"metadata prefix must be one of {', '.join(OAI_PREFIXES)}")
        return {
            "from": from_date.isoformat() if from_date else None,
            "until": until_date.isoformat() if until_date else None,
            "set": set_spec or None,
            "metadata_prefix": prefix,
        }
    raise InvalidRunParameters(f"runs of source {source!r} cannot be started here")


def last_harvest_date() -> dt.date | None:
    """The server's date at the start of the last successful OAI harvest.

    arXiv's advice: take the next ``from`` from the last server response; the
    overlap of one day is re-imported idempotently.
    """
    last = (
        ImportRun.objects.filter(
            source=Source.OAI, state=State.SUCCEEDED, response_date__isnull=False
        )
        .order_by("-response_date")
        .values_list("response_date", flat=True)
        .first()
    )
    return last.date() if last else None


# ----------------------------------------------------------------- workflows


def start_run(
    *,
    source: str,
    parameters: dict,
    requested_by=None,
    queue: bool,
    on_progress: Callable[[ImportRun], None] | None = None,
) -> ImportRun:
    """Create a run; hand it to the workers (``queue``) or execute it here.

    Raises ``InvalidRunParameters``. An OAI run without a from date starts
    from the last successful harvest's date (stored on the run, so a resumed
    run asks for the same thing).
    """
    cleaned = clean_parameters(source, parameters)
    if source == Source.OAI and cleaned["from"] is None:
        start = last_harvest_date() or (timezone.now() - FIRST_HARVEST_LOOKBACK).date()
        cleaned["from"] = start.isoformat()
    run = ImportRun.objects.create(source=source, parameters=cleaned, requested_by=requested_by)
    if queue:
        transaction.on_commit(lambda: queue_run(run.pk))
    else:
        execute_run(run, on_progress=on_progress)
    run.refresh_from_db()
    return run


def queue_run(run_id: int) -> bool:
    """Send a run to the harvest workers; on a broker failure, say so on the run."""
    # By name: works.tasks imports this module, never the other way round.
    if enqueue("works.run_import", run_id):
        return True
    run = ImportRun.objects.filter(pk=run_id).first()
    if run is not None:
        note = (
            f"{_stamp()} could not reach the task queue; the run stays queued and "
            "works.resume_stale_runs queues it again"
        )
        ImportRun.objects.filter(pk=run_id).update(errors=_capped([*run.errors, note]))
    return False


def execute_run(
    run: ImportRun,
    *,
    retry_transient: bool = False,
    on_progress: Callable[[ImportRun], None] | None = None,
) -> bool:
    """Claim the run and harvest until it is done; return False if it was not ours to run.

    ``ArxivUnavailable`` (arXiv kept failing) and a lost database connection
    fail the run, unless ``retry_transient``: then the run goes back to queued,
    keeping its checkpoint, and the error propagates for the task to retry
    later. A soft time limit does the same (the task continues in a fresh task).
    """
    if not _claim(run):
        log.info("import run %s is not claimable (finished or running elsewhere)", run.pk)
        return False
    run.refresh_from_db()
    try:
        _harvest(run, on_progress)
    except RunStopped:
        log.info("import run %s stopped: cancelled or taken over", run.pk)
    except ArxivUnavailable as error:
        if not retry_transient:
            _finish(run, State.FAILED, note=str(error))
            return True
        _release(run, note=f"{error}; the run will be retried from its checkpoint")
        raise
    except SoftTimeLimitExceeded:
        _release(run, note="time limit reached; continuing from the checkpoint in a new task")
        raise
    except DATABASE_LOST as error:
        _after_database_loss(run, error, retry_transient=retry_transient)
        if retry_transient:
            raise
    except Exception as error:
        log.exception("import run %s failed", run.pk)
        _finish(run, State.FAILED, note=f"{type(error).__name__}: {error}")
    else:
        _finish(run, State.SUCCEEDED)
    return True


def start_incremental_harvest() -> ImportRun | None:
    """The daily OAI harvest from the last successful one's date (None if one is active)."""
    if ImportRun.objects.filter(source=Source.OAI, state__in=_ACTIVE).exists():
        log.info("an OAI harvest is already queued or running; not starting another")
        return None
    return start_run(source=Source.OAI, parameters={}, queue=True)


def cancel_run(run: ImportRun, *, by=None) -> bool:
    """Stop a queued or running run; a running one stops before its next request."""
    who = f" by {by}" if by is not None else ""
    run.refresh_from_db()
    cancelled = ImportRun.objects.filter(pk=run.pk, state__in=_ACTIVE).update(
        state=State.CANCELLED,
        finished_at=timezone.now(),
        errors=_capped([*run.errors, f"{_stamp()} cancelled{who}"]),
    )
    run.refresh_from_db()
    return bool(cancelled)


def resume_run(run: ImportRun, *, by=None) -> bool:
    """Queue a failed, cancelled or abandoned run again; it continues from its checkpoint."""
    who = f" by {by}" if by is not None else ""
    run.refresh_from_db()
    resumable = Q(state__in=[State.FAILED, State.CANCELLED]) | _stale_q(timezone.now())
    resumed = ImportRun.objects.filter(resumable, pk=run.pk).update(
        state=State.QUEUED,
        finished_at=None,
        heartbeat_at=timezone.now(),
        errors=_capped([*run.errors, f"{_stamp()} resumed from the checkpoint{who}"]),
    )
    if resumed:
        transaction.on_commit(lambda: queue_run(run.pk))
    run.refresh_from_db()
    return bool(resumed)


def resume_stale_runs() -> list[int]:
    """Queue again every run whose worker died or whose message was lost."""
    now = timezone.now()
    ids = list(ImportRun.objects.filter(_stale_q(now)).values_list("pk", flat=True))
    if ids:
        # Back to queued with a fresh heartbeat: claimable at once, and not
        # queued a second time by the next sweep while its message waits.
        ImportRun.objects.filter(pk__in=ids).filter(_stale_q(now)).update(
            state=State.QUEUED, heartbeat_at=now
        )
        for run_id in ids:
            transaction.on_commit(lambda run_id=run_id: queue_run(run_id))
        log.warning("queued %d abandoned import run(s) again: %s", len(ids), ids)
    return ids


def is_stale(run: ImportRun) -> bool:
    """Active, but nobody has touched it for ``STALE_AFTER`` (its worker is gone)."""
    last_sign = run.heartbeat_at or run.created_at
    return run.is_active and last_sign < timezone.now() - STALE_AFTER


# ----------------------------------------------------------------- internals

_ACTIVE = [State.QUEUED, State.RUNNING]


def _stale_q(now: dt.datetime) -> Q:
    return Q(state__in=_ACTIVE) & (
        Q(heartbeat_at__lt=now - STALE_AFTER)
        | Q(heartbeat_at__isnull=True, created_at__lt=now - STALE_AFTER)
    )


def _stamp() -> str:
    return timezone.now().strftime("%Y-%m-%d %H:%M:%S UTC")


def _capped(errors: list[str]) -> list[str]:
    return errors[-MAX_STORED_ERRORS:]


def _claim(run: ImportRun) -> bool:
    now = timezone.now()
    claimable = Q(state=State.QUEUED) | Q(state=State.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    return bool(
        ImportRun.objects.filter(claimable, pk=run.pk).update(
            state=State.RUNNING,
            started_at=Coalesce("started_at", Value(now, output_field=DateTimeField())),
            heartbeat_at=now,
            finished_at=None,
        )
    )


def _finish(run: ImportRun, state: str, *, note: str = "") -> None:
    """running → succeeded/failed; a cancelled run stays cancelled."""
    now = timezone.now()
    changes: dict[str, Any] = {"state": state, "finished_at": now, "heartbeat_at": now}
    if note:
        changes["errors"] = _capped([*run.errors, f"{_stamp()} {note}"])
    if state == State.SUCCEEDED:
        changes["resumption_token"] = ""
    ImportRun.objects.filter(pk=run.pk, state=State.RUNNING).update(**changes)
    run.refresh_from_db()


def _after_database_loss(run: ImportRun, error: Exception, *, retry_transient: bool) -> None:
    """Say on the run that its database connection was lost: failed, or queued for a retry.

    The broken connection is dropped first so that the next query opens a fresh one (Django
    only reconnects by itself at the start of a request or a task). If the database is still
    down, nothing can be written: the run stays "running", its heartbeat goes stale and
    ``resume_stale_runs`` queues it again.
    """
    reason = f"lost the database connection ({type(error).__name__}: {_first_line(error)})"
    log.warning("import run %s: %s", run.pk, reason)
    if not connection.in_atomic_block:
        connection.close()
    try:
        if retry_transient:
            _release(run, note=f"{reason}; the run will be retried from its checkpoint")
        else:
            _finish(run, State.FAILED, note=f"{reason}; resume it to continue from its checkpoint")
    except DATABASE_LOST:
        log.error(
            "import run %s: the database is still unreachable; left to the stale sweep", run.pk
        )
        if not connection.in_atomic_block:
            connection.close()


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [""])[0]


def _release(run: ImportRun, *, note: str) -> None:
    """running → queued, checkpoint kept: the next task continues where this one stopped."""
    ImportRun.objects.filter(pk=run.pk, state=State.RUNNING).update(
        state=State.QUEUED,
        heartbeat_at=timezone.now(),
        errors=_capped([*run.errors, f"{_stamp()} {note}"]),
    )
    run.refresh_from_db()


class _HeartbeatSpacing:
    """Wraps the shared request spacing: every request refreshes the run's heartbeat.

    Also the place where a running harvest learns it was cancelled: the
    heartbeat UPDATE matches no row once the run is no longer running.
    """

    def __init__(self, inner, run_id: int):
        self.inner = inner
        self.run_id = run_id
        self._last = float("-inf")

    @property
    def interval(self) -> float:
        return self.inner.interval

    def _beat(self) -> None:
        if time.monotonic() - self._last < HEARTBEAT_EVERY_SECONDS:
            return
        alive = ImportRun.objects.filter(pk=self.run_id, state=State.RUNNING).update(
            heartbeat_at=timezone.now()
        )
        if not alive:
            raise RunStopped(f"import run {self.run_id} is no longer running")
        self._last = time.monotonic()

    def wait_turn(self) -> float:
        self._beat()
        waited = self.inner.wait_turn()
        if waited >= HEARTBEAT_EVERY_SECONDS:
            self._beat()
        return waited

    def hold_off(self, seconds: float) -> None:
        self.inner.hold_off(seconds)


def _client_for(run: ImportRun) -> ArxivClient:
    return ArxivClient(
        settings.ARXIV_API_URL,
        settings.ARXIV_OAI_URL,
        _HeartbeatSpacing(default_spacing(), run.pk),
        user_agent=settings.ARXIV_USER_AGENT,
    )


def _harvest(run: ImportRun, on_progress: Callable[[ImportRun], None] | None) -> None:
    """Harvest from the run's checkpoint on, committing each page with the checkpoint after it."""
    client = _client_for(run)
    # One importer per run: it caches topic ids across pages.
    importer = Importer(source_label=f"arXiv import run #{run.pk}")
    for page, checkpoint in _pages_with_checkpoints(run, client):
        _commit_page(run, page, checkpoint, importer=importer)
        if on_progress is not None:
            on_progress(run)


def _pages_with_checkpoints(
    run: ImportRun, client: ArxivClient
) -> Iterator[tuple[ParsedPage | None, Checkpoint | int]]:
    """The run's harvest from where it stands, as ``(page, checkpoint)`` pairs.

    An OAI checkpoint is a ``Checkpoint``; an API one, the offset of the next page.
    """
    parameters = run.parameters
    if run.source == Source.OAI:
        return harvest_oai(
            client,
            checkpoint=Checkpoint(
                from_date=_as_date(parameters.get("from"), "from"),
                resumption_token=run.resumption_token,
                last_datestamp=run.checkpoint_datestamp,
            ),
            metadata_prefix=parameters.get("metadata_prefix") or OAI_PREFIXES[0],
            set_spec=parameters.get("set") or None,
            until_date=_as_date(parameters.get("until"), "until"),
        )
    if run.source in (Source.API_QUERY, Source.API_IDS):
        return harvest_api(
            client,
            query=parameters.get("query") or None,
            ids=parameters.get("ids") or None,
            checkpoint_offset=run.checkpoint_offset,
            page_size=API_PAGE_SIZE,
            max_results=_api_limit(parameters),
        )
    raise InvalidRunParameters(f"runs of source {run.source!r} cannot be executed")


def _api_limit(parameters: dict) -> int:
    """How many results an API run fetches: every id asked for, or up to ``max_results``."""
    ids = parameters.get("ids")
    return len(ids) if ids else int(parameters.get("max_results") or 0)


def _commit_page(
    run: ImportRun, page: ParsedPage | None, checkpoint: Checkpoint | int, *, importer: Importer
) -> None:
    """Write the page's records, the run's counts and the checkpoint in ONE transaction.

    ``page`` is None for a checkpoint that comes without a page (an OAI harvest restarting
    after its resumption token was rejected).
    """
    with transaction.atomic():
        _lock_running(run)
        now = timezone.now()
        changes: dict[str, Any] = {**_checkpoint_fields(checkpoint), "heartbeat_at": now}
        if page is not None:
            changes.update(_page_changes(run, page, importer=importer))
        if _is_last_oai_page(page, checkpoint):
            # The run succeeds in the same transaction as its last page, so a crash right
            # after cannot redo it: a resumed OAI run without a token would start over.
            changes.update(state=State.SUCCEEDED, finished_at=now, resumption_token="")
        ImportRun.objects.filter(pk=run.pk).update(**changes)
    # Only now, with the transaction committed, does the instance learn the new values.
    for name, value in changes.items():
        setattr(run, name, value)


def _lock_running(run: ImportRun) -> None:
    """Lock the run's row for this transaction; stop unless it is still running."""
    state = (
        ImportRun.objects.select_for_update()
        .filter(pk=run.pk)
        .values_list("state", flat=True)
        .first()
    )
    if state != State.RUNNING:
        raise RunStopped(f"import run {run.pk} is {state or 'gone'}")


def _checkpoint_fields(checkpoint: Checkpoint | int) -> dict[str, Any]:
    """The run's fields that record where the harvest stands."""
    if isinstance(checkpoint, Checkpoint):
        return {
            "resumption_token": checkpoint.resumption_token,
            "checkpoint_datestamp": checkpoint.last_datestamp,
        }
    return {"checkpoint_offset": checkpoint}


def _is_last_oai_page(page: ParsedPage | None, checkpoint: Checkpoint | int) -> bool:
    # An OAI page without a resumption token is the last one. An API run instead finishes
    # after its loop: resumed at its end offset, it fetches nothing and succeeds.
    return (
        isinstance(checkpoint, Checkpoint) and page is not None and not checkpoint.resumption_token
    )


def _page_changes(run: ImportRun, page: ParsedPage, *, importer: Importer) -> dict[str, Any]:
    """Import the page's records; the run's fields that change with it."""
    stats = import_records([*page.errors, *page.records], importer=importer)
    changes: dict[str, Any] = {
        "created_count": run.created_count + stats.created,
        "updated_count": run.updated_count + stats.updated,
        "unchanged_count": run.unchanged_count + stats.unchanged,
        "error_count": run.error_count + len(stats.errors),
    }
    if stats.errors:
        messages = [f"{error.where}: {error.reason}" for error in stats.errors]
        changes["errors"] = _capped([*run.errors, *messages])
    if run.response_date is None and page.response_date is not None:
        changes["response_date"] = page.response_date
    if run.total_expected is None:
        changes["total_expected"] = _expected_total(run, page)
    return changes


def _expected_total(run: ImportRun, page: ParsedPage) -> int | None:
    if run.source == Source.OAI:
        return page.complete_list_size
    if page.total_results is None:
        return None
    return min(page.total_results, _api_limit(run.parameters))
