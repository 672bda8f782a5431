"""Speed of author clustering on a synthetic corpus, one process.

    python bench/identity_speed.py [--works 100000] [--big-block 10000] [--new-works 2000]
        [--abstract-words 150] [--seed 7]

Generates people with Zipf-distributed names (surname and given name drawn
from Zipf laws, so some blocks are huge and most are tiny), Zipf-distributed
productivity, a stable circle of co-authors and a topic (arXiv-like category
and words) each; works are written by one person and a few of their circle,
and 20 % of printings use initials. ``--abstract-words 150`` gives every work an
abstract of that many words (about 1 KB, as the import bench's records), half
from its lead author's topic words; they come from a separate random stream, so
the corpus is otherwise the same as without them. Then it times:

1. clustering every block of the corpus (``cluster_block``), signatures/s;
2. one block of ``--big-block`` signatures (one surname + initial, many
   people), alone;
3. linking the signatures of ``--new-works`` new works into the clustered
   corpus (``link``), with the existing clusters of their blocks.

``--big-block 0`` and ``--new-works 0`` skip steps 2 and 3. ``--labelled FILE``
(the identity data's JSON-lines format) clusters that file's blocks instead of
the synthetic corpus (its ``cluster`` labels are not read). Each step prints a
``partition`` digest (sha256 of the sorted cluster member lists): two runs with
the same arguments must print the same digests whatever the code's speed.

``--processes N`` clusters the corpus's blocks in N forked processes, in tasks of
about 2,000 signatures as ``cluster_authors`` shares them out, and links the new
works' blocks in N processes as the app's ``plan_links`` shares them out (CPU
seconds then count the processes' too); the big block runs in one process.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import multiprocessing
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from works.identity import Signature, cluster_block, link  # noqa: E402
from works.identity.incremental import LinkResult  # noqa: E402
from works.identity.model import default_model  # noqa: E402
from works.identity.sharing import grouped_blocks, least_loaded  # noqa: E402

SURNAMES = [
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Kim",
    "Lee", "Park", "Nguyen", "Smith", "Müller", "García", "Rossi", "Kumar", "Singh",
]  # fmt: skip
SYLLABLES = [
    "an", "bo", "chen", "da", "fei", "gang", "hui", "jian", "kai", "lan", "ming",
    "ning", "peng", "qiang", "rui", "shan", "tao", "wei", "xin", "yu", "zhi",
]  # fmt: skip
CATEGORIES = [f"{a}.{b}" for a in ("cs", "math", "physics", "q-bio") for b in "ABCDEFGHIJ"]
WORDS = [f"w{k}" for k in range(5000)]


def _surname(rng) -> str:
    """A Zipf-ranked common surname (Wang, Li, ...) for 40 % of people, else one of
    about 200,000 rarer ones."""
    rank = int(rng.zipf(1.3)) - 1
    if rng.random() < 0.4 and rank < len(SURNAMES):
        return SURNAMES[rank]
    return "".join(rng.choice(SYLLABLES, int(rng.integers(2, 5)))).title()


def make_people(rng, count: int, *, surname: str | None = None, initial: str | None = None):
    people = []
    for _ in range(count):
        family = surname or _surname(rng)
        given = "".join(rng.choice(SYLLABLES, int(rng.integers(1, 3)))).title()
        if initial:
            given = initial.upper() + given[1:] if given[0] != initial else given
        topic = int(rng.integers(len(CATEGORIES)))
        people.append(
            {
                "given": given,
                "surname": family,
                "topic": topic,
                "words": rng.choice(WORDS, 30, replace=False).tolist(),
                "productivity": min(int(rng.zipf(1.8)), 400),
                "start": int(rng.integers(1990, 2020)),
            }
        )
    for person in people:
        person["circle"] = rng.integers(len(people), size=int(rng.integers(2, 12))).tolist()
    return people


def printed(rng, person) -> str:
    if rng.random() < 0.2:
        return f"{person['given'][0]}. {person['surname']}"
    return f"{person['given']} {person['surname']}"


def make_works(
    rng, people, count: int, prefix: str, *, abstract_words: int = 0, text_rng=None
) -> list[Signature]:
    weights = np.array([p["productivity"] for p in people], dtype=np.float64)
    leads = rng.choice(len(people), size=count, p=weights / weights.sum())
    signatures = []
    for number, lead in enumerate(leads):
        person = people[lead]
        team = [lead, *rng.choice(person["circle"], size=int(rng.integers(0, 4))).tolist()]
        team = list(dict.fromkeys(team))
        names = [printed(rng, people[k]) for k in team]
        title = " ".join(rng.choice(person["words"], 6).tolist())
        year = person["start"] + int(rng.integers(0, 8))
        abstract = _abstract(text_rng, person, abstract_words) if abstract_words else ""
        for position, k in enumerate(team):
            signatures.append(
                Signature(
                    signature_id=f"{prefix}{number}:{position}",
                    paper_id=f"{prefix}{number}",
                    author=names[position],
                    position=position,
                    coauthors=tuple(n for j, n in enumerate(names) if j != position),
                    title=title,
                    abstract=abstract,
                    year=year,
                    categories=(CATEGORIES[people[k]["topic"]],),
                    truth=str(k),
                )
            )
    return signatures


def _abstract(rng, person, words: int) -> str:
    """Half topic words of the lead author, half words of the whole vocabulary."""
    own = rng.choice(person["words"], words // 2).tolist()
    common = rng.choice(WORDS, words - words // 2).tolist()
    return " ".join(own + common)


def partition_digest(clusters) -> str:
    """sha256 of the sorted, sorted-member cluster lists: equal partitions, equal digest."""
    return _digest(sorted(sorted(ids) for ids in clusters))


def _digest(value) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def by_block(signatures):
    blocks = defaultdict(list)
    for signature in signatures:
        blocks[signature.block_key].append(signature)
    return blocks


def time_corpus(signatures, model, processes: int = 1):
    """Cluster every block; CPU seconds include the worker processes' own."""
    blocks = by_block(signatures)
    started, cpu = time.perf_counter(), _cpu_seconds()
    if processes > 1:
        clusters, slowest = _cluster_in_processes(blocks, model, processes)
    else:
        clusters, slowest = _cluster_tasks([list(blocks)], blocks, model)
    seconds = (time.perf_counter() - started, _cpu_seconds() - cpu)
    return clusters, seconds, len(blocks), slowest


def _cluster_tasks(tasks, blocks, model):
    clusters = {}
    slowest = (0.0, 0)
    for keys in tasks:
        for key in keys:
            members = blocks[key]
            block_started = time.perf_counter()
            for number, ids in enumerate(cluster_block(members, model=model)):
                clusters[f"{key}#{number}"] = ids
            slowest = max(slowest, (time.perf_counter() - block_started, len(members)))
    return clusters, slowest


_FORKED = {}  # the blocks and model the forked processes inherit


def _cluster_one_task(keys):
    return _cluster_tasks([keys], _FORKED["blocks"], _FORKED["model"])


def _cluster_in_processes(blocks, model, processes: int):
    """Blocks shared out as the app's `cluster_authors` does: tasks of about 2,000
    signatures, largest blocks first so that the last task to finish is a small one."""
    sizes = sorted(((key, len(members)) for key, members in blocks.items()), key=_largest_first)
    tasks = list(grouped_blocks(sizes))
    _FORKED.update(blocks=blocks, model=model)
    gc.freeze()  # the children's collector would touch, and so copy, every inherited object
    clusters, slowest = {}, (0.0, 0)
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for part, part_slowest in pool.imap_unordered(_cluster_one_task, tasks):
            clusters.update(part)
            slowest = max(slowest, part_slowest)
    return clusters, slowest


def _largest_first(sized_key: tuple[str, int]) -> tuple[int, str]:
    key, size = sized_key
    return -size, key


def _cpu_seconds() -> float:
    """This process's CPU and that of its finished children (the pool's processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.2f}"


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=0, help="default: works / 3")
    parser.add_argument("--big-block", type=int, default=10_000)
    parser.add_argument("--new-works", type=int, default=2_000)
    parser.add_argument("--abstract-words", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--processes", type=int, default=1, help="cluster the corpus's blocks in N processes"
    )
    parser.add_argument("--labelled", help="cluster this labelled JSON-lines file instead")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.labelled:
        return _time_labelled(Path(args.labelled))
    rng = np.random.default_rng(args.seed)
    text = {"abstract_words": args.abstract_words, "text_rng": np.random.default_rng(args.seed + 1)}
    model = default_model()
    people = make_people(rng, args.people or args.works // 3)
    corpus = make_works(rng, people, args.works, "w", **text)
    print(f"start: {_load()}")
    clusters, (seconds, cpu), blocks, slowest = time_corpus(corpus, model, args.processes)
    print(
        f"corpus ({args.processes} process{'es' if args.processes > 1 else ''}): "
        f"{args.works} works, {len(corpus)} signatures, {blocks} blocks: {seconds:.1f} s "
        f"({cpu:.1f} s CPU), {len(corpus) / seconds:,.0f} signatures/s "
        f"({len(corpus) / cpu:,.0f} per CPU second); slowest block {slowest[1]} signatures "
        f"in {slowest[0]:.2f} s; {_load()}; partition {partition_digest(clusters.values())}"
    )
    if args.big_block:
        _time_big_block(rng, model, args.big_block, text)
    if args.new_works:
        _time_link(rng, model, people, corpus, clusters, args.new_works, text, args.processes)
    return 0


def _time_labelled(path: Path) -> int:
    with path.open(encoding="utf-8") as stream:
        rows = [json.loads(line) for line in stream if line.strip()]
    signatures = [
        Signature.from_record({k: v for k, v in r.items() if k != "cluster"}) for r in rows
    ]
    print(f"start: {_load()}")
    clusters, (seconds, cpu), blocks, slowest = time_corpus(signatures, default_model())
    print(
        f"{path.name}: {len(signatures)} signatures, {blocks} blocks: {seconds:.1f} s "
        f"({cpu:.1f} s CPU); slowest block {slowest[1]} signatures in {slowest[0]:.2f} s; "
        f"{_load()}; partition {partition_digest(clusters.values())}"
    )
    return 0


def _time_big_block(rng, model, size: int, text) -> None:
    big_people = make_people(rng, max(size // 8, 1), surname="Wang", initial="w")
    big = [s for s in make_works(rng, big_people, size * 2, "b", **text) if s.block_key]
    big = [s for s in big if s.block_key == "wang w"][:size]
    started, cpu = time.perf_counter(), time.process_time()
    big_clusters = cluster_block(big, model=model)
    print(
        f"one block of {len(big)} signatures ('wang w'): {time.perf_counter() - started:.1f} s "
        f"({time.process_time() - cpu:.1f} s CPU), {len(big_clusters)} clusters; {_load()}; "
        f"partition {partition_digest(big_clusters)}"
    )


def _time_link(rng, model, people, corpus, clusters, count: int, text, processes: int = 1) -> None:
    new = make_works(rng, people, count, "n", **text)
    members = {s.signature_id: s for s in corpus}
    new_keys = {s.block_key for s in new}
    existing = {
        cluster_id: [members[i] for i in ids]
        for cluster_id, ids in clusters.items()
        if cluster_id.rsplit("#", 1)[0] in new_keys
    }
    started, cpu = time.perf_counter(), _cpu_seconds()
    if processes > 1:
        result = _link_in_processes(new, existing, model, processes)
    else:
        result = link(new, existing, model=model)
    outcome = (sorted(result.assignments.items()), sorted(sorted(c) for c in result.new_clusters))
    print(
        f"link {count} new works ({len(new)} signatures, {len(existing)} existing "
        f"clusters in their blocks, {processes} process{'es' if processes > 1 else ''}): "
        f"{time.perf_counter() - started:.1f} s ({_cpu_seconds() - cpu:.1f} s CPU); "
        f"{len(result.assignments)} joined, {len(result.new_clusters)} new people; {_load()}; "
        f"outcome {_digest(outcome)}"
    )


def _link_one_task(number):
    new, existing = _FORKED["link_tasks"][number]
    return link(new, existing, model=_FORKED["model"])


def _link_in_processes(new, existing, model, processes: int) -> LinkResult:
    """The new signatures' blocks shared out as the app's plan_links does: two tasks per
    process, largest block first into the least loaded task, each task with the existing
    clusters of its blocks. The model decides each block alone: the outcome is one
    process's."""
    new_by_block = by_block(new)
    existing_by_block = defaultdict(dict)
    for cluster_id, members in existing.items():
        existing_by_block[cluster_id.rsplit("#", 1)[0]][cluster_id] = members
    sizes = sorted(
        (
            (key, len(signatures) + sum(len(m) for m in existing_by_block[key].values()))
            for key, signatures in new_by_block.items()
        ),
        key=_largest_first,
    )
    tasks = [([], {}) for _ in range(2 * processes)]
    for key, n in least_loaded(sizes, len(tasks)).items():
        tasks[n][0].extend(new_by_block[key])
        tasks[n][1].update(existing_by_block[key])
    # The processes inherit the tasks (fork), rather than receive them pickled.
    _FORKED.update(model=model, link_tasks=[t for t in tasks if t[0]])
    gc.freeze()
    result = LinkResult()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for part in pool.imap_unordered(_link_one_task, range(len(_FORKED["link_tasks"]))):
            result.assignments.update(part.assignments)
            result.new_clusters.extend(part.new_clusters)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
