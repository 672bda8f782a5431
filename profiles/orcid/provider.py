"""allauth's ORCID provider with BZPEER's adapter (settings SOCIALACCOUNT_PROVIDERS)."""

from __future__ import annotations

from allauth.socialaccount.providers.orcid.provider import OrcidProvider as AllauthOrcidProvider

from profiles.orcid.views import OrcidOAuth2Adapter


class OrcidProvider(AllauthOrcidProvider):
    name = "ORCID"
    # allauth finds the login and callback views in this package's `urls` and `views`.
    package = "profiles.orcid"
    oauth2_adapter_class = OrcidOAuth2Adapter
