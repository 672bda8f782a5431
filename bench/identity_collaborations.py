"""One block of a big collaboration's members, clustered as a first load would: time and memory.

    python bench/identity_collaborations.py [--team 3000] [--papers 200] [--namesakes 5]
        [--turnover 0.02] [--small 50] [--seed 3]

arXiv's experimental collaborations print every member on every paper: ATLAS or CMS put
about 3,000 names on each of well over a thousand papers. A name key shared by a few of their
members ("y wang") then holds thousands of signatures whose co-authors are the same 3,000
people. The import benchmark's corpus has none of that (its 200-1,000-author papers draw
random teams), so this script builds such a block: ``--namesakes`` people of one surname and
first initial, each on all ``--papers`` papers of one team of ``--team`` members, of which
``--turnover`` are replaced at random from paper to paper (members come and go), plus
``--small`` small papers of the same names with a few of the team as co-authors.

It clusters the block with ``works.identity.cluster_block`` (both stages of
``cluster_labels``, which an import runs on each block of new signatures) and prints the
signatures, the people found, the seconds, the process's peak memory and a ``partition``
digest: two runs with the same arguments print the same digest whatever the code's speed.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.identity_speed import partition_digest  # noqa: E402
from works.identity import Signature, cluster_block  # noqa: E402

SURNAMES = ["Smith", "Muller", "Rossi", "Kim", "Garcia", "Novak", "Ivanov", "Sato", "Brown"]
NAMESAKES = ["Yu Wang", "Yan Wang", "Y. Wang", "Yi Wang", "Yong Wang", "Ying Wang", "Yue Wang"]
TOPICS = ["dark matter", "the Higgs boson", "top quarks", "supersymmetry", "heavy ions"]


def _member(rng: random.Random) -> str:
    return f"{chr(65 + rng.randrange(26))}. {rng.choice(SURNAMES)}{rng.randrange(10_000)}"


def block(args: argparse.Namespace) -> list[Signature]:
    rng = random.Random(args.seed)
    namesakes = NAMESAKES[: args.namesakes]
    team = [_member(rng) for _ in range(args.team)]
    signatures = []
    for paper in range(args.papers):
        for _ in range(int(len(team) * args.turnover)):
            team[rng.randrange(len(team))] = _member(rng)
        printed = team + namesakes
        title = f"Search for {rng.choice(TOPICS)} in proton-proton collisions, paper {paper}"
        for place, name in enumerate(namesakes):
            signatures.append(
                Signature(
                    f"c{paper}-{place}",
                    f"c{paper}",
                    name,
                    position=len(team) + place,
                    coauthors=tuple(n for n in printed if n != name),
                    title=title,
                    year=2010 + paper % 15,
                    categories=("hep-ex",),
                )
            )
    for paper in range(args.small):
        signatures.append(
            Signature(
                f"s{paper}",
                f"s{paper}",
                rng.choice(namesakes),
                position=0,
                coauthors=tuple(rng.sample(team, 3)),
                title=f"A small study of {rng.choice(['calorimeters', 'graphs', 'cells'])}",
                year=2015 + paper % 8,
                categories=(rng.choice(["hep-ex", "physics.ins-det", "q-bio.CB"]),),
            )
        )
    return signatures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--team", type=int, default=3000)
    parser.add_argument("--papers", type=int, default=200)
    parser.add_argument("--namesakes", type=int, default=5, choices=range(1, len(NAMESAKES) + 1))
    parser.add_argument("--turnover", type=float, default=0.02)
    parser.add_argument("--small", type=int, default=50)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    signatures = block(args)
    started = time.perf_counter()
    people = cluster_block(signatures)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{len(signatures):,} signatures ({args.papers} papers of a {args.team:,}-member team, "
        f"{args.namesakes} namesakes, {args.small} small papers): {len(people):,} people in "
        f"{seconds:.1f} s, peak memory {peak:.0f} MB, partition {partition_digest(people)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
