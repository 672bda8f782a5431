"""The one transition function for verification levels and claim states, against the database."""

from unittest import mock

import pytest
from factories import AuthorRecordFactory, UserFactory, WorkFactory, add_authors

from graph.models import CollaborationEdge
from profiles import verification
from profiles.models import Claim
from works.models import AuthorRecord, RecordEvent

pytestmark = pytest.mark.django_db

VALID_ORCID = "0000-0002-1825-0097"


def record_with_work(**fields) -> AuthorRecord:
    record = AuthorRecordFactory(**fields)
    add_authors(WorkFactory(), [record])
    return record


def claim(record, *, state=Claim.State.APPROVED, email="zz@example.org", **fields) -> Claim:
    user = UserFactory(verified=True)
    return Claim.objects.create(
        record=record, user=user, state=state, email=email, email_verified=True, **fields
    )


def stored(record) -> tuple[int, str]:
    return (
        AuthorRecord.objects.filter(pk=record.pk)
        .values_list("verification_level", "claim_state")
        .get()
    )


def test_unchanged_facts_change_nothing_and_log_nothing():
    record = record_with_work()

    assert verification.transition(record, reason="Checked") is False

    assert stored(record) == (1, "unclaimed")
    assert not RecordEvent.objects.filter(record=record).exists()


def test_a_pending_claim_logs_a_claim_event_with_actor_and_reason():
    record = record_with_work()
    claim(record, state=Claim.State.PENDING)
    claimant = UserFactory()

    assert verification.transition(record, actor=claimant, reason="Claim submitted.") is True

    assert stored(record) == (1, "pending")
    assert (record.verification_level, record.claim_state) == (1, "pending")
    event = RecordEvent.objects.get(record=record)
    assert (event.kind, event.actor, event.summary) == (
        "claim",
        claimant,
        "Unclaimed author → Claim pending. Claim submitted.",
    )
    assert event.data["from"] == {"level": 1, "claim_state": "unclaimed"}
    assert event.data["to"] == {"level": 1, "claim_state": "pending"}
    assert event.data["reason"] == "Claim submitted."


def test_an_approved_claim_with_a_verified_email_is_l2_and_logs_a_level_event():
    record = record_with_work()
    claim(record)
    admin = UserFactory(is_staff=True)

    assert verification.transition(record, actor=admin, reason="Approved: ORCID shown.") is True

    assert stored(record) == (2, "claimed")
    event = RecordEvent.objects.get(record=record)
    assert (event.kind, event.actor) == ("level", admin)
    assert event.summary == (
        "Verification L1 → L2 (Claimed); Unclaimed author → Claimed. Approved: ORCID shown."
    )
    assert event.data["explanation"] == "Approved claim by an account with a verified email."


@pytest.mark.parametrize(
    ("affiliation", "email", "orcid_fields", "expected"),
    [
        ("Tsinghua University", "zz@mails.tsinghua.edu.cn", {}, 2),  # no domain in the text
        ("Tsinghua University (tsinghua.edu.cn)", "zz@mails.tsinghua.edu.cn", {}, 3),
        ("Dept. of CS, zz@tsinghua.edu.cn", "other@tsinghua.edu.cn", {}, 3),
        ("gmail.com", "zz@gmail.com", {}, 2),  # webmail is never institutional
        ("", "zz@example.org", {"orcid": VALID_ORCID, "orcid_confirmed": True}, 3),
        ("", "zz@example.org", {"orcid": VALID_ORCID, "orcid_confirmed": False}, 2),
    ],
)
def test_strong_evidence_gives_l3(affiliation, email, orcid_fields, expected):
    record = record_with_work(affiliation=affiliation)
    claim(record, email=email, **orcid_fields)

    verification.transition(record, reason="Approved.")

    assert stored(record) == (expected, "claimed")


def test_an_approved_claim_without_verified_email_stays_at_the_public_level():
    record = record_with_work()
    Claim.objects.create(
        record=record,
        user=UserFactory(),
        state=Claim.State.APPROVED,
        email="zz@example.org",
        email_verified=False,
    )

    verification.transition(record, reason="Approved.")

    assert stored(record) == (1, "claimed")
    assert RecordEvent.objects.get(record=record).kind == "claim"


def test_a_record_flagged_as_several_people_drops_to_l0():
    record = record_with_work()
    claim(record)
    AuthorRecord.objects.filter(pk=record.pk).update(possibly_several_people=True)
    record.refresh_from_db()

    verification.transition(record, reason="Flagged by an admin.")

    assert stored(record) == (0, "claimed")


def test_a_record_without_works_is_l0():
    record = AuthorRecordFactory(verification_level=1)

    verification.transition(record, reason="Works moved away.")

    assert stored(record) == (0, "unclaimed")


def test_organisations_stay_unclaimed_whatever_claim_rows_exist():
    organisation = record_with_work(display_name="DeepSeek-AI", kind="organisation")
    claim(organisation, state=Claim.State.PENDING)

    assert verification.transition(organisation, reason="Checked.") is False

    assert stored(organisation) == (1, "unclaimed")


def test_revoking_the_claim_returns_to_the_public_level():
    record = record_with_work()
    approved = claim(record)
    verification.transition(record, reason="Approved.")
    approved.state = Claim.State.REVOKED
    approved.save()

    assert verification.transition(record, reason="Revoked: wrong person.") is True

    assert stored(record) == (1, "unclaimed")
    assert list(
        RecordEvent.objects.filter(record=record).order_by("id").values_list("kind", flat=True)
    ) == ["level", "level"]


def test_only_level_and_claim_state_are_saved():
    record = record_with_work(display_name="Original Name")
    claim(record)
    record.display_name = "Unsaved edit"

    verification.transition(record, reason="Approved.")

    assert AuthorRecord.objects.get(pk=record.pk).display_name == "Original Name"


def test_a_change_queues_trust_recompute_for_the_record_and_who_counts_it_as_close(
    django_capture_on_commit_callbacks,
):
    record, close_coauthor, distant_coauthor = (record_with_work() for _ in range(3))
    CollaborationEdge.objects.bulk_create(
        [
            CollaborationEdge(author=close_coauthor, coauthor=record, weight=0.5, shared_works=1),
            CollaborationEdge(
                author=distant_coauthor, coauthor=record, weight=0.01, shared_works=1
            ),
        ]
    )
    claim(record)

    with (
        mock.patch("profiles.tasks.recompute_trust.apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        verification.transition(record, reason="Approved.")

    # One queueing, besides the profile pages' copies dropped on commit.
    queueing = [c for c in callbacks if getattr(c, "func", c).__module__ != "profiles.page_cache"]
    assert len(queueing) == 1
    queued = sorted(call.kwargs["args"][0] for call in apply_async.call_args_list)
    assert queued == sorted([record.id, close_coauthor.id])


def test_no_change_queues_nothing(django_capture_on_commit_callbacks):
    record = record_with_work()

    with django_capture_on_commit_callbacks() as callbacks:
        verification.transition(record, reason="Checked.")

    assert callbacks == []


def test_affiliation_domains_are_read_from_the_text_only():
    assert verification.affiliation_domains("Tsinghua University, Beijing") == ()
    assert verification.affiliation_domains(
        "Dept. of CS, U.S.A.; zz@mails.tsinghua.edu.cn and www.tsinghua.edu.cn"
    ) == ("mails.tsinghua.edu.cn", "www.tsinghua.edu.cn")
