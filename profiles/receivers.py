"""Profiles follow the graph: when a record's edges or works change, its trust score follows.

Connected in ProfilesConfig.ready. Receivers only queue named tasks (debounced, on commit).
"""

from __future__ import annotations

from django.dispatch import receiver

from graph.signals import edges_changed
from profiles.trust_queue import queue_trust_recompute


@receiver(edges_changed, dispatch_uid="profiles.queue_trust_recompute")
def recompute_trust_of(sender, *, record_ids: list[int], **kwargs) -> None:
    queue_trust_recompute(record_ids)
