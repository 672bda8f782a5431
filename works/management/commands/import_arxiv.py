"""python manage.py import_arxiv — import arXiv metadata from files or straight from arXiv.

    import_arxiv PATH [PATH ...]               files (Atom, OAI-PMH, snapshot JSON lines)
    import_arxiv --query 'au:"Zhengyan Zhang"'  the arXiv API, a search query
    import_arxiv --ids 2104.12255 1605.08386    the arXiv API, a list of ids
    import_arxiv --oai [--from DATE] [--set SET] OAI-PMH, everything changed since DATE

Harvests run here by default (the same code the workers run); ``--queue`` hands
them to the workers and prints the run's number instead.
"""

import argparse
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from works import runs
from works.arxiv.records import ArxivFormatError
from works.models import ImportRun
from works.services import FORMATS, import_stream


class Command(BaseCommand):
    help = (
        "Import arXiv metadata: Atom API feeds, OAI-PMH responses (arXiv, arXivRaw) or "
        "metadata snapshot JSON lines. The format is detected from the content; '-' reads stdin. "
        "With --query, --ids or --oai, harvest from arXiv instead (ARXIV_API_URL, ARXIV_OAI_URL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="files to import, '-' for stdin")
        parser.add_argument("--format", choices=FORMATS, help="override format detection")
        parser.add_argument(
            "--quiet-errors", action="store_true", help="do not list skipped records"
        )
        parser.add_argument(
            "--first-load",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="snapshot files on PostgreSQL: load bare (indexes and foreign keys rebuilt at "
            "the end) or not; default: when the database holds no works yet",
        )
        harvest = parser.add_argument_group("harvest from arXiv")
        harvest.add_argument("--query", help='an arXiv API search query, e.g. au:"Zhengyan Zhang"')
        harvest.add_argument("--ids", nargs="+", metavar="ID", help="arXiv ids (API id_list)")
        harvest.add_argument("--oai", action="store_true", help="an OAI-PMH ListRecords harvest")
        harvest.add_argument(
            "--from",
            dest="from_date",
            metavar="DATE",
            help="OAI: from this date (YYYY-MM-DD); default: the last successful harvest's",
        )
        harvest.add_argument("--until", dest="until_date", metavar="DATE", help="OAI: until")
        harvest.add_argument("--set", dest="set_spec", metavar="SET", help="OAI: e.g. cs")
        harvest.add_argument(
            "--metadata-prefix", choices=runs.OAI_PREFIXES, default=runs.OAI_PREFIXES[0]
        )
        harvest.add_argument(
            "--max-results",
            type=int,
            default=runs.DEFAULT_MAX_RESULTS,
            help=f"--query: stop after this many results (default {runs.DEFAULT_MAX_RESULTS})",
        )
        harvest.add_argument(
            "--queue", action="store_true", help="hand the harvest to the workers and return"
        )

    def handle(self, *args, **options):
        harvest = self._harvest_request(options)
        if harvest is not None:
            if options["paths"]:
                raise CommandError("give either files or --query/--ids/--oai, not both")
            return self._harvest(*harvest, queue=options["queue"])
        if options["queue"]:
            raise CommandError("--queue needs --query, --ids or --oai")
        paths = options["paths"]
        if not paths:
            raise CommandError(
                "give at least one file to import ('-' reads standard input), "
                "or --query, --ids or --oai"
            )
        total = None
        for path in paths:
            stats = self._import_one(path, options)
            if total is None:
                total = stats
            else:
                total.add(stats)
        self.stdout.write(total.summary())

    # ----------------------------------------------------------- harvests

    def _harvest_request(self, options) -> tuple[str, dict] | None:
        asked = [name for name in ("query", "ids", "oai") if options[name]]
        if len(asked) > 1:
            raise CommandError("give only one of --query, --ids and --oai")
        oai_only = [options["from_date"], options["until_date"], options["set_spec"]]
        if any(oai_only) and asked != ["oai"]:
            raise CommandError("--from, --until and --set go with --oai")
        if not asked:
            return None
        if options["query"]:
            parameters = {"query": options["query"], "max_results": options["max_results"]}
            return ImportRun.Source.API_QUERY, parameters
        if options["ids"]:
            return ImportRun.Source.API_IDS, {"ids": runs.parse_ids(options["ids"])}
        return ImportRun.Source.OAI, {
            "from": options["from_date"],
            "until": options["until_date"],
            "set": options["set_spec"],
            "metadata_prefix": options["metadata_prefix"],
        }

    def _harvest(self, source: str, parameters: dict, *, queue: bool) -> None:
        def progress(run: ImportRun) -> None:
            expected = f" of about {run.total_expected:,}" if run.total_expected else ""
            self.stderr.write(f"run #{run.pk}: {run.processed:,}{expected} records")

        try:
            run = runs.start_run(
                source=source, parameters=parameters, queue=queue, on_progress=progress
            )
        except runs.InvalidRunParameters as error:
            raise CommandError(str(error)) from None
        if queue and run.state == ImportRun.State.QUEUED:
            if run.errors:
                raise CommandError(f"run #{run.pk} created but not queued: {run.errors[-1]}")
            self.stdout.write(f"queued run #{run.pk} ({run.get_source_display()})")
            return
        summary = (
            f"run #{run.pk} {run.state}: {run.processed} records: {run.created_count} created, "
            f"{run.updated_count} updated, {run.unchanged_count} unchanged, "
            f"{run.error_count} errors"
        )
        if run.state != ImportRun.State.SUCCEEDED:
            reason = run.errors[-1] if run.errors else "no reason recorded"
            raise CommandError(f"{summary}; {reason}")
        self.stdout.write(summary)

    # -------------------------------------------------------------- files

    def _import_one(self, path, options):
        started = time.monotonic()
        last_report = [started]

        def progress(stats):
            now = time.monotonic()
            if now - last_report[0] >= 2:
                last_report[0] = now
                rate = stats.total / max(now - started, 1e-9)
                self.stderr.write(f"{path}: {stats.total:,} records ({rate:,.0f}/s)")

        try:
            stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        try:
            stats = import_stream(
                stream,
                fmt=options["format"],
                progress=progress,
                source_label=f"Import of {path}",
                first_load=options["first_load"],
            )
        except ArxivFormatError as error:
            raise CommandError(f"{path}: {error}") from None
        except UnicodeDecodeError as error:
            raise CommandError(f"{path}: not UTF-8 text ({error.reason})") from None
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
        if not options["quiet_errors"]:
            for error in stats.errors:
                self.stderr.write(f"skipped {error.where}: {error.reason}")
        if len(stats.phases) > 1:
            # A first load's steps: an operator sees where its time went.
            steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in stats.phases.items())
            self.stderr.write(f"{path}: {steps}")
        return stats
