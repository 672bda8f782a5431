"""python manage.py evaluate_identity FILE.jsonl [--json] — identity quality on labelled data.

Clusters the file's signatures with the code every import runs (works.clustering) without
reading their ``cluster`` labels, and prints B-cubed and pairwise precision, recall and F1, the
same figures for the one-record-per-name rule, and the time the clustering took.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from works.evaluation import LabelledFileError, evaluate, read_labelled


class Command(BaseCommand):
    help = (
        "Score author disambiguation on labelled signatures (JSON lines, one signature per "
        "line, the true person in 'cluster'): B-cubed and pairwise precision, recall and F1."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="labelled JSON-lines file")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        try:
            with open(options["path"], encoding="utf-8-sig") as stream:
                rows, skipped = read_labelled(stream)
        except OSError as error:
            raise CommandError(f"cannot read {options['path']}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{options['path']} is not UTF-8 text") from None
        except LabelledFileError as error:
            raise CommandError(f"{options['path']}: {error}") from None
        for message in skipped:
            self.stderr.write(f"{options['path']}: {message}: skipped")
        result = evaluate(rows)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json()))
            return
        figures = result.as_json()
        baseline = figures["baseline"]
        self.stdout.write(f"{result.signatures:,} signatures clustered in {result.seconds:.1f} s")
        for label, row in (("clustering", figures), ("one record per name", baseline)):
            self.stdout.write(
                f"{label:>20}: B3 P {row['b3_precision']:.3f} R {row['b3_recall']:.3f} "
                f"F1 {row['b3_f1']:.3f} · pairwise P {row['pairwise_precision']:.3f} "
                f"R {row['pairwise_recall']:.3f} F1 {row['pairwise_f1']:.3f}"
            )
