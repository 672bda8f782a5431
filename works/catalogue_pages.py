"""Work pages, search results, topic pages and graph slices as visitors without a session
see them, kept under one generation (bzpeer/lib/visitor_pages.py).

What can change one of them: a work or a record saved or deleted (titles, names, slugs,
counters), who wrote what (``authorships_changed``: imports, corrections, merges,
re-clustering), records merged, and a graph's edges (graph/cache.py forgets them when it
makes its graphs stale). Each replaces the generation. Follows, claims and trust snapshots
show on profile pages only (profiles/page_cache.py) and leave these alone. Receivers here
only touch the cache, like the profile page's: the change must show on the next load.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from bzpeer.lib.visitor_pages import VisitorPages, shared_with_visitors
from works.models import AuthorRecord, Work, WorkTopic
from works.signals import authorships_changed, records_merged

catalogue = VisitorPages("works:catalogue")
# The graph slice is an htmx partial that every visitor gets alike.
shared_partial = shared_with_visitors(catalogue, htmx=True)


def shared_page(*params: str):
    """Serve the view to visitors without a session from the catalogue's stored pages;
    ``params``: the query parameters it reads."""
    return shared_with_visitors(catalogue, params=frozenset(params))


def forget() -> None:
    catalogue.forget()


def clear_local() -> None:
    catalogue.clear_local()


# Connected in WorksConfig.ready.
@receiver(post_save, sender=Work, dispatch_uid="works.catalogue_pages.work_saved")
@receiver(post_delete, sender=Work, dispatch_uid="works.catalogue_pages.work_deleted")
@receiver(post_save, sender=AuthorRecord, dispatch_uid="works.catalogue_pages.record_saved")
@receiver(post_delete, sender=AuthorRecord, dispatch_uid="works.catalogue_pages.record_deleted")
@receiver(post_save, sender=WorkTopic, dispatch_uid="works.catalogue_pages.topic_saved")
def _row_written(sender, **kwargs) -> None:
    forget()


@receiver(authorships_changed, dispatch_uid="works.catalogue_pages.authorships_changed")
@receiver(records_merged, dispatch_uid="works.catalogue_pages.records_merged")
def _authors_changed(sender, **kwargs) -> None:
    forget()
