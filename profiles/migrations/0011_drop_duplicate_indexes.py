"""Drop the foreign keys' own indexes where a composite or unique index leading with
the same column serves every lookup (tests/test_indexes.py): they only cost writes and
space. The constraints themselves stay untouched (see bzpeer.lib.migrations)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from bzpeer.lib.migrations import drop_foreign_key_index


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0010_orcid"),
        ("works", "0009_drop_duplicate_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        drop_foreign_key_index(
            "profiles",
            migrations.AlterField(
                model_name="block",
                name="owner",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="blocks",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
        ),
        drop_foreign_key_index(
            "profiles",
            migrations.AlterField(
                model_name="digestdelivery",
                name="user",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="+",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
        ),
        drop_foreign_key_index(
            "profiles",
            migrations.AlterField(
                model_name="follow",
                name="user",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="follows",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
        ),
        drop_foreign_key_index(
            "profiles",
            migrations.AlterField(
                model_name="orcidoffer",
                name="user",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="orcid_offers",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
        ),
        drop_foreign_key_index(
            "profiles",
            migrations.AlterField(
                model_name="trustsnapshot",
                name="record",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="trust_snapshots",
                    to="works.authorrecord",
                ),
            ),
        ),
    ]
