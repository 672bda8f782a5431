"""Each signature's name as a co-author (``Authorship.coauthor_name``) for rows written before
the importers kept it.

Linking reads it instead of parsing every member's team (see works.identity.signature); a
row without it (NULL) is parsed as before, for its whole work, so a database loaded before
the column still links correctly, only more slowly, until its rows are filled here.
"""

from collections.abc import Iterator

from django.db import transaction

from works.identity.names import coauthor_name
from works.models import Authorship

# Rows per transaction: short enough that an interrupted run loses little and holds no lock
# for long.
BATCH_ROWS = 5000


def missing_coauthor_names() -> int:
    return Authorship.objects.filter(coauthor_name__isnull=True).count()


def fill_missing_coauthor_names(batch_rows: int = BATCH_ROWS) -> Iterator[int]:
    """Give every signature stored without it its name as a co-author, ``batch_rows`` rows
    (by id) per transaction; yields the rows filled by each. An interrupted run leaves whole
    batches done, and the next one takes the rest."""
    after = 0
    while True:
        rows = list(
            Authorship.objects.filter(id__gt=after, coauthor_name__isnull=True)
            .order_by("id")
            .values_list("id", "printed_name")[:batch_rows]
        )
        if not rows:
            return
        filled = [
            Authorship(id=pk, coauthor_name=coauthor_name(printed) or "") for pk, printed in rows
        ]
        with transaction.atomic():
            Authorship.objects.bulk_update(filled, ["coauthor_name"], batch_size=1000)
        after = rows[-1][0]
        yield len(rows)
