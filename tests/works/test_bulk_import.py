"""The PostgreSQL bulk loader writes exactly what the generic importer writes."""

import io
import json
import os
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from support import FIXTURES

from works import bulk, clustering, constraints, first_load, prepare, search, signals
from works import rows as works_rows
from works.arxiv import parsers
from works.arxiv.parsers import iter_snapshot
from works.identity import names as identity_names
from works.importer import Importer
from works.models import (
    AuthorRecord,
    Authorship,
    DeferredSchemaObject,
    RecordEvent,
    Topic,
    Work,
    WorkTopic,
    WorkVersion,
)
from works.services import import_stream

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the bulk loader uses COPY and ON CONFLICT: PostgreSQL only (set DATABASE_URL)",
    ),
]

SNAPSHOT = FIXTURES / "kaggle_snapshot_first200.jsonl"


def snapshot_lines() -> list[dict]:
    return [json.loads(line) for line in SNAPSHOT.read_bytes().splitlines()]


def as_file(lines: list[dict]) -> io.BytesIO:
    return io.BytesIO("\n".join(json.dumps(line) for line in lines).encode())


def import_generic(data: io.BytesIO, **kwargs):
    return import_stream(data, importer=Importer(), **kwargs)


def import_bulk(data: io.BytesIO, **options):
    # The normal path unless a test asks for the first load (which an empty database picks).
    options.setdefault("first_load", False)
    return import_stream(data, importer=bulk.BulkImporter(**options))


def database_rows():
    """Every row either path writes, keyed by natural keys (ids differ)."""
    return {
        "works": sorted(
            Work.objects.values_list(
                "arxiv_id",
                "version",
                "title",
                "abstract",
                "comments",
                "journal_ref",
                "doi",
                "report_no",
                "license",
                "primary_topic__code",
                "submitted",
                "updated",
                "year",
                "withdrawn",
                "kind",
                "person_author_count",
                "author_count",
                "source",
                "content_hash",
            )
        ),
        "versions": sorted(
            WorkVersion.objects.values_list("work__arxiv_id", "number", "submitted", "size_kb")
        ),
        "authorships": sorted(
            Authorship.objects.values_list(
                "work__arxiv_id",
                "position",
                "printed_name",
                "block_key",
                "coauthor_name",
                "affiliation",
                "author__name_key",
                "author__slug",
            )
        ),
        "records": sorted(
            (
                r.name_key,
                r.display_name,
                r.kind,
                r.slug,
                r.work_count,
                r.topic_count,
                r.affiliation,
                r.search_key,
                r.verification_level,
                tuple(r.variants),
            )
            for r in AuthorRecord.objects.all()
        ),
        "topics": sorted(Topic.objects.values_list("code", "name", "group")),
        "work_topics": sorted(
            WorkTopic.objects.values_list("work__arxiv_id", "topic__code", "is_primary", "position")
        ),
        "events": sorted(
            (e.record.slug, e.kind, e.summary, json.dumps(e.data))
            for e in RecordEvent.objects.select_related("record")
        ),
    }


def wipe():
    RecordEvent.objects.all().delete()
    Authorship.objects.all().delete()
    Work.objects.all().delete()
    AuthorRecord.objects.all().delete()
    Topic.objects.all().delete()


def both_paths(*steps):
    """Run the same imports through each path from an empty database."""
    results = []
    for run in (import_generic, import_bulk):
        wipe()
        for step in steps:
            step(run)
        results.append(database_rows())
    return results


def test_the_snapshot_fixture_lands_identically_through_both_paths():
    generic, fast = both_paths(lambda run: run(io.BytesIO(SNAPSHOT.read_bytes())))

    assert len(fast["works"]) == 200
    assert len(fast["authorships"]) > 500
    for table in generic:
        assert fast[table] == generic[table], table


def test_worker_processes_and_small_batches_give_the_same_rows():
    # Same batch boundaries on both sides: each batch writes its own events.
    import_stream(io.BytesIO(SNAPSHOT.read_bytes()), importer=Importer(batch_size=60))
    generic = database_rows()
    wipe()

    stats = import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), batch_size=60, workers=2)

    assert (stats.created, stats.updated, stats.unchanged, len(stats.errors)) == (200, 0, 0, 0)
    assert database_rows() == generic


def test_an_unchanged_reimport_writes_nothing():
    first = import_bulk(io.BytesIO(SNAPSHOT.read_bytes()))
    before = database_rows()
    changed_at = sorted(Work.objects.values_list("arxiv_id", "changed_at"))
    events = RecordEvent.objects.count()

    second = import_bulk(io.BytesIO(SNAPSHOT.read_bytes()))

    assert (first.created, first.unchanged) == (200, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 200)
    assert second.touched_author_ids == set()
    assert database_rows() == before
    assert sorted(Work.objects.values_list("arxiv_id", "changed_at")) == changed_at
    assert RecordEvent.objects.count() == events


def _newer(line: dict, **changes) -> dict:
    number = len(line["versions"]) + 1
    versions = [
        *line["versions"],
        {"version": f"v{number}", "created": "Mon, 5 Jan 2026 10:00:00 GMT"},
    ]
    return {**line, "versions": versions, **changes}


def test_new_versions_update_works_the_same_way_through_both_paths():
    lines = snapshot_lines()
    revised = [
        _newer(lines[0], title="A revised title"),
        # A different author list: authorships are replaced, versions kept.
        _newer(lines[1], authors_parsed=[["Streinu", "Ileana", ""], ["Newcomer", "Ada", ""]]),
        # An older copy of a paper changes nothing.
        {**lines[2], "versions": lines[2]["versions"][:1], "title": "An old title"}
        if len(lines[2]["versions"]) > 1
        else lines[2],
        lines[3],
    ]

    generic, fast = both_paths(
        lambda run: run(as_file(lines)),
        lambda run: run(as_file(revised)),
    )

    assert ("0704.0001", 3) in {(w[0], w[1]) for w in fast["works"]}
    assert any(a[2] == "Ada Newcomer" for a in fast["authorships"])
    for table in generic:
        assert fast[table] == generic[table], table


def test_a_batch_of_new_works_only_does_not_look_for_stored_signatures():
    """Nothing is stored yet for a new work: its batch skips the search for stored signatures
    and the statistics that search needs; a batch with an updated work runs both."""
    lines = snapshot_lines()[:4]
    with CaptureQueriesContext(connection) as new_only:
        import_bulk(as_file(lines))
    with CaptureQueriesContext(connection) as with_update:
        import_bulk(as_file([_newer(lines[0], title="A revised title"), *lines[1:]]))

    def searched(captured):
        return any("INSERT INTO bulk_stored" in q["sql"] for q in captured.captured_queries)

    assert (searched(new_only), searched(with_update)) == (False, True)
    assert Work.objects.get(arxiv_id=lines[0]["id"]).title == "A revised title"


def test_an_authorship_moved_by_a_correction_stays_moved_after_a_new_version():
    lines = snapshot_lines()[:3]

    disowned = []

    def correct(run):
        # "Not mine": a cannot-link to the record, and the signature moves elsewhere.
        authorship = Authorship.objects.get(work__arxiv_id="0704.0002", position=1)
        disowned.append(authorship.author.slug)
        constraints.cannot_link([authorship.pk], authorship.author, source="not-mine")
        constraints.relink([authorship.pk])

    generic, fast = both_paths(
        lambda run: run(as_file(lines)),
        correct,
        lambda run: run(as_file([_newer(lines[1], title="Sparsity, revised")])),
    )

    moved = [a for a in fast["authorships"] if a[0] == "0704.0002" and a[1] == 1]
    assert moved[0][2] == "Louis Theran"
    # Each path disowned the same record, and the new version did not bring the work back.
    assert disowned[0] == disowned[1]
    assert moved[0][5] not in {None, disowned[1]}
    for table in generic:
        assert fast[table] == generic[table], table


def _paper(arxiv_id: str, *names: tuple[str, str]) -> dict:
    return {
        "id": arxiv_id,
        "authors": ", ".join(f"{first} {last}" for last, first in names),
        "title": f"Paper {arxiv_id}",
        "abstract": "An abstract.",
        "categories": "cs.CG",
        "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
        "authors_parsed": [[last, first, ""] for last, first in names],
    }


def test_homonym_slugs_match_the_importer():
    # "JL Cai" and "J.L. Cai" are different names (keys) with the same slug; printed on one
    # work they are two people.
    papers = [_paper("0705.0001", ("Cai", "JL"), ("Cai", "J.L."))]

    generic, fast = both_paths(lambda run: run(as_file(papers)))

    assert {(r[0], r[3]) for r in fast["records"]} == {
        ("jl cai", "jl-cai"),
        ("j l cai", "jl-cai-2"),
    }
    assert fast == generic


def test_many_homonyms_in_one_batch_get_the_next_free_suffixes():
    # Three different keys whose names slugify alike (slugify drops the "ø").
    for slug in ("jl-cai", "jl-cai-2", "jl-cai-4"):
        AuthorRecord.objects.create(slug=slug, display_name="Someone", name_key=f"taken {slug}")
    papers = [_paper("0705.0001", ("Cai", "JL"), ("Cai", "J.L."), ("Cai", "JLø"))]

    import_bulk(as_file(papers))

    slugs = dict(
        AuthorRecord.objects.filter(display_name__endswith="Cai").values_list("name_key", "slug")
    )
    assert slugs == {"jl cai": "jl-cai-3", "j l cai": "jl-cai-5", "jlo cai": "jl-cai-6"}


def test_a_suffix_that_is_another_names_slug_is_not_given_twice():
    def existing(run):
        AuthorRecord.objects.create(slug="x-y", display_name="X Y", name_key="taken x y")

    # "X Y" needs a suffix and takes "x-y-2", which is also "X Y 2"'s own slug.
    papers = [_paper("0705.0001", ("Y", "X"), ("Y 2", "X"))]

    generic, fast = both_paths(existing, lambda run: run(as_file(papers)))

    assert {r[3] for r in fast["records"]} == {"x-y", "x-y-2", "x-y-2-2"}
    assert fast == generic


def test_bad_lines_are_reported_with_their_line_number_through_the_workers():
    lines = [json.dumps(line) for line in snapshot_lines()]
    lines[119] = "{not json"
    data = io.BytesIO("\n".join(lines).encode())

    stats = import_stream(data, importer=bulk.BulkImporter(batch_size=50, workers=2))

    assert (stats.created, len(stats.errors)) == (199, 1)
    assert stats.errors[0].where == "line 120"


def test_progress_is_reported_after_every_batch():
    totals = []

    stats = bulk.BulkImporter(batch_size=50, workers=0).run(
        iter_snapshot(io.BytesIO(SNAPSHOT.read_bytes())),
        progress=lambda s: totals.append(s.total),
    )

    assert stats.created == 200
    assert totals[-1] == 200
    assert len(totals) == 4


def _batches_and_loader_caches(monkeypatch, **options) -> tuple[list[int], list[int]]:
    """The size of each batch written, and the loader's parse caches' sizes as the workers
    take over."""
    batches, caches = [], []
    original_batch, original_parallel = bulk.BulkImporter.import_batch, bulk._parallel

    def counting(self, items):
        batches.append(len(items))
        return original_batch(self, items)

    def parallel(*args, **kwargs):
        parse_caches = (*prepare._NAME_CACHES, works_rows.signature)
        caches.extend(cache.cache_info().currsize for cache in parse_caches)
        return original_parallel(*args, **kwargs)

    monkeypatch.setattr(bulk.BulkImporter, "import_batch", counting)
    monkeypatch.setattr(bulk, "_parallel", parallel)
    import_stream(io.BytesIO(SNAPSHOT.read_bytes()), importer=bulk.BulkImporter(**options))
    return batches, caches


def test_a_first_load_writes_smaller_batches_and_its_loader_forgets_what_it_parsed(monkeypatch):
    # The loader's memory is a batch and the chunks in flight, and the caches of the first
    # batch it parsed itself: none of which a first load needs once the workers parse.
    monkeypatch.setattr(bulk, "FIRST_LOAD_BATCH_SIZE", 30)

    batches, caches = _batches_and_loader_caches(monkeypatch, batch_size=50, workers=2)

    assert batches == [30] * 6 + [20]
    assert caches == [0] * 5
    assert Work.objects.count() == 200


def test_a_normal_load_keeps_its_batches_and_the_caches_its_linking_reads(monkeypatch):
    monkeypatch.setattr(bulk, "FIRST_LOAD_BATCH_SIZE", 30)
    Work.objects.create(arxiv_id="0000.00001", title="Not empty", year=2020)

    batches, caches = _batches_and_loader_caches(
        monkeypatch, batch_size=50, workers=2, first_load=False
    )

    assert batches == [50] * 4
    assert len(caches) == 5 and min(caches) > 0


def test_import_stream_takes_the_bulk_path_for_the_snapshot_on_postgresql(monkeypatch):
    batches = []
    original = bulk.BulkImporter.import_batch

    def counting(self, items):
        batches.append(len(items))
        return original(self, items)

    monkeypatch.setattr(bulk.BulkImporter, "import_batch", counting)

    stats = import_stream(io.BytesIO(SNAPSHOT.read_bytes()))

    assert stats.created == 200
    assert batches == [200]
    # Every record that holds a signature (a name that is no person and no organisation, such
    # as a lone surname, holds none).
    assert stats.touched_author_ids == set(
        Authorship.objects.exclude(author=None).values_list("author_id", flat=True)
    )


def test_a_change_found_among_fingerprinted_records_is_still_written():
    lines = snapshot_lines()
    import_bulk(as_file(lines), batch_size=50, workers=2)
    # The first batch is unchanged, so the workers only fingerprint the next ones;
    # the one changed record among them is parsed again by the loader.
    lines[180] = _newer(lines[180], title="Changed after the first batch")

    stats = import_bulk(as_file(lines), batch_size=50, workers=2)

    assert (stats.created, stats.updated, stats.unchanged, len(stats.errors)) == (0, 1, 199, 0)
    work = Work.objects.get(arxiv_id=lines[180]["id"])
    assert (work.title, work.version) == (
        "Changed after the first batch",
        len(lines[180]["versions"]),
    )
    assert stats.touched_author_ids == set(work.authorships.values_list("author_id", flat=True))


def test_a_reimport_fingerprints_its_first_batch_and_still_writes_its_changes(monkeypatch):
    lines = snapshot_lines()
    first = spy_on_preparation(monkeypatch)
    import_bulk(as_file(lines), first_load=True)
    assert first == [True]  # a first load encodes every record at once
    lines[7] = _newer(lines[7], title="Changed in the first batch")
    lines[8] = {**lines[8], "title": "A title with a NUL \x00 is reported"}

    again = spy_on_preparation(monkeypatch)
    stats = import_bulk(as_file(lines))

    assert again == [False]  # one in-process batch, only fingerprinted
    assert (stats.created, stats.updated, stats.unchanged) == (0, 1, 198)
    assert [(e.where, e.reason) for e in stats.errors] == [
        (lines[8]["id"], "contains a NUL character")
    ]
    assert Work.objects.get(arxiv_id=lines[7]["id"]).title == "Changed in the first batch"


def spy_on_preparation(monkeypatch) -> list[bool]:
    """Whether each chunk the loader prepares itself is fully encoded."""
    fully: list[bool] = []

    def prepare_lines(first_line, lines, encode=True):
        fully.append(encode)
        return prepare.prepare_lines(first_line, lines, encode)

    monkeypatch.setattr(bulk, "prepare_lines", prepare_lines)
    return fully


def test_a_new_version_keeps_every_signature_id_even_when_positions_shift():
    lines = snapshot_lines()[:2]
    authors = lines[1]["authors_parsed"]
    # A new first author pushes everyone down; the last one is dropped.
    revised = _newer(lines[1], authors_parsed=[["Newcomer", "Ada", ""], *authors[:-1]])
    for run in (import_generic, import_bulk):
        wipe()
        run(as_file(lines))
        before = dict(
            Authorship.objects.filter(work__arxiv_id="0704.0002").values_list("printed_name", "id")
        )

        run(as_file([revised]))

        after = dict(
            Authorship.objects.filter(work__arxiv_id="0704.0002").values_list("printed_name", "id")
        )
        kept = {name for name in before if name in after}
        assert kept == set(before) - {authors[-1][1] + " " + authors[-1][0]}
        assert {name: after[name] for name in kept} == {name: before[name] for name in kept}
        assert (
            list(
                Authorship.objects.filter(work__arxiv_id="0704.0002")
                .order_by("position")
                .values_list("printed_name", flat=True)
            )[0]
            == "Ada Newcomer"
        )


def test_each_signature_keeps_its_name_as_a_co_author_through_both_paths_and_updates():
    """What linking reads instead of parsing every member's team again
    (Authorship.coauthor_name): what works.identity.names.coauthor_name gives, "" for a
    name that is no person; a row written before it was kept (NULL) gets it with the work's
    next version."""
    lines = snapshot_lines()[:2]
    revised = _newer(lines[1], title="A revised title")  # the same signatures, kept
    for run in (import_generic, import_bulk):
        wipe()
        run(as_file(lines))
        stored = list(Authorship.objects.values_list("printed_name", "coauthor_name"))
        assert len(stored) > 5
        assert stored == [(name, identity_names.coauthor_name(name) or "") for name, _ in stored]
        work = Authorship.objects.filter(work__arxiv_id="0704.0002")
        ids = set(work.values_list("id", flat=True))
        work.update(coauthor_name=None)

        run(as_file([revised]))

        assert set(work.values_list("id", flat=True)) == ids
        again = list(work.values_list("printed_name", "coauthor_name"))
        assert again == [(name, identity_names.coauthor_name(name) or "") for name, _ in again]


# -- the first load (works.first_load) ---------------------------------------------------------


def schema() -> set[tuple[str, str, str]]:
    """Every index, constraint and statistics object of the tables a load fills, and the
    statistics targets of index columns, as the catalogue defines them."""
    tables = [model._meta.db_table for model in first_load.FILLED_MODELS]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE t.relname = ANY(%(tables)s)
            UNION ALL
            SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relname = ANY(%(tables)s)
            UNION ALL
            SELECT t.relname, s.stxname, pg_get_statisticsobjdef(s.oid)
            FROM pg_statistic_ext s JOIN pg_class t ON t.oid = s.stxrelid
            WHERE t.relname = ANY(%(tables)s)
            UNION ALL
            SELECT t.relname, i.relname, 'column ' || a.attnum || ' statistics ' || a.attstattarget
            FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_attribute a ON a.attrelid = i.oid
            WHERE t.relname = ANY(%(tables)s) AND a.attstattarget >= 0
            """,
            {"tables": tables},
        )
        return set(cursor.fetchall())


def test_an_empty_database_is_loaded_bare_and_ends_with_the_migrated_schema(monkeypatch):
    migrated = schema()
    during = []
    original = bulk.BulkImporter.import_batch

    def watching(self, items):
        during.append(schema())
        return original(self, items)

    monkeypatch.setattr(bulk.BulkImporter, "import_batch", watching)

    import_stream(io.BytesIO(SNAPSHOT.read_bytes()))

    dropped = {name for _, name, _ in migrated - during[0]}
    assert {
        "work_search_document_0",
        "work_search_document_3",
        "work_search_document_stats",
        "record_search_key_trgm",
        "authorship_author_work",
    } <= dropped
    assert "works_work_arxiv_id_key" not in dropped  # ON CONFLICT needs it
    # What pg_get_indexdef leaves out is put back too (the planner ignores these anyway).
    assert ("works_work", "work_search_document_0", "column 1 statistics 0") in migrated
    assert "signature_block" not in dropped  # linking reads it every batch
    assert any("_fk_" in name for name in dropped)
    assert schema() == migrated
    assert not DeferredSchemaObject.objects.exists()


_first_load_of_the_snapshot: dict | None = None


def first_load_rows() -> dict:
    """The rows an uninterrupted first load of SNAPSHOT (batches of 60) writes.

    Loaded once per process: keyed by natural keys, they are the same from any empty database,
    and six tests compare with them. The database is left empty, as it was.
    """
    global _first_load_of_the_snapshot
    if _first_load_of_the_snapshot is None:
        wipe()
        import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=True, batch_size=60)
        _first_load_of_the_snapshot = database_rows()
        wipe()
    return _first_load_of_the_snapshot


def test_the_first_load_writes_exactly_what_the_normal_path_writes_in_one_batch():
    # A first load links people's signatures once, at its end, whatever its batches: the same
    # records, slugs, variants and one import event per record as a normal load of the whole
    # file in one batch (in batches of 60 a record on works of two batches has two events).
    bare = first_load_rows()
    import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=False, batch_size=1000)
    normal = database_rows()

    assert len(bare["records"]) > 500
    assert any(r[4] > 1 for r in bare["records"])  # counted work_count
    assert bare == normal


def test_a_forced_first_load_on_a_database_with_works_keeps_its_rows():
    lines = snapshot_lines()
    normal, bare = [], []
    for first, rows in ((False, normal), (True, bare)):
        wipe()
        import_bulk(as_file(lines[:120]))
        import_bulk(as_file([_newer(lines[0], title="Revised"), *lines[100:]]), first_load=first)
        rows.append(database_rows())

    assert bare == normal


class Interrupted(Exception):
    pass


def _interrupt_batch(monkeypatch, number: int) -> None:
    original = bulk.BulkImporter.import_batch
    calls = []

    def failing(self, items):
        calls.append(1)
        if len(calls) == number:
            raise Interrupted
        return original(self, items)

    monkeypatch.setattr(bulk.BulkImporter, "import_batch", failing)


def _interrupt_restore_after_one(monkeypatch) -> None:
    original = DeferredSchemaObject.save

    def failing(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if DeferredSchemaObject.objects.filter(restored_at__isnull=False).count() == 1:
            raise Interrupted

    monkeypatch.setattr(DeferredSchemaObject, "save", failing)


def _interrupt_linking_after_one_task(monkeypatch) -> None:
    """Interrupted while linking at the end of the load, one task of blocks committed."""
    monkeypatch.setattr(first_load, "LINK_TASK_SIGNATURES", 100)
    # Linked in this process: the test's transaction is invisible to others.
    monkeypatch.setattr(bulk.BulkImporter, "_worker_count", lambda self: 0)
    original = first_load.write_links
    calls = []

    def failing(plan, source_label):
        calls.append(1)
        if len(calls) == 2:
            raise Interrupted
        return original(plan, source_label)

    monkeypatch.setattr(first_load, "write_links", failing)


def _interrupt_before_the_recount(monkeypatch) -> None:
    def failing(**kwargs):
        raise Interrupted

    monkeypatch.setattr(first_load, "refresh_all_record_counts", failing)


@pytest.mark.parametrize(
    ("interrupt", "rerun_first_load"),
    [
        pytest.param(lambda mp: _interrupt_batch(mp, 1), None, id="after-the-drop"),
        pytest.param(lambda mp: _interrupt_batch(mp, 2), None, id="after-the-first-batch"),
        # Forced onto the normal path, the re-run first puts the schema back and counts.
        pytest.param(lambda mp: _interrupt_batch(mp, 2), False, id="after-a-batch-rerun-normal"),
        pytest.param(_interrupt_linking_after_one_task, None, id="while-linking"),
        pytest.param(_interrupt_linking_after_one_task, False, id="while-linking-rerun-normal"),
        pytest.param(_interrupt_restore_after_one, None, id="while-restoring"),
        pytest.param(_interrupt_before_the_recount, False, id="before-the-recount"),
    ],
)
def test_an_interrupted_first_load_run_again_ends_as_an_uninterrupted_one(
    monkeypatch, interrupt, rerun_first_load
):
    migrated = schema()
    data = SNAPSHOT.read_bytes()
    uninterrupted = first_load_rows()

    with monkeypatch.context() as patch:
        interrupt(patch)
        with pytest.raises(Interrupted):
            import_bulk(io.BytesIO(data), first_load=None, batch_size=60)
    assert DeferredSchemaObject.objects.exists()

    import_bulk(io.BytesIO(data), first_load=rerun_first_load, batch_size=60)

    assert database_rows() == uninterrupted
    assert schema() == migrated
    assert not DeferredSchemaObject.objects.exists()
    assert not unlinked_people()


def unlinked_people():
    return Authorship.objects.filter(author__isnull=True).exclude(block_key="")


def test_a_first_load_links_people_once_at_its_end_and_a_normal_load_per_batch(monkeypatch):
    seen = []
    original = bulk.BulkImporter.import_batch

    def watching(self, items):
        stats = original(self, items)
        seen.append(unlinked_people().count())
        return stats

    monkeypatch.setattr(bulk.BulkImporter, "import_batch", watching)
    linked = []
    monkeypatch.setattr(first_load, "plan_blocks", lambda block_keys: linked.append(block_keys))

    import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=True, batch_size=60)

    assert len(seen) == 4 and seen == sorted(seen) and seen[0] > 0  # unlinked while copying
    assert len(linked) == 1  # then every block once, in one task of at most 2,000 signatures
    assert set(linked[0]) == set(unlinked_people().values_list("block_key", flat=True))
    wipe()
    seen.clear()
    import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=False, batch_size=60)
    assert seen == [0, 0, 0, 0]


def test_a_load_times_its_steps_so_linking_people_shows_apart_from_copying(monkeypatch):
    linked = []
    monkeypatch.setattr(first_load, "plan_blocks", lambda block_keys: linked.append(block_keys))

    first = import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=True, batch_size=60)
    wipe()
    normal = import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=False, batch_size=60)

    assert list(first.phases) == ["copy", "people linked", "schema and counters", "follow-ups"]
    assert all(seconds > 0 for seconds in first.phases.values())
    assert list(normal.phases) == ["copy"]  # people linked batch by batch, inside the copy


def test_what_the_layers_above_do_after_a_first_load_is_not_timed_as_the_schema():
    # Without a broker, the edges and trust an import queues run when it commits: their time
    # is the follow-ups', not the rebuilt schema's.
    def slow_layer_above(sender, **kwargs):
        time.sleep(0.3)

    signals.authorships_changed.connect(slow_layer_above, dispatch_uid="test-slow-layer")
    try:
        stats = import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=True, batch_size=60)
    finally:
        signals.authorships_changed.disconnect(dispatch_uid="test-slow-layer")

    assert stats.phases["follow-ups"] >= 0.3


def test_the_import_command_tells_an_operator_the_steps_of_a_first_load(capsys):
    call_command("import_arxiv", str(SNAPSHOT), "--first-load")

    steps = [line for line in capsys.readouterr().err.splitlines() if "people linked" in line]
    assert len(steps) == 1
    assert steps[0].startswith(f"{SNAPSHOT}: copy ") and "schema and counters " in steps[0]
    assert "follow-ups " in steps[0]


@pytest.mark.django_db(transaction=True)
def test_linking_at_the_end_in_two_processes_ends_as_in_this_one(monkeypatch):
    uninterrupted = first_load_rows()
    monkeypatch.setattr(first_load, "LINK_TASK_SIGNATURES", 100)
    # Fresh processes after every task each: the plans do not depend on which process made them.
    monkeypatch.setattr(clustering, "TASKS_PER_PROCESS", 1)
    # The bigger blocks are heavy here: linked one at a time, woven among the others; the
    # biggest alone, with no other linking process alive.
    monkeypatch.setattr(first_load, "HEAVY_BLOCK_SIGNATURES", 3)
    monkeypatch.setattr(first_load, "ALONE_BLOCK_SIGNATURES", 4)
    tasks = []
    original = first_load._link_tasks

    def counting(heavy_sizes):
        for task in original(heavy_sizes):
            tasks.append((task, task[0] in heavy_sizes))
            yield task

    monkeypatch.setattr(first_load, "_link_tasks", counting)
    options = []
    real_parallel_map = first_load.parallel_map

    def watched(function, items, workers, **kwargs):
        options.append(kwargs)
        return real_parallel_map(function, items, workers, **kwargs)

    monkeypatch.setattr(first_load, "parallel_map", watched)

    import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=True, batch_size=60, workers=2)

    assert len(tasks) > 4
    assert max(len(keys) for keys, _ in tasks) > 1  # blocks are grouped into tasks
    heavy = [k for k, (_, is_heavy) in enumerate(tasks) if is_heavy]
    assert heavy and heavy != list(range(len(heavy)))  # some heavy, not all of them first
    [linking] = options
    alone = [keys for keys, _ in tasks if linking["alone"](keys)]
    assert alone and len(alone) < len(heavy)
    assert database_rows() == uninterrupted
    assert not unlinked_people()


@pytest.mark.parametrize("threshold, expected", [(10, 1), (10**9, 0)])
def test_a_batch_with_enough_people_to_link_in_processes_starts_the_fork_server_first(
    monkeypatch, threshold, expected
):
    # The fork server sets Django up while the batch is written, not when linking waits.
    started = []
    monkeypatch.setattr(bulk.processes, "warm_up", lambda: started.append(True))
    monkeypatch.setattr(bulk, "PARALLEL_LINKING_SIGNATURES", threshold)

    import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), workers=2)

    assert len(started) == expected


def _all_visible_pages(table: str) -> tuple[int, int]:
    """(pages, pages the visibility map marks all-visible), as the last VACUUM or ANALYZE
    recorded them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpages, relallvisible FROM pg_class WHERE oid = %s::regclass", [table]
        )
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_first_load_ends_with_its_tables_vacuumed():
    # Without it the first reads after a load write every page back (hint bits), index-only
    # scans fetch every row from the heap, and the linked signatures' old versions stay.
    import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=True)

    for model in first_load.FILLED_MODELS:
        pages, visible = _all_visible_pages(model._meta.db_table)
        if pages:
            assert visible == pages, model._meta.db_table
    assert _all_visible_pages(Authorship._meta.db_table)[0] > 0


def test_inside_a_transaction_a_first_load_only_analyzes():
    # VACUUM cannot run in a transaction block (the test's): the load still ends.
    import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=True)

    pages, visible = _all_visible_pages(Authorship._meta.db_table)
    assert (pages > 0, visible) == (True, 0)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_full_text_index_is_built_beside_the_recount(monkeypatch):
    """The partitions of the works' GIN index on connections of their own, one thread per
    core; interrupted meanwhile, the load re-runs to the same end, and the side builds were
    waited for, not left running."""
    migrated = schema()
    uninterrupted = first_load_rows()
    builders = {}
    original_restore = first_load._restore_objects

    def watching(items):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        for item in items:
            builders[item.name] = (pid, threading.get_ident())
        return original_restore(items)

    def interrupted(**kwargs):
        raise Interrupted

    monkeypatch.setattr(first_load, "_restore_objects", watching)
    with monkeypatch.context() as patch:
        patch.setattr(first_load, "refresh_all_record_counts", interrupted)
        with pytest.raises(Interrupted):
            import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=True, batch_size=60)
    # The side builds had committed before the error came up: their notes are stamped.
    partitions = [f"work_search_document_{k}" for k in range(search.DOCUMENT_PARTITIONS)]
    stamped = DeferredSchemaObject.objects.filter(name__in=partitions, restored_at__isnull=False)
    assert stamped.count() == len(partitions)
    import_bulk(io.BytesIO(SNAPSHOT.read_bytes()), first_load=True, batch_size=60)

    assert database_rows() == uninterrupted
    assert schema() == migrated
    assert not DeferredSchemaObject.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own,) = cursor.fetchone()
    assert own not in {builders[name][0] for name in partitions}
    assert {pid for name, (pid, _) in builders.items() if name not in partitions} == {own}
    side_threads = {builders[name][1] for name in partitions}
    assert len(side_threads) == min(search.DOCUMENT_PARTITIONS, os.cpu_count())


# -- the line screen: a re-import skips, unparsed, the lines the database holds as read --------


def count_parsed_lines(monkeypatch) -> list[int]:
    """How many snapshot lines the loader parses (in this process: the files are one batch)."""
    parsed: list[int] = []

    def snapshot_line(line, number):
        if line:  # a skipped line is left blank in its chunk
            parsed.append(number)
        return parsers.snapshot_line(line, number)

    monkeypatch.setattr(prepare, "snapshot_line", snapshot_line)
    return parsed


def test_an_unchanged_reimport_parses_no_line_and_still_reports_a_bad_one(monkeypatch):
    lines = [json.dumps(line) for line in snapshot_lines()]
    lines[50] = "{not json"
    data = "\n".join(lines).encode()
    first = import_bulk(io.BytesIO(data))
    before = database_rows()

    parsed = count_parsed_lines(monkeypatch)
    again = import_bulk(io.BytesIO(data))

    assert (first.created, len(first.errors)) == (199, 1)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 199)
    assert [(e.where, e.reason[:8]) for e in again.errors] == [("line 51", "not JSON")]
    assert parsed == [51]  # only the line no work holds
    assert database_rows() == before


def test_a_changed_line_is_parsed_and_written_and_the_rest_skipped(monkeypatch):
    lines = snapshot_lines()
    import_bulk(as_file(lines))
    lines[120] = _newer(lines[120], title="Revised while the rest stayed")

    parsed = count_parsed_lines(monkeypatch)
    stats = import_bulk(as_file(lines))

    assert (stats.created, stats.updated, stats.unchanged) == (0, 1, 199)
    assert 121 in parsed and len(parsed) <= 2  # the changed line (and its re-parse to encode)
    assert Work.objects.get(arxiv_id=lines[120]["id"]).title == "Revised while the rest stayed"


def test_a_work_another_path_rewrote_is_compared_again_not_skipped(monkeypatch):
    lines = snapshot_lines()[:5]
    import_bulk(as_file(lines))
    # Another writer (an API harvest of the same version, an edit) changes the content:
    # its content hash changes, and the stored line no longer matches.
    Work.objects.filter(arxiv_id=lines[2]["id"]).update(
        title="Edited elsewhere", content_hash="0" * 32
    )

    parsed = count_parsed_lines(monkeypatch)
    stats = import_bulk(as_file(lines))

    # Compared by content, then parsed again (as line 1 of its own) to be written back.
    assert parsed == [3, 1]
    assert (stats.updated, stats.unchanged) == (1, 4)
    assert Work.objects.get(arxiv_id=lines[2]["id"]).title == " ".join(lines[2]["title"].split())


def test_works_without_their_line_take_it_on_the_next_reimport(monkeypatch):
    lines = snapshot_lines()
    # The id not first: the line is parsed every time, as before the screen.
    lines[9] = {key: lines[9][key] for key in reversed(list(lines[9]))}
    import_bulk(as_file(lines))
    changed_at = sorted(Work.objects.values_list("arxiv_id", "changed_at"))
    Work.objects.filter(arxiv_id__in=[line["id"] for line in lines[:100]]).update(
        snapshot_digest=""  # as loaded before the screen existed
    )

    parsed = count_parsed_lines(monkeypatch)
    upgrade = import_bulk(as_file(lines))
    after_upgrade = len(parsed)
    again = import_bulk(as_file(lines))

    assert (upgrade.unchanged, again.unchanged) == (200, 200)
    assert after_upgrade == 100  # the works without their line (the reordered one among them)
    assert parsed[after_upgrade:] == [10]
    assert not Work.objects.filter(snapshot_digest="").exists()
    assert sorted(Work.objects.values_list("arxiv_id", "changed_at")) == changed_at


def test_each_work_holds_the_digest_of_the_line_it_was_loaded_from():
    raw = SNAPSHOT.read_bytes().splitlines()
    import_bulk(io.BytesIO(b"\n".join(raw)), first_load=True)

    stored = dict(Work.objects.values_list("arxiv_id", "snapshot_digest"))
    hashes = dict(Work.objects.values_list("arxiv_id", "content_hash"))
    for line in raw:
        arxiv_id, digest = prepare.screen_key(line)
        assert stored[arxiv_id] == prepare.snapshot_digest(digest, hashes[arxiv_id])
    # Written from parsed records (the API, OAI-PMH), a work holds no line.
    wipe()
    bulk.BulkImporter(first_load=False).run(list(iter_snapshot(io.BytesIO(raw[3]))))
    assert Work.objects.get(arxiv_id=prepare.screen_key(raw[3])[0]).snapshot_digest == ""


def test_an_interrupted_reimport_run_again_ends_as_an_uninterrupted_one(monkeypatch):
    lines = snapshot_lines()
    revised = [
        _newer(line, title=f"Revised {n}") if n in (10, 100, 150) else line
        for n, line in enumerate(lines)
    ]

    def stored():
        digests = sorted(Work.objects.values_list("arxiv_id", "snapshot_digest"))
        return database_rows(), digests

    import_bulk(as_file(lines), batch_size=60)
    import_bulk(as_file(revised), batch_size=60)
    uninterrupted = stored()
    wipe()
    import_bulk(as_file(lines), batch_size=60)
    with monkeypatch.context() as patch:
        _interrupt_batch(patch, 1)  # the changed lines, which the screen leaves, in one batch
        with pytest.raises(Interrupted):
            import_bulk(as_file(revised), batch_size=60)

    again = import_bulk(as_file(revised), batch_size=60)

    assert (again.updated, again.unchanged) == (3, 197)
    assert stored() == uninterrupted
