"""factory_boy factories without surprises."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils.text import slugify

from works.arxiv.names import name_key
from works.identity.names import block_key
from works.models import AuthorRecord, Authorship, Topic, Work, WorkTopic


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        """UserFactory(verified=True) gives the account a verified primary email."""
        user.save()
        if create and extracted:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ["code"]

    code = "cs.CL"
    name = "Computation and Language"
    group = "Computer Science"


class AuthorRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuthorRecord

    display_name = factory.Sequence(lambda n: f"Researcher Number{n}")
    name_key = factory.LazyAttribute(lambda r: r.display_name.lower())
    search_key = factory.LazyAttribute(lambda r: " ".join(sorted(r.display_name.lower().split())))
    slug = factory.LazyAttribute(lambda r: slugify(r.display_name))
    kind = AuthorRecord.Kind.PERSON
    verification_level = 1


class WorkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Work

    arxiv_id = factory.Sequence(lambda n: f"2401.{n:05d}")
    title = factory.Sequence(lambda n: f"A study of things, part {n}")
    abstract = "We study things and find that they are interesting."
    # Minutes, not days: a year that depended on how many works earlier tests made would change
    # with the order tests run in (parallel runs shuffle it).
    submitted = factory.Sequence(
        lambda n: dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n)
    )
    updated = factory.LazyAttribute(lambda w: w.submitted)
    year = factory.LazyAttribute(lambda w: w.updated.year)
    primary_topic = factory.SubFactory(TopicFactory)


def add_authors(work: Work, records: list[AuthorRecord]) -> list[Authorship]:
    """Attach records to a work in order, keeping its author counts right."""
    authorships = Authorship.objects.bulk_create(
        [
            Authorship(
                work=work,
                author=record,
                position=i,
                printed_name=record.display_name,
                name_key=name_key(record.display_name),
                block_key=(block_key(record.display_name) or "")
                if record.kind == AuthorRecord.Kind.PERSON
                else "",
            )
            for i, record in enumerate(records)
        ]
    )
    work.author_count = len(records)
    work.person_author_count = sum(1 for r in records if r.kind == AuthorRecord.Kind.PERSON)
    work.save(update_fields=["author_count", "person_author_count"])
    if work.primary_topic_id:
        WorkTopic.objects.get_or_create(
            work=work, topic_id=work.primary_topic_id, defaults={"is_primary": True}
        )
    return authorships
