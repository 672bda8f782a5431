"""Signatures stored before the importers kept their names as co-authors get them."""

import io

import pytest
from django.core.management import call_command

from tests.factories import AuthorRecordFactory, WorkFactory, add_authors
from works import stored_names
from works.identity.names import coauthor_name
from works.models import Authorship

pytestmark = pytest.mark.django_db

NAMES = ["Zhengyan Zhang", "J. H. Wang", "DeepSeek-AI", "Zh\\`engyan Zhang", "Maosong Sun"]


def _stored() -> list[tuple[str, str | None]]:
    return list(Authorship.objects.order_by("id").values_list("printed_name", "coauthor_name"))


def test_every_row_without_its_name_gets_what_the_importers_would_have_written():
    for n, name in enumerate(NAMES):
        add_authors(WorkFactory(), [AuthorRecordFactory(display_name=name, slug=f"record-{n}")])
    kept = Authorship.objects.order_by("id").first()
    Authorship.objects.filter(pk=kept.pk).update(coauthor_name="kept as written")

    filled = list(stored_names.fill_missing_coauthor_names(batch_rows=2))

    assert filled == [2, 2]  # four rows without it, two per transaction
    assert _stored()[0] == (NAMES[0], "kept as written")
    assert _stored()[1:] == [(name, coauthor_name(name) or "") for name in NAMES[1:]]
    assert ("DeepSeek-AI", "") in _stored()
    assert stored_names.missing_coauthor_names() == 0
    assert list(stored_names.fill_missing_coauthor_names()) == []  # nothing left to do


def test_the_command_fills_them_and_says_how_many():
    add_authors(WorkFactory(), [AuthorRecordFactory(display_name=name) for name in NAMES[:3]])
    out = io.StringIO()

    call_command("fill_coauthor_names", "--no-progress", stdout=out)

    assert out.getvalue().strip() == "3 signature(s) given their name as a co-author."
    assert all(stored is not None for _, stored in _stored())
