"""The one path down: authorships changed → a named edge task queued on commit → cache versions
and trust."""

import pytest

from graph import cache as graph_cache
from graph import receivers, tasks
from graph.models import CollaborationEdge
from tests.conftest import DEMO_FILE
from tests.factories import AuthorRecordFactory, WorkFactory, add_authors
from works.models import AuthorRecord, Authorship
from works.services import import_stream


@pytest.fixture
def trust_calls(monkeypatch):
    import profiles.receivers

    calls = []
    monkeypatch.setattr(profiles.receivers, "queue_trust_recompute", calls.append)
    return calls


def test_an_import_queues_the_edge_task_on_commit_and_it_builds_the_edges(
    db, django_capture_on_commit_callbacks, trust_calls, monkeypatch
):
    # Run the task in-process even when REDIS_URL points Celery at a real broker.
    monkeypatch.setattr(tasks.rebuild_edges, "delay", tasks.rebuild_edges)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        DEMO_FILE.open("rb") as stream,
    ):
        stats = import_stream(stream, source_label="Demo data")

    assert callbacks, "nothing was queued on commit"
    demo = AuthorRecord.objects.get(slug="zhengyan-zhang")
    assert demo.close_collaborator_count == 4
    coauthors = set(
        Authorship.objects.filter(
            work__authorships__author=demo,
            work__person_author_count__lte=100,
            author__kind=AuthorRecord.Kind.PERSON,
        )
        .exclude(author=demo)
        .values_list("author_id", flat=True)
    )
    assert len(coauthors) == 136
    assert (
        set(CollaborationEdge.objects.filter(author=demo).values_list("coauthor_id", flat=True))
        == coauthors
    )
    # Trust is queued for every touched record and every record whose edges changed.
    assert trust_calls == [sorted(stats.touched_author_ids)]


def test_the_edge_task_is_not_queued_before_commit(db, django_capture_on_commit_callbacks):
    record = AuthorRecordFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        receivers.queue_edges_rebuild(None, record_ids=[record.pk])
    assert len(callbacks) == 1
    assert not CollaborationEdge.objects.exists()


def test_large_id_lists_are_split_into_chunks(monkeypatch, django_capture_on_commit_callbacks, db):
    queued = []
    monkeypatch.setattr(receivers, "EDGE_TASK_CHUNK", 3)
    monkeypatch.setattr(tasks.rebuild_edges, "delay", lambda ids: queued.append(ids))

    with django_capture_on_commit_callbacks(execute=True):
        receivers.queue_edges_rebuild(None, record_ids=[7, 1, 5, 3, 3, 9, 2, 8])

    assert queued == [[1, 2, 3], [5, 7, 8], [9]]


def test_a_day_of_touched_records_is_queued_for_trust_once_each(
    db, django_capture_on_commit_callbacks, trust_calls, monkeypatch
):
    # 6,000 records (a day touches about 12,600), two of them far apart in id order sharing a
    # new work: one task's changed pair must not queue a record another task queues too.
    records = AuthorRecord.objects.bulk_create(AuthorRecordFactory.build() for _ in range(6000))
    add_authors(WorkFactory(), [records[0], records[-1]])
    monkeypatch.setattr(tasks.rebuild_edges, "delay", tasks.rebuild_edges)

    with django_capture_on_commit_callbacks(execute=True):
        receivers.queue_edges_rebuild(None, record_ids=[r.pk for r in records])

    queued = [record_id for call in trust_calls for record_id in call]
    assert sorted(queued) == sorted(r.pk for r in records)


def test_the_task_is_named_for_routing_to_the_graph_queue():
    assert tasks.rebuild_edges.name == "graph.rebuild_edges"


def test_the_task_rebuilds_bumps_versions_and_queues_trust_for_changed_records(db, trust_calls):
    alice, bob, carol = AuthorRecordFactory(), AuthorRecordFactory(), AuthorRecordFactory()
    add_authors(WorkFactory(), [alice, bob])
    before = {pk: graph_cache.graph_key(pk, "inline") for pk in (alice.pk, bob.pk, carol.pk)}

    changed = tasks.rebuild_edges([alice.pk])

    assert changed == 2
    after = {pk: graph_cache.graph_key(pk, "inline") for pk in (alice.pk, bob.pk, carol.pk)}
    assert after[alice.pk] != before[alice.pk]
    assert after[bob.pk] != before[bob.pk]  # Bob's edge changed though he was not touched
    assert after[carol.pk] == before[carol.pk]
    assert trust_calls == [[alice.pk, bob.pk]]
    bob.refresh_from_db()
    assert bob.close_collaborator_count == 1


def test_a_rerun_changes_no_edges_but_still_refreshes_the_touched_records(db, trust_calls):
    alice, bob = AuthorRecordFactory(), AuthorRecordFactory()
    add_authors(WorkFactory(), [alice, bob])
    tasks.rebuild_edges([alice.pk, bob.pk])

    assert tasks.rebuild_edges([alice.pk]) == 0
    assert trust_calls[-1] == [alice.pk]
