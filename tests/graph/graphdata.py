"""Bulk-built researchers for the graph tests: hundreds of co-authors in a handful of queries."""

from graph.services import rebuild_edges_for
from tests.factories import AuthorRecordFactory, TopicFactory
from works.models import AuthorRecord, Authorship, Work, WorkTopic


def make_prolific(coauthors: int, *, solo_works: int = 0, big_papers: int = 0) -> AuthorRecord:
    """A researcher with a two-author paper per co-author, solo works and 150-author papers."""
    researcher = AuthorRecordFactory()
    topic = TopicFactory()
    prefix = f"p{researcher.pk}"
    people = AuthorRecord.objects.bulk_create(
        [
            AuthorRecord(
                slug=f"{prefix}-coauthor-{n}",
                display_name=f"Coauthor {prefix} {n}",
                name_key=f"coauthor {prefix} {n}",
                kind=AuthorRecord.Kind.PERSON,
            )
            for n in range(max(coauthors, 149 if big_papers else 0))
        ]
    )
    shapes = (
        [[researcher, person] for person in people[:coauthors]]
        + [[researcher] for _ in range(solo_works)]
        + [[researcher, *people[:149]] for _ in range(big_papers)]
    )
    works = Work.objects.bulk_create(
        [
            Work(
                arxiv_id=f"{prefix}.{n:05d}",
                title=f"Work {n} of {prefix}",
                year=2000 + n % 26,
                primary_topic=topic,
                person_author_count=len(authors),
                author_count=len(authors),
            )
            for n, authors in enumerate(shapes)
        ]
    )
    Authorship.objects.bulk_create(
        [
            Authorship(work=work, author=person, position=position, printed_name=person.slug)
            for work, authors in zip(works, shapes, strict=True)
            for position, person in enumerate(authors)
        ]
    )
    WorkTopic.objects.bulk_create(
        [WorkTopic(work=work, topic=topic, is_primary=True) for work in works]
    )
    AuthorRecord.objects.filter(pk=researcher.pk).update(work_count=len(works), topic_count=1)
    rebuild_edges_for(author_ids=[researcher.pk])
    researcher.refresh_from_db()
    return researcher
