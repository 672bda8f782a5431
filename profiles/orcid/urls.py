"""/accounts/orcid/login/ and its callback, included by allauth for the ORCID provider."""

from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from profiles.orcid.provider import OrcidProvider

urlpatterns = default_urlpatterns(OrcidProvider)
