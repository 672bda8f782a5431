from django.db import models


class WorkQuerySet(models.QuerySet):
    def by_author(self, author):
        return self.filter(authorships__author=author).distinct()

    def newest_first(self):
        return self.order_by("-year", "title", "id")


class AuthorRecordQuerySet(models.QuerySet):
    def people(self):
        return self.filter(kind="person")

    def live(self):
        """Records that have not been merged into another."""
        return self.filter(merged_into__isnull=True)
