"""Which author record a signature belongs to, for the ORM importer.

The rule today: the same normalised name is the same record (the lowest-id resolvable record
with that key; a merged record resolves to the record it was merged into), and the names left
get new records with the name's slug, or its first free ``-N``. Initials-only names have their
own keys ("z zhang"), so they are never merged into a full name. Records made by a correction
are not resolvable: a later import must not undo the correction. The bulk loader applies the
same rule in SQL (works.bulk).
"""

from __future__ import annotations

from django.db.models import Q

from works.arxiv import names
from works.models import AuthorRecord, Authorship
from works.rows import Signature


def records_for(signatures: list[Signature]) -> dict[str, int]:
    """Name key → author record id, creating the records that don't exist."""
    by_key: dict[str, Signature] = {}
    for signature in signatures:
        by_key.setdefault(signature.name_key, signature)
    found: dict[str, int] = {}
    for key, record_id, merged_into in (
        AuthorRecord.objects.filter(name_key__in=by_key, resolvable=True)
        .order_by("id")
        .values_list("name_key", "id", "merged_into_id")
    ):
        found.setdefault(key, merged_into or record_id)
    missing = [by_key[k] for k in by_key if k not in found]
    if missing:
        _create_records(missing)
        for key, record_id in AuthorRecord.objects.filter(
            name_key__in=[s.name_key for s in missing], resolvable=True, merged_into__isnull=True
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
                kind=AuthorRecord.Kind.ORGANISATION
                if s.is_organisation
                else AuthorRecord.Kind.PERSON,
                # Built from a trusted public source with a work: L1.
                verification_level=1,
                variants=[],
            )
            for s in signatures
        ],
        batch_size=1000,
    )


def free_slugs(wanted: dict[str, str]) -> dict[str, str]:
    """For each key its wanted slug, or the first free suffix of it (also among this batch)."""
    taken = set(
        AuthorRecord.objects.filter(slug__in=set(wanted.values())).values_list("slug", flat=True)
    )
    slugs = {}
    for key, base in wanted.items():
        slug = base
        if slug in taken:
            slug = next_free_slug(base, also_taken=taken)
        taken.add(slug)
        slugs[key] = slug
    return slugs


def next_free_slug(base: str, *, also_taken: set[str] = frozenset()) -> str:
    """``base-2``, ``base-3``… the first not taken (homonyms get a suffix).

    ``also_taken`` holds slugs picked earlier in the same batch, not yet saved.
    """
    taken = set(
        AuthorRecord.objects.filter(Q(slug=base) | Q(slug__startswith=f"{base}-")).values_list(
            "slug", flat=True
        )
    )
    taken |= also_taken
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def current_assignments(work_ids: list[int]) -> dict[tuple[int, str], int]:
    """(work, name key) → record, for the authorships a correction or a merge moved off their
    name's default record: a newer version of the work keeps them where people put them."""
    if not work_ids:
        return {}
    rows = Authorship.objects.filter(work_id__in=work_ids).values_list(
        "work_id", "printed_name", "author_id", "author__name_key", "author__resolvable"
    )
    kept = {}
    for work_id, printed, author_id, author_key, resolvable in rows:
        key = names.name_key(printed)
        if not resolvable or author_key != key:
            kept[(work_id, key)] = author_id
    return kept
