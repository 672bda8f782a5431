"""python manage.py import_arxiv PATH [PATH ...] — import arXiv metadata files."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from works.arxiv.records import ArxivFormatError
from works.services import FORMATS, import_stream


class Command(BaseCommand):
    help = (
        "Import arXiv metadata: Atom API feeds, OAI-PMH responses (arXiv, arXivRaw) or "
        "metadata snapshot JSON lines. The format is detected from the content; '-' reads stdin."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="files to import, '-' for stdin")
        parser.add_argument("--format", choices=FORMATS, help="override format detection")
        parser.add_argument(
            "--quiet-errors", action="store_true", help="do not list skipped records"
        )

    def handle(self, *args, **options):
        paths = options["paths"]
        if not paths:
            raise CommandError("give at least one file to import ('-' reads standard input)")
        total = None
        for path in paths:
            stats = self._import_one(path, options)
            if total is None:
                total = stats
            else:
                total.add(stats)
        self.stdout.write(total.summary())

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
                stream, fmt=options["format"], progress=progress, source_label=f"Import of {path}"
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
        return stats
