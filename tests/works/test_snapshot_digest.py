"""What the snapshot loader's line screen reads of a line, and the version that guards it.

A re-import skips, unparsed, every line whose digest a work holds (works.bulk). That is only
right while the parser reads each line as it did when the digest was stored, so the digest
carries works.prepare.PARSER_VERSION, and the content hashes of the real snapshot lines are
pinned here with it: a parser change that alters them fails until the version is bumped.
"""

import hashlib

import pytest
from support import FIXTURES

from works import prepare, rows
from works.arxiv.parsers import snapshot_line

SNAPSHOT = FIXTURES / "kaggle_snapshot_first200.jsonl"

# PARSER_VERSION -> sha256 of the fixture lines' content hashes, one per line.
CONTENT_HASHES = {1: "47a60cac5126e0e3f1793c31b3dd24625fad29126e1ca332b41397328c0ac7ff"}


def test_the_parser_reads_the_snapshot_as_its_version_says():
    lines = SNAPSHOT.read_bytes().splitlines()
    hashes = [rows.content_hash(snapshot_line(line, n)) for n, line in enumerate(lines, 1)]
    digest = hashlib.sha256("\n".join(hashes).encode()).hexdigest()

    assert CONTENT_HASHES.get(prepare.PARSER_VERSION) == digest, (
        "the parser now reads the snapshot's lines differently: bump "
        "works.prepare.PARSER_VERSION (or a re-import keeps what the old parser read) "
        f"and pin {digest} for it here"
    )


@pytest.mark.parametrize(
    "line, arxiv_id",
    [
        (b'{"id":"0704.0001","submitter":"P. N."}\n', "0704.0001"),
        (b' { "id" : "hep-th/9901001", "title": "x"}', "hep-th/9901001"),
        (b'{"id": "arXiv:0704.0001v2"}', "arXiv:0704.0001v2"),  # as printed: matches no work
    ],
)
def test_a_line_is_keyed_by_the_id_it_opens_with(line, arxiv_id):
    assert prepare.screen_key(line)[0] == arxiv_id


@pytest.mark.parametrize(
    "line", [b"", b"   \n", b'{"title": "x", "id": "0704.0001"}', b"{not json", b'["0704.0001"]']
)
def test_a_line_that_does_not_open_with_its_id_is_left_to_the_parser(line):
    assert prepare.screen_key(line) is None


def test_the_digest_ignores_the_line_end_and_changes_with_the_parser_version(monkeypatch):
    line = SNAPSHOT.read_bytes().splitlines()[0]
    digest = prepare.line_digest(line)

    assert prepare.line_digest(line + b"\r\n") == digest
    assert prepare.line_digest(line.replace(b"0704.0001", b"0704.0002")) != digest
    monkeypatch.setattr(prepare, "PARSER_VERSION", prepare.PARSER_VERSION + 1)
    assert prepare.line_digest(line) != digest


def test_a_work_holds_its_line_bound_to_the_content_it_gave():
    line = SNAPSHOT.read_bytes().splitlines()[0]
    prepared = prepare.prepare_lines(1, [line])[0]
    fingerprinted = prepare.prepare_lines(1, [line], fully=False)[0]
    digest = prepare.line_digest(line)

    assert prepared.digest == fingerprinted.digest
    assert prepared.digest == prepare.snapshot_digest(digest, prepared.content_hash)
    # What the screen computes in SQL: md5(digest || content_hash).
    bound = hashlib.md5((digest + prepared.content_hash).encode()).hexdigest()
    assert prepared.digest == bound
    assert prepare.snapshot_digest(digest, "0" * 32) != prepared.digest
