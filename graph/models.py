"""Materialised collaboration edges between person records."""

from django.db import models
from django.db.models import Q


class CollaborationEdge(models.Model):
    """One direction of a co-author pair (both directions are stored).

    ``weight`` is the summed Newman weight 1/(n-1) over shared works with at
    most ``graph.weights.MAX_AUTHORS_FOR_PAIRS`` person authors.
    """

    # edge_unique_pair and edge_strongest both lead with author_id: no index of its own.
    author = models.ForeignKey(
        "works.AuthorRecord", on_delete=models.CASCADE, related_name="edges", db_index=False
    )
    coauthor = models.ForeignKey("works.AuthorRecord", on_delete=models.CASCADE, related_name="+")
    weight = models.FloatField()
    shared_works = models.PositiveIntegerField()
    latest_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["author", "coauthor"], name="edge_unique_pair"),
            models.CheckConstraint(condition=~Q(author=models.F("coauthor")), name="edge_not_self"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="edge_weight_positive"),
        ]
        indexes = [models.Index(fields=["author", "-weight"], name="edge_strongest")]

    def __str__(self):
        return f"{self.author_id} — {self.coauthor_id} ({self.weight:.3f})"
