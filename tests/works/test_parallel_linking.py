"""Linking an import's many new signatures in worker processes plans what one process plans."""

import pickle

import pytest
from support import FIXTURES

from works import clustering
from works.models import Authorship, Work
from works.services import import_stream

pytestmark = pytest.mark.django_db

SNAPSHOT = FIXTURES / "kaggle_snapshot_first200.jsonl"


def people_of(plan) -> dict[str, object]:
    """Signature → its record id, or the set of signatures it starts a new record with
    (new records' labels differ between the two ways; the people they hold must not)."""
    groups: dict[str, set[str]] = {}
    for signature, cluster in plan.assigned.items():
        if cluster.startswith("new:"):
            groups.setdefault(cluster, set()).add(signature)
    return {
        signature: frozenset(groups[cluster]) if cluster in groups else cluster
        for signature, cluster in plan.assigned.items()
    }


def test_workers_plan_the_links_one_process_plans(monkeypatch):
    with SNAPSHOT.open("rb") as stream:
        import_stream(stream, source_label="test")
    # The second half's people unlinked again: pending against the first half's records.
    later = Work.objects.order_by("id").values_list("id", flat=True)[100:]
    pending = Authorship.objects.filter(work_id__in=list(later)).exclude(block_key="")
    pending.update(author=None)
    assert pending.count() > 100

    spread = []
    real_parallel_map = clustering.parallel_map

    def watched(function, tasks, workers):
        tasks = list(tasks)
        spread.append(len(tasks))
        return real_parallel_map(function, tasks, workers)

    monkeypatch.setattr(clustering, "parallel_map", watched)
    monkeypatch.setattr(clustering, "PARALLEL_LINKING_SIGNATURES", 1)

    alone = clustering.plan_links(Authorship.objects.all())
    assert spread == []
    in_workers = clustering.plan_links(Authorship.objects.all(), workers=2)

    assert spread == [4]  # two tasks per worker
    assert people_of(in_workers) == people_of(alone)
    existing = {c for c in alone.assigned.values() if not c.startswith("new:")}
    assert existing and len(existing) < len(alone.assigned)  # joins and new people both


def pickled_bytes_per_row(authors: int) -> tuple[float, list[dict], list]:
    from tests.factories import AuthorRecordFactory, WorkFactory, add_authors

    work = WorkFactory()
    signatures = add_authors(
        work, [AuthorRecordFactory(display_name=f"Person{k} Team{authors}") for k in range(authors)]
    )
    rows = clustering.labelled_rows(signatures)
    return len(pickle.dumps(rows)) / authors, rows, signatures


def test_a_large_works_rows_travel_to_a_worker_without_a_copy_of_its_team_each():
    small, _, _ = pickled_bytes_per_row(20)
    large, rows, signatures = pickled_bytes_per_row(400)

    # Each row's co-authors are the work's other authors, in order...
    names = [s.printed_name for s in signatures]
    for position, row in enumerate(rows):
        assert list(row["coauthors"]) == names[:position] + names[position + 1 :]
    # ...and what a row costs to send to a linking process does not grow with the team.
    assert large < 1.5 * small
    received = pickle.loads(pickle.dumps(rows))
    assert [list(row["coauthors"]) for row in received] == [list(row["coauthors"]) for row in rows]
    assert clustering._signatures_for(received) == clustering._signatures_for(rows)


def test_a_plan_travels_back_from_a_worker_as_plain_tuples():
    """A first load's plans are pickled back from the linking processes and unpickled by
    the loader: a plan holds no model instances, whose pickling cost both sides."""
    with SNAPSHOT.open("rb") as stream:
        import_stream(stream, source_label="test")
    later = Work.objects.order_by("id").values_list("id", flat=True)[100:]
    pending = Authorship.objects.filter(work_id__in=list(later)).exclude(block_key="")
    pending.update(author=None)

    plan = clustering.plan_links(Authorship.objects.all())

    assert all(type(s) is clustering.Pending for s in plan.pending)
    assert b"django" not in pickle.dumps(plan)
    written = pickle.loads(pickle.dumps(plan))
    clustering.apply_links(written)
    assert not Authorship.objects.filter(author=None).exclude(block_key="").exists()
