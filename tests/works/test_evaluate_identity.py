"""evaluate_identity on a small hand-made labelled file, with figures computed by hand."""

import json

import pytest
from django.core.management import CommandError, call_command


def signature(sid, author, coauthors, title, year, categories, person):
    return {
        "signature_id": sid,
        "paper_id": f"p{sid}",
        "author": author,
        "position": 0,
        "coauthors": coauthors,
        "title": title,
        "abstract": "",
        "year": year,
        "venue": "",
        "categories": categories,
        "affiliations": [],
        "cluster": person,
    }


STRINGS = "Gauge anomalies and string compactifications on orbifolds"
MODELS = "Prompt tuning for pre-trained language models"
# Two Wei Wangs with their own co-authors and fields, and a "W. Wang" labelled as the
# physicist but with nothing in common with him: the model must not join it (precision first).
ROWS = [
    signature("1", "Wei Wang", ["Alice Adams", "Bob Brown"], STRINGS, 2019, ["hep-th"], "P"),
    signature("2", "Wei Wang", ["Alice Adams", "Bob Brown"], STRINGS, 2020, ["hep-th"], "P"),
    signature("3", "Wei Wang", ["Carol Chen", "Dan Davis"], MODELS, 2023, ["cs.CL"], "L"),
    signature("4", "Wei Wang", ["Carol Chen", "Dan Davis"], MODELS, 2024, ["cs.CL"], "L"),
    signature(
        "5", "W. Wang", ["Erin Evans"], "Ocean tides of small moons", 2011, ["physics.ao-ph"], "P"
    ),
]


@pytest.fixture
def labelled(tmp_path):
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in ROWS) + "\n")
    return path


def test_the_figures_are_those_computed_by_hand(labelled, capsys):
    call_command("evaluate_identity", str(labelled), "--json")
    result = json.loads(capsys.readouterr().out)

    # Clusters {1, 2}, {3, 4}, {5}. B-cubed recall: 2/3, 2/3, 1, 1, 1/3 → 11/15.
    assert result["b3_precision"] == 1.0
    assert result["b3_recall"] == pytest.approx(11 / 15, abs=1e-4)
    assert result["b3_f1"] == pytest.approx(2 * (11 / 15) / (1 + 11 / 15), abs=1e-4)
    # Pairs: 2 predicted, both true, of 4 true pairs.
    assert (result["pairwise_precision"], result["pairwise_recall"]) == (1.0, 0.5)
    assert result["pairwise_f1"] == pytest.approx(2 / 3, abs=1e-4)
    # One record per name: {1, 2, 3, 4} and {5}.
    baseline = result["baseline"]
    assert baseline["b3_precision"] == pytest.approx(3 / 5, abs=1e-4)
    assert baseline["b3_recall"] == pytest.approx(11 / 15, abs=1e-4)
    assert baseline["pairwise_precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert baseline["pairwise_recall"] == 0.5
    assert result["signatures"] == 5 and result["seconds"] >= 0
    assert set(result) == {
        "b3_precision",
        "b3_recall",
        "b3_f1",
        "pairwise_precision",
        "pairwise_recall",
        "pairwise_f1",
        "baseline",
        "signatures",
        "seconds",
    }


def test_the_labels_are_never_read_to_cluster(labelled, tmp_path, capsys):
    # The same file with the answers swapped around scores differently, not the same way.
    swapped = tmp_path / "swapped.jsonl"
    rows = [{**row, "cluster": {"P": "L", "L": "P"}[row["cluster"]]} for row in ROWS]
    swapped.write_text("\n".join(json.dumps(row) for row in rows))
    call_command("evaluate_identity", str(labelled), "--json")
    first = json.loads(capsys.readouterr().out)
    call_command("evaluate_identity", str(swapped), "--json")
    second = json.loads(capsys.readouterr().out)

    # Renaming the people changes nothing; the clustering did not look at them.
    assert {k: v for k, v in first.items() if k != "seconds"} == {
        k: v for k, v in second.items() if k != "seconds"
    }


def test_the_text_report_names_every_figure(labelled, capsys):
    call_command("evaluate_identity", str(labelled))
    out = capsys.readouterr().out

    assert "5 signatures clustered" in out
    assert "clustering: B3 P 1.000 R 0.733 F1 0.846" in out
    assert "one record per name: B3 P 0.600 R 0.733 F1 0.660" in out


def _figures(path, capsys) -> dict:
    call_command("evaluate_identity", str(path), "--json")
    result = json.loads(capsys.readouterr().out)
    del result["seconds"]
    return result


def test_malformed_lines_are_reported_and_skipped_and_the_rest_is_scored(
    labelled, tmp_path, capsys
):
    bad = [
        '{"signature_id": "9", "author": "A B"}',  # no cluster
        "not json",
        "[1, 2]",
        json.dumps(ROWS[0]),  # the first signature again
    ]
    lines = [json.dumps(row) for row in ROWS]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join([bad[0], lines[0], bad[1], *lines[1:3], bad[2], *lines[3:], bad[3]]))
    clean = _figures(labelled, capsys)

    call_command("evaluate_identity", str(mixed), "--json")
    out, err = capsys.readouterr()

    assert {k: v for k, v in json.loads(out).items() if k != "seconds"} == clean
    assert [line.split(": ", 1)[1] for line in err.splitlines()] == [
        "line 1: no cluster: skipped",
        "line 3: not JSON (Expecting value): skipped",
        "line 6: not a JSON object: skipped",
        "line 9: signature 1 appears twice: skipped",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"signature_id": "1", "author": "A B"}\n', "line 1: no cluster"),
        ("not json\n", "line 1: not JSON"),
        ("\n", "holds no labelled signature$"),
    ],
)
def test_a_file_without_one_usable_line_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        call_command("evaluate_identity", str(path))


def test_fields_printed_other_ways_are_read_as_what_they_mean(labelled, tmp_path, capsys):
    # Other sources print a year as text, arXiv's categories as one string, a list as one
    # name, ids as numbers, no position; with a byte-order mark and Windows line ends.
    rows = [
        {
            **row,
            "signature_id": int(row["signature_id"]),
            "paper_id": int(row["signature_id"]) * 10,
            "year": f"{row['year']}.0" if n % 2 else str(row["year"]),
            "categories": " ".join(row["categories"]),
            "coauthors": row["coauthors"][0] if len(row["coauthors"]) == 1 else row["coauthors"],
            "position": None,
        }
        for n, row in enumerate(ROWS)
    ]
    odd = tmp_path / "odd.jsonl"
    odd.write_bytes(
        "\ufeff".encode() + "\r\n".join(json.dumps(row) for row in rows).encode() + b"\r\n"
    )

    assert _figures(odd, capsys) == _figures(labelled, capsys)


def test_an_arxiv_shaped_file_with_extra_fields_is_read_unchanged(tmp_path, capsys):
    path = tmp_path / "arxiv.jsonl"
    rows = [
        {**row, "venue": "", "extra": {"kept": True}, "abstract": "An abstract."} for row in ROWS
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows))

    call_command("evaluate_identity", str(path), "--json")

    assert json.loads(capsys.readouterr().out)["signatures"] == 5
