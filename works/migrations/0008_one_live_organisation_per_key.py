"""One live organisation record per name key, enforced by the database.

Duplicates that an earlier race could have left are folded into the lowest-id record first
(their signatures move, the others point at it through ``merged_into``); the nightly
``reconcile_counters`` brings the counters back from rows.
"""

from django.db import migrations, models
from django.db.models import Count, Min, Q


def fold_duplicate_organisations(apps, schema_editor):
    AuthorRecord = apps.get_model("works", "AuthorRecord")
    Authorship = apps.get_model("works", "Authorship")
    db = schema_editor.connection.alias
    live = AuthorRecord.objects.using(db).filter(kind="organisation", merged_into__isnull=True)
    duplicated = (
        live.values("name_key").annotate(n=Count("id"), keep=Min("id")).filter(n__gt=1)
    )
    for row in duplicated:
        others = live.filter(name_key=row["name_key"]).exclude(pk=row["keep"])
        other_ids = list(others.values_list("pk", flat=True))
        Authorship.objects.using(db).filter(author_id__in=other_ids).update(author_id=row["keep"])
        AuthorRecord.objects.using(db).filter(pk__in=other_ids).update(merged_into_id=row["keep"])


class Migration(migrations.Migration):
    dependencies = [("works", "0007_corrections_are_constraints")]

    operations = [
        migrations.RunPython(fold_duplicate_organisations, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="authorrecord",
            constraint=models.UniqueConstraint(
                condition=Q(kind="organisation", merged_into__isnull=True),
                fields=("name_key",),
                name="record_one_live_organisation_per_key",
            ),
        ),
    ]
