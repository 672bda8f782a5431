"""Where a labelled file's recall goes: which people the clustering splits, and why.

    python bench/identity_recall.py ../shared/identity/aminer_110.jsonl [--people 15]

Clusters the file as ``manage.py evaluate_identity`` does (in sample, the shipped model), then
prints the B-cubed recall lost per true person (each signature loses the share of its person
outside its predicted cluster), how much of it is singleton fragments, and, for every person
whose two largest predicted parts both hold at least ``--part-size`` signatures, what the
merge stage reads between those two parts: shared co-authors, venue/category and title
cosines, and the cluster learner's probability against the merge threshold. The two parts
are compared on their own (their IDF weights come from the two of them, not from the whole
block), so the probability is close to, not exactly, what a merge round computed. Last,
whether two-hop co-authorship (a co-author of one group wrote a paper of the file with a
co-author of the other) tells a person's split parts from two namesakes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--people", type=int, default=15, help="people listed by recall lost")
    parser.add_argument("--part-size", type=int, default=5)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bzpeer.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()
    from works.clustering import cluster_labelled
    from works.evaluation import read_labelled

    with args.file.open() as stream:
        rows, _ = read_labelled(stream)
    predicted = cluster_labelled([{k: v for k, v in r.items() if k != "cluster"} for r in rows])
    people: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        people[row["cluster"]].append(row)
    parts_of = {
        person: sorted(_parts(members, predicted).values(), key=len, reverse=True)
        for person, members in people.items()
    }
    _print_losses(parts_of, len(rows), args.people)
    _print_split_pairs(rows, parts_of, args.part_size)
    _print_two_hop(rows, people, parts_of)


def _parts(members: list[dict], predicted: dict[str, str]) -> dict[str, list[dict]]:
    parts: dict[str, list[dict]] = defaultdict(list)
    for row in members:
        parts[predicted[row["signature_id"]]].append(row)
    return parts


def _loss(parts: list[list[dict]]) -> float:
    """B-cubed recall lost by one person's signatures, in signatures."""
    size = sum(len(p) for p in parts)
    return sum(len(p) * (1 - len(p) / size) for p in parts)


def _print_losses(parts_of: dict[str, list[list[dict]]], signatures: int, shown: int) -> None:
    losses = sorted(((_loss(parts), person) for person, parts in parts_of.items()), reverse=True)
    # (signature, its person's size) of every part of one signature split off a person
    singles = [
        (part[0], sum(len(p) for p in parts))
        for parts in parts_of.values()
        if len(parts) > 1
        for part in parts
        if len(part) == 1
    ]
    from_singles = sum(1 - 1 / size for _, size in singles)
    print(
        f"recall lost: {sum(loss for loss, _ in losses):.1f} of {signatures:,} signatures;"
        f" singleton fragments {from_singles:.1f} ({len(singles)} signatures,"
        f" {sum(not r['coauthors'] for r, _ in singles)} without co-authors,"
        f" {sum(not r['affiliations'] for r, _ in singles)} without an affiliation)"
    )
    for loss, person in losses[:shown]:
        sizes = [len(p) for p in parts_of[person]]
        more = f" + {len(sizes) - 8} more" if len(sizes) > 8 else ""
        print(f"  {loss:6.1f}  {person}: {' + '.join(map(str, sizes[:8]))}{more}")


def _print_split_pairs(rows, parts_of, part_size: int) -> None:
    from works.identity.features import (
        FEATURE_NAMES,
        merge_profiles,
        profile_of,
        small_block_features,
    )
    from works.identity.model import default_model
    from works.identity.signature import Signature

    model = default_model()
    signatures = {
        r["signature_id"]: Signature.from_record({k: v for k, v in r.items() if k != "cluster"})
        for r in rows
    }
    block_sizes = Counter(s.block_key for s in signatures.values())
    column = {name: FEATURE_NAMES.index(name) for name in FEATURE_NAMES}
    found = []
    for person, parts in parts_of.items():
        if len(parts) < 2 or len(parts[1]) < part_size:
            continue
        members = [[signatures[r["signature_id"]] for r in part] for part in parts[:2]]
        pools = [
            merge_profiles([profile_of(s, block_sizes[s.block_key]) for s in part])
            for part in members
        ]
        _, _, features, _ = small_block_features(pools)
        probability = float(model.clusters.predict(features)[0])
        found.append((probability, person, len(parts[0]), len(parts[1]), features[0]))
    print(
        f"\n{len(found)} people split into two parts of {part_size}+ signatures"
        f" (merge threshold {model.merge_threshold}):"
    )
    print("  probability  shared co-authors  where cos  title cos  person: parts")
    for probability, person, first, second, values in sorted(found, key=lambda f: f[0]):
        print(
            f"  {probability:11.2f}  {values[column['log_shared_coauthors']]:17.2f}"
            f"  {values[column['where_cos']]:9.2f}  {values[column['title_cos']]:9.2f}"
            f"  {person}: {first} + {second}"
        )


def _print_two_hop(rows, people, parts_of, minimum: int = 3) -> None:
    """Pairs of groups (3+ signatures) sharing no co-author: how many have a co-author of one
    who wrote a paper of the file with a co-author of the other, same person's split parts
    against two people of one block. Names are compared as printed, lower-cased."""
    written_with: dict[str, set[str]] = defaultdict(set)
    for names in _papers(rows).values():
        for name in names:
            written_with[name] |= names - {name}

    def linked(first: list[dict], second: list[dict]) -> bool | None:
        a, b = _coauthor_names(first), _coauthor_names(second)
        if a & b:
            return None  # they share a co-author: not the case measured
        return any(written_with[name] & b for name in a)

    split = [linked(x, y) for parts in parts_of.values() for x, y in _pairs(parts, minimum)]
    by_block: dict[str, list[list[dict]]] = defaultdict(list)
    for members in people.values():
        by_block[members[0]["cluster"].rsplit(":", 1)[0]].append(members)
    apart = [linked(x, y) for block in by_block.values() for x, y in _pairs(block, minimum)]
    print(f"\ntwo-hop co-authorship between groups of {minimum}+ signatures sharing no co-author:")
    for label, found in (("one person's split parts", split), ("two people of a block", apart)):
        measured = [f for f in found if f is not None]
        print(f"  {label}: {sum(measured)} of {len(measured)} linked")


def _papers(rows) -> dict[str, set[str]]:
    papers: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        papers[row["paper_id"]].update(n.lower() for n in (row["author"], *row["coauthors"]))
    return papers


def _coauthor_names(rows: list[dict]) -> set[str]:
    return {name.lower() for row in rows for name in row["coauthors"]}


def _pairs(groups: list[list[dict]], minimum: int):
    large = [g for g in groups if len(g) >= minimum]
    return [(a, b) for i, a in enumerate(large) for b in large[i + 1 :]]


if __name__ == "__main__":
    main()
