"""How blocks are shared out to tasks and processes. Pure, no Django: the app
(works.clustering) and the identity bench (bench/identity_speed.py) share it out the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from typing import TypeVar

__all__ = ["TASK_SIGNATURES", "grouped_blocks", "least_loaded"]

K = TypeVar("K", bound=Hashable)

# Signatures per re-clustering task (cluster_authors, the identity queue): blocks are read,
# written and committed together up to about this many.
TASK_SIGNATURES = 2000


def grouped_blocks(
    sized_keys: Iterable[tuple[str, int]], limit: int = TASK_SIGNATURES
) -> Iterator[list[str]]:
    """(block key, signatures) pairs grouped, in order, into tasks of about ``limit``
    signatures (a block is never split: a larger one is a task alone); streamed."""
    keys: list[str] = []
    size = 0
    for key, count in sized_keys:
        if keys and size + count > limit:
            yield keys
            keys, size = [], 0
        keys.append(key)
        size += count
    if keys:
        yield keys


def least_loaded(sized_keys: Iterable[tuple[K, int]], parts: int) -> dict[K, int]:
    """Each key's part (0 .. parts - 1): in the order given (largest first, for an even
    share), each into the part that holds the fewest signatures so far."""
    load = [0] * parts
    part_of: dict[K, int] = {}
    for key, size in sized_keys:
        part_of[key] = n = load.index(min(load))
        load[n] += size
    return part_of
