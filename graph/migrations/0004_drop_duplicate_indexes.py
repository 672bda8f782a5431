"""Drop the foreign keys' own indexes where a composite or unique index leading with
the same column serves every lookup (tests/test_indexes.py): they only cost writes and
space. The constraints themselves stay untouched (see bzpeer.lib.migrations)."""

import django.db.models.deletion
from django.db import migrations, models

from bzpeer.lib.migrations import drop_foreign_key_index


class Migration(migrations.Migration):
    dependencies = [
        ("graph", "0003_edges_point_at_works_records"),
        ("works", "0009_drop_duplicate_indexes"),
    ]

    operations = [
        drop_foreign_key_index(
            "graph",
            migrations.AlterField(
                model_name="collaborationedge",
                name="author",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="edges",
                    to="works.authorrecord",
                ),
            ),
        ),
    ]
