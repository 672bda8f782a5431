"""Where ORCID is, from the settings, read at call time (tests point them at a fake)."""

from __future__ import annotations

from django.conf import settings


def orcid_configured() -> bool:
    """True when a client id and secret are set: signing in with ORCID is offered."""
    return bool(settings.ORCID_CLIENT_ID and settings.ORCID_CLIENT_SECRET)


def authorize_url() -> str:
    return f"{settings.ORCID_BASE_URL}/oauth/authorize"


def token_url() -> str:
    return f"{settings.ORCID_BASE_URL}/oauth/token"


def profile_url(orcid: str) -> str:
    """The iD's public page, for people (https://orcid.org/0000-...)."""
    return f"{settings.ORCID_BASE_URL}/{orcid}"
