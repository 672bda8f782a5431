"""The nightly reconciliation: every record's counters recounted from the rows, drift repaired
and counted (issue 12, integrity)."""

import io
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from graph import cache as graph_cache
from graph.services import rebuild_edges_for
from profiles import follows
from profiles.counters import reconcile_counters
from profiles.tasks import reconcile_counters as reconcile_task
from tests.factories import AuthorRecordFactory, TopicFactory, UserFactory, WorkFactory, add_authors
from works.changes import refresh_record_counts
from works.models import AuthorRecord, Authorship

pytestmark = pytest.mark.django_db

FIELDS = ("work_count", "topic_count", "affiliation", "follower_count", "close_collaborator_count")


@pytest.fixture
def records():
    """Ada (three works, two topics, two followers, one close collaborator: Grace), Grace (one
    work with Ada), Linus (a work alone, one follower), and an organisation."""
    ada, grace, linus = (AuthorRecordFactory(display_name=n) for n in ("Ada", "Grace", "Linus"))
    org = AuthorRecordFactory(display_name="ATLAS Collaboration", kind="organisation")
    combinatorics = TopicFactory(code="math.CO", name="Combinatorics", group="Mathematics")
    add_authors(WorkFactory(), [ada, grace])
    add_authors(WorkFactory(primary_topic=combinatorics), [ada])
    solo = add_authors(WorkFactory(), [ada, org])
    Authorship.objects.filter(pk=solo[0].pk).update(affiliation="Analytical Engines Ltd")
    add_authors(WorkFactory(), [linus])
    people = [ada, grace, linus]
    refresh_record_counts([r.pk for r in [*people, org]])
    rebuild_edges_for(author_ids=[r.pk for r in people])
    for follower in (UserFactory(), UserFactory()):
        follows.follow(user=follower, record=ada)
    follows.follow(user=UserFactory(), record=linus)
    return {"ada": ada, "grace": grace, "linus": linus, "org": org}


def _state(records) -> dict[str, tuple]:
    rows = AuthorRecord.objects.filter(pk__in=[r.pk for r in records.values()])
    return {name: tuple(values) for name, *values in rows.values_list("display_name", *FIELDS)}


EXACT = {
    "Ada": (3, 2, "Analytical Engines Ltd", 2, 1),
    "Grace": (1, 1, "", 0, 1),
    "Linus": (1, 1, "", 1, 0),
    "ATLAS Collaboration": (1, 1, "", 0, 0),
}


def _corrupt(records) -> None:
    AuthorRecord.objects.filter(pk=records["ada"].pk).update(
        work_count=99, close_collaborator_count=5
    )
    AuthorRecord.objects.filter(pk=records["grace"].pk).update(
        topic_count=0, affiliation="Somewhere else", follower_count=3
    )
    # A follower deleted straight from the ORM (as the admin does): the follow goes by cascade,
    # the code that decrements the counter never runs.
    linus_follower = get_user_model().objects.get(follows__record=records["linus"])
    linus_follower.delete()


def test_the_setup_is_exact_and_a_clean_database_needs_no_fix(records):
    assert _state(records) == EXACT
    result = reconcile_counters()
    assert (result.records, result.total) == (4, 0)
    assert _state(records) == EXACT


@pytest.mark.parametrize("chunk_size", [1, 2, 5000])
def test_corrupted_counters_are_repaired_and_counted(records, chunk_size):
    _corrupt(records)
    assert _state(records) != EXACT

    result = reconcile_counters(chunk_size=chunk_size)

    assert _state(records) == {**EXACT, "Linus": (1, 1, "", 0, 0)}
    assert result.records == 4
    assert result.fixed == {
        "work_count": 1,
        "topic_count": 1,
        "affiliation": 1,
        "follower_count": 2,
        "close_collaborator_count": 1,
    }
    assert reconcile_counters(chunk_size=chunk_size).total == 0


def test_the_command_prints_how_many_values_it_fixed_per_counter(records):
    _corrupt(records)
    out, err = io.StringIO(), io.StringIO()
    call_command("reconcile_counters", "--chunk-size", "2", stdout=out, stderr=err)
    assert out.getvalue() == (
        "4 record(s) checked; values fixed: work_count 1, topic_count 1, affiliation 1, "
        "follower_count 2, close_collaborator_count 1.\n"
    )
    assert "id" in err.getvalue()  # the progress bar
    assert _state(records)["Ada"] == EXACT["Ada"]
    out = io.StringIO()
    call_command("reconcile_counters", "--no-progress", stdout=out)
    assert out.getvalue() == (
        "4 record(s) checked; values fixed: work_count 0, topic_count 0, affiliation 0, "
        "follower_count 0, close_collaborator_count 0.\n"
    )


def test_the_command_refuses_a_bad_chunk_size():
    with pytest.raises(CommandError, match="--chunk-size must be at least 1"):
        call_command("reconcile_counters", "--chunk-size", "0")


def test_the_nightly_task_repairs_and_logs_the_figures(records, caplog):
    _corrupt(records)
    with caplog.at_level(logging.INFO, logger="profiles.counters"):
        fixed = reconcile_task()
    assert fixed == {
        "work_count": 1,
        "topic_count": 1,
        "affiliation": 1,
        "follower_count": 2,
        "close_collaborator_count": 1,
    }
    assert sorted(r.getMessage() for r in caplog.records) == sorted(
        f"reconcile_counters: {name} fixed on {n} record(s)" for name, n in fixed.items()
    )
    assert _state(records)["Grace"] == EXACT["Grace"]


def test_a_records_graph_is_invalidated_when_its_numbers_were_fixed(records):
    ada, linus = records["ada"], records["linus"]
    ada_key = graph_cache.graph_key(ada.pk, "inline")
    linus_key = graph_cache.graph_key(linus.pk, "inline")
    _corrupt(records)
    reconcile_counters()
    assert graph_cache.graph_key(ada.pk, "inline") != ada_key
    # Only Linus' follower count moved: not shown in graphs.
    assert graph_cache.graph_key(linus.pk, "inline") == linus_key


def test_an_empty_database_reconciles_nothing():
    assert reconcile_counters().records == 0
    out = io.StringIO()
    call_command("reconcile_counters", "--no-progress", stdout=out)
    assert out.getvalue().startswith("0 record(s) checked")
