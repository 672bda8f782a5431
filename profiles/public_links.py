"""The public links of a person record: what schema.org calls ``sameAs`` (the profile page's
JSON-LD, the API's researcher detail).

A link is public only when the profile page already shows it to every visitor. Today that is
the ORCID iD of the approved claim once an admin has confirmed it (the identity section links
it). Claims' other links stay evidence for admins: they are never shown.

Hook for signing in with ORCID: when an approved claim carries an ORCID iD authenticated by
ORCID itself, ``public_links`` should return its address too; add the condition in
``_orcid_is_public`` and nothing else changes (the page and the API read this function).
"""

from __future__ import annotations

from profiles.levels import normalise_orcid
from profiles.models import Claim

ORCID_URL = "https://orcid.org/{}"


def _orcid_is_public(claim: Claim) -> bool:
    # An authenticated ORCID iD (signing in with ORCID, not built yet) will count here too.
    return bool(claim.orcid and claim.orcid_confirmed)


def public_links(*, approved: Claim | None) -> list[str]:
    """The record's public links, given its approved claim (None when unclaimed)."""
    if approved is None or approved.state != Claim.State.APPROVED or not _orcid_is_public(approved):
        return []
    orcid = normalise_orcid(approved.orcid)
    return [ORCID_URL.format(orcid)] if orcid else []
