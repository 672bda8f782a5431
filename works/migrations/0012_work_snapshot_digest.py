"""Works remember the snapshot line their content came from (works.bulk's line screen).

Existing works start without one: the next snapshot re-import parses their lines once, as
before, and fills it in for every work whose content it finds unchanged.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("works", "0011_block_keys_of_umlauts_and_trailing_initials")]

    operations = [
        migrations.AddField(
            model_name="work",
            name="snapshot_digest",
            field=models.CharField(
                blank=True,
                default="",
                help_text="The snapshot line this content came from",
                max_length=32,
            ),
            preserve_default=False,
        ),
    ]
