"""Trust snapshots: gather inputs, score, store on change. (Owned by the trust work.)"""

from profiles.models import AuthorRecord, TrustSnapshot


def page_context(record: AuthorRecord) -> dict:
    """What the profile page's trust panel needs, in a constant number of queries."""
    snapshot = TrustSnapshot.objects.filter(record=record).order_by("-computed_at", "-id").first()
    return {"trust_snapshot": snapshot}
