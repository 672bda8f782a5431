# An ORCID iD backs at most one approved claim (issue 12, integrity).

from django.db import migrations, models
from django.db.models import Count


def refuse_duplicates(apps, schema_editor):
    """Say which claims break the rule, instead of the index's bare IntegrityError: an admin
    decides which of them to revoke (profiles.claims.revoke_claim), then migrates again."""
    Claim = apps.get_model("profiles", "Claim")
    shared = list(
        Claim.objects.filter(state="approved")
        .exclude(orcid="")
        .values("orcid")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("orcid", flat=True)
    )
    if shared:
        claims = Claim.objects.filter(state="approved", orcid__in=shared).order_by("orcid")
        listing = "; ".join(f"{c.orcid}: claim {c.pk} on record {c.record_id}" for c in claims)
        raise RuntimeError(
            "Several approved claims share an ORCID iD. Revoke the wrong ones in the admin "
            f"(Claims), then run migrate again: {listing}"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('profiles', '0008_conversation_claim'),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'approved'), models.Q(('orcid', ''), _negated=True)), fields=('orcid',), name='claim_one_approved_per_orcid'),
        ),
    ]
