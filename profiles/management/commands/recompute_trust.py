"""python manage.py recompute_trust (--author SLUG | --all): the same code as the Celery tasks."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from profiles import trust
from works.models import AuthorRecord


class Command(BaseCommand):
    help = (
        "Recompute trust snapshots: one record (--author SLUG) or every live person record "
        "(--all). A snapshot is written only when its inputs or result changed."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--author", metavar="SLUG", help="the record's slug")
        which.add_argument("--all", action="store_true", help="every live person record")
        parser.add_argument(
            "--batch-size", type=int, default=trust.BATCH_SIZE, help="records per batch"
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="with --all, read every record's works even where they did not change",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        stats = self._one(options["author"]) if options["author"] else self._all(options)
        self.stdout.write(
            f"{stats.records:,} record(s) recomputed: {stats.written:,} new snapshot(s), "
            f"{stats.unchanged:,} unchanged, {stats.levels_healed:,} stale level(s) corrected."
        )

    def _one(self, slug: str) -> trust.RecomputeStats:
        record = AuthorRecord.objects.filter(slug=slug).only("id", "kind", "merged_into").first()
        if record is None:
            raise CommandError(f"no author record with the slug {slug!r}")
        if not record.is_person:
            raise CommandError(f"{slug!r} is an organisation: organisations have no trust score")
        if record.merged_into_id:
            raise CommandError(f"{slug!r} was merged into another record; recompute that one")
        return trust.recompute(author_ids=[record.id])

    def _all(self, options) -> trust.RecomputeStats:
        # tqdm redraws its bar with carriage returns: the wrapper must not add a newline to
        # each redraw.
        ending, self.stderr.ending = self.stderr.ending, ""
        try:
            with tqdm(
                total=trust.people_count(),
                unit="record",
                disable=options["no_progress"],
                file=self.stderr,
            ) as bar:
                return trust.recompute_all(
                    batch_size=options["batch_size"],
                    full=options["full"],
                    on_batch=lambda batch: bar.update(batch.records),
                )
        finally:
            self.stderr.ending = ending
