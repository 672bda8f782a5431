"""allauth's ORCID sign-in views, with ORCID's addresses read from the settings.

allauth's own adapter builds its URLs once, at import, as ``https://{BASE_DOMAIN}/...``: no
sandbox over another scheme, no fake on 127.0.0.1 in tests. This one reads ORCID_BASE_URL at
every request. The iD comes from the token answer (ORCID returns the authenticated iD with the
access token), never from a document fetched afterwards; the public record only adds the names
and, when public, an email.
"""

from __future__ import annotations

import functools
import logging

from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.orcid.views import (
    OrcidOAuth2Adapter as AllauthOrcidOAuth2Adapter,
)
from django.http import Http404, HttpRequest

from profiles.levels import normalise_orcid
from profiles.orcid.client import OrcidClient, OrcidError
from profiles.orcid.config import authorize_url, orcid_configured, profile_url, token_url
from profiles.orcid.documents import OrcidDocumentError, parse_person

log = logging.getLogger(__name__)


class OrcidOAuth2Adapter(AllauthOrcidOAuth2Adapter):
    member_api = False

    @property
    def authorize_url(self) -> str:  # type: ignore[override]
        return authorize_url()

    @property
    def access_token_url(self) -> str:  # type: ignore[override]
        return token_url()

    def complete_login(self, request: HttpRequest, app, token, **kwargs):
        answer = kwargs.get("response") or {}
        orcid = normalise_orcid(str(answer.get("orcid") or ""))
        if orcid is None:
            raise OAuth2Error("ORCID's token answer names no valid ORCID iD")
        data = {
            "orcid-identifier": {"path": orcid, "uri": profile_url(orcid)},
            "token-name": str(answer.get("name") or "")[:200],
        }
        data.update(_public_person(orcid))
        return self.get_provider().sociallogin_from_response(request, data)


def _public_person(orcid: str) -> dict:
    """The record's public names and emails ({} when ORCID cannot tell now: signing in does
    not depend on the public API). One quick attempt, no shared spacing: a visitor waits."""
    client = OrcidClient.from_settings(
        spacing=None, max_retries=1, timeout=(3, 10), retry_after_cap=2.0
    )
    try:
        record = client.record(orcid)
        parse_person(record, orcid=orcid)  # the record of this iD, in the documented shape
    except (OrcidError, OrcidDocumentError) as error:
        log.warning("ORCID sign-in of %s without its public record: %s", orcid, error)
        return {}
    person = record.get("person") or {}
    # Only what the account uses: the whole record (works included) can weigh megabytes.
    return {"person": {key: person.get(key) for key in ("name", "other-names", "emails")}}


def _configured_only(view):
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not orcid_configured():
            raise Http404("Signing in with ORCID is not configured.")
        return view(request, *args, **kwargs)

    return wrapped


oauth2_login = _configured_only(OAuth2LoginView.adapter_view(OrcidOAuth2Adapter))
oauth2_callback = _configured_only(OAuth2CallbackView.adapter_view(OrcidOAuth2Adapter))
