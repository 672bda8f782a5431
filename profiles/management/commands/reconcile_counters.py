"""python manage.py reconcile_counters: recount every record's counters from the rows."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from profiles import counters


class Command(BaseCommand):
    help = (
        "Recount every author record's work, topic, follower and close-collaborator counts "
        "and its latest affiliation from the rows, repair what drifted, and print how many "
        "values were fixed per counter (the same code as the nightly profiles.reconcile_counters "
        "task)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=counters.CHUNK_SIZE,
            help="record ids per range (one transaction each)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        # tqdm redraws its bar with carriage returns: the wrapper must not add a newline to
        # each redraw.
        ending, self.stderr.ending = self.stderr.ending, ""
        try:
            with tqdm(
                total=counters.record_id_span(),
                unit="id",
                unit_scale=True,
                disable=options["no_progress"],
                file=self.stderr,
            ) as bar:
                result = counters.reconcile_counters(
                    chunk_size=options["chunk_size"], progress=bar.update
                )
        finally:
            self.stderr.ending = ending
        self.stdout.write(result.summary())
