"""Re-clustering many blocks in one transaction decides as block by block, in fewer queries."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.works.test_identity import paper, two_wei_wangs
from works import clustering
from works.clustering import ClusterPlan, block_tasks, recluster_block, recluster_blocks
from works.models import AuthorRecord, Authorship
from works.services import import_records

pytestmark = pytest.mark.django_db


def test_blocks_go_in_tasks_of_about_the_limit_and_a_large_block_alone():
    sizes = {"wang w": 9, "li y": 3, "chen x": 2, "ulm u": 1, "ode o": 1}

    assert block_tasks(sizes, limit=4) == [["wang w"], ["li y"], ["chen x", "ulm u", "ode o"]]
    assert block_tasks(sizes, limit=100) == [list(sizes)]
    assert block_tasks({}, limit=4) == []


def test_a_record_spanning_two_blocks_is_merged_away_only_if_no_block_kept_it():
    # Block one lost record 7 to record 8; block two still holds record 7's other printing.
    one = ClusterPlan(clusters=[[1, 2]], records=[8], emptied={7: 8}, name_counts=[2])
    two = ClusterPlan(clusters=[[3]], records=[7], emptied={}, name_counts=[1])
    gone = ClusterPlan(clusters=[[4]], records=[9], emptied={6: 9}, name_counts=[1])

    combined = ClusterPlan.combine([one, two, gone])

    assert combined.clusters == [[1, 2], [3], [4]]
    assert combined.records == [8, 7, 9]
    assert combined.name_counts == [2, 1, 1]
    assert combined.emptied == {6: 9}


def _messy_database() -> list[str]:
    """Blocks that re-clustering changes: two Wei Wangs on one record, a Zhengyan Zhang split
    over three records, and quiet names around them; the blocks."""
    hep, cl = two_wei_wangs()
    zhang = [
        paper([printed, "Xu Han", "Maosong Sun"], category="cs.CL", title=f"Knowledge {n}")
        for n, printed in enumerate(("Zhengyan Zhang", "ZhengYan Zhang", "Zhang Zhengyan"))
    ]
    quiet = [paper([f"Quiet Person{n}", "Xu Han"], category="cs.CL", title="Q") for n in range(3)]
    import_records([*hep, *cl, *zhang, *quiet])
    keep = Authorship.objects.filter(printed_name="Wei Wang").order_by("pk").first().author_id
    Authorship.objects.filter(printed_name="Wei Wang").update(author_id=keep)
    for signature in Authorship.objects.filter(printed_name__icontains="zhengyan"):
        record = AuthorRecord.objects.create(
            slug=f"zz-{signature.pk}", display_name="Zhengyan Zhang", name_key="zhengyan zhang"
        )
        Authorship.objects.filter(pk=signature.pk).update(author=record)
    return sorted(set(Authorship.objects.exclude(block_key="").values_list("block_key", flat=True)))


def _state(before: set[int]) -> tuple[frozenset, dict]:
    """Who is with whom, and which signatures each record of ``before`` still holds."""
    groups: dict[int, set[int]] = {}
    for signature_id, author_id in Authorship.objects.values_list("pk", "author_id"):
        groups.setdefault(author_id, set()).add(signature_id)
    partition = frozenset(frozenset(g) for g in groups.values())
    live = AuthorRecord.objects.filter(merged_into=None, pk__in=before)
    return partition, {r.pk: groups.get(r.pk, set()) for r in live}


def test_clustering_blocks_together_ends_as_clustering_them_one_by_one():
    blocks = _messy_database()
    before = set(AuthorRecord.objects.values_list("pk", flat=True))
    with transaction.atomic():
        one_by_one = clustering.BlockOutcome()
        for block in blocks:
            one_by_one.add(recluster_block(block))
        alone = _state(before)
        transaction.set_rollback(True)

    together = recluster_blocks(blocks)

    assert together.as_summary() == one_by_one.as_summary()
    assert together.split >= 1 and together.merged >= 2
    # The same people, on the same surviving records (new records differ only by their ids).
    assert _state(before) == alone


def test_one_task_reads_and_writes_in_as_many_queries_for_many_blocks_as_for_two():
    import_records(
        [
            paper([f"Name Number{n}", "Xu Han"], category="cs.CL", title=f"T{k}")
            for n in range(8)
            for k in range(2)
        ]
    )
    blocks = sorted(
        set(
            Authorship.objects.filter(printed_name__startswith="Name").values_list(
                "block_key", flat=True
            )
        )
    )
    assert len(blocks) == 8
    recluster_blocks(blocks)  # settle

    with CaptureQueriesContext(connection) as two:
        recluster_blocks(blocks[:2])
    with CaptureQueriesContext(connection) as eight:
        outcome = recluster_blocks(blocks)

    assert outcome.unchanged == 8
    assert len(eight.captured_queries) == len(two.captured_queries)


def test_cluster_authors_queues_tasks_of_blocks(monkeypatch, capsys):
    from works.management.commands import cluster_authors

    hep, cl = two_wei_wangs()
    import_records([*hep, *cl])
    queued = []
    monkeypatch.setattr(
        cluster_authors, "enqueue", lambda name, keys: queued.append((name, keys)) or True
    )

    call_command("cluster_authors", "--all", "--queue")

    keys, _ = clustering.blocks_to_cluster()
    assert queued == [("works.cluster_blocks", list(keys))]
    assert f"{len(keys):,} of {len(keys):,} block(s) queued" in capsys.readouterr().out
