"""python manage.py cluster_authors [--block KEY ... | --all] — cluster name blocks again.

Each block (surname + first initial, "zhang z") is clustered from scratch with people's
corrections obeyed; records keep their ids and slugs with the clusters holding most of their
signatures. Blocks are independent; they go in tasks of about two thousand signatures (each
task one transaction): ``--workers N`` runs the tasks in N processes here, ``--queue`` hands
them to the identity queue of every worker deployed.
"""

import multiprocessing
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from bzpeer.lib.processes import parallel_map
from bzpeer.lib.tasks import enqueue
from works import clustering


def _cluster_task(block_keys: list[str]) -> tuple[int, dict]:
    return len(block_keys), clustering.recluster_blocks(block_keys).as_summary()


class Command(BaseCommand):
    help = "Cluster author signatures into records again, block by block."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--block", nargs="+", metavar="KEY", help='block keys ("zhang z")')
        which.add_argument("--all", action="store_true", help="every block")
        parser.add_argument("--queue", action="store_true", help="queue the blocks instead")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes (default: one per core on PostgreSQL, one on SQLite)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        settled = 0
        if options["all"]:
            sizes, settled = clustering.blocks_to_cluster()
        else:
            sizes = dict.fromkeys(options["block"], 1)
        keys = list(sizes)
        tasks = clustering.block_tasks(sizes)
        if options["queue"]:
            queued = sum(len(task) for task in tasks if enqueue("works.cluster_blocks", task))
            self.stdout.write(f"{queued:,} of {len(keys):,} block(s) queued on 'identity'.")
            return
        workers = self._workers(options["workers"], len(tasks))
        started = time.monotonic()
        # A settled lone signature is one block, one signature, one record left as it was.
        total = clustering.BlockOutcome(signatures=settled, unchanged=settled)
        bar = tqdm(total=len(keys), unit="block", disable=options["no_progress"] or not keys)
        for blocks, summary in self._run(tasks, workers):
            total.add(clustering.BlockOutcome(**summary))
            bar.update(blocks)
        bar.close()
        self.stdout.write(
            f"{len(keys) + settled:,} blocks, {total.signatures:,} signatures: "
            f"{total.created:,} records created, {total.split:,} split, {total.merged:,} merged, "
            f"{total.unchanged:,} unchanged in {time.monotonic() - started:.1f}s."
        )

    def _workers(self, asked: int | None, tasks: int) -> int:
        if asked is not None and asked < 1:
            raise CommandError("--workers must be at least 1")
        if asked is None:
            # SQLite has one writer at a time: more processes would only wait for the lock.
            asked = multiprocessing.cpu_count() if connection.vendor == "postgresql" else 1
        return max(1, min(asked, tasks))

    def _run(self, tasks: list[list[str]], workers: int):
        if workers == 1:
            yield from map(_cluster_task, tasks)
            return
        yield from parallel_map(
            _cluster_task, tasks, workers, tasks_per_process=clustering.TASKS_PER_PROCESS
        )
