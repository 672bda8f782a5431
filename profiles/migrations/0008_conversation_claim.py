# A conversation is bound to the owner's claim that accepted it (issue 12, finding 3).

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Q


def fill_claims(apps, schema_editor):
    """The owner's claim on the record that was approved when the conversation opened.

    Still approved and approved before: the conversation stays open. Revoked after it opened:
    bound to that claim, so read-only and labelled as the former owner. Neither (nothing tells):
    left empty, which reads as closed.
    """
    Conversation = apps.get_model("profiles", "Conversation")
    Claim = apps.get_model("profiles", "Claim")
    batch = []
    for conversation in (
        Conversation.objects.filter(claim__isnull=True)
        .select_related("invitation")
        .only("id", "owner_id", "created_at", "invitation__record_id")
        .iterator(chunk_size=2000)
    ):
        when = conversation.created_at
        claim_id = (
            Claim.objects.filter(
                user_id=conversation.owner_id, record_id=conversation.invitation.record_id
            )
            .filter(
                Q(state="approved", decided_at__lte=when)
                | Q(state="revoked", created_at__lte=when, decided_at__gt=when)
            )
            .order_by("-created_at")
            .values_list("pk", flat=True)
            .first()
        )
        if claim_id is not None:
            conversation.claim_id = claim_id
            batch.append(conversation)
        if len(batch) >= 1000:
            Conversation.objects.bulk_update(batch, ["claim"])
            batch = []
    Conversation.objects.bulk_update(batch, ["claim"])


class Migration(migrations.Migration):

    dependencies = [
        ('profiles', '0007_invitation_recipient'),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='claim',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='profiles.claim'),
        ),
        migrations.RunPython(fill_claims, migrations.RunPython.noop),
    ]
