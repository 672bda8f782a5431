"""Collaboration edges on the demo data (weights checked by hand) and on made-up records."""

import pytest
from django.conf import settings
from django.db import connection

from graph.models import CollaborationEdge
from graph.services import rebuild_all_edges, rebuild_edges_for
from graph.weights import CLOSE_COLLABORATOR_THRESHOLD
from tests.factories import AuthorRecordFactory, WorkFactory, add_authors
from works.models import AuthorRecord, Authorship, Work


def weights_of(record) -> dict[str, float]:
    return dict(
        CollaborationEdge.objects.filter(author=record).values_list(
            "coauthor__display_name", "weight"
        )
    )


def edge_table() -> dict[tuple[int, int], tuple[float, int, int | None]]:
    return {
        (a, b): (round(w, 9), s, y)
        for a, b, w, s, y in CollaborationEdge.objects.values_list(
            "author_id", "coauthor_id", "weight", "shared_works", "latest_year"
        )
    }


@pytest.fixture
def demo_edges(demo):
    rebuild_all_edges()
    demo.refresh_from_db()
    return demo


# Person-author counts of the demo works: Roadmap 100 (withdrawn), DeepNLPVis 9, CPT 6,
# few-shot entity linking 8, Knowledge Inheritance 11, MoEfication 6, DPT 9, mHC 19, R1 199.
def test_demo_strongest_coauthors_weigh_their_shared_works_by_hand(demo_edges):
    weights = weights_of(demo_edges)
    roadmap = 1 / 99
    assert weights["Zhiyuan Liu"] == pytest.approx(
        roadmap + 1 / 8 + 1 / 5 + 1 / 7 + 1 / 10 + 1 / 5 + 1 / 8
    )
    assert weights["Zhiyuan Liu"] == pytest.approx(0.903, abs=5e-4)
    assert weights["Maosong Sun"] == pytest.approx(roadmap + 1 / 8 + 1 / 5 + 1 / 10 + 1 / 5 + 1 / 8)
    assert weights["Yuan Yao"] == pytest.approx(roadmap + 1 / 5 + 1 / 8)
    assert weights["Ao Zhang"] == pytest.approx(1 / 5 + 1 / 8)
    assert weights["Yankai Lin"] == pytest.approx(roadmap + 1 / 5 + 1 / 10)
    liu = CollaborationEdge.objects.get(author=demo_edges, coauthor__display_name="Zhiyuan Liu")
    assert (liu.shared_works, liu.latest_year) == (7, 2022)


def test_demo_has_exactly_four_close_collaborators(demo_edges):
    close = (
        CollaborationEdge.objects.filter(
            author=demo_edges, weight__gte=CLOSE_COLLABORATOR_THRESHOLD - 1e-9
        )
        .order_by("-weight")
        .values_list("coauthor__display_name", flat=True)
    )
    assert list(close) == ["Zhiyuan Liu", "Maosong Sun", "Yuan Yao", "Ao Zhang"]
    assert demo_edges.close_collaborator_count == 4


def test_the_withdrawn_hundred_author_roadmap_still_adds_one_ninety_ninth_per_pair(demo_edges):
    # Sha Yuan is on the Roadmap only.
    assert weights_of(demo_edges)["Sha Yuan"] == pytest.approx(1 / 99)
    assert Work.objects.get(title="A Roadmap for Big Model").kind == Work.Kind.WITHDRAWN


def test_deepseek_r1_adds_no_pairs_at_all(demo_edges):
    r1 = Work.objects.get(arxiv_id="2501.12948")
    assert r1.person_author_count == 199
    r1_only = set(Authorship.objects.filter(work=r1).values_list("author_id", flat=True)) - set(
        Authorship.objects.exclude(work=r1).values_list("author_id", flat=True)
    )
    assert len(r1_only) > 150
    assert not CollaborationEdge.objects.filter(author_id__in=r1_only).exists()
    assert not CollaborationEdge.objects.filter(coauthor_id__in=r1_only).exists()
    # Zhenda Xie is on R1 and on mHC (19 people): only mHC counts, 1/18, never 1/198 more.
    assert weights_of(demo_edges)["Zhenda Xie"] == pytest.approx(1 / 18)


def test_organisation_authors_get_no_edges(demo_edges):
    organisation = AuthorRecord.objects.get(kind=AuthorRecord.Kind.ORGANISATION)
    assert organisation.display_name == "DeepSeek-AI"
    assert not CollaborationEdge.objects.filter(author=organisation).exists()
    assert not CollaborationEdge.objects.filter(coauthor=organisation).exists()


def test_every_edge_is_stored_in_both_directions_with_the_same_values(demo_edges):
    table = edge_table()
    assert len(table) == CollaborationEdge.objects.count() > 0
    assert all(table[(b, a)] == row for (a, b), row in table.items())


def test_a_two_author_paper_weighs_one_and_a_hundred_and_one_author_paper_nothing(db):
    alice, bob = AuthorRecordFactory(), AuthorRecordFactory()
    add_authors(WorkFactory(year=2021), [alice, bob])
    crowd = [AuthorRecordFactory() for _ in range(99)]
    add_authors(WorkFactory(year=2024), [alice, bob, *crowd])  # 101 person authors

    rebuild_all_edges()

    edge = CollaborationEdge.objects.get(author=alice, coauthor=bob)
    assert (edge.weight, edge.shared_works, edge.latest_year) == (1.0, 1, 2021)
    assert not CollaborationEdge.objects.filter(author__in=crowd).exists()


def test_a_hundred_author_paper_still_adds_pairs(db):
    people = [AuthorRecordFactory() for _ in range(100)]
    add_authors(WorkFactory(), people)

    rebuild_all_edges()

    assert CollaborationEdge.objects.count() == 100 * 99
    assert CollaborationEdge.objects.filter(author=people[0]).first().weight == pytest.approx(
        1 / 99
    )


def test_organisations_do_not_count_in_n_and_get_no_pair(db):
    alice, bob = AuthorRecordFactory(), AuthorRecordFactory()
    consortium = AuthorRecordFactory(kind=AuthorRecord.Kind.ORGANISATION)
    add_authors(WorkFactory(), [consortium, alice, bob])

    rebuild_all_edges()

    assert edge_table() == {
        (alice.pk, bob.pk): (1.0, 1, 2024),
        (bob.pk, alice.pk): (1.0, 1, 2024),
    }


def test_a_record_printed_twice_on_a_paper_counts_that_paper_once(db):
    alice, bob, carol = AuthorRecordFactory(), AuthorRecordFactory(), AuthorRecordFactory()
    # Two authors resolved to one record (two "Wei Wang"s): n is still the printed count, 4.
    add_authors(WorkFactory(), [alice, bob, bob, carol])

    rebuild_all_edges()

    edge = CollaborationEdge.objects.get(author=alice, coauthor=bob)
    assert (edge.weight, edge.shared_works) == (pytest.approx(1 / 3), 1)
    assert not CollaborationEdge.objects.filter(author=bob, coauthor=bob).exists()


def test_full_rebuild_in_small_chunks_equals_one_chunk(demo):
    rebuild_all_edges(chunk_size=1_000_000)
    whole = edge_table()
    counts = dict(AuthorRecord.objects.values_list("id", "close_collaborator_count"))

    result = rebuild_all_edges(chunk_size=7)

    assert edge_table() == whole
    assert result.edges == len(whole)
    assert (result.written, result.removed) == (0, 0)  # nothing changed, nothing rewritten
    assert result.counts_changed == []
    assert dict(AuthorRecord.objects.values_list("id", "close_collaborator_count")) == counts


def test_incremental_rebuild_of_every_record_equals_the_full_rebuild(demo):
    changed = rebuild_edges_for(author_ids=AuthorRecord.objects.values_list("id", flat=True))
    incremental = edge_table()
    counts = dict(AuthorRecord.objects.values_list("id", "close_collaborator_count"))

    rebuild_all_edges()

    assert edge_table() == incremental
    assert dict(AuthorRecord.objects.values_list("id", "close_collaborator_count")) == counts
    assert changed == {a for pair in incremental for a in pair}


def test_incremental_rebuild_after_changes_equals_a_full_rebuild(db):
    alice, bob, carol, dave = (AuthorRecordFactory() for _ in range(4))
    first = WorkFactory(year=2020)
    add_authors(first, [alice, bob, carol])
    second = WorkFactory(year=2021)
    add_authors(second, [alice, bob])
    rebuild_all_edges()

    # The first work is re-imported without Carol and with Dave; a new work joins Carol and Dave.
    Authorship.objects.filter(work=first).delete()
    add_authors(first, [alice, bob, dave])
    third = WorkFactory(year=2023)
    add_authors(third, [carol, dave])
    changed = rebuild_edges_for(author_ids=[alice.pk, bob.pk, dave.pk, carol.pk])
    incremental = edge_table()

    rebuild_all_edges()

    assert edge_table() == incremental
    assert changed == {alice.pk, bob.pk, carol.pk, dave.pk}
    assert not CollaborationEdge.objects.filter(author=alice, coauthor=carol).exists()
    assert CollaborationEdge.objects.get(author=carol, coauthor=dave).weight == 1.0
    assert CollaborationEdge.objects.get(author=alice, coauthor=bob).weight == pytest.approx(1.5)


def test_incremental_rebuild_of_one_record_updates_its_coauthors_side_too(db):
    alice, bob = AuthorRecordFactory(), AuthorRecordFactory()
    add_authors(WorkFactory(), [alice, bob])
    rebuild_all_edges()
    add_authors(WorkFactory(arxiv_id="2402.00001", year=2025), [bob, alice])

    changed = rebuild_edges_for(author_ids=[alice.pk])

    assert changed == {alice.pk, bob.pk}
    assert edge_table() == {
        (alice.pk, bob.pk): (2.0, 2, 2025),
        (bob.pk, alice.pk): (2.0, 2, 2025),
    }


def test_incremental_rebuild_after_a_day_of_changes_equals_a_full_rebuild(db):
    """New works, a new version with an author removed and one added, a year moved, a
    record turned into an organisation, a record printed twice: every kind of change an
    import or a correction makes, rebuilt from the touched records only."""
    people = [AuthorRecordFactory() for _ in range(11)]
    a, b, c, d, e, f, g, h, i, j, k = people
    works = [WorkFactory(year=2018 + n) for n in range(7)]
    for work, authors in zip(
        works,
        [[a, b, c], [a, b], [c, d, e, f], [e, f, g], [g, h], [a, j], [j, k]],
        strict=True,
    ):
        add_authors(work, authors)
    rebuild_all_edges()
    # A new version: B left, I joined, and the year moved.
    Authorship.objects.filter(work=works[0]).delete()
    add_authors(works[0], [a, c, i])
    Work.objects.filter(pk=works[0].pk).update(year=2024)
    # D is an organisation now: no pairs, and C, E, F lose one person from n.
    AuthorRecord.objects.filter(pk=d.pk).update(kind=AuthorRecord.Kind.ORGANISATION)
    Work.objects.filter(pk=works[2].pk).update(person_author_count=3)
    # New works, one with H printed twice.
    add_authors(WorkFactory(year=2025), [h, i, h])
    add_authors(WorkFactory(year=2025), [b, g])

    # What an import or a correction names: every author of a changed work, and B who left.
    changed = rebuild_edges_for(author_ids=[r.pk for r in (a, b, c, d, e, f, g, h, i)])
    incremental = edge_table()
    counts = dict(AuthorRecord.objects.values_list("id", "close_collaborator_count"))

    rebuild_all_edges()

    assert edge_table() == incremental
    assert dict(AuthorRecord.objects.values_list("id", "close_collaborator_count")) == counts
    assert changed == {a.pk, b.pk, c.pk, d.pk, e.pk, f.pk, g.pk, h.pk, i.pk}
    assert (a.pk, j.pk) in incremental and (d.pk, c.pk) not in incremental


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the server-side comparison is PostgreSQL's",
)
def test_many_changed_pairs_are_written_by_one_statement_on_postgresql(
    db, django_assert_num_queries
):
    # 40 authors: 1,560 edge rows, more than one INSERT's worth of rows from Python; and the
    # pairs of a work they all left vanish in the same statement.
    people = [AuthorRecordFactory() for _ in range(40)]
    leavers = [AuthorRecordFactory() for _ in range(3)]
    left = WorkFactory()
    add_authors(left, leavers)
    rebuild_all_edges()
    Authorship.objects.filter(work=left).delete()
    add_authors(WorkFactory(), people)

    # A savepoint, the comparison and its writes, the counters, the release.
    with django_assert_num_queries(4):
        changed = rebuild_edges_for(author_ids=[p.pk for p in people + leavers])

    assert changed == {p.pk for p in people + leavers}
    assert CollaborationEdge.objects.count() == 40 * 39


def test_an_unchanged_incremental_rebuild_writes_nothing(demo_edges, django_assert_num_queries):
    # A savepoint, the comparison (on SQLite the old edges, then the new pairs), the release.
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 4):
        assert rebuild_edges_for(author_ids=[demo_edges.pk]) == set()


def test_close_collaborator_counts_follow_the_edges(db):
    alice, bob, carol = AuthorRecordFactory(), AuthorRecordFactory(), AuthorRecordFactory()
    add_authors(WorkFactory(), [alice, bob, carol])  # 1/2 each: close
    rebuild_edges_for(author_ids=[alice.pk, bob.pk, carol.pk])
    assert sorted(
        AuthorRecord.objects.filter(pk__in=[alice.pk, bob.pk, carol.pk]).values_list(
            "close_collaborator_count", flat=True
        )
    ) == [2, 2, 2]

    Authorship.objects.filter(author=carol).delete()
    Work.objects.update(person_author_count=2)
    rebuild_edges_for(author_ids=[carol.pk])

    counts = dict(AuthorRecord.objects.values_list("id", "close_collaborator_count"))
    assert (counts[alice.pk], counts[bob.pk], counts[carol.pk]) == (1, 1, 0)


def test_a_full_rebuild_repairs_stale_missing_and_extra_edges(db):
    alice, bob, carol = AuthorRecordFactory(), AuthorRecordFactory(), AuthorRecordFactory()
    add_authors(WorkFactory(year=2020), [alice, bob, carol])
    first = rebuild_all_edges()
    assert (first.edges, first.written, first.removed) == (6, 6, 0)
    whole = edge_table()
    CollaborationEdge.objects.filter(author=alice, coauthor=bob).update(weight=0.1)
    CollaborationEdge.objects.filter(author=bob, coauthor=carol).delete()
    dave = AuthorRecordFactory()
    CollaborationEdge.objects.create(author=dave, coauthor=alice, weight=1, shared_works=1)
    AuthorRecord.objects.filter(pk=dave.pk).update(close_collaborator_count=1)

    result = rebuild_all_edges(chunk_size=2)

    assert edge_table() == whole
    assert (result.edges, result.written, result.removed) == (6, 2, 1)
    assert result.counts_changed == [dave.pk]


def test_a_first_build_restores_every_index_and_constraint_of_the_edge_table(demo):
    from django.db import connection

    def definitions():
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE tbl_name = %s ORDER BY name",
                    [CollaborationEdge._meta.db_table],
                )
            else:
                # Ordered by name and definition: the unique pair is both a constraint and an
                # index of the same name, and re-created rows may come back in another order.
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass UNION ALL "
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                    "ORDER BY 1, 2",
                    [CollaborationEdge._meta.db_table] * 2,
                )
            return cursor.fetchall()

    before = definitions()
    assert not CollaborationEdge.objects.exists()

    result = rebuild_all_edges(chunk_size=50)

    assert definitions() == before
    assert result.edges == result.written == CollaborationEdge.objects.count() > 0
    demo.refresh_from_db()
    assert demo.close_collaborator_count == 4
