"""python manage.py rebuild_graph [--author SLUG]: rebuild collaboration edges from authorships."""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from graph import cache as graph_cache
from graph import services
from graph.models import CollaborationEdge
from graph.signals import edges_changed
from works.models import AuthorRecord


class Command(BaseCommand):
    help = (
        "Rebuild collaboration edges and close-collaborator counts: every record (the default) "
        "or one record and its co-authors (--author SLUG). Cached graphs are invalidated and "
        "trust is recomputed for the records whose close-collaborator count changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--author", metavar="SLUG", help="only this record's edges")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=services.FULL_REBUILD_CHUNK,
            help="author ids per statement of the full rebuild",
        )
        parser.add_argument("--no-trust", action="store_true", help="do not queue trust recomputes")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        started = time.monotonic()
        if options["author"]:
            affected = self._one(options["author"])
            summary = f"{len(affected):,} record(s) with changed edges"
        else:
            result = self._all(options)
            affected = result.counts_changed
            phases = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in result.seconds.items())
            summary = (
                f"{result.edges:,} edge rows (both directions; {result.written:,} written, "
                f"{result.removed:,} removed), {len(affected):,} close-collaborator count(s) "
                f"changed ({phases})"
            )
        if affected and not options["no_trust"]:
            edges_changed.send(sender=CollaborationEdge, record_ids=sorted(affected))
        self.stdout.write(f"{summary} in {time.monotonic() - started:.1f}s.")

    def _one(self, slug: str) -> list[int]:
        record = AuthorRecord.objects.filter(slug=slug).only("id", "kind").first()
        if record is None:
            raise CommandError(f"no author record with the slug {slug!r}")
        if not record.is_person:
            raise CommandError(f"{slug!r} is an organisation: organisations have no edges")
        changed = services.rebuild_edges_for(author_ids=[record.id])
        graph_cache.bump_versions(changed | {record.id})
        return sorted(changed)

    def _all(self, options) -> services.FullRebuildResult:
        # tqdm redraws its bar with carriage returns: the wrapper must not add a newline to
        # each redraw.
        ending, self.stderr.ending = self.stderr.ending, ""
        try:
            bounds = services.record_id_span()
            with tqdm(
                total=bounds,
                unit="id",
                unit_scale=True,
                disable=options["no_progress"],
                file=self.stderr,
            ) as bar:
                result = services.rebuild_all_edges(
                    chunk_size=options["chunk_size"], progress=bar.update
                )
        finally:
            self.stderr.ending = ending
        graph_cache.bump_generation()
        return result
