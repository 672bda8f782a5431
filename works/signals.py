"""What the works layer tells the layers above. Receivers only queue named tasks."""

from django.dispatch import Signal

# Who wrote what changed for these records (an import, a correction, a merge, a re-clustering):
# their counters are already recounted; derived data above (edges, graphs, trust) must follow.
# Sent inside the transaction that made the change, with ``record_ids`` (sorted, unique);
# receivers queue their work on commit.
authorships_changed = Signal()

# Records emptied by a re-clustering, each merged into the record that took most of its
# signatures: ``merged`` maps the emptied record's id to the survivor's. What hangs on a record
# above (follows) must move to the survivor.
records_merged = Signal()
