"""How blocks are shared out to tasks and processes. Pure, no Django: the app
(works.clustering) and the identity bench (bench/identity_speed.py) share it out the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from typing import TypeVar

__all__ = ["TASK_SIGNATURES", "grouped_blocks", "interleaved", "least_loaded", "sized_groups"]

K = TypeVar("K", bound=Hashable)

# Signatures per re-clustering task (cluster_authors, the identity queue): blocks are read,
# written and committed together up to about this many.
TASK_SIGNATURES = 2000


def grouped_blocks(
    sized_keys: Iterable[tuple[str, int]], limit: int = TASK_SIGNATURES
) -> Iterator[list[str]]:
    """(block key, signatures) pairs grouped, in order, into tasks of about ``limit``
    signatures (a block is never split: a larger one is a task alone); streamed."""
    for keys, _ in sized_groups(sized_keys, limit):
        yield keys


def sized_groups(
    sized_keys: Iterable[tuple[str, int]], limit: int = TASK_SIGNATURES
) -> Iterator[tuple[list[str], int]]:
    """:func:`grouped_blocks`, each task with its number of signatures."""
    keys: list[str] = []
    size = 0
    for key, count in sized_keys:
        if keys and size + count > limit:
            yield keys, size
            keys, size = [], 0
        keys.append(key)
        size += count
    if keys:
        yield keys, size


def interleaved(
    heavy: Iterable[tuple[list[str], int]], light: Iterable[tuple[list[str], int]]
) -> Iterator[list[str]]:
    """Two streams of (keys, signatures) tasks as one, each next task from the stream that
    has given fewer signatures so far (the heavy one on a tie): while one process works
    through the heavy tasks one at a time, the light ones keep the others busy."""
    heavy, light = iter(heavy), iter(light)
    next_heavy, next_light = next(heavy, None), next(light, None)
    heavy_given = light_given = 0
    while next_heavy is not None or next_light is not None:
        if next_heavy is not None and (next_light is None or heavy_given <= light_given):
            keys, size = next_heavy
            heavy_given += size
            next_heavy = next(heavy, None)
        else:
            keys, size = next_light
            light_given += size
            next_light = next(light, None)
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
