"""Drop the foreign keys' own indexes where a composite or unique index leading with
the same column serves every lookup (tests/test_indexes.py): they only cost writes and
space. The constraints themselves stay untouched (see bzpeer.lib.migrations)."""

import django.db.models.deletion
from django.db import migrations, models

from bzpeer.lib.migrations import drop_foreign_key_index


class Migration(migrations.Migration):
    dependencies = [
        ("works", "0008_one_live_organisation_per_key"),
    ]

    operations = [
        drop_foreign_key_index(
            "works",
            migrations.AlterField(
                model_name="authorship",
                name="author",
                field=models.ForeignKey(
                    blank=True,
                    db_index=False,
                    null=True,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="authorships",
                    to="works.authorrecord",
                ),
            ),
        ),
        drop_foreign_key_index(
            "works",
            migrations.AlterField(
                model_name="authorship",
                name="work",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="authorships",
                    to="works.work",
                ),
            ),
        ),
        drop_foreign_key_index(
            "works",
            migrations.AlterField(
                model_name="identityconstraint",
                name="record",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="identity_constraints",
                    to="works.authorrecord",
                ),
            ),
        ),
        drop_foreign_key_index(
            "works",
            migrations.AlterField(
                model_name="identityconstraint",
                name="signature",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="identity_constraints",
                    to="works.authorship",
                ),
            ),
        ),
        drop_foreign_key_index(
            "works",
            migrations.AlterField(
                model_name="recordevent",
                name="record",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="events",
                    to="works.authorrecord",
                ),
            ),
        ),
        drop_foreign_key_index(
            "works",
            migrations.AlterField(
                model_name="worktopic",
                name="work",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="work_topics",
                    to="works.work",
                ),
            ),
        ),
        drop_foreign_key_index(
            "works",
            migrations.AlterField(
                model_name="workversion",
                name="work",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="versions",
                    to="works.work",
                ),
            ),
        ),
    ]
