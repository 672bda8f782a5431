"""The API keeps the word its OpenAPI schema gives: schemathesis generates requests for every
operation (valid and invalid parameters, the schema's examples) and checks that no answer is a
5xx and that every answer (status, content type, headers, body) is one the schema allows.

Run in-process through the WSGI application, against the demo data plus a withdrawn work, a
merged record and a homonym, so that generated requests meet real records as well as 404s. The
example counts are modest so the suite stays fast (well under a minute).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from profiles import trust
from tests.factories import AuthorRecordFactory
from works.models import AuthorRecord, SlugRedirect

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 12
CURSOR_REFUSED = "The cursor is not one this API gave out; start again without it."


@schemathesis.check
def valid_requests_are_refused_only_for_their_cursor(ctx, response, case):
    """schemathesis' own positive_data_acceptance, less one case the schema cannot describe: a
    cursor is opaque (any string by its schema), and one this API did not give out is a 400."""
    if case.meta is None or case.meta.generation.mode.name != "POSITIVE":
        return None
    if response.status_code < 400 or response.status_code in (404, 429):
        return None
    detail = response.json().get("detail") if response.status_code == 400 else None
    assert detail == CURSOR_REFUSED and case.query.get("cursor"), (
        f"a schema-valid request was refused: {response.status_code} {response.text}"
    )
    return None


@pytest.fixture
def api_data(demo, settings):
    settings.API_RATE_LIMIT = "100000/m"
    # As Django's test client does: the WSGI handler must not close the test's connection at
    # the end of each request (it is inside the test's transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    trust.recompute(author_ids=[demo.pk])
    homonym = AuthorRecordFactory(
        display_name="Zhengyan Zhang", name_key=demo.name_key, slug="zhengyan-zhang-2"
    )
    merged = AuthorRecordFactory(merged_into=demo)
    SlugRedirect.objects.create(old_slug="zhengyan-zhang-old", record=demo)
    assert AuthorRecord.objects.filter(pk__in=[homonym.pk, merged.pk]).count() == 2
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded when the module is collected: the schema is built from code, without the database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_its_schema_says(api_data, case):
    case.call_and_validate(
        excluded_checks=[positive_data_acceptance],
        additional_checks=[valid_requests_are_refused_only_for_their_cursor],
    )
