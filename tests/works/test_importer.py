"""The importer against the real fixtures and the demo file: upserts, versions, authors."""

import io

import pytest
from django.core.management import CommandError, call_command
from support import DEMO_FILE, FIXTURES, fixture_bytes

from works.arxiv import names
from works.arxiv.parsers import parse_oai
from works.models import AuthorRecord, Authorship, Topic, Work, WorkTopic, WorkVersion
from works.services import import_records, import_stream

pytestmark = pytest.mark.django_db


def import_fixture(name: str):
    return import_stream(io.BytesIO(fixture_bytes(name)))


def snapshot_of_database():
    """Every row the importer writes, as comparable tuples."""
    return {
        "works": sorted(
            Work.objects.values_list(
                "arxiv_id",
                "version",
                "title",
                "abstract",
                "doi",
                "kind",
                "year",
                "content_hash",
                "changed_at",
            )
        ),
        "versions": sorted(
            WorkVersion.objects.values_list("work__arxiv_id", "number", "submitted")
        ),
        "authorships": sorted(
            Authorship.objects.values_list(
                "work__arxiv_id", "position", "printed_name", "author__slug"
            )
        ),
        "records": sorted(AuthorRecord.objects.values_list("slug", "display_name", "work_count")),
        "topics": sorted(
            WorkTopic.objects.values_list("work__arxiv_id", "topic__code", "is_primary")
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "api_legacy_query_multi_au_del_maestro.atom.xml",
        "api_query_multi_testing_start0_max100.atom.xml",
        "oai_listrecords_arxivraw_page1_resumptiontoken.xml",
        "oai_listrecords_arxiv_set_physics-hep-th.xml",
        "oai_getrecord_arxiv_collaboration_1603.05976.xml",
        "kaggle_snapshot_first200.jsonl",
    ],
)
def test_reimporting_a_file_changes_nothing(name):
    first = import_fixture(name)
    assert first.created > 0
    before = snapshot_of_database()

    second = import_fixture(name)

    assert (second.created, second.updated, len(second.errors)) == (0, 0, len(first.errors))
    assert second.unchanged == first.created
    assert snapshot_of_database() == before


def test_snapshot_fixture_lands_every_record_with_versions():
    stats = import_fixture("kaggle_snapshot_first200.jsonl")

    assert (stats.created, len(stats.errors)) == (200, 0)
    work = Work.objects.get(arxiv_id="0704.0064")
    assert list(work.versions.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert work.version == 5
    withdrawn = Work.objects.get(arxiv_id="0704.0156")
    assert (withdrawn.withdrawn, withdrawn.kind) == (True, "withdrawn")
    assert Work.objects.filter(withdrawn=True).count() == 1


def test_article_when_a_journal_reference_or_doi_exists():
    import_fixture("api_legacy_idlist_single_1111.2011v2.atom.xml")

    work = Work.objects.get(arxiv_id="1111.2011")
    assert work.kind == "article"
    assert work.version == 2
    assert work.venue == work.journal_ref != ""
    assert work.primary_topic.code == "cond-mat.str-el"
    assert list(work.versions.values_list("number", flat=True)) == [1, 2]


def test_two_dois_in_one_field_are_both_kept():
    import_fixture("oai_listrecords_arxivraw_page1_resumptiontoken.xml")

    assert len(Work.objects.get(arxiv_id="0704.0471").doi_list) == 2


def test_old_style_ids_keep_their_slash():
    import_fixture("api_query_multi_testing_start0_max100.atom.xml")

    assert set(Work.objects.filter(arxiv_id__contains="/").values_list("arxiv_id", flat=True)) == {
        "cs/0503050",
        "hep-ph/0301050",
        "gr-qc/0103067",
    }


def test_the_same_person_printed_the_same_way_is_one_record():
    import_fixture("api_legacy_query_multi_au_del_maestro.atom.xml")

    # A rare full name printed identically, in one field (cond-mat): one person, though
    # only two of the six works share a co-author.
    full = Authorship.objects.filter(printed_name="Adrian Del Maestro")
    assert full.count() == 6
    assert len({s.author_id for s in full}) == 1
    assert AuthorRecord.objects.get(name_key="adrian del maestro").work_count == 6
    # An initial joins the full name only on evidence of its own, which these works lack:
    # "A. Del Maestro" stays apart, the two works sharing C. M. Herdman together.
    initials = Authorship.objects.filter(printed_name="A. Del Maestro")
    assert {s.author_id for s in initials}.isdisjoint({s.author_id for s in full})
    by_record = sorted(
        (
            sorted(initials.filter(author_id=a).values_list("work__arxiv_id", flat=True))
            for a in {s.author_id for s in initials}
        ),
        key=len,
    )
    assert [len(works) for works in by_record] == [1, 1, 2]
    assert (
        Authorship.objects.filter(work__arxiv_id__in=by_record[2], printed_name="C. M. Herdman")
        .values("work")
        .count()
        == 2
    )


def test_affiliations_are_kept_and_the_latest_shown_on_the_record():
    import_fixture("api_query_multi_testing_start0_max100.atom.xml")

    authorship = Authorship.objects.get(printed_name__contains="Gaudel")
    assert authorship.affiliation == "LRI"
    assert authorship.author.affiliation == "LRI"


def test_topics_get_human_names_and_the_primary_counts_first():
    import_fixture("oai_listrecords_arxiv_set_physics-hep-th.xml")

    assert Topic.objects.get(code="quant-ph").name == "Quantum Physics"
    assert Topic.objects.get(code="hep-th").name == "High Energy Physics - Theory"
    primary = WorkTopic.objects.filter(is_primary=True)
    assert primary.count() == Work.objects.count() == 3


def test_collaboration_authors_are_organisations_and_junk_is_skipped():
    import_fixture("oai_getrecord_arxiv_collaboration_1603.05976.xml")

    work = Work.objects.get(arxiv_id="1603.05976")
    organisations = set(
        AuthorRecord.objects.filter(kind="organisation").values_list("display_name", flat=True)
    )
    assert organisations == {"Keck Array", "BICEP2 Collaborations"}
    # The ":" that arXiv's own author parser produced is not a name.
    assert not AuthorRecord.objects.filter(display_name=":").exists()
    assert work.author_count == 65
    assert work.person_author_count == 63


# -- the demo file -------------------------------------------------------------


def test_demo_record_has_nine_works_and_four_topics(demo):
    assert (demo.display_name, demo.kind, demo.work_count, demo.topic_count) == (
        "Zhengyan Zhang",
        "person",
        9,
        4,
    )
    assert demo.affiliation == ""


def test_deepseek_r1_keeps_both_authorships_of_a_name_printed_twice(demo):
    work = Work.objects.get(arxiv_id="2501.12948")

    assert work.author_count == 200
    assert work.person_author_count == 199
    ye = Authorship.objects.filter(work=work, printed_name="Shengfeng Ye")
    assert list(ye.values_list("position", flat=True)) == [94, 102]
    # Two signatures on one work are never one person.
    assert len({a.author_id for a in ye}) == 2
    assert AuthorRecord.objects.get(display_name="DeepSeek-AI").kind == "organisation"


def test_withdrawn_demo_work_keeps_its_history(demo):
    work = Work.objects.get(arxiv_id="2203.14101")

    assert (work.withdrawn, work.kind, work.version, work.year) == (True, "withdrawn", 4, 2022)
    assert list(work.versions.values_list("number", "size_kb")) == [
        (1, 10831),
        (2, 11137),
        (3, 11138),
        (4, 1),
    ]


# -- versions ------------------------------------------------------------------


def _demo_page():
    return parse_oai(DEMO_FILE.read_bytes())


def test_a_newer_version_updates_the_work_and_records_the_version(demo):
    record = next(r for r in _demo_page().records if r.arxiv_id == "2206.09355")
    newer = _bump(record, title="A Unified Understanding of Deep NLP Models (revised)")

    stats = import_records([newer])

    assert (stats.created, stats.updated, stats.unchanged) == (0, 1, 0)
    work = Work.objects.get(arxiv_id="2206.09355")
    assert work.title == "A Unified Understanding of Deep NLP Models (revised)"
    assert work.version == 2
    assert list(work.versions.values_list("number", flat=True)) == [1, 2]
    assert Authorship.objects.filter(work=work).count() == 9


def test_a_newer_version_keeps_the_ids_and_records_of_the_signatures_it_still_lists(demo):
    record = next(r for r in _demo_page().records if r.arxiv_id == "2206.09355")
    before = dict(
        Authorship.objects.filter(work__arxiv_id="2206.09355").values_list("printed_name", "id")
    )
    dropped = record.authors[-1]
    newer = _bump(record, authors=[names.author_from_printed("Ada Newcomer"), *record.authors[:-1]])

    import_records([newer])

    rows = list(
        Authorship.objects.filter(work__arxiv_id="2206.09355")
        .order_by("position")
        .values_list("printed_name", "id", "position")
    )
    assert rows[0][0] == "Ada Newcomer"
    assert [position for _, _, position in rows] == list(range(len(rows)))
    after = {name: pk for name, pk, _ in rows}
    assert dropped.printed not in after
    assert {n: after[n] for n in before if n != dropped.printed} == {
        n: pk for n, pk in before.items() if n != dropped.printed
    }


def test_an_older_version_changes_nothing(demo):
    record = next(r for r in _demo_page().records if r.arxiv_id == "2110.01786")
    older = _older(record, title="MoEfication: Conditional Computation of Transformer Models")
    before = snapshot_of_database()

    stats = import_records([older])

    assert (stats.created, stats.updated, stats.unchanged) == (0, 0, 1)
    assert snapshot_of_database() == before


def _bump(record, **changes):
    import dataclasses
    import datetime as dt

    from works.arxiv.records import ParsedVersion

    later = record.updated + dt.timedelta(days=30)
    versions = [*record.versions, ParsedVersion(number=record.version + 1, submitted=later)]
    return dataclasses.replace(
        record, version=record.version + 1, updated=later, versions=versions, **changes
    )


def _older(record, **changes):
    import dataclasses

    versions = record.versions[:-1]
    return dataclasses.replace(
        record,
        version=versions[-1].number,
        updated=versions[-1].submitted,
        versions=versions,
        **changes,
    )


# -- the command -----------------------------------------------------------------


def test_command_prints_one_summary_line(capsys):
    call_command("import_arxiv", str(FIXTURES / "oai_listrecords_arxiv_set_physics-hep-ex.xml"))

    assert (
        capsys.readouterr().out.strip() == "3 records: 3 created, 0 updated, 0 unchanged, 0 errors"
    )


def test_command_reports_a_bad_json_line_and_lands_the_rest(tmp_path, capsys):
    lines = fixture_bytes("kaggle_snapshot_first200.jsonl").splitlines(keepends=True)
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"".join(lines[:5]) + b"{not json at all\n" + b"".join(lines[5:10]))

    call_command("import_arxiv", str(broken))

    captured = capsys.readouterr()
    assert captured.out.strip() == "11 records: 10 created, 0 updated, 0 unchanged, 1 errors"
    assert "line 6" in captured.err
    assert Work.objects.count() == 10


def test_command_refuses_truncated_xml_and_writes_nothing(tmp_path):
    data = fixture_bytes("oai_listrecords_arxiv_set_physics-hep-th.xml")
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(data[: len(data) // 2])

    with pytest.raises(CommandError, match="truncated.xml: malformed XML"):
        call_command("import_arxiv", str(truncated))

    assert Work.objects.count() == 0
    assert AuthorRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"<html><body>Not arXiv</body></html>", "input: "),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "input: "),
    ],
)
def test_command_refuses_unreadable_files_with_one_line(tmp_path, content, message):
    path = tmp_path / "input"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message) as error:
        call_command("import_arxiv", str(path))

    assert "\n" not in str(error.value)
    assert Work.objects.count() == 0


def test_command_refuses_a_missing_file():
    with pytest.raises(CommandError, match="cannot read /nonexistent/file.xml"):
        call_command("import_arxiv", "/nonexistent/file.xml")


def test_command_reads_standard_input(monkeypatch, capsys):
    data = fixture_bytes("api_idlist_single_1605.08386.atom.xml")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))

    call_command("import_arxiv", "-")

    assert (
        capsys.readouterr().out.strip() == "1 records: 1 created, 0 updated, 0 unchanged, 0 errors"
    )
    assert Work.objects.get().arxiv_id == "1605.08386"


def test_a_record_without_an_id_is_reported_and_the_rest_lands(tmp_path, capsys):
    lines = fixture_bytes("kaggle_snapshot_first200.jsonl").splitlines(keepends=True)
    path = tmp_path / "no-id.jsonl"
    path.write_bytes(lines[0] + b'{"title": "No id here", "authors": "A. Person"}\n' + lines[1])

    call_command("import_arxiv", str(path))

    assert capsys.readouterr().out.strip().endswith("2 created, 0 updated, 0 unchanged, 1 errors")


def test_a_ten_megabyte_title_is_reported_not_stored(tmp_path, capsys):
    import json

    lines = fixture_bytes("kaggle_snapshot_first200.jsonl").splitlines(keepends=True)
    record = json.loads(lines[0])
    record["id"] = "0704.9999"
    record["title"] = "x" * 10_000_000
    path = tmp_path / "huge.jsonl"
    path.write_bytes(json.dumps(record).encode() + b"\n" + lines[1])

    call_command("import_arxiv", str(path))

    captured = capsys.readouterr()
    assert captured.out.strip() == "2 records: 1 created, 0 updated, 0 unchanged, 1 errors"
    assert "title too long" in captured.err
    assert not Work.objects.filter(arxiv_id="0704.9999").exists()


def test_load_demo_is_idempotent(capsys):
    call_command("load_demo")
    call_command("load_demo")

    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "Demo data: 9 records: 0 created, 0 updated, 9 unchanged, 0 errors"
    assert Work.objects.count() == 9


def test_three_names_wanting_one_slug_in_one_batch_get_distinct_slugs():
    import dataclasses

    from works.arxiv.names import name_key
    from works.arxiv.records import ParsedAuthor

    record = next(r for r in _demo_page().records if r.arxiv_id == "2206.09355")
    # Three different people whose names all slugify to "ukasz-nowak" (slugify drops
    # letters that have no ASCII decomposition, such as Ł and Ø).
    names = ["Ukasz Nowak", "Łukasz Nowak", "Øukasz Nowak"]
    keys = {name_key(n) for n in names}
    assert len(keys) == 3

    import_records([dataclasses.replace(record, authors=[ParsedAuthor(printed=n) for n in names])])

    slugs = set(AuthorRecord.objects.filter(name_key__in=keys).values_list("slug", flat=True))
    assert slugs == {"ukasz-nowak", "ukasz-nowak-2", "ukasz-nowak-3"}


def test_an_author_dropped_by_a_newer_version_is_touched_and_recounted(demo):
    import dataclasses

    record = next(r for r in _demo_page().records if r.arxiv_id == "2206.09355")
    dropped = AuthorRecord.objects.get(display_name="Shixia Liu")
    assert dropped.work_count == 1
    newer = _bump(record)
    newer = dataclasses.replace(newer, authors=newer.authors[:-1])  # Shixia Liu is last

    stats = import_records([newer])

    dropped.refresh_from_db()
    assert dropped.work_count == 0
    assert dropped.pk in stats.touched_author_ids
