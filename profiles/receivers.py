"""Profiles follow the layers below: a record's trust follows its edges and works, followers
follow a record merged into another.

Connected in ProfilesConfig.ready. Receivers only queue named tasks (on commit).
"""

from __future__ import annotations

from django.dispatch import receiver

from bzpeer.lib.tasks import enqueue_on_commit
from graph.signals import edges_changed
from profiles.trust_queue import queue_trust_recompute
from works.signals import records_merged


@receiver(edges_changed, dispatch_uid="profiles.queue_trust_recompute")
def recompute_trust_of(sender, *, record_ids: list[int], **kwargs) -> None:
    queue_trust_recompute(record_ids)


@receiver(records_merged, dispatch_uid="profiles.follow_merged_records")
def move_followers(sender, *, merged: dict[int, int], **kwargs) -> None:
    # JSON keys are strings; the task reads them back.
    enqueue_on_commit("profiles.follow_merged_records", {str(k): v for k, v in merged.items()})
