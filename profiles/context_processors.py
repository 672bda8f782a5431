"""Template context every page may need: whether signing in with ORCID is offered."""

from __future__ import annotations

from django.http import HttpRequest

from profiles.orcid.config import orcid_configured


def orcid(request: HttpRequest) -> dict:
    return {"orcid_sign_in": orcid_configured()}
