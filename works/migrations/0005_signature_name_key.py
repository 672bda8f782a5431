"""Signatures keep their name key, so a new version of a work finds them again."""

from django.db import migrations, models

from works.arxiv import names

BATCH = 5000


def fill_name_keys(apps, schema_editor):
    Authorship = apps.get_model("works", "Authorship")
    db = schema_editor.connection.alias
    rows = Authorship.objects.using(db).filter(name_key="").only("id", "printed_name")
    pending = []
    for authorship in rows.iterator(chunk_size=BATCH):
        author = names.author_from_printed(authorship.printed_name)
        authorship.name_key = names.name_key(names.display_name(author))[:300]
        pending.append(authorship)
        if len(pending) >= BATCH:
            Authorship.objects.using(db).bulk_update(pending, ["name_key"])
            pending = []
    Authorship.objects.using(db).bulk_update(pending, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [("works", "0004_author_record_tables")]

    operations = [
        migrations.AddField(
            model_name="authorship",
            name="name_key",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
    ]
