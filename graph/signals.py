"""What the graph layer tells the layer above (profiles). Receivers only queue named tasks."""

from django.dispatch import Signal

# The edges or works of these records changed (an incremental rebuild after an import or a
# correction, or a full rebuild): what reads close collaborators (trust) must follow.
# ``record_ids``: sorted, unique.
edges_changed = Signal()
