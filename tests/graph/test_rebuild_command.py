"""python manage.py rebuild_graph: the whole corpus, one record, and clear errors."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from graph.models import CollaborationEdge
from works.models import AuthorRecord


@pytest.fixture
def no_trust(monkeypatch):
    import profiles.trust_queue

    calls = []
    monkeypatch.setattr(profiles.trust_queue, "queue_trust_recompute", calls.append)
    return calls


def test_rebuild_graph_builds_every_edge_and_queues_trust_for_changed_counts(demo, no_trust):
    out = StringIO()
    CollaborationEdge.objects.all().delete()
    AuthorRecord.objects.update(close_collaborator_count=0)

    call_command("rebuild_graph", "--no-progress", stdout=out, stderr=StringIO())

    assert CollaborationEdge.objects.count() == 10_488
    demo.refresh_from_db()
    assert demo.close_collaborator_count == 4
    changed = sorted(
        AuthorRecord.objects.filter(close_collaborator_count__gt=0).values_list("id", flat=True)
    )
    assert no_trust == [changed]
    assert "10,488 edge rows (both directions; 10,488 written, 0 removed)" in out.getvalue()


def test_rebuild_graph_for_one_author(demo, no_trust):
    CollaborationEdge.objects.filter(author=demo).delete()
    out = StringIO()

    call_command("rebuild_graph", "--author", demo.slug, "--no-trust", stdout=out)

    assert CollaborationEdge.objects.filter(author=demo).count() == 136
    assert no_trust == []
    assert "137 record(s) with changed edges" in out.getvalue()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--author", "nobody"], "no author record with the slug 'nobody'"),
        (["--author", "deepseek-ai"], "'deepseek-ai' is an organisation"),
        (["--chunk-size", "0"], "--chunk-size must be at least 1"),
    ],
)
def test_rebuild_graph_refuses_bad_input_in_one_line(demo, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("rebuild_graph", *arguments)
