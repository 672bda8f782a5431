"""Signatures printed "Mueller" join the block of "Müller" (works.identity.names.parse_name).

Only block keys whose surname holds a vowel followed by "e" can change; each is computed
again from its printed name. Records are not re-clustered here: the next clustering of the
block (`manage.py cluster_authors --block KEY` or `--all`) decides who is who in it.
"""

from django.db import migrations

from works.identity.names import block_key

BATCH = 5000


def refill_block_keys(apps, schema_editor):
    Authorship = apps.get_model("works", "Authorship")
    db = schema_editor.connection.alias
    candidates = (
        Authorship.objects.using(db)
        .filter(block_key__regex=r"[aou]e[a-z]")
        .only("id", "printed_name", "block_key")
    )
    pending = []
    for authorship in candidates.iterator(BATCH):
        key = (block_key(authorship.printed_name) or "")[:120]
        if key != authorship.block_key:
            authorship.block_key = key
            pending.append(authorship)
        if len(pending) >= BATCH:
            Authorship.objects.using(db).bulk_update(pending, ["block_key"])
            pending = []
    Authorship.objects.using(db).bulk_update(pending, ["block_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("works", "0010_deferred_schema_objects"),
    ]

    operations = [
        migrations.RunPython(refill_block_keys, migrations.RunPython.noop, elidable=True),
    ]
