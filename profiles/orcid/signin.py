"""allauth's social account adapter: the ORCID app from the settings, one iD per account."""

from __future__ import annotations

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from profiles.orcid.config import orcid_configured

log = logging.getLogger(__name__)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request: HttpRequest, provider=None, client_id=None) -> list[SocialApp]:
        """The ORCID app when ORCID_CLIENT_ID and ORCID_CLIENT_SECRET are set; none otherwise.

        The environment is the one place it is configured (README, Configuration): no app rows
        in the database, and no query for them on every login page.
        """
        if not orcid_configured() or provider not in (None, "orcid"):
            return []
        if client_id not in (None, settings.ORCID_CLIENT_ID):
            return []
        return [
            SocialApp(
                provider="orcid",
                name="ORCID",
                client_id=settings.ORCID_CLIENT_ID,
                secret=settings.ORCID_CLIENT_SECRET,
            )
        ]

    def pre_social_login(self, request: HttpRequest, sociallogin) -> None:
        """An account holds at most one ORCID iD: connecting a second one is refused.

        (One iD on two accounts is refused by allauth itself: a social account's (provider,
        uid) is unique.)
        """
        user = request.user
        if sociallogin.state.get("process") != "connect" or not user.is_authenticated:
            return
        held = (
            SocialAccount.objects.filter(user=user, provider="orcid")
            .exclude(uid=sociallogin.account.uid)
            .values_list("uid", flat=True)
            .first()
        )
        if held:
            messages.error(
                request,
                f"Your account is already connected to the ORCID iD {held}: an account has one "
                "ORCID iD. Disconnect it first to connect another.",
            )
            raise ImmediateHttpResponse(redirect(self.get_connect_redirect_url(request, None)))

    def on_authentication_error(
        self, request: HttpRequest, provider, error=None, exception=None, extra_context=None
    ) -> None:
        # A callback whose state this session never stashed (a forged or replayed one) ends
        # here too: worth a line in the logs.
        log.warning(
            "ORCID sign-in failed (%s): %s", error, exception or "state or answer not accepted"
        )

    def get_connect_redirect_url(self, request: HttpRequest, socialaccount) -> str:
        return reverse("profiles:settings") + "#orcid"
