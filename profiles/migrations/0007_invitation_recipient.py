# Invitations are bound to the account they were sent to (issue 12, finding 2).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The words of profiles.claims.release_claims' public reason: an owner whose claim row went with
# the account leaves only this line in the record's history.
RELEASED_BY_DELETION = "account was deleted"


def owner_at(*, Claim, RecordEvent, record_id: int, when) -> int | None:
    """The account that owned the record at `when`, when the rows left can tell; else None.

    A claim still approved and approved before `when` owned it then (one approved claim per
    record). Otherwise a revoked claim submitted before and revoked after `when` is the owner
    when it is the only one, and no owner left through an account deletion in between (their
    claim row is gone: they may have been the owner at `when` instead).
    """
    approved = (
        Claim.objects.filter(record_id=record_id, state="approved", decided_at__lte=when)
        .values_list("user_id", flat=True)
        .first()
    )
    if approved is not None:
        return approved
    candidates = list(
        Claim.objects.filter(
            record_id=record_id, state="revoked", created_at__lte=when, decided_at__gt=when
        ).values_list("user_id", "decided_at")
    )
    if len(candidates) != 1:
        return None
    user_id, ended = candidates[0]
    someone_left = RecordEvent.objects.filter(
        record_id=record_id,
        created_at__gt=when,
        created_at__lt=ended,
        summary__contains=RELEASED_BY_DELETION,
    ).exists()
    return None if someone_left else user_id


def fill_recipients(apps, schema_editor):
    Invitation = apps.get_model("profiles", "Invitation")
    Claim = apps.get_model("profiles", "Claim")
    Conversation = apps.get_model("profiles", "Conversation")
    RecordEvent = apps.get_model("works", "RecordEvent")
    # An accepted invitation names its recipient: the owner side of its conversation.
    accepted_by = dict(Conversation.objects.values_list("invitation_id", "owner_id"))
    batch = []
    for invitation in (
        Invitation.objects.filter(recipient__isnull=True)
        .only("id", "record_id", "created_at")
        .iterator(chunk_size=2000)
    ):
        recipient = accepted_by.get(invitation.pk) or owner_at(
            Claim=Claim,
            RecordEvent=RecordEvent,
            record_id=invitation.record_id,
            when=invitation.created_at,
        )
        if recipient is not None:
            invitation.recipient_id = recipient
            batch.append(invitation)
        if len(batch) >= 1000:
            Invitation.objects.bulk_update(batch, ["recipient"])
            batch = []
    Invitation.objects.bulk_update(batch, ["recipient"])


class Migration(migrations.Migration):

    dependencies = [
        ('profiles', '0006_author_records_moved_to_works'),
        ('works', '0005_signature_name_key'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='invitation',
            name='recipient',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='received_invitations', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(fill_recipients, migrations.RunPython.noop),
    ]
