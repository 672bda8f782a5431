"""Block keys computed again where works.identity.names.parse_name now reads a name anew.

"Mueller" joins the block of "Müller" (only a block key with a vowel followed by "e" can
change), and initials printed behind the surname ("Koushik MV", "Smith J.A.") are read as
initials (only a printed name ending in capitals, dots or hyphens can change). Signatures
with no block (organisations, names that are no person) keep none. Records are not
re-clustered here: the next clustering of the block (`manage.py cluster_authors --block KEY`
or `--all`) decides who is who in it.
"""

from django.db import migrations
from django.db.models import Q

from works.identity.names import block_key

BATCH = 5000


def refill_block_keys(apps, schema_editor):
    Authorship = apps.get_model("works", "Authorship")
    db = schema_editor.connection.alias
    candidates = (
        Authorship.objects.using(db)
        .filter(Q(block_key__regex=r"[aou]e[a-z]") | Q(printed_name__regex=r"\s[A-Z.\-]{1,8}$"))
        .exclude(block_key="")
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
