"""Trust tasks called directly, their registration and the recompute_trust command."""

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from factories import AuthorRecordFactory, WorkFactory, add_authors

from bzpeer.celery import app
from profiles import tasks
from profiles.models import TrustSnapshot
from profiles.trust_queue import trust_lock_key

pytestmark = pytest.mark.django_db


def person_with_work():
    record = AuthorRecordFactory()
    add_authors(WorkFactory(), [record])
    return record


def test_recompute_trust_writes_the_records_snapshot_and_drops_its_lock():
    record = person_with_work()
    cache.add(trust_lock_key(record.id), 1)

    tasks.recompute_trust(record.id)

    snapshot = TrustSnapshot.objects.get(record=record)
    assert (snapshot.score, snapshot.band) == (13, "Emerging")  # L1 10 + one work 3
    assert cache.get(trust_lock_key(record.id)) is None


def test_recompute_trust_of_a_deleted_record_returns_quietly():
    tasks.recompute_trust(987654)

    assert TrustSnapshot.objects.count() == 0


def test_recompute_all_trust_covers_every_person_and_skips_organisations():
    people = [person_with_work() for _ in range(3)]
    organisation = AuthorRecordFactory(display_name="ATLAS Collaboration", kind="organisation")
    add_authors(WorkFactory(), [organisation])

    tasks.recompute_all_trust()

    assert set(TrustSnapshot.objects.values_list("record_id", flat=True)) == {p.id for p in people}


def test_recompute_trust_batch_writes_each_records_snapshot():
    records = [person_with_work() for _ in range(3)]

    tasks.recompute_trust_batch([r.id for r in records])

    assert TrustSnapshot.objects.count() == 3


def test_tasks_are_registered_under_their_names_and_routed_to_the_trust_queue():
    assert app.tasks["profiles.recompute_trust"].name == tasks.recompute_trust.name
    assert app.tasks["profiles.recompute_all_trust"].name == tasks.recompute_all_trust.name
    assert app.conf.beat_schedule["nightly-trust-sweep"]["task"] == "profiles.recompute_all_trust"
    for name in ("profiles.recompute_trust", "profiles.recompute_trust_batch"):
        assert app.amqp.router.route({}, name)["queue"].name == "trust"


def test_recompute_trust_command_for_one_author(capsys):
    record = person_with_work()

    call_command("recompute_trust", "--author", record.slug)

    assert TrustSnapshot.objects.filter(record=record).count() == 1
    assert capsys.readouterr().out == (
        "1 record(s) recomputed: 1 new snapshot(s), 0 unchanged, 0 stale level(s) corrected.\n"
    )


def test_recompute_trust_command_for_all_shows_progress_and_writes_only_changes(capsys):
    records = [person_with_work() for _ in range(3)]
    call_command("recompute_trust", "--author", records[0].slug)
    capsys.readouterr()

    call_command("recompute_trust", "--all", "--batch-size", "2")

    captured = capsys.readouterr()
    assert captured.out == (
        "3 record(s) recomputed: 2 new snapshot(s), 1 unchanged, 0 stale level(s) corrected.\n"
    )
    assert "3/3" in captured.err  # tqdm's bar
    assert TrustSnapshot.objects.count() == 3


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--author", "nobody"], "no author record with the slug 'nobody'"),
        (["--author", "atlas"], "'atlas' is an organisation: organisations have no trust score"),
        (["--all", "--batch-size", "0"], "--batch-size must be at least 1"),
    ],
)
def test_recompute_trust_command_refuses_bad_input_with_one_line(arguments, message):
    AuthorRecordFactory(slug="atlas", kind="organisation")

    with pytest.raises(CommandError) as error:
        call_command("recompute_trust", *arguments)

    assert str(error.value) == message


def test_recompute_trust_command_needs_author_or_all():
    with pytest.raises(CommandError, match="one of the arguments --author --all is required"):
        call_command("recompute_trust")
