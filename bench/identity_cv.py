"""Cross-validated author disambiguation on a labelled JSON-lines file.

    python bench/identity_cv.py ../shared/identity/aminer_110.jsonl
        [--folds 5] [--learner lightgbm|logistic] [--variant full|no-affiliations|...]
        [--thresholds 0.3,0.4,...]

Blocks (surname + first initial, ``works.identity.names.block_key``) are split
into folds (GroupKFold: a block is never in training and test at once). Each
fold trains the pairwise model on the other folds' blocks, picks the
average-linkage threshold by an inner cross-validation on those training
blocks only, and clusters its own blocks. Figures are over all signatures of
the file, every signature predicted by a model that never saw its block.

Training adds rare-name blocks made of the training folds' people
(``training.rare_name_signatures``; ``--no-rare-names`` leaves them out); the
"rare names" row clusters the held-out people under invented rare names.

Variants remove or move fields before anything is computed, to show how
the figures degrade when a field is missing: ``no-affiliations``,
``no-venue``, ``no-coauthors``, ``no-title``, ``arxiv-like`` (venue moved
into category-like codes, as arXiv data has categories and no venue), and
``coarse-categories`` / ``archives-only`` (venues folded into 80 / 20 codes, so
that people of one field share one, as on arXiv).
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import works.identity.cluster as cluster_module  # noqa: E402
from works.identity.cluster import cluster_labels  # noqa: E402
from works.identity.incremental import cohesion  # noqa: E402
from works.identity.metrics import b_cubed, name_key_baseline, pairwise  # noqa: E402
from works.identity.training import (  # noqa: E402
    FIRST_STAGE_THRESHOLD,
    cluster_prepared,
    load_signatures,
    prepare_blocks,
    rare_name_signatures,
    train_model,
)

DEFAULT_PATH = "../shared/identity/aminer_110.jsonl"
DEFAULT_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
RARE_SEED = 7


def _venue_code(venue: str) -> str:
    return "".join(ch for ch in venue.casefold() if ch.isalpha())[:24] or "v"


def _arxiv_like(signature):
    """Venue -> a category code and a coarse "archive" (20 buckets), venue emptied."""
    if not signature.venue:
        return replace(signature, venue="", categories=())
    code = _venue_code(signature.venue)
    archive = f"x{zlib.crc32(code.encode()) % 20}"
    return replace(signature, venue="", categories=(f"{archive}.{code}",))


def _coarse_categories(signature, archives: int = 20, subjects: int = 4):
    """Venue -> one of 20 archives x 4 subjects (80 codes, about arXiv's coarseness), venue
    emptied: unlike ``arxiv-like``, two venues of one field share the code, as two different
    people of one field share "hep-th" on arXiv."""
    if not signature.venue:
        return replace(signature, venue="", categories=())
    code = _venue_code(signature.venue)
    archive = zlib.crc32(code.encode()) % archives
    subject = zlib.crc32(code[::-1].encode()) % subjects
    return replace(signature, venue="", categories=(f"x{archive}.s{subject}",))


def _initials(printed: str) -> str:
    """ "Mukesh K. Mohania" -> "M. K. Mohania", as many papers print co-authors."""
    words = printed.split()
    return " ".join([*(w[0] + "." for w in words[:-1]), words[-1]]) if len(words) > 1 else printed


VARIANTS = {
    "full": lambda s: s,
    "coauthor-initials": lambda s: replace(s, coauthors=tuple(map(_initials, s.coauthors))),
    "no-affiliations": lambda s: replace(s, affiliations=()),
    "no-venue": lambda s: replace(s, venue=""),
    "no-coauthors": lambda s: replace(s, coauthors=()),
    "no-title": lambda s: replace(s, title=""),
    "arxiv-like": _arxiv_like,
    "coarse-categories": _coarse_categories,
    "archives-only": lambda s: _coarse_categories(s, subjects=1),
}


def _folds(blocks, folds: int):
    from sklearn.model_selection import GroupKFold

    groups = np.arange(len(blocks))
    return GroupKFold(n_splits=folds).split(groups, groups=groups)


def _impure(truths) -> bool:
    """Two or more true people with at least two signatures each."""
    counts = Counter(truths)
    return sum(1 for c in counts.values() if c >= 2) >= 2


def cohesion_check(block, labels: dict, model, tally: Counter) -> None:
    """Count how well cohesion() flags the predicted clusters that mix people."""
    members = defaultdict(list)
    for signature in block.signatures:
        members[labels[signature.signature_id]].append(signature)
    for cluster in members.values():
        if len(cluster) < 4:
            continue
        flagged = cohesion(cluster, model=model).possibly_several_people
        impure = _impure([s.truth for s in cluster])
        tally[(flagged, impure)] += 1


def run_cv(
    blocks,
    *,
    folds: int,
    learner: str,
    thresholds,
    first_threshold: float,
    through_api=False,
    rare_names=True,
    train_blocks=None,
):
    """Out-of-fold labels per merge threshold, with the inner-CV choice, per fold.

    ``train_blocks``: the same names' blocks under another variant to train on (the fold
    split is the same: both are sorted by block key), to see a model meet data shaped
    otherwise than what it learnt from.

    The "rare names" row clusters the held-out people renamed to invented rare
    names (training.rare_name_signatures, another seed): how identical rare
    names fare, and whether namesakes under one rare name stay apart.
    """
    by_threshold = {t: {} for t in (*thresholds, "first stage only", "chosen", "rare names")}
    rare_truth: dict[str, str] = {}
    chosen = []
    tally: Counter = Counter()
    for fold, (train_index, test_index) in enumerate(_folds(blocks, folds)):
        model, _ = train_model(
            [(train_blocks or blocks)[k] for k in train_index],
            learner=learner,
            threshold=first_threshold,
            rare_names=rare_names,
        )
        chosen.append(model.merge_threshold)
        held_out = [s for k in test_index for s in blocks[k].signatures]
        renamed = rare_name_signatures(held_out, seed=RARE_SEED + fold, start=10**6 * (fold + 1))
        for block in prepare_blocks(renamed):
            by_threshold["rare names"].update(cluster_prepared(block, model))
            rare_truth.update(block.truth())
        for k in test_index:
            block = blocks[k]
            for t in thresholds:
                by_threshold[t].update(cluster_prepared(block, model, merge_threshold=t))
            by_threshold["first stage only"].update(
                cluster_prepared(block, model, merge_threshold=2.0)
            )
            labels = cluster_prepared(block, model)
            if through_api:
                api = cluster_labels(block.signatures, model)
                labels = {sid: f"{block.key}#{x}" for sid, x in zip(block.ids, api, strict=True)}
            by_threshold["chosen"].update(labels)
            cohesion_check(block, labels, model, tally)
    return by_threshold, chosen, tally, rare_truth


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default=DEFAULT_PATH)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--learner", default="logistic", choices=("lightgbm", "logistic"))
    parser.add_argument("--variant", default="full", choices=sorted(VARIANTS))
    parser.add_argument(
        "--train-variant",
        choices=sorted(VARIANTS),
        help="train on this variant of the training blocks, test on --variant",
    )
    parser.add_argument("--thresholds", default=",".join(str(t) for t in DEFAULT_THRESHOLDS))
    parser.add_argument("--first-threshold", type=float, default=FIRST_STAGE_THRESHOLD)
    parser.add_argument(
        "--through-api",
        action="store_true",
        help="cluster the held-out blocks with cluster_labels (the app's path, including the "
        "big-block decomposition) for the 'chosen' row, instead of precomputed features",
    )
    parser.add_argument(
        "--no-rare-names",
        action="store_true",
        help="train on the file's blocks only, without the synthetic rare-name blocks",
    )
    parser.add_argument("--dense-limit", type=int, default=None, help="override DENSE_LIMIT")
    args = parser.parse_args(argv)
    if args.dense_limit is not None:
        cluster_module.DENSE_LIMIT = args.dense_limit
    if not Path(args.path).is_file():
        parser.error(f"no such file: {args.path}")

    started = time.perf_counter()
    signatures = [VARIANTS[args.variant](s) for s in load_signatures(args.path)]
    truth = {s.signature_id: s.truth for s in signatures}
    blocks = prepare_blocks(signatures)
    train_blocks = None
    if args.train_variant:
        train_blocks = prepare_blocks(
            [VARIANTS[args.train_variant](s) for s in load_signatures(args.path)]
        )
        assert [b.key for b in train_blocks] == [b.key for b in blocks]
    prepared = time.perf_counter()
    thresholds = [float(t) for t in args.thresholds.split(",")]
    by_threshold, chosen, tally, rare_truth = run_cv(
        blocks,
        folds=args.folds,
        learner=args.learner,
        thresholds=thresholds,
        first_threshold=args.first_threshold,
        through_api=args.through_api,
        rare_names=not args.no_rare_names,
        train_blocks=train_blocks,
    )
    done = time.perf_counter()

    print(f"file {args.path}: {len(signatures)} signatures, {len(blocks)} blocks")
    trained = f", trained on {args.train_variant}" if args.train_variant else ""
    print(f"variant {args.variant}{trained}, learner {args.learner}, {args.folds}-fold by block")
    baseline = name_key_baseline({s.signature_id: s.author for s in signatures})
    print(f"baseline (one record per name_key): B3 {b_cubed(baseline, truth)}")
    print(f"{'':36}pairwise {pairwise(baseline, truth)}")
    print(f"first-stage cut {args.first_threshold:.2f}; rows: merge threshold")
    for t, predicted in by_threshold.items():
        label = f"{t:.2f}" if isinstance(t, float) else t
        if t == "chosen":
            label = f"chosen by inner CV ({', '.join(f'{c:.2f}' for c in chosen)})"
        answer = rare_truth if t == "rare names" else truth
        print(
            f"  {label:>20}: B3 {b_cubed(predicted, answer)}  "
            f"pairwise {pairwise(predicted, answer)}"
        )
    flagged = tally[(True, True)] + tally[(True, False)]
    impure = tally[(True, True)] + tally[(False, True)]
    print(
        f"cohesion on chosen clusters of 4+ signatures: {sum(tally.values())} clusters, "
        f"{impure} mix people, {flagged} flagged possibly_several_people, "
        f"{tally[(True, True)]} of them rightly"
    )
    print(f"time: features {prepared - started:.1f} s, cross-validation {done - prepared:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
