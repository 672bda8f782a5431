"""A first load's blocks, clustered one after another as a linking process does: CPU and digest.

    python bench/identity_blocks.py dump --database-url URL [--largest 40] [--random 600]
        [--out bench/data/blocks.pickle]
    python bench/identity_blocks.py run [bench/data/blocks.pickle] [--largest-only] [--processes N]

``dump`` reads the blocks of a database that ``bench/import_snapshot.py --keep-database``
left (its ``--largest`` blocks and ``--random`` others, drawn with a fixed seed) as the
labelled rows the linker reads (``works.clustering.labelled_rows``), and pickles them under
``bench/data/`` (git ignores it; the rows are the synthetic corpus's). ``run`` clusters each
block with ``works.clustering.cluster_labelled``, in one process with warm caches as a
linking task does, and prints the CPU seconds, the slowest blocks, the process's peak
memory and a ``partition`` digest (``--processes N``: in N worker processes, as a first
load links, with their wall time): a change that must not move any decision prints the same
digest before and after (run each tree's own copy of this script: it puts its own tree
first on ``sys.path``, so ``PYTHONPATH`` cannot choose the code it runs).

The import benchmark's identity step takes about twenty minutes at 200,000 records; the
same blocks' clustering, without the database and the load around it, takes under two.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "blocks.pickle"


def _django(database_url: str | None = None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bzpeer.settings")
    import django

    django.setup()


def dump(args: argparse.Namespace) -> None:
    _django(args.database_url)
    from django.db.models import Count

    from works.clustering import labelled_rows
    from works.models import Authorship

    sizes = list(
        Authorship.objects.exclude(block_key="")
        .values("block_key")
        .annotate(n=Count("id"))
        .order_by("-n", "block_key")
        .values_list("block_key", flat=True)
    )
    others = sizes[args.largest :]
    random.Random(1).shuffle(others)
    blocks = {}
    for key in [*sizes[: args.largest], *others[: args.random]]:
        signatures = Authorship.objects.filter(block_key=key).order_by("work_id", "position")
        rows = labelled_rows(
            signatures.only("id", "work_id", "position", "printed_name", "affiliation")
        )
        blocks[key] = [
            {
                **row,
                "coauthors": list(row["coauthors"]),
                "coauthor_names": None
                if row["coauthor_names"] is None
                else list(row["coauthor_names"]),
            }
            for row in rows
        ]
    from works.models import Work

    work_ids = {int(row["paper_id"]) for rows in blocks.values() for row in rows}
    papers = dict(Work.objects.filter(id__in=work_ids).values_list("id", "arxiv_id"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as file:
        pickle.dump(
            {
                "largest": args.largest,
                "blocks": blocks,
                "papers": {str(k): v for k, v in papers.items()},
            },
            file,
        )
    signatures = sum(len(rows) for rows in blocks.values())
    print(f"{len(blocks)} blocks, {signatures:,} signatures -> {args.out}")


def run(args: argparse.Namespace) -> None:
    _django()
    from bench.identity_speed import _digest
    from bzpeer.lib.processes import parallel_map

    with args.file.open("rb") as file:
        dumped = pickle.load(file)
    blocks = list(dumped["blocks"].items())
    if args.largest_only:
        blocks = blocks[: dumped["largest"]]
    started = time.perf_counter()
    clustered = list(parallel_map(_clustered, blocks, args.processes))
    wall = time.perf_counter() - started
    times = [(seconds, key, size) for seconds, key, size, _ in clustered]
    partitions = [(key, partition) for _, key, _, partition in clustered]
    peak = max(
        resource.getrusage(who).ru_maxrss / 1024
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    signatures = sum(n for _, _, n in times)
    print(
        f"{len(blocks)} blocks, {signatures:,} signatures: {sum(t for t, _, _ in times):.1f} s CPU,"
        f" {wall:.1f} s wall, peak memory {peak:.0f} MB (one process),"
        f" partition {_digest(partitions)}"
    )
    for seconds, key, size in sorted(times, reverse=True)[:5]:
        print(f"  {seconds:6.2f} s  {size:5,} signatures  {key}")
    if args.truth:
        _score(dict(blocks), dict(partitions), dumped["papers"], args.truth, args.authorship)


def _clustered(block: tuple[str, list[dict]]) -> tuple[float, str, int, list[list[str]]]:
    """(CPU seconds, key, signatures, partition) of one block, clustered as a linking task
    clusters it."""
    from works.clustering import cluster_labelled

    key, rows = block
    started = time.process_time()
    assigned = cluster_labelled(rows)
    seconds = time.process_time() - started
    clusters: dict[str, list[str]] = {}
    for signature, cluster in assigned.items():
        clusters.setdefault(cluster, []).append(signature)
    return seconds, key, len(rows), sorted(sorted(ids) for ids in clusters.values())


def _score(blocks: dict, partitions: dict, papers: dict, records: int, authorship: str) -> None:
    """B-cubed and pairwise scores of the partitions against the generator's truth, beside
    one record per printed name, for all blocks and for common and rare surnames apart."""
    from bench import import_snapshot
    from works.arxiv.names import name_key
    from works.identity.metrics import b_cubed, pairwise

    authors = import_snapshot.authors_by_paper(records, authorship=authorship)
    common = {name_key(surname) for surname in import_snapshot._SURNAMES}
    truth, predicted, printed, surname_common = {}, {}, {}, {}
    for key, rows in blocks.items():
        cluster_of = {sid: n for n, ids in enumerate(partitions[key]) for sid in ids}
        for row in rows:
            sid, people = row["signature_id"], authors[papers[row["paper_id"]]]
            position = row["position"]
            truth[sid] = f"person {people[position]}" if position < len(people) else sid
            predicted[sid] = (key, cluster_of[sid])
            printed[sid] = (key, row["author"])
            surname_common[sid] = key.rpartition(" ")[0] in common
    for label, wanted in (("all", None), ("common surnames", True), ("rare surnames", False)):
        ids = [sid for sid in truth if wanted is None or surname_common[sid] == wanted]
        if not ids:
            continue
        print(f"{label}: {len(ids):,} signatures")
        for method, assigned in (("clustering", predicted), ("one per printed name", printed)):
            chosen = {sid: assigned[sid] for sid in ids}
            real = {sid: truth[sid] for sid in ids}
            print(f"  {method:>20}: B3 {b_cubed(chosen, real)} · pairwise {pairwise(chosen, real)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump", help="pickle a kept bench database's blocks")
    dumping.add_argument("--database-url", required=True)
    dumping.add_argument("--largest", type=int, default=40)
    dumping.add_argument("--random", type=int, default=600)
    dumping.add_argument("--out", type=Path, default=DEFAULT_FILE)
    running = commands.add_parser("run", help="cluster the pickled blocks")
    running.add_argument("file", type=Path, nargs="?", default=DEFAULT_FILE)
    running.add_argument("--largest-only", action="store_true")
    running.add_argument(
        "--processes",
        type=int,
        default=0,
        help="cluster the blocks in this many worker processes, as a first load's linking"
        " does (bzpeer.lib.processes.parallel_map); 0: one after another in this process",
    )
    running.add_argument(
        "--truth",
        type=int,
        metavar="RECORDS",
        help="score against who wrote what in import_snapshot.py's file of RECORDS records",
    )
    running.add_argument(
        "--authorship",
        choices=("independent", "teams"),
        default="independent",
        help="how that file's authors were drawn (import_snapshot.py --authorship)",
    )
    args = parser.parse_args()
    {"dump": dump, "run": run}[args.command](args)


if __name__ == "__main__":
    main()
