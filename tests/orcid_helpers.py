"""Researchers, accounts with an authenticated ORCID iD, and their ORCID records on the fake."""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount

from profiles import claims
from tests.factories import AuthorRecordFactory, UserFactory, WorkFactory
from tests.fakeorcid import FakeOrcid, FakeRecord, FakeWork
from works.arxiv.names import name_key
from works.models import AuthorRecord, Authorship, Work

ORCID = "0000-0002-1825-0097"
OTHER_ORCID = "0000-0001-5109-3700"


def sign(work: Work, records: list[AuthorRecord], names: list[str] | None = None) -> list:
    """Attach records to a work as its signatures, printed as `names` (their display names)."""
    names = names or [record.display_name for record in records]
    start = Authorship.objects.filter(work=work).count()
    authorships = Authorship.objects.bulk_create(
        [
            Authorship(
                work=work,
                author=record,
                position=start + i,
                printed_name=printed,
                name_key=name_key(printed),
            )
            for i, (record, printed) in enumerate(zip(records, names, strict=True))
        ]
    )
    work.author_count = start + len(records)
    work.person_author_count = work.author_count
    work.save(update_fields=["author_count", "person_author_count"])
    return authorships


def researcher(name: str = "Zhengyan Zhang", *, works: int = 3, **kwargs) -> AuthorRecord:
    """A person record with `works` works of its own (and their DOIs)."""
    record = AuthorRecordFactory(display_name=name, name_key=name_key(name), **kwargs)
    for _ in range(works):
        work = WorkFactory()
        work.doi = f"10.1000/BZ.{work.arxiv_id}"
        work.save(update_fields=["doi"])
        sign(work, [record])
    AuthorRecord.objects.filter(pk=record.pk).update(work_count=works)
    record.refresh_from_db()
    return record


def arxiv_ids(record: AuthorRecord) -> list[str]:
    return sorted(Authorship.objects.filter(author=record).values_list("work__arxiv_id", flat=True))


def orcid_account(orcid: str = ORCID, **kwargs):
    """An account with a verified email that signed in to ORCID with `orcid`."""
    user = UserFactory(verified=True, **kwargs)
    SocialAccount.objects.create(user=user, provider="orcid", uid=orcid)
    return user


def submit_orcid_claim(record: AuthorRecord, user, *, orcid: str = ORCID, statement: str = "Me"):
    """A claim by `user` with the ORCID iD they signed in with as its evidence."""
    return claims.submit_claim(
        record=record,
        user=user,
        orcid=orcid,
        orcid_authenticated=True,
        links=[],
        statement=statement,
    )


def listing(
    fake: FakeOrcid,
    ids: list[str],
    *,
    orcid: str = ORCID,
    given: str = "Zhengyan",
    family: str = "Zhang",
    versioned: bool = True,
) -> FakeRecord:
    """Put an ORCID record on the fake that lists these arXiv ids (as people type them)."""
    record = FakeRecord(
        orcid,
        given,
        family,
        works=[
            FakeWork(f"Work {arxiv_id}", arxiv=f"arXiv:{arxiv_id}v2" if versioned else arxiv_id)
            for arxiv_id in ids
        ],
    )
    fake.add_record(record)
    return record
