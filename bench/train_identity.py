"""Train the shipped identity model on a whole labelled file.

    python bench/train_identity.py ../shared/identity/aminer_110.jsonl
        [--variant archives-only] [--learner lightgbm|logistic]
        [--out works/identity/pairwise_model.json]

Trains the signature learner on every block, the cluster learner on
out-of-fold first-stage clusters, chooses the merge threshold out of fold
(precision first, see ``works.identity.training.choose``) and writes one JSON
file. Deterministic: fixed seeds, single-threaded LightGBM, so the same file
gives the same model byte for byte. Only the model is written: no signature
and nothing per signature leaves the data file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from identity_cv import VARIANTS  # noqa: E402

from works.identity.model import DEFAULT_MODEL_PATH  # noqa: E402
from works.identity.training import (  # noqa: E402
    COHESION_MARGIN,
    FIRST_STAGE_THRESHOLD,
    load_signatures,
    prepare_blocks,
    train_model,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default="../shared/identity/aminer_110.jsonl")
    parser.add_argument("--learner", default="logistic", choices=("lightgbm", "logistic"))
    parser.add_argument("--first-threshold", type=float, default=FIRST_STAGE_THRESHOLD)
    parser.add_argument("--out", default=str(DEFAULT_MODEL_PATH))
    parser.add_argument(
        "--variant",
        default="archives-only",
        choices=sorted(VARIANTS),
        help="the shape the file is seen in (bench/identity_cv.py); the shipped model learns "
        "from venues folded into 20 field codes, as coarse as arXiv's categories",
    )
    args = parser.parse_args(argv)
    if not Path(args.path).is_file():
        parser.error(f"no such file: {args.path}")
    started = time.perf_counter()
    blocks = prepare_blocks([VARIANTS[args.variant](s) for s in load_signatures(args.path)])
    model, scores = train_model(blocks, learner=args.learner, threshold=args.first_threshold)
    for threshold, score in scores.items():
        print(f"out-of-fold merge threshold {threshold:.2f}: B3 {score}")
    print(
        f"first-stage cut {model.threshold:.2f}, merge threshold {model.merge_threshold:.2f}, "
        f"cohesion threshold {model.cohesion_threshold:.2f} (merge + {COHESION_MARGIN})"
    )
    data = model.to_dict()
    data["trained_on"] = {
        "file": Path(args.path).name,
        "blocks": len(blocks),
        "variant": args.variant,
    }
    Path(args.out).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    size = Path(args.out).stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KiB) in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
