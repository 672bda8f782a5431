"""A synthetic PostgreSQL corpus for benchmarks, built with set-based SQL and reused between runs.

    from bench.dataset import ensure_dataset
    info = ensure_dataset("postgres://postgres@127.0.0.1:5432/bzpeer_bench")
    info.prolific_slug  # "bench-prolific"

Shape (defaults in brackets):

* ``works`` [100,000] works ``bench.0000001``... with ~10-word titles and ~90-word
  abstracts drawn from a fixed vocabulary (so full-text search has real matches), years
  2000-2025, one primary topic among 30 real arXiv categories, one version each.
* A pool of people ``Bench Person N`` (slug ``bench-p-N``), about 0.6 per work
  (60,000 for the default). Every ordinary work has 2-6 of them as authors.
* One prolific researcher, ``Prolific Researcher`` (slug ``bench-prolific``), on
  ``prolific_works`` [2,000] of the works, spread over every year, with co-authors drawn
  from the first ``prolific_coauthors`` [5,000] people of the pool. Five of those works are
  500-author papers dated 2026 (so they are on the first page of the profile), with the
  researcher at position 250 (deep in the list, as on real consortium papers).
* Record counters (works, topics, works_changed_at), collaboration edges and
  close-collaborator counts (``manage.py rebuild_graph``), and a trust snapshot for the
  prolific researcher (``manage.py recompute_trust``), as the real import would leave them.

The database is created when missing and migrated with ``manage.py migrate``. A small table
``bench_dataset`` records the parameters and ``DATASET_VERSION``: a later call with the same
parameters reuses the data (seconds); different parameters drop and rebuild the database.
Only databases whose name starts with ``bzpeer_bench`` are ever dropped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from works.taxonomy import topic_group, topic_name  # noqa: E402  (pure module, no Django)

DATASET_VERSION = 3
PROLIFIC_SLUG = "bench-prolific"
PROLIFIC_NAME = "Prolific Researcher"
MEGA_PAPERS = 5
MEGA_PAPER_AUTHORS = 500
MEGA_PAPER_RESEARCHER_POSITION = 250
PEOPLE_PER_WORK = 0.6
# Paragraphs of words read better than hundreds of quoted strings.
TOPIC_CODES = (  # noqa: SIM905
    "cs.CL cs.LG cs.AI cs.CV cs.IR cs.DB cs.DS cs.CR cs.SE cs.RO "
    "math.CO math.PR math.NT math.AG stat.ML stat.ME "
    "hep-th hep-ph gr-qc quant-ph astro-ph.GA astro-ph.CO cond-mat.str-el "
    "cond-mat.mes-hall physics.optics q-bio.NC q-fin.ST econ.EM eess.SP nlin.CD"
).split()
VOCABULARY = (  # noqa: SIM905
    "learning model models language neural network networks graph graphs training data "
    "quantum field theory gauge symmetry string black hole holes cosmology dark matter energy "
    "galaxy galaxies star stars spectrum spectra optical laser photon phonon electron spin "
    "lattice topological phase transition critical random walk process processes stochastic "
    "estimation inference bayesian regression causal robust sparse efficient scalable fast "
    "algorithm algorithms complexity bound bounds lower upper approximation optimal online "
    "distributed parallel memory system systems protocol security privacy attack defense "
    "prompt tuning transformer attention reasoning reinforcement policy agent agents reward "
    "vision image images video segmentation detection retrieval ranking search recommendation "
    "protein gene cell neuron brain dynamics chaos nonlinear equation equations solution "
    "prime primes number field curve curves surface manifold group groups representation "
    "market markets price volatility risk portfolio signal signals channel wireless coding "
    "we study propose present show that the of a in for with on and new method approach "
    "results experiments benchmark evaluation analysis framework theory empirical evidence"
).split()


@dataclass(frozen=True)
class DatasetInfo:
    database_url: str
    works: int
    people: int
    prolific_slug: str
    prolific_works: int
    prolific_coauthors: int
    reused: bool
    build_seconds: float


def ensure_dataset(
    database_url: str,
    *,
    works: int = 100_000,
    prolific_works: int = 2_000,
    prolific_coauthors: int = 5_000,
    people: int | None = None,
    log=print,
) -> DatasetInfo:
    """Make sure ``database_url`` holds the dataset described in the module docstring.

    ``people`` overrides the pool size (about 0.6 per work by default): the trust bench wants
    300,000 records over 1,000,000 works.
    """
    if prolific_works * 2 > works:
        raise ValueError("prolific_works must be at most half of works")
    people = max(people or int(works * PEOPLE_PER_WORK), prolific_coauthors + 1, MEGA_PAPER_AUTHORS)
    params = {
        "version": DATASET_VERSION,
        "works": works,
        "people": people,
        "prolific_works": prolific_works,
        "prolific_coauthors": prolific_coauthors,
    }
    name = _database_name(database_url)
    started = time.monotonic()
    stored = _stored_params(database_url)
    if stored == params:
        log(f"dataset: reusing {name} ({works:,} works)")
        return DatasetInfo(
            database_url, works, people, PROLIFIC_SLUG, prolific_works, prolific_coauthors,
            reused=True, build_seconds=0.0,
        )  # fmt: skip
    if stored is not None or _database_exists(database_url):
        if not name.startswith("bzpeer_bench"):
            raise ValueError(f"refusing to drop {name!r}: bench databases start with bzpeer_bench")
        log(f"dataset: parameters changed, recreating {name}")
        _drop_database(database_url)
    _create_database(database_url)
    log(f"dataset: migrating {name}")
    _manage(database_url, "migrate", "--noinput", "-v", "0")
    with psycopg.connect(database_url, autocommit=True) as connection:
        _generate(connection, params, log=log)
    log("dataset: collaboration edges (manage.py rebuild_graph)")
    _manage(database_url, "rebuild_graph", "--no-trust", "--no-progress")
    log("dataset: trust snapshot of the prolific researcher")
    _manage(database_url, "recompute_trust", "--author", PROLIFIC_SLUG, "--no-progress")
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        connection.execute(
            "CREATE TABLE bench_dataset (params jsonb NOT NULL, built_at timestamptz NOT NULL)"
        )
        connection.execute(
            "INSERT INTO bench_dataset VALUES (%s::jsonb, now())", [json.dumps(params)]
        )
    elapsed = time.monotonic() - started
    log(f"dataset: built in {elapsed:.0f}s")
    return DatasetInfo(
        database_url, works, people, PROLIFIC_SLUG, prolific_works, prolific_coauthors,
        reused=False, build_seconds=elapsed,
    )  # fmt: skip


# -- database plumbing ----------------------------------------------------------------------


def _database_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def _maintenance_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


def _database_exists(database_url: str) -> bool:
    with psycopg.connect(_maintenance_url(database_url), autocommit=True) as connection:
        row = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [_database_name(database_url)]
        ).fetchone()
    return row is not None


def _stored_params(database_url: str) -> dict | None:
    if not _database_exists(database_url):
        return None
    with psycopg.connect(database_url, autocommit=True) as connection:
        exists = connection.execute("SELECT to_regclass('bench_dataset')").fetchone()[0]
        if exists is None:
            return None
        row = connection.execute("SELECT params FROM bench_dataset LIMIT 1").fetchone()
    return row[0] if row else None


def _create_database(database_url: str) -> None:
    with psycopg.connect(_maintenance_url(database_url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_database_name(database_url)))
        )


def _drop_database(database_url: str) -> None:
    with psycopg.connect(_maintenance_url(database_url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(_database_name(database_url))
            )
        )


def _manage(database_url: str, *args: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": os.environ.get(
            "DJANGO_SECRET_KEY", "bench-only-secret-key-never-used-to-serve-real-people"
        ),
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    # No broker: graph and trust commands run their follow-up tasks eagerly, in-process.
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True)


def _filler(connection, table: str, given: set[str]) -> dict[str, str]:
    """SQL values for NOT NULL columns without a default that the generator does not set.

    Other features add columns over time (an owner's affiliation...); the generator fills
    them with the type's zero value instead of breaking on each new field.
    """
    rows = connection.execute(
        """
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL
          AND is_identity = 'NO'
        """,
        [table],
    ).fetchall()
    zero = {
        "text": "''",
        "character varying": "''",
        "integer": "0",
        "smallint": "0",
        "bigint": "0",
        "boolean": "false",
        "jsonb": "'[]'::jsonb",
        "double precision": "0",
        "timestamp with time zone": "now()",
        "date": "current_date",
        "uuid": "gen_random_uuid()",
    }
    filler = {}
    for column, data_type in rows:
        if column in given or column == "id":
            continue
        if data_type not in zero:
            raise RuntimeError(f"bench dataset: no zero value for {table}.{column} ({data_type})")
        filler[column] = zero[data_type]
    return filler


def _insert_select(connection, table: str, values: dict[str, str], source: str, params=()):
    """INSERT INTO table (columns) SELECT expressions FROM source; returns the row count."""
    values = {**_filler(connection, table, set(values)), **values}
    columns = ", ".join(f'"{c}"' for c in values)
    expressions = ", ".join(values.values())
    cursor = connection.execute(
        # Always with a parameter list, so "%%" means "%" in every statement.
        f"INSERT INTO {table} ({columns}) SELECT {expressions} FROM {source}",
        list(params),
    )
    return cursor.rowcount


# -- the generator ---------------------------------------------------------------------------


def _generate(connection, params: dict, *, log) -> None:
    works, people = params["works"], params["people"]
    prolific_works, coauthors = params["prolific_works"], params["prolific_coauthors"]
    # Every n-th work is the prolific researcher's, so they spread over all years.
    stride = works // prolific_works
    vocabulary = "ARRAY[" + ", ".join(f"'{w}'" for w in VOCABULARY) + "]"
    words = len(VOCABULARY)

    def pick(seed: str) -> str:
        return f"(({vocabulary})[1 + abs(hashint4({seed})) %% {words}])"

    log(f"dataset: {len(TOPIC_CODES)} topics, {people:,} people")
    for code in TOPIC_CODES:
        connection.execute(
            'INSERT INTO works_topic (code, name, "group") VALUES (%s, %s, %s) '
            "ON CONFLICT (code) DO NOTHING",
            [code, topic_name(code), topic_group(code)],
        )
    connection.execute(
        "CREATE TEMP TABLE bench_topic AS "
        "SELECT id, row_number() OVER (ORDER BY code) - 1 AS i FROM works_topic"
    )
    topic_count = connection.execute("SELECT count(*) FROM bench_topic").fetchone()[0]

    record_values = {
        "slug": "'bench-p-' || g",
        "display_name": "'Bench Person ' || g",
        "name_key": "'bench person ' || g",
        "search_key": "g || ' bench person'",
        "variants": "'[]'::jsonb",
        "kind": "'person'",
        "verification_level": "1",
        "claim_state": "'unclaimed'",
        "created_at": "now()",
        "updated_at": "now()",
    }
    _insert_select(
        connection, "works_authorrecord", record_values, "generate_series(1, %s) AS g", [people]
    )
    _insert_select(
        connection,
        "works_authorrecord",
        {
            **record_values,
            "slug": "%s",
            "display_name": "%s",
            "name_key": "'prolific researcher'",
            "search_key": "'prolific researcher'",
        },
        "(SELECT 1) AS one",
        [PROLIFIC_SLUG, PROLIFIC_NAME],
    )
    connection.execute(
        "CREATE TEMP TABLE bench_people AS SELECT id, display_name, "
        "substring(slug from 9)::int AS i FROM works_authorrecord WHERE slug LIKE 'bench-p-%'"
    )
    connection.execute("CREATE UNIQUE INDEX ON bench_people (i)")
    prolific_id = connection.execute(
        "SELECT id FROM works_authorrecord WHERE slug = %s", [PROLIFIC_SLUG]
    ).fetchone()[0]

    log(f"dataset: {works:,} works")
    title = " || ' ' || ".join(pick(f"g * 16 + {i}") for i in range(10))
    _insert_select(
        connection,
        "works_work",
        {
            "arxiv_id": "'bench.' || lpad(g::text, 7, '0')",
            "version": "1",
            "title": f"initcap({title})",
            "abstract": (
                f"(SELECT string_agg({pick('g * 128 + i')}, ' ') FROM generate_series(1, 90) i)"
            ),
            "kind": "'preprint'",
            "withdrawn": "false",
            # The mega papers (the first prolific works) are the newest: first on the profile.
            "year": (
                f"CASE WHEN g %% {stride} = 0 AND g / {stride} <= {MEGA_PAPERS} THEN 2026 "
                "ELSE 2000 + g %% 26 END"
            ),
            "submitted": "make_timestamptz(2000 + g %% 26, 1 + g %% 12, 1 + g %% 28, 12, 0, 0)",
            "updated": "make_timestamptz(2000 + g %% 26, 1 + g %% 12, 1 + g %% 28, 12, 0, 0)",
            "primary_topic_id": f"(SELECT id FROM bench_topic WHERE i = g %% {topic_count})",
            "source": "'bench'",
            "imported_at": "now()",
            "changed_at": "now()",
        },
        "generate_series(1, %s) AS g",
        [works],
    )
    connection.execute(
        "CREATE TEMP TABLE bench_works AS SELECT id, "
        "substring(arxiv_id from 7)::int AS g FROM works_work WHERE arxiv_id LIKE 'bench.%'"
    )
    connection.execute("CREATE UNIQUE INDEX ON bench_works (g)")
    connection.execute(
        "INSERT INTO works_worktopic (work_id, topic_id, is_primary, position) "
        "SELECT id, primary_topic_id, true, 0 FROM works_work WHERE source = 'bench'"
    )
    connection.execute(
        "INSERT INTO works_workversion (work_id, number, submitted, size_kb) "
        "SELECT id, 1, submitted, 100 + id % 900 FROM works_work WHERE source = 'bench'"
    )

    log("dataset: authorships")
    authorship = {"affiliation": "''"}
    # Ordinary works: 2-6 people from the whole pool.
    _insert_select(
        connection,
        "works_authorship",
        {
            **authorship,
            "work_id": "w.id",
            "author_id": "p.id",
            "position": "pos",
            "printed_name": "p.display_name",
        },
        f"""bench_works w
        CROSS JOIN LATERAL generate_series(0, 1 + abs(hashint4(w.g)) %% 5) AS pos
        JOIN bench_people p ON p.i = 1 + abs(hashint4(w.g * 16 + pos)) %% {people}
        WHERE w.g %% {stride} <> 0""",
    )
    # The prolific researcher's ordinary works: 4-8 authors, the researcher at any place.
    # Co-authors fill the other slots from a window sliding by 3 per work: every one of
    # the prolific_coauthors appears (2,000 works x 3 slots > 5,000), each on a few works.
    slot = "CASE WHEN pos < w.g %% k.n THEN pos ELSE pos - 1 END"
    _insert_select(
        connection,
        "works_authorship",
        {
            **authorship,
            "work_id": "w.id",
            "author_id": f"CASE WHEN pos = w.g %% k.n THEN {prolific_id} ELSE p.id END",
            "position": "pos",
            "printed_name": (
                f"CASE WHEN pos = w.g %% k.n THEN '{PROLIFIC_NAME}' ELSE p.display_name END"
            ),
        },
        f"""bench_works w
        CROSS JOIN LATERAL (SELECT 4 + abs(hashint4(w.g)) %% 5 AS n) k
        CROSS JOIN LATERAL generate_series(0, k.n - 1) AS pos
        JOIN bench_people p ON p.i = 1 + ((w.g / {stride}) * 3 + {slot}) %% {coauthors}
        WHERE w.g %% {stride} = 0 AND w.g / {stride} > {MEGA_PAPERS}""",
    )
    # The mega papers: 500 authors each, the researcher at position 250.
    _insert_select(
        connection,
        "works_authorship",
        {
            **authorship,
            "work_id": "w.id",
            "author_id": f"CASE WHEN pos = {MEGA_PAPER_RESEARCHER_POSITION} "
            f"THEN {prolific_id} ELSE p.id END",
            "position": "pos",
            "printed_name": f"CASE WHEN pos = {MEGA_PAPER_RESEARCHER_POSITION} "
            f"THEN '{PROLIFIC_NAME}' ELSE p.display_name END",
        },
        f"""bench_works w
        CROSS JOIN LATERAL generate_series(0, {MEGA_PAPER_AUTHORS - 1}) AS pos
        JOIN bench_people p
          ON p.i = 1 + ((w.g / {stride}) * {MEGA_PAPER_AUTHORS - 1} + pos) %% {coauthors}
        WHERE w.g %% {stride} = 0 AND w.g / {stride} <= {MEGA_PAPERS}""",
    )

    log("dataset: counters")
    connection.execute(
        """
        UPDATE works_work w SET author_count = c.n, person_author_count = c.n
        FROM (SELECT work_id, count(*) AS n FROM works_authorship GROUP BY work_id) c
        WHERE w.id = c.work_id
        """
    )
    connection.execute(
        """
        UPDATE works_authorrecord r
        SET work_count = c.works, topic_count = c.topics, works_changed_at = now()
        FROM (
            SELECT a.author_id, count(DISTINCT a.work_id) AS works,
                   count(DISTINCT w.primary_topic_id) AS topics
            FROM works_authorship a JOIN works_work w ON w.id = a.work_id
            GROUP BY a.author_id
        ) c
        WHERE r.id = c.author_id
        """
    )
    shape = connection.execute(
        """
        SELECT (SELECT count(*) FROM works_authorship),
               (SELECT count(DISTINCT b.author_id) FROM works_authorship a
                  JOIN works_authorship b ON b.work_id = a.work_id AND b.author_id <> a.author_id
                 WHERE a.author_id = %s),
               (SELECT work_count FROM works_authorrecord WHERE id = %s)
        """,
        [prolific_id, prolific_id],
    ).fetchone()
    log(
        f"dataset: {shape[0]:,} authorships; the prolific researcher has {shape[2]:,} works "
        f"and {shape[1]:,} distinct co-authors"
    )
