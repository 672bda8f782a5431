"""Plain-text emails from templates, and absolute links to put in them.

Every app sends mail (claim decisions, invitations, digests), so the helpers live at the bottom
of the house rather than in one app's module that the others would have to import sideways.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string


def site_url(path: str) -> str:
    """An absolute link to `path` on this site, for an email (no request to build it from)."""
    return f"{settings.SITE_URL}{path}"


def send_templated_email(*, to: list[str], template: str, context: dict) -> None:
    """Send `templates/<template>_subject.txt` and `<template>.txt`, plain text.

    The templates turn autoescaping off: these are text emails, and an HTML entity in a title
    would read as `&amp;`. Nothing here is ever rendered as HTML.
    """
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
