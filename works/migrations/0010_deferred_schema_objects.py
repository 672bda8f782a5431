"""Where a first load keeps the indexes and foreign keys it dropped (works.first_load)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("works", "0009_drop_duplicate_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeferredSchemaObject",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("table", models.CharField(max_length=63)),
                ("name", models.CharField(max_length=63, unique=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[("index", "index"), ("constraint", "constraint")], max_length=10
                    ),
                ),
                ("definition", models.TextField()),
                ("dropped_at", models.DateTimeField(auto_now_add=True)),
                ("restored_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["id"],
            },
        ),
    ]
