from django.db import models


class AuthorRecordQuerySet(models.QuerySet):
    def people(self):
        return self.filter(kind="person")

    def live(self):
        """Records that have not been merged into another."""
        return self.filter(merged_into__isnull=True)
