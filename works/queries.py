from django.db import models


class WorkQuerySet(models.QuerySet):
    def by_author(self, author):
        return self.filter(authorships__author=author).distinct()

    def newest_first(self):
        return self.order_by("-year", "title", "id")
