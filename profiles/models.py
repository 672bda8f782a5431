"""What people do with author records: claims, follows, trust snapshots, collaboration."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from bzpeer.lib.text import one_line
from works.models import AuthorRecord


class Claim(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "pending"
        APPROVED = "approved", "approved"
        REJECTED = "rejected", "rejected"
        REVOKED = "revoked", "revoked"
        WITHDRAWN = "withdrawn", "withdrawn by claimant"

    # UUIDs in URLs: nobody reaches a claim by guessing an id.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    record = models.ForeignKey(AuthorRecord, on_delete=models.CASCADE, related_name="claims")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claims"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    email = models.EmailField(help_text="The account's verified email at the time of the claim")
    email_verified = models.BooleanField(default=False)
    orcid = models.CharField(max_length=19, blank=True)
    orcid_confirmed = models.BooleanField(default=False, help_text="Confirmed by an admin")
    # The iD is the one the account signed in to ORCID with (allauth's ORCID social account),
    # not one it typed: BZPEER can read its public works and compare them with the record.
    orcid_authenticated = models.BooleanField(default=False)
    # The latest comparison of the iD's public works with the record (profiles.orcid.evidence),
    # for admins: matching, missing and conflicting works, names, the verdict and its reason.
    orcid_check = models.JSONField(default=dict, blank=True)
    # arXiv ids of the record's works that a third party (a publisher or registry, not the
    # holder) had listed on the iD when the claim was checked, before its decision: the evidence
    # of L3 by ORCID. A later refresh never shrinks it (it flags `orcid_drift` for an admin).
    orcid_matched = models.JSONField(default=list, blank=True)
    # Of `orcid_matched`, the works the iD no longer lists at the latest refresh, and when that
    # was seen: nothing is removed, an admin looks.
    orcid_drift = models.JSONField(default=list, blank=True)
    orcid_drift_seen_at = models.DateTimeField(null=True, blank=True)
    # Approved by BZPEER itself because the iD's works agree with the record (no admin).
    auto_approved = models.BooleanField(default=False)
    links = models.JSONField(default=list, blank=True)
    statement = models.TextField(max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=Q(state="approved"),
                name="claim_one_approved_per_record",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(state="approved"), name="claim_one_record_per_account"
            ),
            models.UniqueConstraint(
                fields=["user", "record"],
                condition=Q(state="pending"),
                name="claim_one_pending_per_pair",
            ),
            # An ORCID iD is one person: it backs at most one approved claim (issue 12).
            models.UniqueConstraint(
                fields=["orcid"],
                condition=Q(state="approved") & ~Q(orcid=""),
                name="claim_one_approved_per_orcid",
            ),
            # Only an authenticated iD's works can approve a claim without an admin.
            models.CheckConstraint(
                condition=Q(auto_approved=False) | Q(orcid_authenticated=True),
                name="claim_auto_approved_by_authenticated_orcid",
            ),
            models.CheckConstraint(
                condition=Q(orcid_authenticated=False) | ~Q(orcid=""),
                name="claim_authenticated_orcid_not_empty",
            ),
        ]

    def __str__(self):
        return f"Claim of {self.record} by {self.user} ({self.state})"


class Follow(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows", db_index=False
    )
    record = models.ForeignKey(AuthorRecord, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "record"], name="follow_unique")]

    def __str__(self):
        return f"{self.user_id} follows {self.record_id}"


class AccountSettings(models.Model):
    class Digest(models.TextChoices):
        NONE = "none", "No email"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bzpeer_settings"
    )
    digest = models.CharField(max_length=6, choices=Digest.choices, default=Digest.NONE)
    # The owner asks BZPEER to re-read their ORCID works every night and offer new matches
    # (profiles.orcid.sync).
    orcid_refresh = models.BooleanField(
        "Check my ORCID record every night for works that sit on other records",
        default=False,
    )
    following_seen_at = models.DateTimeField(null=True, blank=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Settings of {self.user_id}"


class DigestDelivery(models.Model):
    """A work already sent to an account in a digest: each new work goes at most once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    work = models.ForeignKey("works.Work", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "work"], name="digest_once_per_work")
        ]

    def __str__(self):
        return f"{self.work_id} sent to {self.user_id}"


class TrustSnapshot(models.Model):
    record = models.ForeignKey(
        AuthorRecord, on_delete=models.CASCADE, related_name="trust_snapshots", db_index=False
    )
    score = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=20)
    level = models.PositiveSmallIntegerField()
    claim_state = models.CharField(max_length=10)
    inputs = models.JSONField()
    components = models.JSONField()
    formula_version = models.CharField(max_length=20)
    fingerprint = models.CharField(max_length=64, help_text="Hash of inputs and result")
    # The hash of inputs["works"] alone: the nightly sweep fingerprints a record whose works
    # have not changed since this snapshot (AuthorRecord.works_changed_at) without reading its
    # works again, which is most of a sweep's cost (profiles.trust).
    works_digest = models.CharField(max_length=64, blank=True, default="")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-computed_at", "-id"]
        get_latest_by = "computed_at"
        indexes = [models.Index(fields=["record", "-computed_at"], name="snapshot_record_latest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100), name="snapshot_score_range"
            ),
        ]

    def __str__(self):
        return f"{self.record_id}: {self.score} {self.band} ({self.computed_at:%Y-%m-%d})"


class Invitation(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "open"
        ACCEPTED = "accepted", "accepted"
        DECLINED = "declined", "declined"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_invitations"
    )
    record = models.ForeignKey(AuthorRecord, on_delete=models.CASCADE, related_name="invitations")
    # The record's owner when it was sent: only they ever read or answer it, never whoever owns
    # the record later. Null for an invitation whose recipient deleted their account (or, from
    # before this field, could not be told): nobody reads it but its sender.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="received_invitations",
    )
    subject = models.CharField(max_length=200)
    message = models.TextField(max_length=2000)
    work = models.ForeignKey(
        "works.Work", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "record"],
                condition=Q(state="open"),
                name="invitation_one_open_per_pair",
            ),
        ]

    def __str__(self):
        return f"{self.subject} ({self.state})"

    @property
    def subject_line(self) -> str:
        """The subject as one line, for emails: a subject stored before single-line fields
        refused control characters must not add lines to a message."""
        return one_line(self.subject)


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invitation = models.OneToOneField(
        Invitation, on_delete=models.CASCADE, related_name="conversation"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    guest = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The owner's claim when they accepted: the owner speaks for the record only while this
    # claim is approved. A later claim, even by the same account, does not reopen it.
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Conversation {self.id}"

    @property
    def is_open(self) -> bool:
        """Open while the claim that accepted the invitation lasts; then read-only for both."""
        return self.claim_id is not None and self.claim.state == Claim.State.APPROVED

    def has_participant(self, user) -> bool:
        return user.is_authenticated and user.pk in {self.owner_id, self.guest_id}


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Message {self.pk} in {self.conversation_id}"


class Block(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks", db_index=False
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "blocked"], name="block_unique"),
            models.CheckConstraint(condition=~Q(owner=models.F("blocked")), name="block_not_self"),
        ]

    def __str__(self):
        return f"{self.owner_id} blocks {self.blocked_id}"


class OrcidOffer(models.Model):
    """A work on the owner's ORCID record that sits on another record: offered to move here.

    One row per account and work, whatever its answer, so a declined work is never offered
    again. A work whose signature sits on a record another account has claimed is never moved
    by its owner: it stays a conflict, for an admin.
    """

    class State(models.TextChoices):
        OPEN = "open", "offered"
        ACCEPTED = "accepted", "moved here"
        DECLINED = "declined", "declined"
        CONFLICT = "conflict", "on a record another account has claimed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="orcid_offers",
        db_index=False,
    )
    record = models.ForeignKey(AuthorRecord, on_delete=models.CASCADE, related_name="+")
    work = models.ForeignKey("works.Work", on_delete=models.CASCADE, related_name="+")
    # The signature to move and the record it sat on when offered.
    authorship = models.ForeignKey(
        "works.Authorship", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.ForeignKey(
        AuthorRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    orcid = models.CharField(max_length=19)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "work"], name="orcid_offer_once_per_work"),
        ]

    def __str__(self):
        return f"{self.work_id} offered to {self.user_id} ({self.state})"
