"""What the works layer tells the layers above. Receivers only queue named tasks."""

from django.dispatch import Signal

# Who wrote what changed for these records (an import, a correction, a merge, a re-clustering):
# their counters are already recounted; derived data above (edges, graphs, trust) must follow.
# Sent inside the transaction that made the change, with ``record_ids`` (sorted, unique);
# receivers queue their work on commit.
authorships_changed = Signal()
