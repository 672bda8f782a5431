"""sitemap.xml for millions of works: an index of pages of at most ``PAGE_SIZE`` addresses.

Django's own Sitemap pages with OFFSET over a COUNT(*) and computes the index's lastmod by reading
every item; on 2.8 million works that is a full scan per request and an OFFSET that walks
millions of rows for the last pages. Here a page is an id range instead: page n holds the rows
with id in (first + (n - 1) * PAGE_SIZE, first + n * PAGE_SIZE], first being MIN(id) - 1, read
through the primary key (gaps in the ids make some pages shorter, never longer), the number of
pages comes from MIN(id) and MAX(id), and the index has no lastmod. One query for the index per
section, two for a page, whatever the corpus.
"""

from __future__ import annotations

import math

from django.contrib.sitemaps import Sitemap
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Max, Min, QuerySet
from django.urls import reverse

from works.models import AuthorRecord, Topic, Work

PAGE_SIZE = 10_000


class _Page:
    def __init__(self, object_list):
        self.object_list = object_list


class IdRangePaginator:
    """The part of Django's Paginator the sitemap views use, over id ranges."""

    def __init__(self, rows: QuerySet, per_page: int):
        self.rows = rows
        self.per_page = per_page
        self._bounds: tuple[int, int] | None = None

    @property
    def bounds(self) -> tuple[int, int]:
        """(MIN(id) - 1, MAX(id)) in one query, read through the primary key's index."""
        if self._bounds is None:
            ids = self.rows.aggregate(lowest=Min("id"), highest=Max("id"))
            self._bounds = ((ids["lowest"] or 1) - 1, ids["highest"] or 0)
        return self._bounds

    @property
    def num_pages(self) -> int:
        before_first, last = self.bounds
        return max(1, math.ceil((last - before_first) / self.per_page))

    def page(self, number) -> _Page:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1 or number > self.num_pages:
            raise EmptyPage("That page contains no results")
        before_first = self.bounds[0]
        low = before_first + (number - 1) * self.per_page
        high = low + self.per_page
        return _Page(list(self.rows.filter(id__gt=low, id__lte=high).order_by("id")))


class _IdRangeSitemap(Sitemap):
    limit = PAGE_SIZE

    def rows(self) -> QuerySet:
        raise NotImplementedError

    @property
    def paginator(self) -> IdRangePaginator:
        return IdRangePaginator(self.rows(), self.limit)

    def items(self):
        # Only for callers outside the views; the views go through the paginator.
        return self.paginator.page(1).object_list

    def get_latest_lastmod(self):
        # Django's default reads every item of the section to find the latest.
        return None


class WorkSitemap(_IdRangeSitemap):
    def rows(self) -> QuerySet:
        return Work.objects.values_list("id", "arxiv_id", "changed_at")

    def location(self, item) -> str:
        # One reverse() per page, not per address (10,000 of them).
        if not hasattr(self, "_prefix"):
            self._prefix = reverse("works:detail", args=["0"])[:-2]
        return f"{self._prefix}{item[1]}/"

    def lastmod(self, item):
        return item[2]


class ResearcherSitemap(_IdRangeSitemap):
    def rows(self) -> QuerySet:
        return (
            AuthorRecord.objects.live()
            .filter(work_count__gt=0)
            .values_list("id", "slug", "updated_at")
        )

    def location(self, item) -> str:
        if not hasattr(self, "_prefix"):
            self._prefix = reverse("profiles:detail", args=["0"])[:-2]
        return f"{self._prefix}{item[1]}/"

    def lastmod(self, item):
        return item[2]


class TopicSitemap(Sitemap):
    def items(self):
        return Topic.objects.order_by("code").only("code")

    def location(self, item) -> str:
        return item.get_absolute_url()


SITEMAPS = {"works": WorkSitemap, "researchers": ResearcherSitemap, "topics": TopicSitemap}
