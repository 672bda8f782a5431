"""The graph follows the works layer: when authorships change, queue the edge rebuild.

Connected in GraphConfig.ready. Receivers only queue named tasks, on commit.
"""

from __future__ import annotations

from django.dispatch import receiver

from bzpeer.lib.tasks import enqueue_on_commit
from works.signals import authorships_changed

# Record ids per task: an import of a 100,000-work harvest touches hundreds of thousands of
# records; each task stays within its time limit and a failure retries only its slice. Large
# enough for a day's increment (about 12,600 records touched) to be one task: each task also
# queues trust for the records on its changed pairs, and a co-author who sits in another
# task's slice would have been recomputed twice (a third of the increment's recomputes at
# 5,000). The server-side rebuild takes a few seconds for 20,000 records.
EDGE_TASK_CHUNK = 20_000
EDGES_UID = "graph.queue_edges_rebuild"


@receiver(authorships_changed, dispatch_uid=EDGES_UID)
def queue_edges_rebuild(sender, *, record_ids: list[int], **kwargs) -> None:
    """Queue the edge rebuild of these records once the change commits."""
    ids = sorted(set(record_ids))
    for start in range(0, len(ids), EDGE_TASK_CHUNK):
        enqueue_on_commit("graph.rebuild_edges", ids[start : start + EDGE_TASK_CHUNK])
