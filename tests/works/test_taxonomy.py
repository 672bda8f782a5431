"""The arXiv category taxonomy (works.taxonomy)."""

import pytest

from works.taxonomy import ALIASES, CATEGORIES, GROUPS, topic_group, topic_name


def test_size_and_shape():
    assert len(CATEGORIES) >= 150
    for code, (name, group) in CATEGORIES.items():
        assert code == code.strip() and " " not in code
        assert name and name == name.strip()
        assert group in GROUPS


@pytest.mark.parametrize(
    ("archive", "count"),
    [
        ("cs", 40),
        ("math", 32),
        ("physics", 22),
        ("astro-ph", 6),
        ("cond-mat", 9),
        ("nlin", 5),
        ("q-bio", 10),
        ("q-fin", 9),
        ("stat", 6),
        ("eess", 4),
        ("econ", 3),
    ],
)
def test_archive_counts(archive, count):
    assert sum(1 for code in CATEGORIES if code.startswith(archive + ".")) == count


@pytest.mark.parametrize(
    ("code", "name", "group"),
    [
        ("cs.CL", "Computation and Language", "Computer Science"),
        ("cs.LG", "Machine Learning", "Computer Science"),
        ("cs.AI", "Artificial Intelligence", "Computer Science"),
        ("cs.CV", "Computer Vision and Pattern Recognition", "Computer Science"),
        ("cs.CE", "Computational Engineering, Finance, and Science", "Computer Science"),
        ("math.CO", "Combinatorics", "Mathematics"),
        ("math.IT", "Information Theory", "Mathematics"),
        ("math.MP", "Mathematical Physics", "Mathematics"),
        ("stat.ME", "Methodology", "Statistics"),
        ("stat.ML", "Machine Learning", "Statistics"),
        ("quant-ph", "Quantum Physics", "Physics"),
        ("hep-th", "High Energy Physics - Theory", "Physics"),
        ("gr-qc", "General Relativity and Quantum Cosmology", "Physics"),
        ("astro-ph.IM", "Instrumentation and Methods for Astrophysics", "Physics"),
        ("astro-ph.CO", "Cosmology and Nongalactic Astrophysics", "Physics"),
        ("cond-mat.mes-hall", "Mesoscale and Nanoscale Physics", "Physics"),
        ("physics.data-an", "Data Analysis, Statistics and Probability", "Physics"),
        ("nlin.AO", "Adaptation and Self-Organizing Systems", "Physics"),
        ("q-bio.SC", "Subcellular Processes", "Quantitative Biology"),
        ("q-fin.PR", "Pricing of Securities", "Quantitative Finance"),
        ("eess.SY", "Systems and Control", "Electrical Engineering and Systems Science"),
        ("econ.EM", "Econometrics", "Economics"),
    ],
)
def test_exact_names(code, name, group):
    assert CATEGORIES[code] == (name, group)
    assert topic_name(code) == name
    assert topic_group(code) == group


@pytest.mark.parametrize(
    ("code", "name", "group"),
    [
        ("astro-ph", "Astrophysics", "Physics"),
        ("cond-mat", "Condensed Matter", "Physics"),
        ("math", "Mathematics", "Mathematics"),
        ("cs", "Computer Science", "Computer Science"),
        ("chao-dyn", "Chaotic Dynamics", "Physics"),
        ("solv-int", "Exactly Solvable and Integrable Systems", "Physics"),
        ("patt-sol", "Pattern Formation and Solitons", "Physics"),
        ("adap-org", "Adaptation, Noise, and Self-Organizing Systems", "Physics"),
        ("comp-gas", "Cellular Automata and Lattice Gases", "Physics"),
        ("cmp-lg", "Computation and Language", "Computer Science"),
        ("alg-geom", "Algebraic Geometry", "Mathematics"),
        ("dg-ga", "Differential Geometry", "Mathematics"),
        ("funct-an", "Functional Analysis", "Mathematics"),
        ("q-alg", "Quantum Algebra and Topology", "Mathematics"),
        ("mtrl-th", "Materials Theory", "Physics"),
        ("supr-con", "Superconductivity", "Physics"),
        ("chem-ph", "Chemical Physics", "Physics"),
        ("atom-ph", "Atomic, Molecular and Optical Physics", "Physics"),
        ("plasm-ph", "Plasma Physics", "Physics"),
        ("acc-phys", "Accelerator Physics", "Physics"),
        ("ao-sci", "Atmospheric-Oceanic Sciences", "Physics"),
        ("bayes-an", "Bayesian Analysis", "Physics"),
    ],
)
def test_legacy_archives(code, name, group):
    assert CATEGORIES[code] == (name, group)


def test_aliases_point_at_known_codes():
    for alias, target in ALIASES.items():
        assert alias in CATEGORIES and target in CATEGORIES
        if alias != "q-fin.EC":  # arXiv names it "Economics", econ.GN "General Economics"
            assert topic_name(alias) == topic_name(target)


def test_unknown_codes():
    assert topic_name("cs.XX") == "cs.XX"
    assert topic_group("cs.XX") == "Computer Science"
    assert topic_name("bogus-arch") == "bogus-arch"
    assert topic_group("bogus-arch") == ""


def test_seed_work_categories_are_known():
    for code in [
        "cs.CL",
        "cs.AI",
        "cs.LG",
        "cs.CV",
        "hep-ph",
        "hep-lat",
        "nucl-ex",
        "nucl-th",
        "math-ph",
        "math.MP",
        "physics.hist-ph",
        "astro-ph.IM",
        "astro-ph.CO",
    ]:
        assert topic_name(code) != code
