"""python manage.py load_demo — the researcher of the seed page and nine works.

Idempotent: the importer skips unchanged records, so running it again changes
nothing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from works.services import import_stream

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "zhengyan-zhang.arxivraw.xml"


class Command(BaseCommand):
    help = "Load the demo researcher (Zhengyan Zhang) and their nine works through the importer."

    def handle(self, *args, **options):
        with DEMO_FILE.open("rb") as stream:
            stats = import_stream(stream, source_label="Demo data")
        self.stdout.write(f"Demo data: {stats.summary()}")
