"""The moved tables take the works app's names, and their content types follow them (so admin
permissions and log entries keep pointing at the same models)."""

from django.db import migrations

MOVED = ("authorrecord", "recordevent", "slugredirect")


def move_content_types(apps, schema_editor, *, old="profiles", new="works"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, old="works", new="profiles")


class Migration(migrations.Migration):
    dependencies = [
        ("works", "0003_author_records_move_here"),
        ("profiles", "0006_author_records_moved_to_works"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelTable(name="authorrecord", table=None),
        migrations.AlterModelTable(name="recordevent", table=None),
        migrations.AlterModelTable(name="slugredirect", table=None),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
