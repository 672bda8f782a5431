"""The arXiv category taxonomy: code -> (human name, group).

Names follow arXiv's own taxonomy (arxiv-base ``arxiv/taxonomy/definitions.py``
and https://arxiv.org/category_taxonomy). Besides the current categories this
holds the legacy archives that old papers carry as categories (``astro-ph``,
``cond-mat``, ``chao-dyn``, ``alg-geom``...) and the alias categories
(``math.IT`` = ``cs.IT``, ``math.MP`` = ``math-ph``, ``math.ST`` = ``stat.TH``,
``cs.NA`` = ``math.NA``, ``cs.SY`` = ``eess.SY``, ``q-fin.EC`` = ``econ.GN``),
each listed with its own code. Pure data, no Django.
"""

from __future__ import annotations

import re

PHYSICS = "Physics"
MATHEMATICS = "Mathematics"
COMPUTER_SCIENCE = "Computer Science"
QUANTITATIVE_BIOLOGY = "Quantitative Biology"
QUANTITATIVE_FINANCE = "Quantitative Finance"
STATISTICS = "Statistics"
EESS = "Electrical Engineering and Systems Science"
ECONOMICS = "Economics"

GROUPS: tuple[str, ...] = (
    PHYSICS,
    MATHEMATICS,
    COMPUTER_SCIENCE,
    QUANTITATIVE_BIOLOGY,
    QUANTITATIVE_FINANCE,
    STATISTICS,
    EESS,
    ECONOMICS,
)

_CS = {
    "cs.AI": "Artificial Intelligence",
    "cs.AR": "Hardware Architecture",
    "cs.CC": "Computational Complexity",
    "cs.CE": "Computational Engineering, Finance, and Science",
    "cs.CG": "Computational Geometry",
    "cs.CL": "Computation and Language",
    "cs.CR": "Cryptography and Security",
    "cs.CV": "Computer Vision and Pattern Recognition",
    "cs.CY": "Computers and Society",
    "cs.DB": "Databases",
    "cs.DC": "Distributed, Parallel, and Cluster Computing",
    "cs.DL": "Digital Libraries",
    "cs.DM": "Discrete Mathematics",
    "cs.DS": "Data Structures and Algorithms",
    "cs.ET": "Emerging Technologies",
    "cs.FL": "Formal Languages and Automata Theory",
    "cs.GL": "General Literature",
    "cs.GR": "Graphics",
    "cs.GT": "Computer Science and Game Theory",
    "cs.HC": "Human-Computer Interaction",
    "cs.IR": "Information Retrieval",
    "cs.IT": "Information Theory",
    "cs.LG": "Machine Learning",
    "cs.LO": "Logic in Computer Science",
    "cs.MA": "Multiagent Systems",
    "cs.MM": "Multimedia",
    "cs.MS": "Mathematical Software",
    "cs.NA": "Numerical Analysis",
    "cs.NE": "Neural and Evolutionary Computing",
    "cs.NI": "Networking and Internet Architecture",
    "cs.OH": "Other Computer Science",
    "cs.OS": "Operating Systems",
    "cs.PF": "Performance",
    "cs.PL": "Programming Languages",
    "cs.RO": "Robotics",
    "cs.SC": "Symbolic Computation",
    "cs.SD": "Sound",
    "cs.SE": "Software Engineering",
    "cs.SI": "Social and Information Networks",
    "cs.SY": "Systems and Control",
}

_MATH = {
    "math.AC": "Commutative Algebra",
    "math.AG": "Algebraic Geometry",
    "math.AP": "Analysis of PDEs",
    "math.AT": "Algebraic Topology",
    "math.CA": "Classical Analysis and ODEs",
    "math.CO": "Combinatorics",
    "math.CT": "Category Theory",
    "math.CV": "Complex Variables",
    "math.DG": "Differential Geometry",
    "math.DS": "Dynamical Systems",
    "math.FA": "Functional Analysis",
    "math.GM": "General Mathematics",
    "math.GN": "General Topology",
    "math.GR": "Group Theory",
    "math.GT": "Geometric Topology",
    "math.HO": "History and Overview",
    "math.IT": "Information Theory",
    "math.KT": "K-Theory and Homology",
    "math.LO": "Logic",
    "math.MG": "Metric Geometry",
    "math.MP": "Mathematical Physics",
    "math.NA": "Numerical Analysis",
    "math.NT": "Number Theory",
    "math.OA": "Operator Algebras",
    "math.OC": "Optimization and Control",
    "math.PR": "Probability",
    "math.QA": "Quantum Algebra",
    "math.RA": "Rings and Algebras",
    "math.RT": "Representation Theory",
    "math.SG": "Symplectic Geometry",
    "math.SP": "Spectral Theory",
    "math.ST": "Statistics Theory",
}

_PHYSICS_ARCHIVE = {
    "physics.acc-ph": "Accelerator Physics",
    "physics.ao-ph": "Atmospheric and Oceanic Physics",
    "physics.app-ph": "Applied Physics",
    "physics.atm-clus": "Atomic and Molecular Clusters",
    "physics.atom-ph": "Atomic Physics",
    "physics.bio-ph": "Biological Physics",
    "physics.chem-ph": "Chemical Physics",
    "physics.class-ph": "Classical Physics",
    "physics.comp-ph": "Computational Physics",
    "physics.data-an": "Data Analysis, Statistics and Probability",
    "physics.ed-ph": "Physics Education",
    "physics.flu-dyn": "Fluid Dynamics",
    "physics.gen-ph": "General Physics",
    "physics.geo-ph": "Geophysics",
    "physics.hist-ph": "History and Philosophy of Physics",
    "physics.ins-det": "Instrumentation and Detectors",
    "physics.med-ph": "Medical Physics",
    "physics.optics": "Optics",
    "physics.plasm-ph": "Plasma Physics",
    "physics.pop-ph": "Popular Physics",
    "physics.soc-ph": "Physics and Society",
    "physics.space-ph": "Space Physics",
}

_ASTRO = {
    "astro-ph.CO": "Cosmology and Nongalactic Astrophysics",
    "astro-ph.EP": "Earth and Planetary Astrophysics",
    "astro-ph.GA": "Astrophysics of Galaxies",
    "astro-ph.HE": "High Energy Astrophysical Phenomena",
    "astro-ph.IM": "Instrumentation and Methods for Astrophysics",
    "astro-ph.SR": "Solar and Stellar Astrophysics",
}

_COND_MAT = {
    "cond-mat.dis-nn": "Disordered Systems and Neural Networks",
    "cond-mat.mes-hall": "Mesoscale and Nanoscale Physics",
    "cond-mat.mtrl-sci": "Materials Science",
    "cond-mat.other": "Other Condensed Matter",
    "cond-mat.quant-gas": "Quantum Gases",
    "cond-mat.soft": "Soft Condensed Matter",
    "cond-mat.stat-mech": "Statistical Mechanics",
    "cond-mat.str-el": "Strongly Correlated Electrons",
    "cond-mat.supr-con": "Superconductivity",
}

_NLIN = {
    "nlin.AO": "Adaptation and Self-Organizing Systems",
    "nlin.CD": "Chaotic Dynamics",
    "nlin.CG": "Cellular Automata and Lattice Gases",
    "nlin.PS": "Pattern Formation and Solitons",
    "nlin.SI": "Exactly Solvable and Integrable Systems",
}

_PHYSICS_SINGLE = {
    "gr-qc": "General Relativity and Quantum Cosmology",
    "hep-ex": "High Energy Physics - Experiment",
    "hep-lat": "High Energy Physics - Lattice",
    "hep-ph": "High Energy Physics - Phenomenology",
    "hep-th": "High Energy Physics - Theory",
    "math-ph": "Mathematical Physics",
    "nucl-ex": "Nuclear Experiment",
    "nucl-th": "Nuclear Theory",
    "quant-ph": "Quantum Physics",
}

_Q_BIO = {
    "q-bio.BM": "Biomolecules",
    "q-bio.CB": "Cell Behavior",
    "q-bio.GN": "Genomics",
    "q-bio.MN": "Molecular Networks",
    "q-bio.NC": "Neurons and Cognition",
    "q-bio.OT": "Other Quantitative Biology",
    "q-bio.PE": "Populations and Evolution",
    "q-bio.QM": "Quantitative Methods",
    "q-bio.SC": "Subcellular Processes",
    "q-bio.TO": "Tissues and Organs",
}

_Q_FIN = {
    "q-fin.CP": "Computational Finance",
    "q-fin.EC": "Economics",
    "q-fin.GN": "General Finance",
    "q-fin.MF": "Mathematical Finance",
    "q-fin.PM": "Portfolio Management",
    "q-fin.PR": "Pricing of Securities",
    "q-fin.RM": "Risk Management",
    "q-fin.ST": "Statistical Finance",
    "q-fin.TR": "Trading and Market Microstructure",
}

_STAT = {
    "stat.AP": "Applications",
    "stat.CO": "Computation",
    "stat.ME": "Methodology",
    "stat.ML": "Machine Learning",
    "stat.OT": "Other Statistics",
    "stat.TH": "Statistics Theory",
}

_EESS = {
    "eess.AS": "Audio and Speech Processing",
    "eess.IV": "Image and Video Processing",
    "eess.SP": "Signal Processing",
    "eess.SY": "Systems and Control",
}

_ECON = {
    "econ.EM": "Econometrics",
    "econ.GN": "General Economics",
    "econ.TH": "Theoretical Economics",
}

# Archives that appear as bare categories on old papers (and defunct archives
# later subsumed into categories, e.g. chao-dyn -> nlin.CD).
_LEGACY = {
    "astro-ph": ("Astrophysics", PHYSICS),
    "cond-mat": ("Condensed Matter", PHYSICS),
    "physics": ("Physics", PHYSICS),
    "math": ("Mathematics", MATHEMATICS),
    "cs": ("Computer Science", COMPUTER_SCIENCE),
    "nlin": ("Nonlinear Sciences", PHYSICS),
    "q-bio": ("Quantitative Biology", QUANTITATIVE_BIOLOGY),
    "chao-dyn": ("Chaotic Dynamics", PHYSICS),
    "solv-int": ("Exactly Solvable and Integrable Systems", PHYSICS),
    "patt-sol": ("Pattern Formation and Solitons", PHYSICS),
    "adap-org": ("Adaptation, Noise, and Self-Organizing Systems", PHYSICS),
    "comp-gas": ("Cellular Automata and Lattice Gases", PHYSICS),
    "cmp-lg": ("Computation and Language", COMPUTER_SCIENCE),
    "alg-geom": ("Algebraic Geometry", MATHEMATICS),
    "dg-ga": ("Differential Geometry", MATHEMATICS),
    "funct-an": ("Functional Analysis", MATHEMATICS),
    "q-alg": ("Quantum Algebra and Topology", MATHEMATICS),
    "mtrl-th": ("Materials Theory", PHYSICS),
    "supr-con": ("Superconductivity", PHYSICS),
    "chem-ph": ("Chemical Physics", PHYSICS),
    "atom-ph": ("Atomic, Molecular and Optical Physics", PHYSICS),
    "plasm-ph": ("Plasma Physics", PHYSICS),
    "acc-phys": ("Accelerator Physics", PHYSICS),
    "ao-sci": ("Atmospheric-Oceanic Sciences", PHYSICS),
    "bayes-an": ("Bayesian Analysis", PHYSICS),
}


# The longest code a topic can store (works.models.Topic.code); arXiv's longest is 18.
MAX_CODE_LENGTH = 32
# arXiv's shape for a category: an archive, hyphenated at most once ("hep-th", "q-bio",
# "chao-dyn"), then optionally a dot and a subject class ("cs.CL", "astro-ph.GA",
# "cond-mat.mes-hall"). Anything else (a slash, a space, markup) is not a category, and would
# not make a topic URL either.
_CODE_RE = re.compile(r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[A-Za-z]+)?)?")


def is_valid_code(code: str) -> bool:
    """Whether `code` has the shape of an arXiv category, known or not ("cs.XX" is valid)."""
    return len(code) <= MAX_CODE_LENGTH and _CODE_RE.fullmatch(code) is not None


def _with_group(names: dict[str, str], group: str) -> dict[str, tuple[str, str]]:
    return {code: (name, group) for code, name in names.items()}


CATEGORIES: dict[str, tuple[str, str]] = {
    **_with_group(_CS, COMPUTER_SCIENCE),
    **_with_group(_MATH, MATHEMATICS),
    **_with_group(_PHYSICS_ARCHIVE, PHYSICS),
    **_with_group(_ASTRO, PHYSICS),
    **_with_group(_COND_MAT, PHYSICS),
    **_with_group(_NLIN, PHYSICS),
    **_with_group(_PHYSICS_SINGLE, PHYSICS),
    **_with_group(_Q_BIO, QUANTITATIVE_BIOLOGY),
    **_with_group(_Q_FIN, QUANTITATIVE_FINANCE),
    **_with_group(_STAT, STATISTICS),
    **_with_group(_EESS, EESS),
    **_with_group(_ECON, ECONOMICS),
    **_LEGACY,
}

# Alias pairs arXiv treats as one category (either code may appear).
ALIASES: dict[str, str] = {
    "math.IT": "cs.IT",
    "math.MP": "math-ph",
    "math.ST": "stat.TH",
    "cs.NA": "math.NA",
    "cs.SY": "eess.SY",
    "q-fin.EC": "econ.GN",
}


def topic_name(code: str) -> str:
    """Human name of a category ("cs.CL" -> "Computation and Language").

    An unknown code is returned unchanged (the importer still makes a topic).
    """
    entry = CATEGORIES.get(code.strip())
    return entry[0] if entry else code


def topic_group(code: str) -> str:
    """Group of a category ("cs.CL" -> "Computer Science").

    For an unknown code, the group of its archive ("cs.XX" -> "Computer
    Science"), else "" when even the archive is unknown.
    """
    code = code.strip()
    entry = CATEGORIES.get(code)
    if entry:
        return entry[1]
    archive = code.split(".", 1)[0]
    entry = CATEGORIES.get(archive)
    if entry:
        return entry[1]
    for prefix, group in (
        ("eess", EESS),
        ("econ", ECONOMICS),
        ("q-fin", QUANTITATIVE_FINANCE),
        ("stat", STATISTICS),
    ):
        if archive == prefix:
            return group
    return ""
