"""Benchmark the snapshot import against the machine's ceiling, then the nightly work after it.

    python bench/import_snapshot.py [--records N] [--reuse-data] [--keep-database]

Generates N synthetic lines of the arXiv metadata snapshot (the Kaggle JSON
lines) under bench/data/, creates a fresh database ``bzpeer_bench_import`` on
the server DATABASE_URL names (or a fresh SQLite file when DATABASE_URL is
unset), migrates it, then imports the file twice through
``python manage.py import_arxiv``: the first load into the empty database, then
the same file again, which must change nothing. Each load runs in its own child
process so the peak memory printed (ru_maxrss) is that load's alone; beside it, the whole
load's: the peak of the proportional set size summed over the child and every process under
it (fork server, parsing workers, linking processes), sampled twice a second.

On PostgreSQL it measures in the same run the machine's ceiling: the same file parsed into
the same rows by the same workers and COPied into bare UNLOGGED tables (no index, no key, no
SQL beyond COPY); each load's rate is printed as a share of it. After the loads, the nightly
work that makes a loaded database whole is timed on its own lines, through the commands that
run it: ``cluster_authors --all`` (every block clustered again), ``rebuild_graph --no-trust``
(every collaboration edge) and ``recompute_trust --all`` (the first trust sweep). Last, a
day's increment (bench/data/increment-N.jsonl: 2,000 new papers by the same people and 1,000
new versions of loaded ones) goes through the normal path with what follows an import in the
app: identity linking, counters, then the edges and trust of the touched records (run in the
child: it has no broker).

The synthetic records are shaped like arXiv's: abstracts of about 1 KB, titles
of about 80 characters, one to three real category codes, one to five versions
with RFC 822 dates, a median of four authors with a long tail (0.1 % of papers
with 200-1,000 authors, ending in a collaboration), names drawn with a Zipf skew
from a pool so that the same people recur across papers, some of them printed
with initials only, some with LaTeX-free accents. ``--authorship teams`` writes records of
the same shape with people who have circles and fields (see Teams), to
bench/data/snapshot-N-teams.jsonl.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime as dt
import itertools
import json
import math
import os
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
# Several people may bench on one server: BENCH_IMPORT_DATABASE names another database.
BENCH_DATABASE = os.environ.get("BENCH_IMPORT_DATABASE", "bzpeer_bench_import")
# What bench/run_all.py (make bench) passes: a quick run, not the recorded one.
QUICK_ARGS = ["--records", "20000"]
SEED = 20260401

# -- synthetic snapshot ------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SURNAMES = _words(
    "Zhang Wang Li Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo "
    "Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Nguyen Tran Le Pham Hoang "
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
    "Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King "
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch "
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno "
    "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Díaz "
    "Dubois Durand Lefebvre Moreau Laurent Simon Michel Leroy Roux David Bertrand "
    "Ivanov Smirnov Kuznetsov Popov Sokolov Lebedev Kozlov Novikov Morozov Petrov "
    "Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato "
    "Singh Kumar Sharma Gupta Patel Reddy Rao Iyer Das Mukherjee Chatterjee Banerjee "
    "Nowak Kowalski Wiśniewski Wójcik Jensen Nielsen Hansen Johansson Andersson Øbro"
)
_SYLLABLES = _words(
    "an ba ber chen da del dor en fa gan har ian jo ka kel la lin mar mi na nor "
    "o pa per qi ra ren sa sen shi ta ter to ul va ver wa xi ya yo za zen"
)
_GIVEN = _words(
    "Wei Jing Yan Hui Xin Lei Jun Yu Tao Ming Hao Bo Min Fang Ying Zhengyan Jiaxin "
    "James John Robert Michael William David Richard Joseph Thomas Charles Daniel Mark "
    "Mary Patricia Jennifer Linda Elizabeth Susan Jessica Sarah Karen Nancy Lisa Anna "
    "Hans Peter Klaus Jürgen Stefan Andreas Wolfgang Maria Ursula Monika Petra "
    "Marco Luca Giuseppe Giovanni Francesca Chiara Sofia Alessandro Matteo "
    "José Antonio Manuel Francisco Javier Carmen Lucía Pablo Sergio Raúl "
    "Jean Pierre Michel Philippe Nicolas Camille Hélène Sophie Émilie François "
    "Ivan Sergey Dmitry Alexey Andrei Olga Natalia Elena Yuri Mikhail "
    "Hiroshi Takashi Kenji Yuki Akira Haruka Satoshi Rahul Amit Priya Anil Sunil "
    "Ji-Rong Seung-Hoon Min-Jun Soo-Jin Thanh Minh Lars Søren Björn Ingrid Zoë"
)
_ORGANISATIONS = (
    "ATLAS Collaboration",
    "CMS Collaboration",
    "LHCb Collaboration",
    "ALICE Collaboration",
    "LIGO Scientific Collaboration",
    "Virgo Collaboration",
    "IceCube Collaboration",
    "Fermi-LAT Collaboration",
    "Planck Collaboration",
    "Belle II Collaboration",
    "DES Collaboration",
    "Event Horizon Telescope Collaboration",
)
_WORDS = _words(
    "we study the of and a in for quantum model field theory learning neural network data "
    "approach method results show that this paper propose novel framework analysis system "
    "energy spin dynamics graph random matrix optimal transport language large models "
    "inference bayesian estimation boundary conditions symmetry gauge black hole dark "
    "matter galaxy cluster observations simulations algorithm complexity bound prove "
    "theorem lemma convergence stochastic process equation nonlinear solution phase "
    "transition superconducting lattice topological states entanglement measurement "
    "experimental evidence performance benchmark training robust efficient scalable "
    "distributed protocol security privacy channel coding signal detection estimation"
)
_CATEGORIES: list[str] = []
_LICENSES = (
    None,
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://creativecommons.org/licenses/by/4.0/",
    "http://creativecommons.org/licenses/by-nc-sa/4.0/",
)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_OLD_ARCHIVES = ("hep-th", "hep-ph", "astro-ph", "cond-mat", "gr-qc", "math", "quant-ph")


def _category_codes() -> list[str]:
    if not _CATEGORIES:
        sys.path.insert(0, str(ROOT))
        from works.taxonomy import CATEGORIES

        # Dotted codes are the ones current papers carry; keep a few archives too.
        _CATEGORIES.extend(sorted(c for c in CATEGORIES if "." in c or "-" in c))
    return _CATEGORIES


def _rfc822(moment: dt.datetime) -> str:
    return (
        f"{_WEEKDAYS[moment.weekday()]}, {moment.day} {_MONTHS[moment.month - 1]} "
        f"{moment.year} {moment:%H:%M:%S} GMT"
    )


class NamePool:
    """People to draw authors from, with Zipf-skewed popularity.

    A person is (keyname, forenames): the same person drawn twice is printed
    the same way, so the importer resolves both papers to one record.
    """

    def __init__(self, size: int, rng: random.Random, exponent: float = 1.0, offset: int = 300):
        self.people: list[tuple[str, str]] = []
        for _ in range(size):
            if rng.random() < 0.6:
                surname = rng.choice(_SURNAMES)
            else:
                surname = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
                surname = surname.capitalize()
            given = rng.choice(_GIVEN)
            roll = rng.random()
            if roll < 0.15:  # initials only: "J. L."
                forenames = f"{given[0]}." + (f" {rng.choice(_GIVEN)[0]}." if roll < 0.05 else "")
            elif roll < 0.30:  # a middle initial
                forenames = f"{given} {rng.choice(_GIVEN)[0]}."
            else:
                forenames = given
            self.people.append((surname, forenames))
        # Zipf-Mandelbrot: a plain Zipf head is far too heavy (its first name
        # would sign 15 % of all papers). With this offset the most frequent
        # name signs about 0.25 % of the papers (a few thousand of a million,
        # like arXiv's most common initials-and-surname keys) and a name signs
        # five papers on average.
        weights = [1.0 / ((rank + offset) ** exponent) for rank in range(1, size + 1)]
        self._cumulative = list(itertools.accumulate(weights))
        self._total = self._cumulative[-1]
        self._rng = rng
        # When a list, each draw's person (an index of ``people``) is appended to it: who
        # wrote what, the truth that bench/identity_blocks.py scores clustering against.
        self.drawn: list[int] | None = None

    def draw(self) -> tuple[str, str]:
        index = self.draw_index(self._rng)
        if self.drawn is not None:
            self.drawn.append(index)
        return self.people[index]

    def draw_index(self, rng: random.Random) -> int:
        """A person, more often the more popular (prolific) one, drawn with ``rng``."""
        index = bisect.bisect_left(self._cumulative, rng.random() * self._total)
        return min(index, len(self.people) - 1)


class Teams:
    """Who writes with whom, closer to arXiv (``--authorship teams``). People belong to
    communities of about 150 (a subfield's active people), each with a field (three
    neighbouring category codes) and words of its own. Each person has a fixed circle of
    three to fifteen co-authors from their community, drawn by popularity. A paper is led by a
    person drawn by popularity and written with members of the lead's circle (85 % of the
    other positions while the circle lasts), the rest drawn by popularity, from the lead's
    community seven times in ten; it is in the lead's field and half in its words. A paper of
    200-1,000 authors is one of the collaborations' papers: 95 % of that collaboration's fixed
    roster, then its name. So namesakes differ by their circles and fields, as people do.

    The default corpus draws every author of every paper alone: namesakes there have nothing
    that tells them apart (no clustering can beat one record per printed name on it) and
    people have no circle to be recognised by.
    """

    CIRCLE_SHARE = 0.85
    OWN_COMMUNITY = 0.7
    COMMUNITY_SIZE = 150

    def __init__(self, pool: NamePool, seed: int):
        self.pool = pool
        self.seed = seed
        self.communities = max(1, len(pool.people) // self.COMMUNITY_SIZE)
        self._circles: dict[int, list[int]] = {}
        self._fields: dict[int, tuple[list[str], tuple[str, ...]]] = {}
        self._rosters: dict[str, list[int]] = {}

    def community_of(self, person: int) -> int:
        return person % self.communities

    def in_community(self, person: int, community: int) -> int:
        """The person of ``community`` next to ``person`` in popularity."""
        moved = person - person % self.communities + community
        return moved if moved < len(self.pool.people) else moved - self.communities

    def field(self, community: int) -> tuple[list[str], tuple[str, ...]]:
        """(category codes, words) of a community."""
        if community not in self._fields:
            rng = random.Random(f"{self.seed}:community:{community}")
            codes = _category_codes()
            home = rng.randrange(len(codes) - 2)
            self._fields[community] = (codes[home : home + 3], tuple(rng.sample(_WORDS, 30)))
        return self._fields[community]

    def circle(self, person: int) -> list[int]:
        """A person's co-authors: the same whenever asked, drawn from a stream of their own
        so that no paper's draws change them."""
        if person not in self._circles:
            if len(self._circles) > 200_000:  # a bounded cache: circles are cheap to redo
                self._circles.clear()
            rng = random.Random(self.seed * 10_000_019 + person)
            community = self.community_of(person)
            drawn = (
                self.in_community(self.pool.draw_index(rng), community)
                for _ in range(rng.randint(3, 15))
            )
            self._circles[person] = [k for k in dict.fromkeys(drawn) if k != person]
        return self._circles[person]

    def roster(self, organisation: str) -> list[int]:
        if organisation not in self._rosters:
            rng = random.Random(f"{self.seed}:{organisation}")
            size = rng.randint(200, 1000)
            members = rng.sample(range(len(self.pool.people)), size)
            self._rosters[organisation] = members
        return self._rosters[organisation]

    def paper(self, rng: random.Random, count: int) -> tuple[list[int], str | None, tuple]:
        """(the people at each author position, a collaboration's name or None, the lead's
        field: category codes and words)."""
        if count >= 200:
            organisation = rng.choice(_ORGANISATIONS)
            roster = self.roster(organisation)
            members = [k for k in roster if rng.random() < 0.95]
            return members, organisation, self.field(self.community_of(roster[0]))
        lead = self.pool.draw_index(rng)
        community = self.community_of(lead)
        circle = list(self.circle(lead))
        rng.shuffle(circle)
        team = [lead]
        while len(team) < count:
            if circle and rng.random() < self.CIRCLE_SHARE:
                team.append(circle.pop())
                continue
            other = self.pool.draw_index(rng)
            if rng.random() < self.OWN_COMMUNITY:
                other = self.in_community(other, community)
            team.append(other)
        return list(dict.fromkeys(team)), None, self.field(community)


def _author_count(rng: random.Random) -> int:
    if rng.random() < 0.001:
        return rng.randint(200, 1000)
    # Log-normal with a median of four, capped: most papers have 1-10 authors.
    return max(1, min(100, round(rng.lognormvariate(math.log(4), 0.65))))


def _arxiv_id(index: int, rng: random.Random) -> tuple[str, dt.datetime]:
    """A unique id for record ``index`` and a v1 date in its month.

    One record in twenty gets an old-style id (1992-2006), five a four-digit
    one (2007-2014), the rest a five-digit one (2015-2024), spread over months.
    """
    bucket, serial = index % 20, index // 20
    if bucket == 0:  # archive/YYMMNNN
        archive = _OLD_ARCHIVES[serial % len(_OLD_ARCHIVES)]
        rest = serial // len(_OLD_ARCHIVES)
        number, months = divmod(rest, 180)
        year, month = 1992 + months // 12, months % 12 + 1
        base = f"{archive}/{year % 100:02d}{month:02d}{number + 1:03d}"
    elif bucket < 6:  # YYMM.NNNN from 0704 to 1412
        number, months = divmod(serial * 5 + bucket - 1, 93)
        months += 3
        year, month = 2007 + months // 12, months % 12 + 1
        base = f"{year % 100:02d}{month:02d}.{number + 1:04d}"
    else:  # YYMM.NNNNN from 1501
        number, months = divmod(serial * 14 + bucket - 6, 120)
        year, month = 2015 + months // 12, months % 12 + 1
        base = f"{year % 100:02d}{month:02d}.{number + 1:05d}"
    submitted = dt.datetime(year, month, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))
    return base, submitted


def _text(rng: random.Random, words: int, field: tuple | None = None) -> str:
    """Words of the whole vocabulary; with a field (Teams.field), half of them its own."""
    if field is None:
        return " ".join(rng.choices(_WORDS, k=words))
    own = rng.choices(field[1], k=words // 2)
    return " ".join(own + rng.choices(_WORDS, k=words - len(own)))


def synthetic_record(
    index: int, rng: random.Random, pool: NamePool, teams: Teams | None = None
) -> dict:
    """Record ``index`` of the snapshot; its authors drawn one by one from ``pool``, or as a
    team by ``teams``."""
    arxiv_id, submitted = _arxiv_id(index, rng)
    count = _author_count(rng)
    field = None
    if teams is None:
        people = [pool.draw() for _ in range(count)]
        if count >= 200:
            people[-1] = (rng.choice(_ORGANISATIONS), "")
    else:
        members, organisation, field = teams.paper(rng, count)
        if pool.drawn is not None:
            pool.drawn.extend(members)
        people = [pool.people[k] for k in members]
        if organisation:
            people.append((organisation, ""))
    if count < 200 and rng.random() < 0.01:
        people.append((rng.choice(_ORGANISATIONS), ""))
    authors_parsed = [[keyname, forenames, ""] for keyname, forenames in people]
    authors = ", ".join(f"{f} {k}".strip() for k, f in people)
    versions = []
    moment = submitted
    for number in range(1, rng.choices((1, 2, 3, 4, 5), weights=(55, 28, 10, 5, 2))[0] + 1):
        versions.append({"version": f"v{number}", "created": _rfc822(moment)})
        moment += dt.timedelta(days=rng.randint(1, 400), seconds=rng.randint(0, 86_400))
    codes = _category_codes() if field is None else field[0]
    categories = list(dict.fromkeys(rng.choice(codes) for _ in range(rng.randint(1, 3))))
    published = rng.random() < 0.4
    title = _text(rng, 11, field).capitalize()
    return {
        "id": arxiv_id,
        "submitter": " ".join(reversed(people[0])).strip(),
        "authors": authors,
        "title": title[:1].upper() + title[1:],
        "comments": f"{rng.randint(4, 60)} pages, {rng.randint(0, 20)} figures"
        if rng.random() < 0.7
        else None,
        "journal-ref": f"Phys. Rev. D {rng.randint(50, 110)}, {rng.randint(1, 99999)} "
        f"({submitted.year + 1})"
        if published
        else None,
        "doi": f"10.1103/PhysRevD.{rng.randint(50, 110)}.{rng.randint(1, 99999):06d}"
        if published and rng.random() < 0.8
        else None,
        "report-no": None,
        "categories": " ".join(categories),
        "license": rng.choice(_LICENSES),
        "abstract": "  " + _text(rng, 150, field).capitalize() + ".\n",
        "versions": versions,
        "update_date": f"{moment:%Y-%m-%d}",
        "authors_parsed": authors_parsed,
    }


def _name_pool(records: int, rng: random.Random) -> NamePool:
    # About five authorships per paper and five papers per name on average.
    return NamePool(max(1000, records * 3 // 2), rng)


# How a paper's authors are drawn: each alone (the corpus every figure of bench/README.md
# was measured on), or as teams (see Teams).
AUTHORSHIPS = ("independent", "teams")


def snapshot_path(records: int, authorship: str = "independent") -> Path:
    suffix = "" if authorship == "independent" else f"-{authorship}"
    return DATA / f"snapshot-{records}{suffix}.jsonl"


def _teams(pool: NamePool, authorship: str, seed: int) -> Teams | None:
    if authorship not in AUTHORSHIPS:
        raise ValueError(f"authorship must be one of {AUTHORSHIPS}, not {authorship!r}")
    return Teams(pool, seed) if authorship == "teams" else None


def authors_by_paper(
    records: int, *, seed: int = SEED, authorship: str = "independent"
) -> dict[str, list[int]]:
    """Who wrote what in the file ``generate(path, records, seed=seed)`` writes: per arXiv
    id, the person (an index of the name pool) at each author position. The same draws in
    the same order give the same file, so this is its truth, without the file."""
    rng = random.Random(seed)
    pool = _name_pool(records, rng)
    teams = _teams(pool, authorship, seed)
    authors = {}
    for index in range(records):
        pool.drawn = []
        record = synthetic_record(index, rng, pool, teams)
        authors[record["id"]] = pool.drawn
    return authors


def generate(
    path: Path, records: int, *, seed: int = SEED, authorship: str = "independent"
) -> None:
    rng = random.Random(seed)
    pool = _name_pool(records, rng)
    teams = _teams(pool, authorship, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        for index in range(records):
            record = synthetic_record(index, rng, pool, teams)
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
    partial.rename(path)


# A day on arXiv: about 2,000 new papers and 1,000 new versions of older ones.
INCREMENT_NEW, INCREMENT_VERSIONS = 2_000, 1_000


def generate_increment(
    path: Path,
    snapshot: Path,
    records: int,
    *,
    seed: int = SEED,
    authorship: str = "independent",
) -> None:
    """A day's harvest after the snapshot of ``records``: INCREMENT_NEW new papers by the
    snapshot's own people (the same pool, circles and fields), then INCREMENT_VERSIONS of its
    papers, spread over the file, each with one more version and a revised abstract."""
    rng = random.Random(seed)
    pool = _name_pool(records, rng)  # the same people, drawn afresh
    teams = _teams(pool, authorship, seed)
    rng.seed(seed + 1)
    lines = [
        json.dumps(
            synthetic_record(index, rng, pool, teams), ensure_ascii=False, separators=(",", ":")
        )
        for index in range(records, records + INCREMENT_NEW)
    ]
    step = max(1, records // INCREMENT_VERSIONS)
    with snapshot.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream):
            if number % step or len(lines) >= INCREMENT_NEW + INCREMENT_VERSIONS:
                continue
            record = json.loads(line)
            last = dt.datetime.strptime(record["update_date"], "%Y-%m-%d") + dt.timedelta(days=3)
            number_next = len(record["versions"]) + 1
            record["versions"].append({"version": f"v{number_next}", "created": _rfc822(last)})
            record["update_date"] = f"{last:%Y-%m-%d}"
            record["abstract"] = record["abstract"].rstrip() + " Revised and extended.\n"
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- the benchmark -------------------------------------------------------------


def main() -> int:
    args = _arguments()
    if args.child_load:
        return _child_load(args.child_load, args.database_url)
    if args.child_increment:
        return _child_load(args.child_increment, args.database_url, whole=True)
    if args.child_ceiling:
        return _child_ceiling(args.child_ceiling)
    path = snapshot_path(args.records, args.authorship)
    if args.reuse_data and path.exists():
        print(f"reusing {path.relative_to(ROOT)}")
    else:
        started = time.perf_counter()
        generate(path, args.records, authorship=args.authorship)
        print(
            f"generated {path.relative_to(ROOT)}: {args.records:,} records, "
            f"{path.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - started:.0f} s"
        )
    if args.skip_identity:
        os.environ[SKIP_IDENTITY] = "1"  # read by the load's child (_child_load)
    database_url = _fresh_database(args.database_url)
    print(f"database: {_without_password(database_url)} (created and migrated)")
    results = []
    if _is_postgres(database_url):
        results.append(("ceiling", _run_load(path, database_url, "ceiling", "--child-ceiling")))
    for label in ("first load", "unchanged re-import"):
        result = _run_load(path, database_url, label)
        results.append((label, result))
        linking = result.get("phases", {}).get("people linked")
        if linking:
            # The accounting: the load (file to a site with every index, constraint and
            # counter) and identity clustering are separate lines.
            results += _split_identity(label, result, linking)
    if _is_postgres(database_url) and not args.skip_nightly:
        for label, command in NIGHTLY:
            results.append((label, _run_command(command, database_url, label)))
    if not args.skip_increment:
        increment = DATA / path.name.replace("snapshot-", "increment-")
        generate_increment(increment, path, args.records, authorship=args.authorship)
        label = "day's increment"
        results.append((label, _run_load(increment, database_url, label, "--child-increment")))
    ceiling = dict(results).get("ceiling")
    print()
    print(
        f"{'step':<34}{'records/s':>12}{'of ceiling':>12}{'seconds':>10}{'loader MB':>11}"
        f"{'worker MB':>11}{'whole MB':>10}  result"
    )
    for label, r in results:
        rate = f"{r['rate']:>12,.0f}" if "rate" in r else f"{'':>12}"
        share = f"{r['rate'] / ceiling['rate']:>12.2f}" if ceiling and "rate" in r else f"{'':>12}"
        # Sampled for the loads only; a nightly command's line leaves it blank.
        whole = f"{r['whole_peak_mb']:.0f}" if "whole_peak_mb" in r else ""
        print(
            f"{label:<34}{rate}{share}{r['seconds']:>10.1f}{r['peak_mb']:>11.0f}"
            f"{r.get('worker_peak_mb', 0):>11.0f}{whole:>10}  {r['summary']}"
        )
    print(
        "load average (1 min) before/after each step: "
        + ", ".join(f"{r['load_before']:.1f}/{r['load_after']:.1f}" for _, r in results)
    )
    if not args.keep_database:
        _drop_database(database_url)
    return 0


def _split_identity(label: str, result: dict, linking: float) -> list[tuple[str, dict]]:
    """A load's end-of-load linking as its own line, and the load without it."""
    records = result["rate"] * result["seconds"]
    rest = result["seconds"] - linking
    common = {
        k: result[k]
        for k in ("peak_mb", "worker_peak_mb", "whole_peak_mb", "load_before", "load_after")
    }
    return [
        (
            f"{label}, without identity",
            {**common, "rate": records / rest, "seconds": rest, "summary": "copy, schema, counts"},
        ),
        (
            f"{label}, identity",
            {**common, "seconds": linking, "summary": "every person signature linked"},
        ),
    ]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--authorship",
        choices=AUTHORSHIPS,
        default="independent",
        help="independent (every author drawn alone, the default) or teams (people in "
        "communities, with circles and fields: bench/data/snapshot-N-teams.jsonl)",
    )
    parser.add_argument(
        "--reuse-data", action="store_true", help="reuse bench/data/snapshot-N.jsonl if present"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="the server to create the bench database on (default: DATABASE_URL; SQLite if unset)",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the bench database for inspection"
    )
    parser.add_argument(
        "--skip-nightly", action="store_true", help="only the loads, not clustering/edges/trust"
    )
    parser.add_argument(
        "--skip-increment",
        action="store_true",
        help="not the day's increment (with --keep-database: a database to import it into later)",
    )
    parser.add_argument(
        "--skip-identity",
        action="store_true",
        help="the first load leaves people unlinked: to time the loads and the re-import at "
        "sizes whose clustering takes an hour",
    )
    parser.add_argument("--child-load", help=argparse.SUPPRESS)
    parser.add_argument("--child-ceiling", help=argparse.SUPPRESS)
    parser.add_argument("--child-increment", help=argparse.SUPPRESS)
    return parser.parse_args()


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def _fresh_database(server_url: str, name: str = BENCH_DATABASE) -> str:
    """Create (or recreate) the bench database ``name`` and migrate it; its URL."""
    if _is_postgres(server_url):
        import psycopg

        url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
        admin = urlunsplit(urlsplit(server_url)._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    else:
        DATA.mkdir(parents=True, exist_ok=True)
        file = DATA / f"{name}.sqlite3"
        file.unlink(missing_ok=True)
        url = f"sqlite:///{file}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=_child_environment(url),
        check=True,
    )
    return url


def _drop_database(url: str) -> None:
    """Drop the bench database at ``url`` (a PostgreSQL database, or a SQLite file)."""
    if _is_postgres(url):
        import psycopg

        name = urlsplit(url).path.lstrip("/")
        admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)  # as _fresh_database made it


SKIP_IDENTITY = "BENCH_SKIP_IDENTITY"


def _child_environment(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["DJANGO_SETTINGS_MODULE"] = "bzpeer.settings"
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-never-used-to-serve-real-people")
    # The graph and trust rebuilds an import queues are not part of the load: no
    # broker, and the child does not run them (see _child_load).
    env.pop("REDIS_URL", None)
    return env


# The nightly work after a load, each step in its own process, the commands an operator runs.
NIGHTLY = (
    ("identity (all blocks)", ["cluster_authors", "--all", "--no-progress"]),
    ("edges (full rebuild)", ["rebuild_graph", "--no-trust", "--no-progress"]),
    ("trust (first sweep)", ["recompute_trust", "--all", "--no-progress"]),
)


def _run_command(command: list[str], database_url: str, label: str) -> dict:
    """A management command in a child process: wall time and the child's peak memory."""
    print(f"{label}: manage.py {' '.join(command)}...", flush=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=_child_environment(database_url),
        stdout=subprocess.PIPE,
        text=True,
    )
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        raise SystemExit(f"{label}: manage.py {' '.join(command)} failed ({status})")
    seconds = time.perf_counter() - started
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    print(f"{label}: {seconds:.1f} s; {summary}", flush=True)
    return {
        "seconds": seconds,
        # The command's own process; processes it starts (cluster_authors' workers) not counted.
        "peak_mb": usage.ru_maxrss / 1024,
        "summary": summary,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def _run_load(path: Path, database_url: str, label: str, child: str = "--child-load") -> dict:
    """One load in a child process, so its peak memory is its own."""
    print(f"{label}: importing {path.name}...", flush=True)
    load_before = os.getloadavg()[0]
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), child, str(path)],
        cwd=ROOT,
        env=_child_environment(database_url),
        stdout=subprocess.PIPE,
        text=True,
    )
    with _WholeLoadMemory(process.pid) as memory:
        output, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"{label}: the load failed ({process.returncode})")
    result = json.loads(output.strip().splitlines()[-1])
    result["load_before"], result["load_after"] = load_before, os.getloadavg()[0]
    result["whole_peak_mb"] = memory.peak_mb
    parts = ", ".join(f"{mb:.0f}" for mb in memory.peak_parts_mb)
    print(
        f"{label}: whole load's peak {memory.peak_mb:.0f} MB at {memory.peak_at:.0f} s, "
        f"by process (PSS MB, the loader among them): {parts}",
        flush=True,
    )
    cpu = f"CPU seconds: loader {result['loader_cpu']:.1f}, workers {result['workers_cpu']:.1f}"
    if result["postgres_cpu"] is not None:
        cpu += f", PostgreSQL backend {result['postgres_cpu']:.1f}"
    print(f"{label}: {cpu}", flush=True)
    if result.get("phases"):
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result["phases"].items())
        print(f"{label}: {phases}", flush=True)
    print(
        f"{label}: {result['rate']:,.0f} records/s ({result['seconds']:.1f} s), "
        f"peak memory {result['peak_mb']:.0f} MB in the loader, {result['worker_peak_mb']:.0f} MB "
        f"in the largest parsing worker, {result['whole_peak_mb']:.0f} MB for the whole load; "
        f"{result['summary']}",
        flush=True,
    )
    return result


class _WholeLoadMemory:
    """The peak, sampled every half second, of the proportional set size (PSS) summed over a
    process and every process under it: the loader, the fork server and its workers.

    Issue 13's goal is the whole load's memory. ru_maxrss cannot give it: it is a peak per
    process, and counts the pages a worker shares with the fork server in both. PSS divides
    each shared page among the processes that map it, so the sum is what the load holds.
    """

    INTERVAL = 0.5

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_mb = 0.0
        # At the peak: when (seconds into the load) and each process's share, largest first.
        self.peak_at = 0.0
        self.peak_parts_mb: list[float] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _WholeLoadMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        started = time.perf_counter()
        while not self._done.wait(self.INTERVAL):
            parts_kb = [_pss_kb(pid) for pid in _process_tree(self.pid)]
            total_mb = sum(parts_kb) / 1024
            if total_mb > self.peak_mb:
                self.peak_mb = total_mb
                self.peak_at = time.perf_counter() - started
                self.peak_parts_mb = sorted((kb / 1024 for kb in parts_kb if kb), reverse=True)


def _process_tree(pid: int) -> list[int]:
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            # The thread or the process may end while being read.
            with contextlib.suppress(OSError):
                pending += [int(child) for child in (task / "children").read_text().split()]
    return tree


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass  # ended while being read
    return 0


def _child_load(path: str, database_url: str, *, whole: bool = False) -> int:
    """One import. ``whole``: with what follows it in the app, the edges and trust of every
    touched record (the tasks run in this process: the child has no broker)."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from graph import receivers
    from works import services
    from works.signals import authorships_changed

    if not whole:
        # authorships_changed queues the graph and trust rebuilds of every touched record:
        # separate work with its own benchmarks, not part of loading the file.
        authorships_changed.disconnect(dispatch_uid=receivers.EDGES_UID)
    if os.environ.get(SKIP_IDENTITY):
        from works import first_load

        first_load.link_unlinked = lambda **options: set()
    started = time.perf_counter()
    last = [started]

    def progress(stats):
        now = time.perf_counter()
        if now - last[0] >= 10:
            last[0] = now
            rate = stats.total / (now - started)
            print(f"  {stats.total:,} records ({rate:,.0f}/s)", file=sys.stderr, flush=True)

    backend = _backend_pid()
    postgres_cpu = _cpu_seconds(backend)
    with open(path, "rb") as stream:
        stats = services.import_stream(stream, source_label="Bench import", progress=progress)
    seconds = time.perf_counter() - started
    postgres_cpu = _cpu_seconds(backend) - postgres_cpu if backend else None
    own, workers = resource.getrusage(resource.RUSAGE_SELF), _workers_usage()
    print(
        json.dumps(
            {
                "rate": stats.total / seconds,
                "seconds": seconds,
                "summary": stats.summary(),
                "touched_records": len(stats.touched_author_ids),
                "phases": stats.phases,
                # ru_maxrss is in kilobytes on Linux.
                "peak_mb": own.ru_maxrss / 1024,
                "worker_peak_mb": workers.ru_maxrss / 1024,
                # CPU seconds, which the other loads on a shared machine do not inflate
                # as much as wall time.
                "loader_cpu": own.ru_utime + own.ru_stime,
                "workers_cpu": workers.ru_utime + workers.ru_stime,
                "postgres_cpu": postgres_cpu,
            }
        )
    )
    return 0


# The rows the loader writes, as its staging tables hold them, with nothing to maintain.
_CEILING_TABLES = {
    "ceiling_work": (
        "arxiv_id text, version integer, title text, abstract text, comments text, "
        "journal_ref text, doi text, report_no text, license text, primary_code text, "
        "submitted timestamptz, updated timestamptz, year integer, withdrawn boolean, "
        "kind text, person_author_count integer, author_count integer, source text, "
        "content_hash text"
    ),
    "ceiling_author": (
        "arxiv_id text, position integer, key text, printed text, affiliation text, "
        "block_key text, coauthor_name text, is_org boolean"
    ),
    "ceiling_version": "arxiv_id text, number integer, submitted timestamptz, size_kb integer",
    "ceiling_topic": "arxiv_id text, code text, position integer",
}


def _child_ceiling(path: str) -> int:
    """Parse the file into rows with the loader's own workers and COPY them into bare unlogged
    tables: what this machine can do before any index, key or SQL statement costs anything."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from works import bulk

    with connection.cursor() as cursor:
        for name, columns in _CEILING_TABLES.items():
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(f"CREATE UNLOGGED TABLE {name} ({columns})")
    backend = _backend_pid()
    postgres_cpu = _cpu_seconds(backend)
    started = time.perf_counter()
    records = errors = 0
    importer = bulk.BulkImporter()
    workers = importer._worker_count()
    with open(path, "rb") as stream:
        chunks = bulk._line_chunks(stream, bulk.CHUNK_LINES)
        depth = bulk.BATCH_SIZE // bulk.CHUNK_LINES + workers
        prepared = (
            bulk._parallel(chunks, workers, depth, lambda: True)
            if workers
            else (bulk.prepare_lines(first, lines) for first, lines in chunks)
        )
        with connection.cursor() as cursor:
            for chunk in prepared:
                encoded = [item.encoded for item in chunk if isinstance(item, bulk.Prepared)]
                records += len(encoded)
                errors += len(chunk) - len(encoded)
                for table, part in (
                    ("ceiling_work", "work"),
                    ("ceiling_author", "signatures"),
                    ("ceiling_version", "versions"),
                    ("ceiling_topic", "topics"),
                ):
                    bulk._copy(cursor, table, [getattr(e, part) for e in encoded])
            for name in _CEILING_TABLES:
                cursor.execute(f"DROP TABLE {name}")
    seconds = time.perf_counter() - started
    own, children = resource.getrusage(resource.RUSAGE_SELF), _workers_usage()
    print(
        json.dumps(
            {
                "rate": (records + errors) / seconds,
                "seconds": seconds,
                "summary": f"{records:,} records parsed and copied, {errors} errors",
                "peak_mb": own.ru_maxrss / 1024,
                "worker_peak_mb": children.ru_maxrss / 1024,
                "loader_cpu": own.ru_utime + own.ru_stime,
                "workers_cpu": children.ru_utime + children.ru_stime,
                "postgres_cpu": _cpu_seconds(backend) - postgres_cpu if backend else None,
            }
        )
    )
    return 0


def _workers_usage() -> resource.struct_rusage:
    """This process's children's usage, the worker processes included.

    The workers are children of the fork server (bzpeer.lib.processes), which reaps them: their
    CPU time and peak memory reach this process only once the server itself has stopped and
    been reaped, which the standard library does at exit, after this report. So it is stopped
    here, with the private method its own tests use. The server counts too: it is part of the
    load (about 0.6 s of CPU to set Django up, and its memory, which the workers share).
    """
    from multiprocessing import forkserver

    forkserver._forkserver._stop()
    return resource.getrusage(resource.RUSAGE_CHILDREN)


def _backend_pid() -> int | None:
    """The PostgreSQL backend serving this process, when its CPU time is readable."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return pid if Path(f"/proc/{pid}/stat").exists() else None


def _cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)


if __name__ == "__main__":
    sys.exit(main())
