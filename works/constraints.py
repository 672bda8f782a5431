"""People's corrections as identity constraints, kept forever (works.models.IdentityConstraint).

Every later import and re-clustering obeys them (works.clustering reads them): an admin merge,
an admin move and an owner's confirmation say "this signature belongs to this record"; "not
mine" and an admin split say "this signature never belongs to that record".
"""

from __future__ import annotations

from collections.abc import Iterable

from works.clustering import link_signatures
from works.models import AuthorRecord, Authorship, IdentityConstraint


def constrain(
    signature_ids: Iterable[int], record: AuthorRecord, *, kind: str, source: str, actor=None
) -> list[int]:
    """Add (or keep) these constraints; the ids of the ones this call created."""
    ids = sorted(set(signature_ids))
    existing = set(
        IdentityConstraint.objects.filter(
            signature_id__in=ids, record=record, kind=kind
        ).values_list("signature_id", flat=True)
    )
    created = IdentityConstraint.objects.bulk_create(
        [
            IdentityConstraint(
                signature_id=signature_id, record=record, kind=kind, source=source, actor=actor
            )
            for signature_id in ids
            if signature_id not in existing
        ]
    )
    if all(c.pk for c in created):
        return [c.pk for c in created]
    return list(  # SQLite before 3.35 gives no ids back
        IdentityConstraint.objects.filter(
            signature_id__in=[c.signature_id for c in created], record=record, kind=kind
        ).values_list("pk", flat=True)
    )


def must_link(signature_ids: Iterable[int], record: AuthorRecord, **how) -> list[int]:
    return constrain(signature_ids, record, kind=IdentityConstraint.Kind.MUST_LINK, **how)


def cannot_link(signature_ids: Iterable[int], record: AuthorRecord, **how) -> list[int]:
    return constrain(signature_ids, record, kind=IdentityConstraint.Kind.CANNOT_LINK, **how)


def release(constraint_ids: Iterable[int]) -> None:
    """Forget constraints (the correction that made them was undone)."""
    IdentityConstraint.objects.filter(pk__in=list(constraint_ids)).delete()


def relink(signature_ids: Iterable[int]) -> set[int]:
    """Take these signatures off their records and link them again, as an import would a new
    one: to the record the evidence points to among those their constraints allow, or a new
    record. Returns the records that took them."""
    ids = list(signature_ids)
    Authorship.objects.filter(id__in=ids).update(author=None)
    return link_signatures(ids)
