"""Atom feeds of new works: a researcher's (``/researchers/<slug>/feed.atom``) and a topic's
(``/topics/<code>/feed.atom``), linked from their pages with ``<link rel="alternate">``.

New means newly submitted to arXiv (version 1's date), newest first; an entry's ``updated`` is
its latest version's date. Three queries whatever the feed's length: the record or topic, the
works, their first authors.
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.db.models import F, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from works.models import AuthorRecord, Authorship, Topic, Work
from works.records import record_from_slug
from works.views import with_bylines

ENTRIES = 30
FEED_FIELDS = (
    "arxiv_id",
    "title",
    "abstract",
    "submitted",
    "updated",
    "author_count",
    "kind",
    "year",
    "journal_ref",
    "primary_topic__code",
    "primary_topic__name",
)


class _NewWorksFeed(Feed):
    feed_type = Atom1Feed

    def works(self, obj) -> QuerySet[Work]:
        raise NotImplementedError

    def items(self, obj):
        works = list(
            self.works(obj)
            .select_related("primary_topic")
            .only(*FEED_FIELDS)
            .order_by(F("submitted").desc(nulls_last=True), "-id")[:ENTRIES]
        )
        return with_bylines(works)

    def item_title(self, item):
        return item.work.title

    def item_description(self, item):
        return item.work.abstract

    def item_link(self, item):
        return item.work.get_absolute_url()

    def item_guid(self, item):
        # The arXiv id is the work's identity everywhere; the site's address could change.
        return f"https://arxiv.org/abs/{item.work.arxiv_id}"

    def item_guid_is_permalink(self, item):
        return False

    def item_author_name(self, item):
        names = [authorship.printed_name for authorship in item.byline.authorships]
        return ", ".join(names) + (" et al." if item.byline.more_count else "")

    def item_pubdate(self, item):
        return item.work.submitted or item.work.updated

    def item_updateddate(self, item):
        return item.work.updated or item.work.submitted

    def item_categories(self, item):
        topic = item.work.primary_topic
        return [topic.code] if topic else []


class ResearcherWorksFeed(_NewWorksFeed):
    def get_object(self, request, record: AuthorRecord):
        return record

    def works(self, obj: AuthorRecord) -> QuerySet[Work]:
        return Work.objects.filter(id__in=Authorship.objects.filter(author=obj).values("work_id"))

    def title(self, obj: AuthorRecord) -> str:
        return f"New works by {obj.display_name} — BZPEER"

    def subtitle(self, obj: AuthorRecord) -> str:
        return f"Works of {obj.display_name} on arXiv, newest first."

    def link(self, obj: AuthorRecord) -> str:
        return obj.get_absolute_url()

    def feed_url(self, obj: AuthorRecord) -> str:
        return reverse("works:researcher-feed", args=[obj.slug])


class TopicWorksFeed(_NewWorksFeed):
    def get_object(self, request, code: str):
        if "\x00" in code:
            raise Http404("No topic with this code.")
        return get_object_or_404(Topic, code=code)

    def works(self, obj: Topic) -> QuerySet[Work]:
        return Work.objects.filter(work_topics__topic=obj)

    def title(self, obj: Topic) -> str:
        return f"New works in {obj.code} — {obj.name} — BZPEER"

    def subtitle(self, obj: Topic) -> str:
        return f"Works in {obj.name} ({obj.code}) on arXiv, newest first."

    def link(self, obj: Topic) -> str:
        return obj.get_absolute_url()

    def feed_url(self, obj: Topic) -> str:
        return reverse("works:topic-feed", args=[obj.code])


# A merged record's or an old slug's feed redirects to the survivor's; organisations have works
# (and pages) too.
researcher_feed = record_from_slug("works:researcher-feed", people_only=False)(
    ResearcherWorksFeed()
)
topic_feed = TopicWorksFeed()
