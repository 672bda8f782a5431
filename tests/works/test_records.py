"""One rule for "the record at this slug", the same on every view that takes one."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import AuthorRecordFactory, UserFactory
from works.models import AuthorRecord, SlugRedirect

# Every view that takes a record slug, with its other URL arguments.
SLUG_VIEWS = [
    ("profiles:detail", {}),
    ("profiles:trust", {}),
    ("profiles:trust-history", {}),
    ("profiles:history", {}),
    ("profiles:claim", {}),
    ("profiles:edit", {}),
    ("profiles:invite", {}),
    ("graph:slice", {}),
    ("graph:explorer", {}),
    ("graph:json", {}),
]


@pytest.fixture
def merge_chain(db):
    survivor = AuthorRecordFactory(display_name="Survivor")
    middle = AuthorRecordFactory(display_name="Middle", merged_into=survivor)
    merged = AuthorRecordFactory(display_name="Merged", merged_into=middle)
    SlugRedirect.objects.create(old_slug="older-name", record=merged)
    return survivor


@pytest.mark.parametrize(("view_name", "kwargs"), SLUG_VIEWS)
def test_every_slug_view_follows_merge_chains_and_old_slugs_to_the_survivor(
    client, merge_chain, view_name, kwargs
):
    client.force_login(UserFactory(verified=True))
    for slug in ("merged", "middle", "older-name"):
        response = client.get(reverse(view_name, kwargs={"slug": slug, **kwargs}) + "?size=x")

        assert response.status_code == 301, (view_name, slug)
        assert response["Location"] == (
            reverse(view_name, kwargs={"slug": "survivor", **kwargs}) + "?size=x"
        )


@pytest.mark.parametrize(("view_name", "kwargs"), SLUG_VIEWS)
def test_every_slug_view_answers_404_for_an_unknown_slug(client, db, view_name, kwargs):
    client.force_login(UserFactory(verified=True))

    response = client.get(reverse(view_name, kwargs={"slug": "nobody-here", **kwargs}))

    assert response.status_code == 404


def test_a_post_to_a_merged_record_is_redirected_keeping_its_method(client, merge_chain):
    client.force_login(UserFactory(verified=True))

    response = client.post(reverse("profiles:follow", kwargs={"slug": "merged"}))

    assert response.status_code == 308
    assert response["Location"] == reverse("profiles:follow", kwargs={"slug": "survivor"})


def test_organisations_have_a_page_and_a_history_but_no_person_views(client, db):
    AuthorRecordFactory(display_name="DeepSeek-AI", kind=AuthorRecord.Kind.ORGANISATION)

    assert client.get("/researchers/deepseek-ai/").status_code == 200
    assert client.get("/researchers/deepseek-ai/history/").status_code == 200
    assert client.get("/researchers/deepseek-ai/trust/").status_code == 404
    assert client.get("/researchers/deepseek-ai/graph/").status_code == 404


def test_a_merge_cycle_ends_in_a_404_on_every_view(client, db):
    first = AuthorRecordFactory(display_name="First")
    second = AuthorRecordFactory(display_name="Second", merged_into=first)
    AuthorRecord.objects.filter(pk=first.pk).update(merged_into=second)

    for view_name, kwargs in SLUG_VIEWS[:4]:
        assert client.get(reverse(view_name, kwargs={"slug": "first", **kwargs})).status_code == 404


def test_the_database_keeps_one_live_organisation_per_name_key(db):
    first = AuthorRecord.objects.create(
        slug="deepseek-ai", display_name="DeepSeek-AI", name_key="deepseek ai", kind="organisation"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AuthorRecord.objects.create(
            slug="deepseek-ai-2",
            display_name="DeepSeek AI",
            name_key="deepseek ai",
            kind="organisation",
        )
    # A merged-away organisation and people sharing the key are not the live organisation.
    AuthorRecord.objects.create(
        slug="deepseek-ai-3",
        display_name="DeepSeek AI",
        name_key="deepseek ai",
        kind="organisation",
        merged_into=first,
    )
    AuthorRecord.objects.create(slug="wei-wang", display_name="Wei Wang", name_key="wei wang")
    AuthorRecord.objects.create(slug="wei-wang-2", display_name="Wei Wang", name_key="wei wang")
    assert AuthorRecord.objects.filter(name_key="deepseek ai").count() == 2
