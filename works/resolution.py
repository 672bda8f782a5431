"""Organisations' records, and free slugs for new records.

A person's signature is linked to a record by the evidence (works.clustering). An
organisation ("DeepSeek-AI", "ATLAS Collaboration") is not a person: the same normalised name
is the same organisation record (the lowest-id one with that key; a merged record resolves to
the record it was merged into), and a new name gets a new record with the name's slug, or its
first free ``-N``.
"""

from __future__ import annotations

from collections import Counter

from django.db.models import Q

from works.models import AuthorRecord
from works.rows import Signature


def records_for(signatures: list[Signature]) -> dict[str, int]:
    """Name key → organisation record id, creating the records that don't exist."""
    by_key: dict[str, Signature] = {}
    for signature in signatures:
        by_key.setdefault(signature.name_key, signature)
    found: dict[str, int] = {}
    for key, record_id, merged_into in (
        AuthorRecord.objects.filter(name_key__in=by_key, kind=AuthorRecord.Kind.ORGANISATION)
        .order_by("id")
        .values_list("name_key", "id", "merged_into_id")
    ):
        found.setdefault(key, merged_into or record_id)
    missing = [by_key[k] for k in by_key if k not in found]
    if missing:
        _create_records(missing)
        for key, record_id in AuthorRecord.objects.filter(
            name_key__in=[s.name_key for s in missing],
            kind=AuthorRecord.Kind.ORGANISATION,
            merged_into__isnull=True,
        ).values_list("name_key", "id"):
            found.setdefault(key, record_id)
    return found


def _create_records(signatures: list[Signature]) -> None:
    slugs = free_slugs({s.name_key: s.base_slug for s in signatures})
    AuthorRecord.objects.bulk_create(
        [
            AuthorRecord(
                slug=slugs[s.name_key],
                display_name=s.display_name,
                name_key=s.name_key,
                search_key=s.search_key,
                kind=AuthorRecord.Kind.ORGANISATION,
                # Built from a trusted public source with a work: L1.
                verification_level=1,
                variants=[],
            )
            for s in signatures
        ],
        batch_size=1000,
        # A concurrent import may have created the same organisation a moment ago: the
        # database keeps one live record per key, and records_for reads it back.
        ignore_conflicts=True,
    )


def free_slugs(wanted: dict[str, str]) -> dict[str, str]:
    """For each key its wanted slug, or the first free ``-N`` suffix of it (``base-2``,
    ``base-3``…), also among this batch: homonyms get a suffix."""
    bases = set(wanted.values())
    taken = set(AuthorRecord.objects.filter(slug__in=bases).values_list("slug", flat=True))
    repeated = {base for base, n in Counter(wanted.values()).items() if n > 1}
    fetched = (bases & taken) | repeated
    taken |= _suffixed_slugs(sorted(fetched))
    next_suffix: dict[str, int] = {}
    slugs = {}
    for key, base in wanted.items():
        slug = base
        if slug in taken:
            if base not in fetched:  # taken by this batch's own suffix ("x-y" gave "x-y-2")
                taken |= _suffixed_slugs([base])
                fetched.add(base)
            # Counting on from the last suffix given keeps a batch of a thousand "Wei Wang"
            # linear; the first free one is the lowest, as the suffixes are handed out in order.
            n = next_suffix.get(base, 2)
            while f"{base}-{n}" in taken:
                n += 1
            next_suffix[base] = n + 1
            slug = f"{base}-{n}"
        taken.add(slug)
        slugs[key] = slug
    return slugs


def _suffixed_slugs(bases: list[str], chunk: int = 200) -> set[str]:
    """Every existing slug of the form ``base-…`` for these bases, a few queries in all
    (one per base cost a round trip per homonym on a first load)."""
    found: set[str] = set()
    for start in range(0, len(bases), chunk):
        prefixes = Q()
        for base in bases[start : start + chunk]:
            prefixes |= Q(slug__startswith=f"{base}-")
        found |= set(AuthorRecord.objects.filter(prefixes).values_list("slug", flat=True))
    return found
