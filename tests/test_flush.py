"""The suite's flush between transactional tests (tests/conftest.py, ``_cheap_flush``)."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.management.commands import flush
from django.db import connection

from tests.conftest import KEPT_BY_FLUSH
from tests.factories import UserFactory


@pytest.mark.django_db
def test_the_flush_deletes_rows_and_keeps_content_types_and_permissions():
    statements = flush.sql_flush(no_style(), connection, reset_sequences=False)

    assert statements and all(s.startswith("DELETE FROM ") for s in statements)
    flushed = " ".join(statements)
    assert connection.ops.quote_name("auth_user") in flushed
    for table in KEPT_BY_FLUSH:
        assert connection.ops.quote_name(table) not in flushed


@pytest.mark.django_db
def test_a_flush_that_resets_sequences_is_djangos_own():
    ours = flush.sql_flush(no_style(), connection, reset_sequences=True)
    theirs = connection.ops.sql_flush(
        no_style(),
        connection.introspection.django_table_names(only_existing=True, include_views=False),
        reset_sequences=True,
    )
    assert ours == theirs


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_the_tables_in_any_order_of_foreign_keys():
    user = UserFactory()
    user.user_permissions.add(Permission.objects.first())
    kept = (ContentType.objects.count(), Permission.objects.count())

    call_command("flush", interactive=False, verbosity=0)

    assert not type(user).objects.exists()
    assert (ContentType.objects.count(), Permission.objects.count()) == kept
