"""Corrections: an owner's "not mine", an admin's merge and move of works, and their undo.

Every correction is also an identity constraint that later imports and re-clustering obey
(works.constraints): "not mine" keeps the signature off the record for good, a merge or a move
keeps the signatures on the record they were put on. Every correction writes a RecordEvent on
each record it touched, with `data` holding exactly what moved (authorship, follow, event and
constraint ids), so that `undo(event)` can put it back. After moving authorships the derived
data follows through the one way down (works.changes), and the level and claim state through
the one transition function.
"""

from __future__ import annotations

from django.db import transaction

from profiles.follows import move_follows, recount_followers
from profiles.models import Claim, Follow
from profiles.trust_queue import queue_trust_recompute
from profiles.verification import records_counting_as_close, transition
from works import constraints
from works.changes import authorships_changed
from works.clustering import NewRecord, create_records, display_name_for
from works.models import (
    AuthorRecord,
    Authorship,
    IdentityConstraint,
    RecordEvent,
    SlugRedirect,
    Work,
)


class CorrectionError(Exception):
    """A correction that cannot be made; the message is shown to whoever tried."""


# Actions stored in RecordEvent.data["action"], each with its undo.
NOT_MINE = "not_mine"
MOVE = "move"
MERGE = "merge"
SPLIT = "split"
UNDO = "undo"


def _after_authorships_moved(record_ids: list[int], *, actor, reason: str) -> None:
    # Counters now, then edges and the records' trust through the one path down
    # (works.changes): queued once, when the change commits.
    ids = authorships_changed(record_ids)
    relevelled = [
        record.pk
        for record in AuthorRecord.objects.filter(id__in=ids)
        # A record left without works drops to L0; a new one with a work is L1.
        if transition(record, actor=actor, reason=reason, queue_trust=False)
    ]
    if relevelled:
        # Their new level moves the trust of the records that count them as close.
        queue_trust_recompute(records_counting_as_close(relevelled))


def mark_not_mine(*, record: AuthorRecord, work: Work, by) -> AuthorRecord:
    """The owner says a work is not theirs: its signature never comes back to this record, and
    goes where the evidence points, another record or a new one (which it returns)."""
    with transaction.atomic():
        authorships = list(
            Authorship.objects.select_for_update()
            .filter(author=record, work=work)
            .order_by("position")
        )
        if not authorships:
            raise CorrectionError("This work is not listed on your record.")
        ids = [a.pk for a in authorships]
        constraint_ids = constraints.cannot_link(
            ids, record, source=IdentityConstraint.Source.NOT_MINE, actor=by
        )
        taken_by = sorted(constraints.relink(ids))
        moved_to = AuthorRecord.objects.get(pk=taken_by[0])
        data = {
            "action": NOT_MINE,
            "authorships": ids,
            "from_record": record.pk,
            "to_record": moved_to.pk,
            "work": work.arxiv_id,
            "constraints": constraint_ids,
            "created_record": not moved_to.authorships.exclude(pk__in=ids).exists(),
        }
        RecordEvent.objects.create(
            record=record,
            kind=RecordEvent.Kind.CORRECTION,
            summary=f"The owner marked “{work.title[:200]}” ({work.arxiv_id}) as not theirs; "
            f"it moved to {moved_to.slug} and will not come back.",
            actor=by,
            data=data,
        )
        RecordEvent.objects.create(
            record=moved_to,
            kind=RecordEvent.Kind.CORRECTION,
            summary=f"Took “{work.title[:200]}” ({work.arxiv_id}), which the owner of "
            f"{record.slug} marked as not theirs.",
            actor=by,
            data=data,
        )
        _after_authorships_moved(
            [record.pk, *taken_by], actor=by, reason="Works changed by a correction."
        )
    return moved_to


def move_authorships(
    *,
    authorship_ids: list[int],
    target: AuthorRecord,
    by,
    reason: str,
    constraint_source: str = IdentityConstraint.Source.MOVE,
    actor_label: str = "An admin",
) -> int:
    """Move works from one record to another, for good (must-linked to it). Returns how many
    authorships moved.

    `actor_label` says who in the records' history, `constraint_source` why the move holds: "The
    owner" and ORCID when an owner accepts a work their authenticated ORCID record lists
    (profiles.orcid.checks.accept_offer); an admin's move otherwise.
    """
    with transaction.atomic():
        authorships = list(
            Authorship.objects.select_for_update()
            .filter(pk__in=authorship_ids)
            .select_related("work")
        )
        source_id = _movable_from(authorships, target)
        ids = [a.pk for a in authorships]
        Authorship.objects.filter(pk__in=ids).update(author=target)
        constraint_ids = constraints.must_link(ids, target, source=constraint_source, actor=by)
        titles = ", ".join(sorted({a.work.arxiv_id for a in authorships}))[:300]
        data = {
            "action": MOVE,
            "authorships": ids,
            "from_record": source_id,
            "to_record": target.pk,
            "constraints": constraint_ids,
        }
        source = AuthorRecord.objects.get(pk=source_id)
        moved = f"{actor_label} moved {len(ids)} work(s)"
        for record, summary in (
            (source, f"{moved} to {target.slug}: {titles}. {reason}"),
            (target, f"{moved} here from {source.slug}: {titles}. {reason}"),
        ):
            RecordEvent.objects.create(
                record=record,
                kind=RecordEvent.Kind.CORRECTION,
                summary=summary[:500],
                actor=by,
                data=data,
            )
        _after_authorships_moved(
            [source_id, target.pk], actor=by, reason=f"Works moved by {actor_label.lower()}."
        )
    return len(ids)


def _movable_from(authorships: list[Authorship], target: AuthorRecord) -> int:
    """The one record these signatures can move from, or CorrectionError saying why not."""
    sources = {a.author_id for a in authorships}
    if not authorships:
        raise CorrectionError("Choose at least one work to move.")
    if len(sources) != 1:
        raise CorrectionError("Move works from one record at a time.")
    source_id = sources.pop()
    if source_id is None:
        raise CorrectionError("These signatures name no person.")
    if source_id == target.pk:
        raise CorrectionError("The works are already on that record.")
    if target.merged_into_id:
        raise CorrectionError("That record was merged into another; move to the surviving one.")
    return source_id


def split_record(
    *, record: AuthorRecord, authorship_ids: list[int], by, reason: str
) -> AuthorRecord:
    """An admin splits a record: the chosen signatures are another person's, on a new record,
    for good (they keep together on it and never come back). Returns the new record."""
    with transaction.atomic():
        chosen = list(
            Authorship.objects.select_for_update()
            .filter(pk__in=authorship_ids, author=record)
            .order_by("work_id", "position")
        )
        if not chosen:
            raise CorrectionError("Choose at least one work of this record.")
        if len(chosen) == record.authorships.count():
            raise CorrectionError("Leave at least one work on the record: that is a rename.")
        ids = [a.pk for a in chosen]
        (new_id,) = create_records(
            [NewRecord(ids, display_name_for([a.printed_name for a in chosen]))]
        )
        new = AuthorRecord.objects.get(pk=new_id)
        Authorship.objects.filter(pk__in=ids).update(author=new)
        how = {"source": IdentityConstraint.Source.SPLIT, "actor": by}
        constraint_ids = constraints.must_link(ids, new, **how) + constraints.cannot_link(
            ids, record, **how
        )
        data = {
            "action": SPLIT,
            "authorships": ids,
            "from_record": record.pk,
            "to_record": new.pk,
            "constraints": constraint_ids,
            "created_record": True,
        }
        for on, summary in (
            (
                record,
                f"An admin split {len(ids)} work(s) off to a new record, {new.slug}: "
                f"another person's. {reason}",
            ),
            (new, f"Created by an admin from {len(ids)} work(s) of {record.slug}. {reason}"),
        ):
            RecordEvent.objects.create(
                record=on,
                kind=RecordEvent.Kind.CORRECTION,
                summary=summary[:500],
                actor=by,
                data=data,
            )
        _after_authorships_moved([record.pk, new.pk], actor=by, reason="Record split by an admin.")
    return new


def merge_records(*, source: AuthorRecord, target: AuthorRecord, by, reason: str) -> None:
    """Merge `source` into `target` (two records of one person).

    Works, follows and history move to the target; the source stays as a pointer
    (`merged_into`) and its slug redirects. A record with a pending or approved claim is never
    merged away: an admin decides that claim first.
    """
    with transaction.atomic():
        source, target = _lock_mergeable(source, target)
        authorship_ids = list(Authorship.objects.filter(author=source).values_list("pk", flat=True))
        Authorship.objects.filter(pk__in=authorship_ids).update(author=target)
        # One person: every signature of both stays together on the survivor, for good.
        constraint_ids = constraints.must_link(
            Authorship.objects.filter(author=target).values_list("pk", flat=True),
            target,
            source=IdentityConstraint.Source.MERGE,
            actor=by,
        )
        moved_follows, dropped_users = move_follows(source, target)
        moved_events = list(RecordEvent.objects.filter(record=source).values_list("pk", flat=True))
        RecordEvent.objects.filter(pk__in=moved_events).update(record=target)
        added_variants = [
            v for v in [source.display_name, *source.variants] if v not in target.variants
        ]
        data = {
            "action": MERGE,
            "from_record": source.pk,
            "to_record": target.pk,
            "authorships": authorship_ids,
            "follows": moved_follows,
            "dropped_follow_users": dropped_users,
            "events": moved_events,
            "added_variants": added_variants,
            "constraints": constraint_ids,
        }
        _point_source_at_target(source, target, added_variants)
        _log_merge(source, target, data, by=by, reason=reason)
        recount_followers([source.pk, target.pk])
        _after_authorships_moved(
            [source.pk, target.pk], actor=by, reason="Records merged by an admin."
        )


def _lock_mergeable(
    source: AuthorRecord, target: AuthorRecord
) -> tuple[AuthorRecord, AuthorRecord]:
    """Both records, locked and fresh, or CorrectionError saying why they cannot be merged."""
    locked = {
        r.pk: r
        for r in AuthorRecord.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.pk == target.pk:
        raise CorrectionError("Choose two different records.")
    if not (source.is_person and target.is_person):
        raise CorrectionError("Only researcher records can be merged.")
    if source.merged_into_id or target.merged_into_id:
        raise CorrectionError("One of these records was already merged.")
    if Claim.objects.filter(
        record=source, state__in=[Claim.State.PENDING, Claim.State.APPROVED]
    ).exists():
        raise CorrectionError(
            f"{source.slug} has a pending or approved claim: merge the other way, or decide "
            "the claim first."
        )
    return source, target


def _point_source_at_target(
    source: AuthorRecord, target: AuthorRecord, added_variants: list[str]
) -> None:
    target.variants = list(target.variants) + added_variants
    target.save(update_fields=["variants"])
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    SlugRedirect.objects.update_or_create(old_slug=source.slug, defaults={"record": target})


def _log_merge(source: AuthorRecord, target: AuthorRecord, data: dict, *, by, reason: str) -> None:
    RecordEvent.objects.create(
        record=target,
        kind=RecordEvent.Kind.MERGE,
        summary=f"An admin merged {source.display_name} ({source.slug}) into this record: "
        f"{len(data['authorships'])} authorship(s), {len(data['follows'])} follow(s). "
        f"{reason}"[:500],
        actor=by,
        data=data,
    )
    RecordEvent.objects.create(
        record=source,
        kind=RecordEvent.Kind.MERGE,
        summary=f"An admin merged this record into {target.display_name} ({target.slug}). {reason}"[
            :500
        ],
        actor=by,
        data=data,
    )


# --- Undo ------------------------------------------------------------------------------------


def can_undo(event: RecordEvent) -> bool:
    data = event.data or {}
    return data.get("action") in {NOT_MINE, MOVE, MERGE, SPLIT} and not data.get("undone")


def undo(event: RecordEvent, *, by, reason: str) -> None:
    """Put back what a correction moved. Each correction is undone once."""
    data = event.data or {}
    action = data.get("action")
    if action not in {NOT_MINE, MOVE, MERGE, SPLIT}:
        raise CorrectionError("Only corrections and merges can be undone here.")
    with transaction.atomic():
        # Both records' events carry the same data; mark them all undone, once.
        twins = RecordEvent.objects.select_for_update().filter(
            kind=event.kind, record_id__in=[data["from_record"], data["to_record"], event.record_id]
        )
        twins = [e for e in twins if e.data == data]
        if any(e.data.get("undone") for e in twins) or not twins:
            raise CorrectionError("This correction was already undone.")
        source = AuthorRecord.objects.get(pk=data["from_record"])
        target = AuthorRecord.objects.get(pk=data["to_record"])
        constraints.release(data.get("constraints", []))
        if action == MERGE:
            _undo_merge(data, source=source, target=target)
        else:
            # Only authorships still where the correction put them go back: a later correction
            # of the same work wins.
            Authorship.objects.filter(pk__in=data["authorships"], author=target).update(
                author=source
            )
            if (
                action in {NOT_MINE, SPLIT}
                and data.get("created_record", True)
                and not Authorship.objects.filter(author=target).exists()
            ):
                # The record made for the work is empty again: it points back to the original so
                # that its address, which may have been shared, still leads somewhere.
                target.merged_into = source
                target.save(update_fields=["merged_into"])
        for twin in twins:
            twin.data = {**twin.data, "undone": True}
            twin.save(update_fields=["data"])
        summary = {
            NOT_MINE: "An admin undid the “not mine” correction; the work is back on "
            f"{source.slug}.",
            MOVE: f"An admin moved the works back from {target.slug} to {source.slug}.",
            SPLIT: f"An admin undid the split: the works of {target.slug} are back on "
            f"{source.slug}.",
            MERGE: f"An admin undid the merge of {source.slug} into {target.slug}.",
        }[action]
        for record in (source, target):
            RecordEvent.objects.create(
                record=record,
                kind=RecordEvent.Kind.MERGE if action == MERGE else RecordEvent.Kind.CORRECTION,
                summary=f"{summary} {reason}"[:500],
                actor=by,
                data={"action": UNDO, "undoes": event.pk},
            )
        if action == MERGE:
            recount_followers([source.pk, target.pk])
        _after_authorships_moved(
            [source.pk, target.pk], actor=by, reason="A correction was undone."
        )


def _undo_merge(data: dict, *, source: AuthorRecord, target: AuthorRecord) -> None:
    Authorship.objects.filter(pk__in=data["authorships"], author=target).update(author=source)
    Follow.objects.filter(pk__in=data["follows"], record=target).update(record=source)
    Follow.objects.bulk_create(
        [Follow(user_id=user_id, record=source) for user_id in data["dropped_follow_users"]],
        ignore_conflicts=True,
    )
    RecordEvent.objects.filter(pk__in=data["events"], record=target).update(record=source)
    target.variants = [v for v in target.variants if v not in data["added_variants"]]
    target.save(update_fields=["variants"])
    source.merged_into = None
    source.save(update_fields=["merged_into"])
    SlugRedirect.objects.filter(old_slug=source.slug, record=target).delete()
