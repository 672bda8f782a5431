"""The profile page as visitors without a session see it, served from the cache.

Most visits carry no session (search engines, links, first visits) and all get the same HTML.
It is stored under its address (host and full path) with the id of the record it shows and
that record's version token. With a cache every process shares (``PAGE_CACHE_SHARED``: Redis)
nothing asks PostgreSQL whether the record changed; instead every write that changes what
the page shows replaces the record's token (``forget``), which leaves its stored pages
unreachable, and drops the copies each worker keeps in memory (bzpeer/lib/local_copies.py).
A visit is then a lookup in the worker's memory (two cache reads on a worker's first visit
to that page), with no query and no round trip. The receivers below catch the
model saves and signals that such writes already send (a record saved or deleted, a history
entry written, a trust snapshot saved, authorships changed, records merged, edges rebuilt);
the writes that send none (follows and follower recounts, trust snapshots inserted by COPY,
claim rows updated in place, which always write a history entry too) call ``forget`` where
they happen. Those receivers only touch the cache, unlike the others that queue tasks: the
page must change on the next load, not when a worker gets round to it.

The follower count is the one thing a follow changes, and follows come far more often than
anything else (a busy record is followed and unfollowed several times a second), so it has a
token of its own and the stored page holds markers where the count goes (``fill``). A follow
replaces only that token: the next visit reads the count (one small query) and fills it in,
instead of rendering the page again.

A token is replaced at once and again when the transaction commits: a page rendered from the
old rows in between is stored under a token already gone. Inside one transaction a record's
token is replaced at once the first time only, and again only when this process stored a
page of it since (``_replace_on_commit``). A write committing in the
microseconds between a render's read of the record and of its token can still leave that
page stale; like what lives in other rows and changes without the record (a co-author's
renamed slug, the namesake count, a claimant's ORCID details) it lasts SHARED_PAGE_SECONDS.

A local-memory cache is one per process, where a write in another process (a second gunicorn
worker, a Celery worker) cannot replace the tokens. Without ``PAGE_CACHE_SHARED`` the page is
only served after loading the record and comparing its columns and latest snapshot id with
those it was rendered from: one query.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from bzpeer.lib import visitor_pages
from bzpeer.lib.local_copies import LocalCopies
from bzpeer.lib.visitor_pages import (
    SHARED_PAGE_SECONDS,
    TOKEN_SECONDS,
    new_token,
    stored_page_seconds,
)
from graph.signals import edges_changed
from profiles.models import TrustSnapshot
from works.models import AuthorRecord, RecordEvent
from works.signals import authorships_changed, records_merged

# Past this many records (a full graph rebuild, the nightly trust sweep's first batches over
# a fresh database) one generation token is cheaper to replace than each record's.
MAX_TOKENS_PER_WRITE = 10_000
_GENERATION_KEY = "profiles:page:generation"
# The pages this process served lately, in its memory: a hit then makes no round trip at all
# (to Redis either: on a busy machine that was most of a hit's time). ``forget`` drops them
# in every process (bzpeer/lib/local_copies.py). 256 pages of 60 KB at most: 15 MB a process.
LOCAL_PAGES = 256
_local = LocalCopies("profiles:page:dropped", size=LOCAL_PAGES)
PAGE_PARAMS = frozenset({"page"})


# Where the stored page's follower count and its plural go (profiles/templatetags): outside
# text, which escaping would have turned into "&lt;!--".
COUNT_MARK = "<!--bzpeer:follower-count-->"
PLURAL_MARK = "<!--bzpeer:follower-plural-->"


@dataclass(frozen=True, slots=True)
class Tokens:
    generation: str
    record: str
    followers: str


def plural_suffix(follower_count: int) -> str:
    return "" if follower_count == 1 else "s"


def fill(html: str, follower_count: int) -> str:
    """The stored page with this follower count in its markers."""
    filled = html.replace(COUNT_MARK, str(follower_count))
    return filled.replace(PLURAL_MARK, plural_suffix(follower_count))


def shareable(request: HttpRequest) -> bool:
    """Whether this visitor gets the page shared by every visitor without a session (the
    page number is the only query parameter the page reads: bzpeer/lib/visitor_pages.py)."""
    return visitor_pages.shareable(request, params=PAGE_PARAMS)


def cached_page(request: HttpRequest) -> str | None:
    """The stored page for this address while its record is unchanged; no query.

    None without a shared cache, for a visitor with a session, or when the page must be
    rendered (never stored, expired, or its record's token replaced since).
    """
    if not settings.PAGE_CACHE_SHARED or not shareable(request):
        return None
    key = _page_key(request)
    html = _local.get(key)
    if html is not None:
        return html
    found = cache.get_many([key, _GENERATION_KEY])
    entry = found.get(key)
    if entry is None or found.get(_GENERATION_KEY) != entry["generation"]:
        return None
    record_id = entry["record_id"]
    current = cache.get_many([_token_key(record_id), _followers_key(record_id)])
    if current.get(_token_key(record_id)) != entry["token"]:
        return None
    followers = current.get(_followers_key(record_id))
    if followers is None:
        return None
    if followers != entry["followers"]:
        entry = _with_new_follower_count(key, entry, followers)
        if entry is None:
            return None
    html = fill(entry["html"], entry["follower_count"])
    _local.put(key, html, tag=record_id, expires=entry["expires"])
    _stored(record_id)
    return html


def _with_new_follower_count(key: str, entry: dict, followers: str) -> dict | None:
    # The token was read before the count: a follow committing now leaves this entry stale.
    count = (
        AuthorRecord.objects.filter(pk=entry["record_id"])
        .values_list("follower_count", flat=True)
        .first()
    )
    if count is None:
        return None
    entry = {**entry, "followers": followers, "follower_count": count}
    seconds_left = int(entry["expires"] - time.time())
    if seconds_left > 0:
        cache.set(key, entry, seconds_left)
    return entry


def cached_page_for(request: HttpRequest, record: AuthorRecord) -> str | None:
    """Without a shared cache: the stored page if the loaded record is still what it showed.

    With one, a page that ``cached_page`` turned down stays turned down: its token was
    replaced for a change the record's columns need not show.
    """
    if settings.PAGE_CACHE_SHARED or not shareable(request):
        return None
    entry = cache.get(_page_key(request))
    if entry is None or entry["record_id"] != record.pk or entry["state"] != _state(record):
        return None
    return fill(entry["html"], record.follower_count)


def tokens(record_id: int) -> Tokens:
    """The tokens a page of this record rendered now is stored under; read them before
    rendering, so that a write during the render leaves the page stale, not the cache."""
    keys = [_GENERATION_KEY, _token_key(record_id), _followers_key(record_id)]
    found = cache.get_many(keys)
    for missing in set(keys) - found.keys():
        cache.add(missing, new_token(), TOKEN_SECONDS)
        found[missing] = cache.get(missing)
    return Tokens(*(found[key] for key in keys))


def store(request: HttpRequest, record: AuthorRecord, tokens: Tokens, marked_html: str) -> None:
    """Keep the page rendered with follower-count markers (``follower_markers`` in the
    context) for the next visitors."""
    seconds = stored_page_seconds(SHARED_PAGE_SECONDS)
    entry = {
        "record_id": record.pk,
        "generation": tokens.generation,
        "token": tokens.record,
        "followers": tokens.followers,
        "follower_count": record.follower_count,
        "state": _state(record),
        "html": marked_html,
        "expires": time.time() + seconds,
    }
    key = _page_key(request)
    cache.set(key, entry, int(seconds) + 1)
    _stored(record.pk)
    if settings.PAGE_CACHE_SHARED:
        html = fill(marked_html, record.follower_count)
        _local.put(key, html, tag=record.pk, expires=entry["expires"])


def forget(record_ids: Iterable[int]) -> None:
    """Make the stored pages of these records stale: now, and again on commit."""
    _replace_on_commit(record_ids, _token_key)


def followers_changed(record_ids: Iterable[int]) -> None:
    """These records' follower counts moved (and nothing else on their pages): the stored
    pages stay, and the next visit fills in the new count."""
    _replace_on_commit(record_ids, _followers_key)


def _replace_on_commit(record_ids: Iterable[int], token_key) -> None:
    ids = {int(record_id) for record_id in record_ids}
    if not ids:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _replace_tokens(sorted(ids), token_key)
        return
    pending = next(
        (
            hook
            for _, hook, _ in connection.run_on_commit
            if isinstance(hook, _Pending) and hook.token_key is token_key
        ),
        None,
    )
    if pending is None:
        pending = _Pending(token_key)
        transaction.on_commit(pending)
    # At once only for records new to this transaction, or whose page this process stored
    # since: other processes cannot see the uncommitted rows, and what they store goes at the
    # commit. An import touches a record in many rows; one cache write each, not one a row.
    now = (ids - pending.ids) | (ids & _stored_since_replaced[token_key])
    pending.ids |= ids
    if now:
        _replace_tokens(sorted(now), token_key)


def _stored(record_id: int) -> None:
    """This process stored a page of this record, or a copy of one, in the cache or its memory."""
    for stored in _stored_since_replaced.values():
        stored.add(record_id)


class _Pending:
    """The records one transaction made stale, whose tokens go again when it commits."""

    def __init__(self, token_key):
        self.token_key = token_key
        self.ids: set[int] = set()

    def __call__(self) -> None:
        _replace_tokens(sorted(self.ids), self.token_key)


def clear_local() -> None:
    """Forget the pages kept in this process's memory (the test suite, between tests)."""
    _local.clear()


def _replace_tokens(ids: list[int], token_key) -> None:
    if len(ids) > MAX_TOKENS_PER_WRITE:
        for stored in _stored_since_replaced.values():
            stored.clear()
        cache.set(_GENERATION_KEY, new_token(), TOKEN_SECONDS)
        _local.drop_everything()
        return
    _stored_since_replaced[token_key].difference_update(ids)
    cache.set_many({token_key(record_id): new_token() for record_id in ids}, TOKEN_SECONDS)
    _local.drop(ids)


def _page_key(request: HttpRequest) -> str:
    # The host too: the JSON-LD holds absolute addresses. The full path: the page number and
    # the login link's ?next=.
    address = f"{request.get_host()}{request.get_full_path()}"
    digest = hashlib.blake2b(address.encode(), digest_size=16).hexdigest()
    return f"profiles:page:v3:{digest}"


def _token_key(record_id: int) -> str:
    return f"profiles:page:token:{record_id}"


def _followers_key(record_id: int) -> str:
    return f"profiles:page:followers:{record_id}"


# For each kind of token, the records whose page this process stored since it last replaced
# that token: a write inside a transaction replaces it again at once (``_replace_on_commit``).
_stored_since_replaced: dict[object, set[int]] = {_token_key: set(), _followers_key: set()}


def _state(record: AuthorRecord) -> str:
    """Every column of the record (counters, claim state, level, the owner's texts: all the
    sections read) and its latest trust snapshot's id."""
    state = [getattr(record, f.attname) for f in record._meta.concrete_fields]
    state.append(getattr(record, "latest_snapshot_id", None))
    return hashlib.blake2b(repr(state).encode(), digest_size=16).hexdigest()


# --- What changes a page ---------------------------------------------------------------------
# Connected in ProfilesConfig.ready.


@receiver(post_save, sender=AuthorRecord, dispatch_uid="profiles.page_cache.record_saved")
@receiver(post_delete, sender=AuthorRecord, dispatch_uid="profiles.page_cache.record_deleted")
def _record_written(sender, instance: AuthorRecord, **kwargs) -> None:
    # A merge saves the merged record: its page must turn into the redirect.
    forget([instance.pk])


@receiver(post_save, sender=RecordEvent, dispatch_uid="profiles.page_cache.history_written")
def _history_written(sender, instance: RecordEvent, **kwargs) -> None:
    # Claim decisions, level changes and corrections each write one, whichever rows they
    # updated in place.
    forget([instance.record_id])


@receiver(post_save, sender=TrustSnapshot, dispatch_uid="profiles.page_cache.snapshot_saved")
def _snapshot_saved(sender, instance: TrustSnapshot, **kwargs) -> None:
    forget([instance.record_id])


@receiver(authorships_changed, dispatch_uid="profiles.page_cache.authorships_changed")
@receiver(edges_changed, dispatch_uid="profiles.page_cache.edges_changed")
def _records_changed(sender, *, record_ids: list[int], **kwargs) -> None:
    forget(record_ids)


@receiver(records_merged, dispatch_uid="profiles.page_cache.records_merged")
def _records_merged(sender, *, merged: dict[int, int], **kwargs) -> None:
    forget([*merged.keys(), *merged.values()])
