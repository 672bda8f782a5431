"""Free slugs for new records: the first free ``-N`` suffix, in a few queries per batch."""

import pytest

from works.models import AuthorRecord
from works.resolution import free_slugs

pytestmark = pytest.mark.django_db


def _record(slug):
    return AuthorRecord.objects.create(slug=slug, display_name=slug, name_key=f"key {slug}")


def test_homonyms_get_the_lowest_free_suffixes_in_order():
    for slug in ("wei-wang", "wei-wang-2", "wei-wang-4"):
        _record(slug)

    slugs = free_slugs({f"k{n}": "wei-wang" for n in range(4)} | {"other": "ada-lovelace"})

    assert slugs == {
        "k0": "wei-wang-3",
        "k1": "wei-wang-5",
        "k2": "wei-wang-6",
        "k3": "wei-wang-7",
        "other": "ada-lovelace",
    }


def test_a_thousand_homonyms_cost_a_handful_of_queries(django_assert_max_num_queries):
    _record("wei-wang")
    with django_assert_max_num_queries(3):
        slugs = free_slugs({f"k{n}": "wei-wang" for n in range(1000)})
    assert len(set(slugs.values())) == 1000
    assert slugs["k999"] == "wei-wang-1001"


def test_a_suffix_given_in_the_batch_is_checked_against_the_database_too():
    # "X Y" takes "x-y-2", which is also "X Y 2"'s base; "x-y-2-2" exists already.
    _record("x-y")
    _record("x-y-2-2")

    slugs = free_slugs({"x y": "x-y", "x y 2": "x-y-2"})

    assert slugs == {"x y": "x-y-2", "x y 2": "x-y-2-3"}
