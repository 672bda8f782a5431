"""Who is who through the importer: signatures clustered by evidence, corrections that stick."""

import datetime as dt
import itertools

import pytest
from django.core.management import call_command
from django.db import connection

from profiles import claims, corrections, follows
from profiles.models import Follow
from tests.accounts_helpers import make_admin
from tests.factories import UserFactory
from works import clustering, constraints
from works.arxiv import names
from works.arxiv.records import ParsedRecord
from works.clustering import recluster_block
from works.models import AuthorRecord, Authorship, IdentityConstraint, RecordEvent
from works.services import import_records

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)
WHEN = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


def paper(authors, *, category, title, year=2024, abstract="", arxiv_id=None, version=1):
    """A parsed arXiv record with these printed authors."""
    submitted = WHEN.replace(year=year)
    return ParsedRecord(
        arxiv_id=arxiv_id or f"2401.{next(_ids):05d}",
        version=version,
        title=title,
        abstract=abstract,
        authors=[names.author_from_printed(a) for a in authors],
        categories=[category],
        submitted=submitted,
        updated=submitted + dt.timedelta(days=30 * (version - 1)),
        source="api",
    )


def records_holding(printings: list[str]) -> set[int]:
    """The records holding any of these printings' signatures."""
    return set(
        Authorship.objects.filter(printed_name__in=printings).values_list("author_id", flat=True)
    )


def records_of(printed: str) -> set[int]:
    return set(
        Authorship.objects.filter(printed_name=printed)
        .exclude(author=None)
        .values_list("author_id", flat=True)
    )


STRINGS = "Gauge anomalies and {} string compactifications on orbifolds"
MODELS = "Prompt tuning for {} pre-trained language models"


def two_wei_wangs():
    hep = [
        paper(["Wei Wang", "Alice Adams", "Bob Brown"], category="hep-th", title=STRINGS.format(n))
        for n in ("heterotic", "type II", "F-theory")
    ]
    cl = [
        paper(["Wei Wang", "Carol Chen", "Dan Davis"], category="cs.CL", title=MODELS.format(n))
        for n in ("small", "large", "multilingual")
    ]
    return hep, cl


def test_two_wei_wangs_with_disjoint_coauthors_and_fields_are_two_records():
    hep, cl = two_wei_wangs()

    import_records([*hep, *cl])

    physicist = {
        a.author_id
        for a in Authorship.objects.filter(
            work__arxiv_id__in=[p.arxiv_id for p in hep], printed_name="Wei Wang"
        )
    }
    linguist = {
        a.author_id
        for a in Authorship.objects.filter(
            work__arxiv_id__in=[p.arxiv_id for p in cl], printed_name="Wei Wang"
        )
    }
    assert len(physicist) == len(linguist) == 1
    assert physicist != linguist
    topics = {
        record.slug: set(
            record.authorships.values_list("work__work_topics__topic__code", flat=True)
        )
        for record in AuthorRecord.objects.filter(pk__in=physicist | linguist)
    }
    assert sorted(topics.values(), key=sorted) == [{"cs.CL"}, {"hep-th"}]


def test_a_later_paper_joins_the_right_wei_wang():
    hep, cl = two_wei_wangs()
    import_records([*hep, *cl])
    physicist = records_of("Wei Wang") & {
        a.author_id for a in Authorship.objects.filter(work__arxiv_id=hep[0].arxiv_id)
    }

    later = paper(
        ["Wei Wang", "Bob Brown"], category="hep-th", title=STRINGS.format("non-geometric")
    )
    import_records([later])

    assert {
        a.author_id
        for a in Authorship.objects.filter(work__arxiv_id=later.arxiv_id, printed_name="Wei Wang")
    } == physicist
    assert len(records_of("Wei Wang")) == 2


def test_one_work_listing_two_wei_wangs_gives_two_records():
    work = paper(["Wei Wang", "Erin Evans", "Wei Wang"], category="cs.LG", title="Two of us")

    import_records([work])

    signatures = Authorship.objects.filter(work__arxiv_id=work.arxiv_id, printed_name="Wei Wang")
    assert signatures.count() == 2
    assert len({s.author_id for s in signatures}) == 2


def papers_printed(printings, coauthors, *, category, title, first_year):
    """One paper a year per printing of one person's name, with the same co-authors."""
    return [
        paper(
            [printed, *coauthors],
            category=category,
            title=f"{title}, part {n}",
            year=first_year + n,
        )
        for n, printed in enumerate(printings)
    ]


def test_one_person_printed_four_ways_with_a_shared_coauthor_is_one_record():
    printings = ["Zhengyan Zhang", "Zhèngyan Zhang", "ZhengYan Zhang", "Zhang Zhengyan"]
    works = papers_printed(
        printings,
        ["Zhiyuan Liu", "Maosong Sun"],
        category="cs.CL",
        title="Knowledge in pre-trained language models",
        first_year=2020,
    )

    import_records(works)

    held = records_holding(printings)
    assert len(held) == 1
    record = AuthorRecord.objects.get(pk=held.pop())
    # Given name first; of the printings, the one with accents says the most.
    assert record.display_name == "Zhèngyan Zhang"
    assert record.work_count == 4


def test_umlauts_spelt_out_and_initials_behind_the_surname_land_on_one_record():
    printings = ["Jörg Schröder", "Joerg Schroeder", "Schroeder J", "J. Schröder"]
    works = papers_printed(
        printings,
        ["Ingrid Ingeborg", "Hannelore Hinterberger"],
        category="cond-mat.str-el",
        title="Spin liquids on the kagome lattice",
        first_year=2018,
    )

    import_records(works)

    held = records_holding(printings)
    assert len(held) == 1
    assert AuthorRecord.objects.get(pk=held.pop()).work_count == 4


def test_two_namesakes_sharing_only_a_j_wang_stay_apart():
    # "J. Wang" on both sides is no shared co-author: thousands print it.
    physics = paper(
        ["Wei Zhang", "J. Wang", "Petra Pohl"],
        category="hep-ph",
        title="Neutrino masses from a flavour symmetry",
    )
    biology = paper(
        ["Wei Zhang", "J. Wang", "Rosa Rinaldi"],
        category="q-bio.GN",
        title="Gene regulatory networks in yeast",
    )

    import_records([physics, biology])

    assert len(records_of("Wei Zhang")) == 2


def test_an_initial_with_no_shared_evidence_is_not_joined():
    works = [
        paper(
            ["Zhengyan Zhang", "Zhiyuan Liu"],
            category="cs.CL",
            title=f"Language models, part {n}",
        )
        for n in range(2)
    ]
    stranger = paper(
        ["Z. Zhang", "Olga Orlova"],
        category="astro-ph.GA",
        title="Dwarf galaxies in the Local Group",
    )

    import_records([*works, stranger])

    assert len(records_of("Zhengyan Zhang")) == 1
    assert records_of("Z. Zhang").isdisjoint(records_of("Zhengyan Zhang"))


def test_organisations_and_names_that_are_no_person_never_become_person_records():
    work = paper(
        [
            "DeepSeek-AI",
            "ATLAS Collaboration",
            "Plato",
            "Ada Lovelace",
            "et al.",
        ],
        category="cs.AI",
        title="Who counts",
    )

    import_records([work])

    people = AuthorRecord.objects.filter(kind=AuthorRecord.Kind.PERSON)
    assert list(people.values_list("display_name", flat=True)) == ["Ada Lovelace"]
    organisations = AuthorRecord.objects.filter(kind=AuthorRecord.Kind.ORGANISATION)
    assert set(organisations.values_list("display_name", flat=True)) == {
        "DeepSeek-AI",
        "ATLAS Collaboration",
    }
    plato = Authorship.objects.get(printed_name="Plato")
    assert plato.author_id is None and plato.block_key == ""
    assert not Authorship.objects.filter(printed_name__icontains="et al").exists()


def test_a_merge_then_a_reimport_and_a_new_version_create_no_new_record():
    physics = paper(["Z. Zhang", "Ulla Ulm"], category="physics.optics", title="Lasers")
    language = paper(["Zhengyan Zhang", "Zhiyuan Liu"], category="cs.CL", title="Prompts")
    import_records([physics, language])
    (source,) = records_of("Z. Zhang")
    (target,) = records_of("Zhengyan Zhang")
    # An initial joins a full name only on evidence, and the two share nothing.
    assert source != target
    corrections.merge_records(
        source=AuthorRecord.objects.get(pk=source),
        target=AuthorRecord.objects.get(pk=target),
        by=make_admin(),
        reason="The same person; see their homepage.",
    )
    before = set(AuthorRecord.objects.values_list("slug", flat=True))

    import_records([physics, language])
    import_records(
        [
            paper(
                ["Z. Zhang", "Ulla Ulm"],
                category="physics.optics",
                title="Lasers, revised",
                arxiv_id=physics.arxiv_id,
                version=2,
            )
        ]
    )

    assert set(AuthorRecord.objects.values_list("slug", flat=True)) == before
    assert records_of("Z. Zhang") == records_of("Zhengyan Zhang") == {target}
    # The merge holds through a re-clustering too.
    recluster_block(Authorship.objects.get(printed_name="Z. Zhang").block_key)
    assert records_of("Z. Zhang") == {target}


def test_not_mine_then_reimport_and_reclustering_keep_the_work_off():
    works = [
        paper(["Xu Han", "Zhiyuan Liu"], category="cs.CL", title=f"Relations, part {n}")
        for n in range(3)
    ]
    import_records(works)
    (record_id,) = records_of("Xu Han")
    record = AuthorRecord.objects.get(pk=record_id)
    owner = UserFactory(verified=True)
    claim = claims.submit_claim(record=record, user=owner, links=[], statement="Me.")
    claims.approve_claim(claim, by=make_admin(), reason="Checked.")
    disowned = Authorship.objects.get(work__arxiv_id=works[0].arxiv_id, printed_name="Xu Han")

    moved_to = corrections.mark_not_mine(record=record, work=disowned.work, by=owner)

    assert moved_to.pk != record.pk
    import_records(works)
    import_records(
        [
            paper(
                ["Xu Han", "Zhiyuan Liu"],
                category="cs.CL",
                title="Relations, part 0 (v2)",
                arxiv_id=works[0].arxiv_id,
                version=2,
            )
        ]
    )
    recluster_block(disowned.block_key)
    disowned.refresh_from_db()
    assert disowned.author_id != record.pk
    record.refresh_from_db()
    assert record.work_count == 2
    assert IdentityConstraint.objects.filter(
        signature=disowned, record=record, kind=IdentityConstraint.Kind.CANNOT_LINK
    ).exists()


def test_a_claimed_record_keeps_slug_signatures_and_followers_across_a_full_reclustering():
    works = [
        paper(
            ["Maosong Sun", f"Coauthor Number{n}"],
            category="cs.CL",
            title=f"Topic {n}",
            year=2010 + n,
        )
        for n in range(4)
    ]
    import_records(works)
    (record_id,) = records_of("Maosong Sun")
    record = AuthorRecord.objects.get(pk=record_id)
    owner, fan = UserFactory(verified=True), UserFactory(verified=True)
    claim = claims.submit_claim(record=record, user=owner, links=[], statement="Me.")
    claims.approve_claim(claim, by=make_admin(), reason="Checked.")
    follows.follow(user=fan, record=record)
    signatures = set(record.authorships.values_list("pk", flat=True))

    call_command("cluster_authors", "--all", "--no-progress", "--workers", "1")

    record.refresh_from_db()
    assert record.slug == "maosong-sun" and record.merged_into_id is None
    assert set(record.authorships.values_list("pk", flat=True)) == signatures
    assert Follow.objects.filter(user=fan, record=record).exists()


def test_reclustering_keeps_each_record_with_the_cluster_holding_most_of_its_signatures():
    hep, cl = two_wei_wangs()
    import_records([*hep, *cl])
    # Someone (a bug, an old rule) put every Wei Wang on one record.
    keep = Authorship.objects.filter(printed_name="Wei Wang").order_by("pk").first().author_id
    Authorship.objects.filter(printed_name="Wei Wang").update(author_id=keep)
    block = Authorship.objects.filter(printed_name="Wei Wang").first().block_key

    outcome = recluster_block(block)

    held = {
        tuple(sorted(record.authorships.values_list("work__work_topics__topic__code", flat=True)))
        for record in AuthorRecord.objects.filter(authorships__printed_name="Wei Wang").distinct()
    }
    assert held == {("hep-th",) * 3, ("cs.CL",) * 3}
    assert outcome.split == 1 and outcome.signatures == 6
    kept = AuthorRecord.objects.get(pk=keep)
    assert kept.merged_into_id is None and kept.work_count == 3
    assert RecordEvent.objects.filter(record=kept, data__action="recluster-split").exists()


def test_cluster_authors_prints_one_summary_line(capsys):
    hep, cl = two_wei_wangs()
    import_records([*hep, *cl])

    call_command("cluster_authors", "--all", "--no-progress", "--workers", "1")

    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert " blocks, " in out[0] and " signatures: " in out[0]
    assert (
        "created" in out[0] and "split" in out[0] and "merged" in out[0] and "unchanged" in out[0]
    )


def test_lone_linked_signatures_are_left_out_of_reclustering_and_counted_unchanged(capsys):
    hep, cl = two_wei_wangs()
    import_records([*hep, *cl])
    lone, unlinked, corrected = (
        Authorship.objects.filter(printed_name=name).order_by("pk").first()
        for name in ("Alice Adams", "Bob Brown", "Carol Chen")
    )
    for signature in (lone, unlinked, corrected):
        Authorship.objects.filter(block_key=signature.block_key).exclude(pk=signature.pk).delete()
    Authorship.objects.filter(pk=unlinked.pk).update(author=None)
    constraints.must_link([corrected.pk], corrected.author, source="confirmed")
    wei = Authorship.objects.filter(printed_name="Wei Wang").first()
    blocks = set(Authorship.objects.exclude(block_key="").values_list("block_key", flat=True))

    keys, settled = clustering.blocks_to_cluster()

    assert lone.block_key not in keys
    # A signature with no record yet, or with a correction on it, is worth clustering alone.
    assert {wei.block_key, unlinked.block_key, corrected.block_key} <= set(keys)
    assert settled == len(blocks) - len(keys) and settled >= 1
    call_command("cluster_authors", "--all", "--no-progress", "--workers", "1")
    assert capsys.readouterr().out.startswith(f"{len(blocks):,} blocks, ")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel clustering needs PostgreSQL's writers"
)
def test_cluster_authors_in_two_processes_ends_as_in_one(capsys):
    hep, cl = two_wei_wangs()
    import_records([*hep, *cl])
    keep = Authorship.objects.filter(printed_name="Wei Wang").order_by("pk").first().author_id
    Authorship.objects.filter(printed_name="Wei Wang").update(author_id=keep)

    call_command("cluster_authors", "--all", "--no-progress", "--workers", "2")

    assert len(records_of("Wei Wang")) == 2
    assert "1 split" in capsys.readouterr().out


def test_a_record_the_model_barely_holds_together_is_flagged_and_drops_to_l0(
    client, monkeypatch, eager_tasks, django_capture_on_commit_callbacks
):
    from works import clustering
    from works.identity.incremental import Cohesion

    works = [
        paper(["Li Wei", f"Coauthor Number{n}"], category="cs.LG", title=f"Learning {n}")
        for n in range(4)
    ]
    import_records(works)
    (record_id,) = records_of("Li Wei")
    # The model's stricter pass would cut the record in two substantial parts.
    monkeypatch.setattr(
        clustering,
        "cohesion",
        lambda signatures, **_: Cohesion(parts=(2, 2), possibly_several_people=True),
    )

    block = Authorship.objects.filter(author_id=record_id).first().block_key
    # What follows a change of records (edges, then trust, which re-derives the level) runs
    # when the change commits.
    with django_capture_on_commit_callbacks(execute=True):
        recluster_block(block)

    record = AuthorRecord.objects.get(pk=record_id)
    assert record.possibly_several_people
    assert record.verification_level == 0
    html = client.get(record.get_absolute_url()).content.decode()
    assert "This record may hold several people." in html


def test_the_nightly_task_queues_the_blocks_of_the_days_signatures(monkeypatch):
    from works import tasks

    hep, cl = two_wei_wangs()
    import_records(hep)
    old = Authorship.objects.get(printed_name="Alice Adams", work__arxiv_id=hep[0].arxiv_id)
    import_records([paper(["Ulla Ulm"], category="math.CO", title="Graphs")])
    from works.models import Work

    Work.objects.filter(arxiv_id__in=[p.arxiv_id for p in hep]).update(
        changed_at=WHEN - dt.timedelta(days=30)
    )
    queued = []
    monkeypatch.setattr(tasks, "enqueue", lambda task, keys: queued.append((task.name, keys)))

    assert tasks.recluster_recent_blocks() == 1

    assert queued == [("works.cluster_blocks", ["ulm u"])]
    assert old.block_key not in {key for _, keys in queued for key in keys}
