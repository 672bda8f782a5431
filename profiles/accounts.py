"""Accounts' plain facts: the verified email, per-account settings, the record an account owns.

Low in profiles: the workflows (claims, collaboration, follows' digests) read these, and this
module reads only models. Deleting an account is a workflow: `profiles.account_deletion`.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount

from profiles.levels import normalise_orcid
from profiles.models import AccountSettings, Claim
from works.models import AuthorRecord


def verified_email(user) -> str | None:
    """The account's verified address (the primary one first), or None."""
    if not user.is_authenticated:
        return None
    return (
        EmailAddress.objects.filter(user=user, verified=True)
        .order_by("-primary", "id")
        .values_list("email", flat=True)
        .first()
    )


def authenticated_orcid(user) -> str | None:
    """The ORCID iD the account signed in to ORCID with (allauth's social account), or None.

    An iD typed into a form proves nothing; this one ORCID vouched for at sign-in. A social
    account's (provider, uid) is unique, so no other account holds it.
    """
    if not user.is_authenticated:
        return None
    uid = (
        SocialAccount.objects.filter(user=user, provider="orcid")
        .order_by("id")
        .values_list("uid", flat=True)
        .first()
    )
    return normalise_orcid(uid) if uid else None


def settings_for(user) -> AccountSettings:
    account_settings, _ = AccountSettings.objects.get_or_create(user=user)
    return account_settings


def owned_record(user) -> AuthorRecord | None:
    """The record this account has claimed (an account claims at most one)."""
    if not user.is_authenticated:
        return None
    return AuthorRecord.objects.filter(
        claims__user=user, claims__state=Claim.State.APPROVED
    ).first()
