"""allauth's account adapter, changed only where the site must agree with itself."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from bzpeer.lib.ratelimit import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's login lockout and sign-up limit count by this address: the same one as every
        # other rate limit of the site (DJANGO_TRUSTED_PROXY_COUNT), and a short or forged
        # X-Forwarded-For falls back to REMOTE_ADDR instead of raising.
        return client_ip(request)
