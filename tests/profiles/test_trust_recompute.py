"""Trust snapshots from the database: calibration, write-on-change, set-based gathering."""

import datetime as dt
import threading
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from factories import AuthorRecordFactory, UserFactory, WorkFactory, add_authors

from graph.models import CollaborationEdge
from graph.services import rebuild_all_edges
from profiles import scoring, tasks, trust
from profiles.models import Claim, Follow, TrustSnapshot
from works.models import AuthorRecord, Authorship, RecordEvent, Work

pytestmark = pytest.mark.django_db


def build_edges() -> None:
    """Materialise the collaboration edges and close-collaborator counts, as the graph app does."""
    rebuild_all_edges()


def latest(record) -> TrustSnapshot:
    return TrustSnapshot.objects.filter(record=record).latest()


def test_demo_researcher_calibration_is_21_emerging_l1_unclaimed_with_4_close_collaborators(
    demo,
):
    build_edges()
    stats = trust.recompute(author_ids=[demo.id])

    snapshot = latest(demo)
    assert stats.written == 1
    assert (snapshot.score, snapshot.band, snapshot.level, snapshot.claim_state) == (
        21,
        "Emerging",
        1,
        "unclaimed",
    )
    points = {c["key"]: c["points"] for c in snapshot.components}
    assert points == {"identity": 10, "scholarly_record": 9, "collaboration": 2, "community": 0}
    collaborators = snapshot.inputs["close_collaborators"]
    assert [c["name"] for c in collaborators] == [
        "Zhiyuan Liu",
        "Maosong Sun",
        "Yuan Yao",
        "Ao Zhang",
    ]
    demo.refresh_from_db()
    assert demo.close_collaborator_count == len(collaborators) == 4
    assert len(snapshot.inputs["works"]) == 9
    assert sum(1 for w in snapshot.inputs["works"] if w["withdrawn"]) == 1
    assert snapshot.formula_version == "2026-12.1"
    assert len(snapshot.fingerprint) == 64


def test_stored_inputs_are_exactly_the_formulas_own_json_and_rescore_the_same(demo):
    # The recompute builds the inputs JSON directly (no dataclasses for unchanged records):
    # it must be TrustInputs.to_json()'s shape, or a stored snapshot could not be re-explained.
    build_edges()
    Follow.objects.create(user=UserFactory(verified=True), record=demo)
    trust.recompute(author_ids=[demo.id])
    snapshot = latest(demo)

    inputs = scoring.TrustInputs.from_json(snapshot.inputs)

    assert inputs.to_json() == snapshot.inputs
    rescored = scoring.score(inputs)
    assert rescored.score == snapshot.score
    assert rescored.to_json()["components"] == snapshot.components


def test_recompute_that_changes_nothing_writes_nothing(demo):
    build_edges()
    trust.recompute(author_ids=[demo.id])
    first = latest(demo)

    again = trust.recompute(author_ids=[demo.id])

    assert (again.written, again.unchanged) == (0, 1)
    assert list(TrustSnapshot.objects.filter(record=demo)) == [first]


def test_a_rebuild_with_float_noise_in_weights_writes_nothing(demo):
    build_edges()
    trust.recompute(author_ids=[demo.id])
    edge = CollaborationEdge.objects.filter(author=demo).order_by("-weight").first()
    edge.weight += 1e-12  # same sum added in another order
    edge.save()

    assert trust.recompute(author_ids=[demo.id]).written == 0


def test_a_new_verified_follower_writes_a_new_snapshot_with_a_community_point(demo):
    build_edges()
    trust.recompute(author_ids=[demo.id])
    Follow.objects.create(user=UserFactory(verified=True), record=demo)

    stats = trust.recompute(author_ids=[demo.id])

    assert stats.written == 1
    assert TrustSnapshot.objects.filter(record=demo).count() == 2
    snapshot = latest(demo)
    assert snapshot.score == 22  # community: floor(5 * log10(2)) = 1
    assert snapshot.inputs["followers"][0]["email_verified"] is True


def test_followers_without_verified_email_and_the_owner_do_not_count():
    record = AuthorRecordFactory()
    add_authors(WorkFactory(), [record])
    owner = UserFactory(verified=True)
    Claim.objects.create(
        record=record,
        user=owner,
        state=Claim.State.APPROVED,
        email=owner.email,
        email_verified=True,
    )
    record.verification_level, record.claim_state = 2, "claimed"
    record.save()
    unverified = UserFactory(verified=False)
    EmailAddress.objects.create(user=unverified, email=unverified.email, verified=False)
    counted = UserFactory(verified=True)
    for user in (owner, unverified, counted):
        Follow.objects.create(user=user, record=record)

    trust.recompute(author_ids=[record.id])

    snapshot = latest(record)
    community = next(c for c in snapshot.components if c["key"] == "community")
    assert community["evidence"][0]["what"] == "1 follower with a verified email"
    assert {
        (f["account_id"], f["email_verified"], f["is_owner"]) for f in snapshot.inputs["followers"]
    } == {(owner.id, True, True), (unverified.id, False, False), (counted.id, True, False)}
    assert community["points"] == 1


def test_claimed_collaborators_count_more_and_organisations_get_no_snapshot():
    centre, claimed, plain = AuthorRecordFactory.create_batch(3)
    organisation = AuthorRecordFactory(display_name="DeepSeek-AI", kind="organisation")
    add_authors(WorkFactory(), [centre, claimed, organisation])
    add_authors(WorkFactory(), [centre, plain])
    claimed.verification_level = 3
    claimed.save()
    build_edges()

    stats = trust.recompute(author_ids=[centre.id, organisation.id])

    assert stats.records == 1
    assert not TrustSnapshot.objects.filter(record=organisation).exists()
    snapshot = latest(centre)
    levels = {c["slug"]: c["level"] for c in snapshot.inputs["close_collaborators"]}
    assert levels == {claimed.slug: 3, plain.slug: 1}
    collaboration = next(c for c in snapshot.components if c["key"] == "collaboration")
    assert collaboration["points"] == 2  # (1.5 + 0.5), rounded down


def test_a_stale_stored_level_is_healed_through_the_transition_function():
    record = AuthorRecordFactory(verification_level=1)  # no works: derives L0

    stats = trust.recompute(author_ids=[record.id])

    record.refresh_from_db()
    assert stats.levels_healed == 1
    assert record.verification_level == 0
    assert latest(record).level == 0
    event = RecordEvent.objects.get(record=record)
    assert (event.kind, event.actor) == ("level", None)


def test_a_recompute_that_heals_a_level_queues_no_other_recompute(
    django_capture_on_commit_callbacks, queued_trust
):
    record = AuthorRecordFactory(verification_level=1)  # no works: derives L0
    close_coauthor = AuthorRecordFactory()
    CollaborationEdge.objects.create(
        author=close_coauthor, coauthor=record, weight=0.5, shared_works=1
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tasks.recompute_trust(record.id)

    record.refresh_from_db()
    assert record.verification_level == 0
    # The profile pages' copies are dropped on commit too; that queues nothing.
    queued_on_commit = [
        c for c in callbacks if getattr(c, "func", c).__module__ != "profiles.page_cache"
    ]
    assert (queued_on_commit, queued_trust) == ([], [])


def test_recompute_all_walks_every_live_person_in_batches():
    people = AuthorRecordFactory.create_batch(5)
    merged = AuthorRecordFactory()
    merged.merged_into = people[0]
    merged.save()
    for person in people + [merged]:
        add_authors(WorkFactory(), [person])
    seen = []

    stats = trust.recompute_all(batch_size=2, on_batch=lambda batch: seen.append(batch.records))

    assert seen == [2, 2, 1]
    assert stats.written == 5
    assert set(TrustSnapshot.objects.values_list("record_id", flat=True)) == {p.id for p in people}


def _batch_queries(count: int) -> int:
    records = AuthorRecordFactory.create_batch(count)
    for index, record in enumerate(records):
        work = WorkFactory()
        add_authors(work, [record, records[(index + 1) % count]])
        Follow.objects.create(user=UserFactory(verified=True), record=record)
    build_edges()
    with CaptureQueriesContext(connection) as queries:
        trust.recompute(author_ids=[r.id for r in records])
    assert TrustSnapshot.objects.count() == count
    return len(queries)


def test_a_batch_costs_the_same_queries_for_2_and_30_records():
    few = _batch_queries(2)
    TrustSnapshot.objects.all().delete()
    Follow.objects.all().delete()
    Authorship.objects.all().delete()
    CollaborationEdge.objects.all().delete()
    AuthorRecord.objects.all().delete()

    many = _batch_queries(30)

    assert few == many


def test_latest_fingerprint_is_compared_not_any_older_one(demo):
    build_edges()
    trust.recompute(author_ids=[demo.id])
    user = UserFactory(verified=True)
    follow = Follow.objects.create(user=user, record=demo)
    trust.recompute(author_ids=[demo.id])
    follow.delete()

    # Back to the first state: it differs from the latest snapshot, so it is written again.
    assert trust.recompute(author_ids=[demo.id]).written == 1
    assert list(
        TrustSnapshot.objects.filter(record=demo).order_by("id").values_list("score", flat=True)
    ) == [21, 22, 21]


def test_snapshot_time_is_the_recompute_time(demo, settings):
    build_edges()
    before = dt.datetime.now(dt.UTC)
    trust.recompute(author_ids=[demo.id])
    assert before <= latest(demo).computed_at <= dt.datetime.now(dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_recompute_all_in_threads_on_postgresql_writes_the_same_snapshots():
    if connection.vendor != "postgresql":
        pytest.skip("the read-ahead and write-behind threads run on PostgreSQL only")
    people = AuthorRecordFactory.create_batch(5)
    for person in people:
        add_authors(WorkFactory(), [person])
    threads = set()
    gather, insert = trust._gather, trust._insert_snapshots

    def spy(function):
        def wrapper(*args, **kwargs):
            threads.add(threading.current_thread().name.split("_")[0])
            return function(*args, **kwargs)

        return wrapper

    with (
        mock.patch.object(trust, "_gather", spy(gather)),
        mock.patch.object(trust, "_insert_snapshots", spy(insert)),
    ):
        stats = trust.recompute_all(batch_size=2)

    assert (stats.records, stats.written) == (5, 5)
    assert threads == {"trust-read", "trust-write"}
    assert set(TrustSnapshot.objects.values_list("record_id", flat=True)) == {p.id for p in people}
    assert trust.recompute_all(batch_size=2).written == 0


def _stamp_works_changed(record, when):
    AuthorRecord.objects.filter(pk=record.pk).update(works_changed_at=when)


def _works_read(monkeypatch) -> list[int]:
    """Spy: the author ids whose works the recompute reads from the works table."""
    read = []
    original = trust._WorksReader._read

    def spy(authorships):
        rows = original(authorships)
        read.extend(rows)
        return rows

    monkeypatch.setattr(trust._WorksReader, "_read", staticmethod(spy))
    return read


def test_sweep_does_not_reread_works_that_did_not_change(demo, monkeypatch):
    build_edges()
    _stamp_works_changed(demo, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    trust.recompute_all()
    read = _works_read(monkeypatch)

    stats = trust.recompute_all()

    assert demo.id not in read
    assert stats.written == 0
    assert TrustSnapshot.objects.filter(record=demo).count() == 1


def test_sweep_rereads_works_stamped_as_changed_after_the_snapshot(demo, monkeypatch):
    build_edges()
    trust.recompute_all()
    work = Work.objects.get(arxiv_id="2105.13880")
    work.title = "Knowledge Inheritance, revised"
    work.save()
    _stamp_works_changed(demo, timezone.now())
    read = _works_read(monkeypatch)

    stats = trust.recompute_all()

    assert demo.id in read
    assert stats.written == 1  # the other 319 records' works were not stamped
    titles = {w["arxiv_id"]: w["title"] for w in latest(demo).inputs["works"]}
    assert titles["2105.13880"] == "Knowledge Inheritance, revised"


def test_an_unstamped_works_change_waits_for_the_full_sweep(demo):
    build_edges()
    _stamp_works_changed(demo, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    trust.recompute_all()
    Work.objects.filter(arxiv_id="2105.13880").update(title="Edited in the admin")

    assert trust.recompute_all().written == 0  # nightly: trusts works_changed_at
    # The weekly full sweep sees it, for the demo and its co-authors on that paper.
    assert (
        trust.recompute_all(full=True).written
        == Authorship.objects.filter(work__arxiv_id="2105.13880", author__kind="person").count()
    )
    titles = {w["arxiv_id"]: w["title"] for w in latest(demo).inputs["works"]}
    assert titles["2105.13880"] == "Edited in the admin"


def test_sweep_with_a_new_follower_writes_full_inputs_without_a_works_change(demo):
    build_edges()
    _stamp_works_changed(demo, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    trust.recompute_all()
    first = latest(demo)
    Follow.objects.create(user=UserFactory(verified=True), record=demo)

    trust.recompute_all()

    second = latest(demo)
    assert second.pk != first.pk
    assert second.inputs["works"] == first.inputs["works"]
    assert second.works_digest == first.works_digest
    assert (second.score, len(second.inputs["followers"])) == (22, 1)


def test_a_drifted_work_counter_costs_a_read_but_never_a_rewrite(demo, monkeypatch):
    build_edges()
    _stamp_works_changed(demo, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    trust.recompute_all()
    AuthorRecord.objects.filter(pk=demo.pk).update(work_count=42)
    read = _works_read(monkeypatch)

    assert trust.recompute_all().written == 0
    assert demo.id in read


def test_recompute_all_trust_is_full_on_sundays_only():
    sunday = dt.datetime(2026, 11, 29, 3, 30, tzinfo=dt.UTC)
    for day, full in ((sunday, True), (sunday + dt.timedelta(days=1), False)):
        with (
            mock.patch("django.utils.timezone.now", return_value=day),
            mock.patch.object(trust, "recompute_all") as recompute_all,
        ):
            tasks.recompute_all_trust()
        recompute_all.assert_called_once_with(full=full)
