"""Identity quality on labelled data: B-cubed and pairwise figures, against the old rule.

The labelled JSON-lines format is that of the identity data (one signature per line, the true
person in ``cluster``). The rows are clustered by works.clustering.cluster_labelled — the code
every import runs on its new signatures — after ``cluster`` is taken out of them: the answer is
never read to find it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from works.clustering import cluster_labelled
from works.identity.metrics import Scores, b_cubed, name_key_baseline, pairwise

REQUIRED = ("signature_id", "author", "cluster")


class LabelledFileError(ValueError):
    """A file that is not labelled signatures; the message says where and why."""


@dataclass
class Evaluation:
    b3: Scores
    pairs: Scores
    baseline_b3: Scores
    baseline_pairs: Scores
    signatures: int
    seconds: float

    def as_json(self) -> dict:
        def figures(b3: Scores, pairs: Scores) -> dict:
            return {
                "b3_precision": round(b3.precision, 4),
                "b3_recall": round(b3.recall, 4),
                "b3_f1": round(b3.f1, 4),
                "pairwise_precision": round(pairs.precision, 4),
                "pairwise_recall": round(pairs.recall, 4),
                "pairwise_f1": round(pairs.f1, 4),
            }

        return {
            **figures(self.b3, self.pairs),
            "baseline": figures(self.baseline_b3, self.baseline_pairs),
            "signatures": self.signatures,
            "seconds": round(self.seconds, 2),
        }


def read_labelled(stream: IO[str]) -> tuple[list[dict], list[str]]:
    """The file's rows, and one message per line that was skipped.

    A malformed line (not a JSON object, no signature id, author or cluster, a signature id
    seen before) is reported and skipped: one bad line of a large labelled set should cost that
    line, not the evaluation. A file with no usable line is a LabelledFileError.
    """
    rows, seen, skipped = [], set(), []
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        problem = None
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            problem = f"not JSON ({error.msg})"
        else:
            if not isinstance(row, dict):
                problem = "not a JSON object"
            elif missing := [key for key in REQUIRED if row.get(key) in (None, "")]:
                problem = f"no {', '.join(missing)}"
            elif str(row["signature_id"]) in seen:
                problem = f"signature {row['signature_id']} appears twice"
        if problem:
            skipped.append(f"line {number}: {problem}")
            continue
        seen.add(str(row["signature_id"]))
        rows.append(row)
    if not rows:
        reason = f" ({skipped[0]}{' and more' if len(skipped) > 1 else ''})" if skipped else ""
        raise LabelledFileError(f"the file holds no labelled signature{reason}")
    return rows, skipped


def evaluate(rows: Iterable[dict]) -> Evaluation:
    rows = list(rows)
    truth = {str(row["signature_id"]): str(row["cluster"]) for row in rows}
    unlabelled = [{key: value for key, value in row.items() if key != "cluster"} for row in rows]
    started = time.perf_counter()
    predicted = cluster_labelled(unlabelled)
    seconds = time.perf_counter() - started
    # A signature the model does not cluster (a name that is no person) stands alone.
    predicted = {sid: predicted.get(sid, f"alone:{sid}") for sid in truth}
    baseline = name_key_baseline({str(row["signature_id"]): row["author"] for row in rows})
    return Evaluation(
        b3=b_cubed(predicted, truth),
        pairs=pairwise(predicted, truth),
        baseline_b3=b_cubed(baseline, truth),
        baseline_pairs=pairwise(baseline, truth),
        signatures=len(rows),
        seconds=seconds,
    )
