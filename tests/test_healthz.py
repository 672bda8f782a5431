"""/healthz: what the load balancer and docker-compose ask before sending traffic."""

from unittest import mock

import pytest
from django.db import OperationalError


@pytest.mark.django_db
def test_healthz_answers_ok_while_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_does_not(client):
    with mock.patch(
        "bzpeer.views.connection.cursor", side_effect=OperationalError("connection refused")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"database unavailable\n"


def test_healthz_only_reads(client):
    assert client.post("/healthz").status_code == 405
