"""Owner edits, "not mine" and its undo, merges with redirects, moving works, and their undo."""

import pytest
from django.urls import reverse

from profiles import corrections, follows
from profiles.models import Follow
from tests.accounts_helpers import claimed_record, eager_tasks, make_admin, record_with_works
from tests.factories import AuthorRecordFactory, UserFactory, WorkFactory
from works.models import AuthorRecord, Authorship, IdentityConstraint, RecordEvent, SlugRedirect

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]


def _refresh(*records):
    for record in records:
        record.refresh_from_db()


# --- Owner edits ---------------------------------------------------------------------------


def test_the_owner_edits_description_affiliation_and_collaboration_and_sees_them_at_once(client):
    record, owner, _ = claimed_record(open_to_collaborate=False)
    client.force_login(owner)
    response = client.post(
        reverse("profiles:edit", args=[record.slug]),
        {
            "description": "I study <b>graphs</b>.",
            "affiliation": "Lab of Networks",
            "open_to_collaborate": "on",
        },
    )
    assert response.status_code == 302
    _refresh(record)
    assert (record.description, record.owner_affiliation, record.open_to_collaborate) == (
        "I study <b>graphs</b>.",
        "Lab of Networks",
        True,
    )
    html = client.get(record.get_absolute_url()).content.decode()
    assert "I study &lt;b&gt;graphs&lt;/b&gt;." in html
    assert '<li class="chip">Lab of Networks</li>' in html
    assert "Open to collaborate" in html
    event = RecordEvent.objects.filter(record=record, kind="edit").get()
    assert event.summary == (
        "The owner changed the description, affiliation, collaboration setting."
    )
    assert event.actor == owner


def test_an_owner_edit_that_changes_nothing_logs_nothing(client):
    record, owner, _ = claimed_record(open_to_collaborate=False)
    client.force_login(owner)
    client.post(
        reverse("profiles:edit", args=[record.slug]), {"description": "", "affiliation": ""}
    )
    assert not RecordEvent.objects.filter(record=record, kind="edit").exists()


def test_the_owners_affiliation_never_counts_as_evidence_and_survives_imports():
    from works.changes import refresh_record_counts

    record, owner, _ = claimed_record()
    record.owner_affiliation = "example.org"
    record.save(update_fields=["owner_affiliation"])
    refresh_record_counts([record.pk])
    _refresh(record)
    assert record.owner_affiliation == "example.org"
    assert record.verification_level == 2


def test_only_the_owner_can_open_the_edit_page(client):
    record, _, _ = claimed_record()
    client.force_login(UserFactory(verified=True))
    assert client.get(reverse("profiles:edit", args=[record.slug])).status_code == 403


# --- Not mine ------------------------------------------------------------------------------


def test_not_mine_moves_the_authorship_to_a_new_record_and_keeps_it_off_for_good(client):
    record, owner, _ = claimed_record(works=2)
    work = Authorship.objects.filter(author=record).first().work
    client.force_login(owner)

    response = client.post(reverse("profiles:not-mine", args=[record.slug, work.pk]))

    assert response.status_code == 302
    split = AuthorRecord.objects.exclude(pk=record.pk).get()
    assert (split.display_name, split.slug) == (record.display_name, f"{record.slug}-2")
    signature = Authorship.objects.get(work=work)
    assert list(
        IdentityConstraint.objects.filter(signature=signature).values_list("record_id", "kind")
    ) == [(record.pk, "must"), (record.pk, "cannot")]  # confirmed at approval, then not mine
    assert list(Authorship.objects.filter(work=work).values_list("author_id", flat=True)) == [
        split.pk
    ]
    _refresh(record, split)
    assert (record.work_count, split.work_count) == (1, 1)
    assert RecordEvent.objects.filter(record=record, kind="correction").count() == 1
    assert RecordEvent.objects.filter(record=split, kind="correction").count() == 1
    # Both histories show it, publicly.
    assert (
        work.arxiv_id
        in client.get(reverse("profiles:history", args=[record.slug])).content.decode()
    )
    assert (
        work.arxiv_id in client.get(reverse("profiles:history", args=[split.slug])).content.decode()
    )


def test_not_mine_on_a_work_not_on_the_record_is_a_404(client):
    record, owner, _ = claimed_record()
    client.force_login(owner)
    response = client.post(reverse("profiles:not-mine", args=[record.slug, WorkFactory().pk]))
    assert response.status_code == 404


def test_an_admin_undoes_not_mine():
    record, owner, _ = claimed_record(works=2)
    work = Authorship.objects.filter(author=record).first().work
    split = corrections.mark_not_mine(record=record, work=work, by=owner)
    event = RecordEvent.objects.get(record=record, kind="correction")

    corrections.undo(event, by=make_admin(), reason="The owner asked.")

    assert Authorship.objects.get(work=work).author_id == record.pk
    _refresh(record, split)
    assert record.work_count == 2
    assert split.merged_into_id == record.pk
    assert not corrections.can_undo(RecordEvent.objects.get(pk=event.pk))
    with pytest.raises(corrections.CorrectionError, match="already undone"):
        corrections.undo(RecordEvent.objects.get(pk=event.pk), by=make_admin(), reason="again")


# --- Merge ---------------------------------------------------------------------------------


def test_merging_moves_works_follows_and_history_and_the_old_slug_redirects(client):
    admin = make_admin()
    target = record_with_works(2)
    source = record_with_works(1)
    both, only_source = UserFactory(), UserFactory()
    follows.follow(user=both, record=target)
    follows.follow(user=both, record=source)
    follows.follow(user=only_source, record=source)
    source_event = RecordEvent.objects.create(record=source, kind="import", summary="old import")

    corrections.merge_records(source=source, target=target, by=admin, reason="Same person")

    _refresh(source, target)
    assert source.merged_into_id == target.pk
    assert Authorship.objects.filter(author=target).count() == 3
    assert Authorship.objects.filter(author=source).count() == 0
    assert set(Follow.objects.filter(record=target).values_list("user_id", flat=True)) == {
        both.pk,
        only_source.pk,
    }
    assert (target.follower_count, source.follower_count) == (2, 0)
    assert (target.work_count, source.work_count) == (3, 0)
    source_event.refresh_from_db()
    assert source_event.record_id == target.pk
    assert SlugRedirect.objects.get(old_slug=source.slug).record_id == target.pk
    response = client.get(f"/researchers/{source.slug}/")
    assert response.status_code == 301
    assert response["Location"] == target.get_absolute_url()


def test_a_record_with_a_claim_is_never_merged_away():
    claimed, _, _ = claimed_record()
    other = record_with_works()
    with pytest.raises(corrections.CorrectionError, match="claim"):
        corrections.merge_records(source=claimed, target=other, by=make_admin(), reason="x")
    # The other way round is fine: the claimed record survives.
    corrections.merge_records(source=other, target=claimed, by=make_admin(), reason="x")
    other.refresh_from_db()
    assert other.merged_into_id == claimed.pk


def test_the_owner_never_ends_up_following_their_own_record_after_a_merge():
    target, owner, _ = claimed_record()
    source = record_with_works()
    follows.follow(user=owner, record=source)
    corrections.merge_records(source=source, target=target, by=make_admin(), reason="x")
    assert not Follow.objects.filter(user=owner).exists()


def test_undoing_a_merge_puts_everything_back():
    admin = make_admin()
    target = record_with_works(1)
    source = record_with_works(2)
    both = UserFactory()
    follows.follow(user=both, record=target)
    follows.follow(user=both, record=source)
    corrections.merge_records(source=source, target=target, by=admin, reason="Same person")
    event = RecordEvent.objects.get(record=target, kind="merge")

    corrections.undo(event, by=admin, reason="Not the same person after all")

    _refresh(source, target)
    assert source.merged_into_id is None
    assert (source.work_count, target.work_count) == (2, 1)
    assert (source.follower_count, target.follower_count) == (1, 1)
    assert not SlugRedirect.objects.filter(old_slug=source.slug).exists()


# --- Move works ----------------------------------------------------------------------------


def test_moving_works_between_records_and_back():
    admin = make_admin()
    source = record_with_works(3)
    target = AuthorRecordFactory()
    moving = list(Authorship.objects.filter(author=source).values_list("pk", flat=True)[:2])

    assert (
        corrections.move_authorships(
            authorship_ids=moving, target=target, by=admin, reason="Wrong person"
        )
        == 2
    )

    _refresh(source, target)
    assert (source.work_count, target.work_count) == (1, 2)
    event = RecordEvent.objects.get(record=source, kind="correction")
    corrections.undo(event, by=admin, reason="oops")
    _refresh(source, target)
    assert (source.work_count, target.work_count) == (3, 0)


def test_moving_works_from_two_records_at_once_is_refused():
    first, second, target = record_with_works(), record_with_works(), AuthorRecordFactory()
    ids = list(Authorship.objects.filter(author__in=[first, second]).values_list("pk", flat=True))
    with pytest.raises(corrections.CorrectionError, match="one record at a time"):
        corrections.move_authorships(authorship_ids=ids, target=target, by=make_admin(), reason="x")


# --- Through Django admin ------------------------------------------------------------------


def test_admin_merge_action_asks_for_the_survivor_and_a_reason_then_merges(client):
    client.force_login(make_admin())
    keep, drop = record_with_works(), record_with_works()
    url = reverse("admin:works_authorrecord_changelist")
    data = {"action": "merge_records", "_selected_action": [keep.pk, drop.pk]}

    page = client.post(url, data)
    assert page.status_code == 200
    assert "Merge records" in page.content.decode()
    assert not AuthorRecord.objects.filter(merged_into__isnull=False).exists()

    response = client.post(url, {**data, "apply": "1", "survivor": keep.pk, "reason": "Same"})
    assert response.status_code == 302
    drop.refresh_from_db()
    assert drop.merged_into_id == keep.pk


def test_admin_move_works_action(client):
    client.force_login(make_admin())
    source, target = record_with_works(2), AuthorRecordFactory()
    authorship = Authorship.objects.filter(author=source).first()
    url = reverse("admin:works_authorrecord_changelist")
    data = {"action": "move_works", "_selected_action": [source.pk]}
    page = client.post(url, data)
    assert authorship.work.title in page.content.decode()
    client.post(
        url,
        {
            **data,
            "apply": "1",
            "authorships": [authorship.pk],
            "target": target.slug,
            "reason": "Belongs there",
        },
    )
    authorship.refresh_from_db()
    assert authorship.author_id == target.pk


def test_admin_split_action_puts_the_chosen_works_on_a_new_record_for_good(client):
    from works.clustering import recluster_block

    client.force_login(make_admin())
    record = record_with_works(3)
    chosen = list(Authorship.objects.filter(author=record).order_by("pk")[:2])
    url = reverse("admin:works_authorrecord_changelist")
    data = {"action": "split_record", "_selected_action": [record.pk]}
    page = client.post(url, data)
    assert chosen[0].work.title in page.content.decode()

    client.post(
        url,
        {**data, "apply": "1", "authorships": [a.pk for a in chosen], "reason": "Two people"},
    )

    new = AuthorRecord.objects.exclude(pk=record.pk).get()
    assert set(new.authorships.values_list("pk", flat=True)) == {a.pk for a in chosen}
    _refresh(record, new)
    assert (record.work_count, new.work_count) == (1, 2)
    # A re-clustering (the evidence would join them: same name, nothing else) obeys the split.
    recluster_block(chosen[0].block_key)
    assert set(new.authorships.values_list("pk", flat=True)) == {a.pk for a in chosen}
    assert record.authorships.count() == 1
    # And it can be undone.
    event = RecordEvent.objects.get(record=record, kind="correction")
    corrections.undo(event, by=make_admin(), reason="One person after all.")
    assert record.authorships.count() == 3
    assert not IdentityConstraint.objects.filter(source="split").exists()


def test_admin_undo_action_on_record_events(client):
    admin = make_admin()
    record, owner, _ = claimed_record(works=2)
    work = Authorship.objects.filter(author=record).first().work
    corrections.mark_not_mine(record=record, work=work, by=owner)
    event = RecordEvent.objects.get(record=record, kind="correction")
    client.force_login(admin)
    client.post(
        reverse("admin:works_recordevent_changelist"),
        {"action": "undo", "_selected_action": [event.pk], "apply": "1", "reason": "Asked"},
    )
    assert Authorship.objects.get(work=work).author_id == record.pk
