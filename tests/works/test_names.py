"""Author-name handling: LaTeX decoding, list splitting, keys (works.arxiv.names)."""

import html
import re
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from support import DEMO_FILE

from works.arxiv.names import (
    author_from_parts,
    author_from_printed,
    display_name,
    is_initials_only,
    is_junk_name,
    is_organisation,
    latex_to_unicode,
    name_key,
    order_free_key,
    split_author_list,
)
from works.arxiv.records import ParsedAuthor

# --------------------------------------------------------------------------
# latex_to_unicode
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tex", "expected"),
    [
        ('{\\"u}', "ü"),
        ('\\"{u}', "ü"),
        ('\\"u', "ü"),
        ("\\'e", "é"),
        ("\\'{e}", "é"),
        ("{\\'e}", "é"),
        ("\\`a", "à"),
        ("\\^o", "ô"),
        ("\\~n", "ñ"),
        ("\\c{c}", "ç"),
        ("\\v{s}", "š"),
        ("\\u{a}", "ă"),
        ("\\H{o}", "ő"),
        ("\\k{a}", "ą"),
        ("\\=a", "ā"),
        ("\\.z", "ż"),
        ("\\r{a}", "å"),
        ("{\\ss}", "ß"),
        ("\\o", "ø"),
        ("\\O", "Ø"),
        ("\\aa", "å"),
        ("\\AA", "Å"),
        ("\\ae", "æ"),
        ("\\l", "ł"),
        ("\\L", "Ł"),
        ("\\i", "ı"),
        ("\\'{\\i}", "í"),
        ("\\'\\i", "í"),
        ("{Ch}ristopher", "Christopher"),
        ("Mikkel {\\O}bro", "Mikkel Øbro"),
        ("C. Bal\\'azs", "C. Balázs"),
        ("P\\'eter E. Frenkel", "Péter E. Frenkel"),
        ("R. Tom\\`as", "R. Tomàs"),
        ('Dirk W{\\"u}bben', "Dirk Wübben"),
        (
            "Rastislav \\v{S}r\\'amek, Bro\\v{n}a Brejov\\'a, Tom\\'a\\v{s} Vina\\v{r}",
            "Rastislav Šrámek, Broňa Brejová, Tomáš Vinař",
        ),
        ("Stra{\\ss}e", "Straße"),
        ("Plain Name", "Plain Name"),
    ],
)
def test_latex_to_unicode(tex, expected):
    assert latex_to_unicode(tex) == expected


def test_latex_to_unicode_is_nfc():
    assert latex_to_unicode("e\u0301") == "é"
    assert unicodedata.is_normalized("NFC", latex_to_unicode("\\'e"))


def test_latex_to_unicode_leaves_math_alone():
    assert latex_to_unicode("$\\'e {x}$ and \\'e") == "$\\'e {x}$ and é"
    assert latex_to_unicode("$^{11}$Be") == "$^{11}$Be"


# --------------------------------------------------------------------------
# author_from_parts / author_from_printed / display_name
# --------------------------------------------------------------------------


def test_author_from_parts():
    assert author_from_parts("Evans", "Neal J.", "II") == ParsedAuthor(
        printed="Neal J. Evans II", keyname="Evans", forenames="Neal J.", suffix="II"
    )
    a = author_from_parts("Bal\\'azs", " C.\n  ", affiliation="Univ.\n  X")
    assert (a.printed, a.keyname, a.forenames, a.affiliation) == (
        "C. Balázs",
        "Balázs",
        "C.",
        "Univ. X",
    )


def test_author_from_parts_keeps_arxivs_split():
    # arXiv's own (wrong) split is kept; printed and the key are still right.
    dutra = author_from_parts("Dutra", "A. de Souza")
    assert (dutra.keyname, dutra.forenames, dutra.printed) == (
        "Dutra",
        "A. de Souza",
        "A. de Souza Dutra",
    )
    keck = author_from_parts("Array", "Keck")
    assert keck.printed == "Keck Array"
    assert is_organisation(keck.printed)
    colon = author_from_parts(":")
    assert colon.printed == ":"
    assert is_junk_name(colon.printed)


@pytest.mark.parametrize(
    ("printed", "keyname", "forenames", "suffix"),
    [
        ("Zhengyan Zhang", "Zhang", "Zhengyan", ""),
        ("Zhang, Zhengyan", "Zhang", "Zhengyan", ""),
        ("Adrian Del Maestro", "Del Maestro", "Adrian", ""),
        ("A. Del Maestro", "Del Maestro", "A.", ""),
        ("A. de Souza Dutra", "de Souza Dutra", "A.", ""),
        ("Neal J. Evans II", "Evans", "Neal J.", "II"),
        ("Evans, Neal J., II", "Evans", "Neal J.", "II"),
        ("John Smith, Jr.", "Smith", "John", "Jr."),
        ("Jr.", "Jr.", "", ""),
        ("Floris van der Tak", "van der Tak", "Floris", ""),
        ("Robert P. C. de Marrais", "de Marrais", "Robert P. C.", ""),
        ("Paolo Di Vecchia", "Di Vecchia", "Paolo", ""),
        ("Hans De Raedt", "De Raedt", "Hans", ""),
        ("Patricio S. letelier", "letelier", "Patricio S.", ""),
        ("Ji-Rong Wen", "Wen", "Ji-Rong", ""),
        ("Van Vu", "Vu", "Van", ""),  # a leading "Van" is a given name
        ("Sudha", "Sudha", "", ""),
        ("C. Bal\\'azs", "Balázs", "C.", ""),
    ],
)
def test_author_from_printed(printed, keyname, forenames, suffix):
    a = author_from_printed(printed)
    assert (a.keyname, a.forenames, a.suffix) == (keyname, forenames, suffix)


def test_author_from_printed_keeps_printed_form_and_affiliation():
    a = author_from_printed("Zhang,\n   Zhengyan ", affiliation="Tsinghua\n  University")
    assert a.printed == "Zhang, Zhengyan"
    assert a.affiliation == "Tsinghua University"
    assert display_name(a) == "Zhengyan Zhang"


def test_author_from_printed_organisation_is_not_split():
    a = author_from_printed("The BABAR Collaboration")
    assert (a.keyname, a.forenames) == ("The BABAR Collaboration", "")


def test_display_name():
    assert display_name(author_from_parts("Evans", "Neal J.", "II")) == "Neal J. Evans II"
    assert display_name(author_from_printed("Zhang, Zhengyan")) == "Zhengyan Zhang"
    assert display_name(ParsedAuthor(printed="Zhang, Zhengyan")) == "Zhengyan Zhang"
    assert display_name(ParsedAuthor(printed="DeepSeek-AI")) == "DeepSeek-AI"


# --------------------------------------------------------------------------
# split_author_list
# --------------------------------------------------------------------------


def _printed(authors):
    return [a.printed for a in authors]


def test_split_oxford_comma():
    authors = split_author_list("D.V. Shetty, S.J. Yennello, and G.A. Souliotis")
    assert _printed(authors) == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert authors[2].keyname == "Souliotis"


def test_split_and_lowercase_surname():
    assert _printed(split_author_list("Valeria M. Rosa and Patricio S. letelier")) == [
        "Valeria M. Rosa",
        "Patricio S. letelier",
    ]


def test_split_numbered_affiliations():
    text = (
        "A. S. Mishchenko (1 and 2) and N. Nagaosa (1 and 3) ((1) CREST, Japan\n"
        "  Science and Technology Agency, (2) Russian Research Centre, (3) University of Tokyo)"
    )
    authors = split_author_list(text)
    assert [(a.printed, a.affiliation) for a in authors] == [
        (
            "A. S. Mishchenko",
            "CREST, Japan Science and Technology Agency; Russian Research Centre",
        ),
        ("N. Nagaosa", "CREST, Japan Science and Technology Agency; University of Tokyo"),
    ]


def test_split_numbered_affiliations_without_parenthesised_numbers():
    text = (
        "B. Lanzoni (1,2), F.R. Ferraro (1), C. Mancini\n  (3) (1\n"
        "  Dip. Astro., Bologna; 2 INAF, Bologna, 3 Dip. Astro. e Scienza dello Spazio, Firenze)"
    )
    authors = split_author_list(text)
    assert [(a.printed, a.affiliation) for a in authors] == [
        ("B. Lanzoni", "Dip. Astro., Bologna; INAF, Bologna"),
        ("F.R. Ferraro", "Dip. Astro., Bologna"),
        ("C. Mancini", "Dip. Astro. e Scienza dello Spazio, Firenze"),
    ]


def test_split_single_affiliation():
    [author] = split_author_list("John Smith (MIT)")
    assert (author.printed, author.keyname, author.affiliation) == ("John Smith", "Smith", "MIT")


def test_split_affiliation_with_commas_and_shared_affiliation():
    text = (
        "Floris van der Tak (SRON Groningen), John Black (Onsala), Fredrik\n"
        "  Schoeier (Stockholm), David Jansen and Ewine van Dishoeck (Leiden)"
    )
    assert [(a.printed, a.affiliation) for a in split_author_list(text)] == [
        ("Floris van der Tak", "SRON Groningen"),
        ("John Black", "Onsala"),
        ("Fredrik Schoeier", "Stockholm"),
        ("David Jansen", "Leiden"),  # shared with the next author, as arXiv does
        ("Ewine van Dishoeck", "Leiden"),
    ]
    text = "Francisco J. Botella (Valencia U. & Valencia U., IFIC), Miguel Nebot\n  (Lisbon, IST)"
    assert [(a.printed, a.affiliation) for a in split_author_list(text)] == [
        ("Francisco J. Botella", "Valencia U. & Valencia U., IFIC"),
        ("Miguel Nebot", "Lisbon, IST"),
    ]


def test_split_decodes_tex_and_collapses_wraps():
    text = (
        'Peter Brommer and Franz G\\"ahler (Institut f\\"ur Theoretische und\n'
        '  Angewandte Physik, Universit\\"at Stuttgart)'
    )
    authors = split_author_list(text)
    assert _printed(authors) == ["Peter Brommer", "Franz Gähler"]
    assert {a.affiliation for a in authors} == {
        "Institut für Theoretische und Angewandte Physik, Universität Stuttgart"
    }
    assert _printed(
        split_author_list("C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan")
    ) == [
        "C. Balázs",
        "E. L. Berger",
        "P. M. Nadolsky",
        "C.-P. Yuan",
    ]
    assert _printed(split_author_list("Paul Harvey, Neal J. Evans II, Nicholas\n  Chapman")) == [
        "Paul Harvey",
        "Neal J. Evans II",
        "Nicholas Chapman",
    ]


def test_split_et_al_suffix_and_collaboration():
    assert _printed(split_author_list("The BABAR Collaboration, B. Aubert, et al")) == [
        "The BABAR Collaboration",
        "B. Aubert",
    ]
    assert _printed(split_author_list("F. Aharonian, et al")) == ["F. Aharonian"]
    assert _printed(split_author_list("John Smith, Jr., and Jane Doe")) == [
        "John Smith Jr.",
        "Jane Doe",
    ]
    assert _printed(split_author_list("BELLE Collaboration: A Person, Nother Person")) == [
        "BELLE Collaboration",
        "A Person",
        "Nother Person",
    ]
    assert split_author_list("") == []
    assert split_author_list("  \n ") == []


def _deepseek_r1_authors() -> str:
    # The demo file carries the list exactly as seed-works.md gives it.
    text = DEMO_FILE.read_text(encoding="utf-8")
    record = text[text.index("<id>2501.12948</id>") :]
    raw = re.search(r"<authors>(.*?)</authors>", record, re.S).group(1)
    return html.unescape(raw)


def test_split_deepseek_r1_list():
    authors = split_author_list(_deepseek_r1_authors())
    assert len(authors) == 200  # duplicates are kept
    assert authors[0].printed == "DeepSeek-AI"
    assert is_organisation(authors[0].printed)
    assert not any(is_organisation(a.printed) for a in authors[1:])
    assert authors[184].printed == "Zhengyan Zhang"
    keys = [name_key(a.printed) for a in authors[1:]]
    assert len(keys) == 199 and len(set(keys)) == 197
    assert keys.count("shengfeng ye") == 2 and keys.count("yanhong xu") == 2
    initials = [a.printed for a in authors if is_initials_only(a.printed)]
    assert "Z. F. Wu" in initials and "J. L. Cai" in initials and "H. Zhang" in initials
    assert "Zhengyan Zhang" not in initials


# --------------------------------------------------------------------------
# name_key / order_free_key
# --------------------------------------------------------------------------


def test_name_key_examples():
    same = [
        "Zhengyan Zhang",
        "Zhang, Zhengyan",
        "ZHENGYAN  ZHANG",
        "Zhengyan Zhang ",
        "zhengyan zhang",
    ]
    assert {name_key(n) for n in same} == {"zhengyan zhang"}
    same = ["Dirk Wübben", 'Dirk W{\\"u}bben', 'Dirk W\\"ubben', "Dirk Wubben", "Dirk Wu\u0308bben"]
    assert {name_key(n) for n in same} == {"dirk wubben"}
    assert name_key("C. Bal\\'azs") == name_key("C. Balázs") == "c balazs"
    assert name_key("Patricio S. letelier") == name_key("Patricio S. Letelier")
    assert name_key("Mikkel {\\O}bro") == "mikkel obro"
    assert name_key("Evans, Neal J., II") == name_key("Neal J. Evans II") == "neal j evans ii"
    assert name_key("John Smith, Jr.") == "john smith jr"
    assert name_key("K. O'Neil") == name_key("K. O\u2019Neil") == "k oneil"


def test_name_key_hyphens_dots_and_initials():
    # Documented decision: hyphenated given names split into syllables.
    assert name_key("Ji-Rong Wen") == name_key("Ji Rong Wen") == "ji rong wen"
    assert name_key("Ji-Rong Wen") != name_key("Jirong Wen")
    assert name_key("J.-L. Cai") == name_key("J. L. Cai") == name_key("J.L. Cai") == "j l cai"
    # Initials never merge into a full name.
    assert name_key("Z. Zhang") == "z zhang"
    assert name_key("Z. Zhang") != name_key("Zhengyan Zhang")
    assert name_key("A. Del Maestro") != name_key("Adrian Del Maestro")


def test_name_key_junk_is_empty():
    assert name_key("") == ""
    assert name_key(":") == ""
    assert name_key("  ...  ") == ""


def test_order_free_key():
    assert order_free_key("Zhang Zhengyan") == order_free_key("Zhengyan Zhang")
    assert order_free_key("Zhang, Zhengyan") == order_free_key("ZHANG ZHENGYAN")
    assert order_free_key("Zhengyan Zhang") == "zhang zhengyan"


# --------------------------------------------------------------------------
# is_initials_only / is_organisation / is_junk_name
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Z. Zhang",
        "Z Zhang",
        "Z. F. Wu",
        "R. J. Chen",
        "J.-L. Cai",
        "J.L. Cai",
        "S C Tiwari",
        "Zhang, Z.",
        "C. Bal\\'azs",
        "A. de Souza Dutra",
        "Yu.N. Kosovtsov",
    ],
)
def test_is_initials_only_true(name):
    assert is_initials_only(name)


@pytest.mark.parametrize(
    "name",
    [
        "Zhengyan Zhang",
        "Zhang, Zhengyan",
        "Ji-Rong Wen",
        "Yu Wu",
        "Dean E. McLaughlin",
        "S. Michael Fall",
        "Sudha",
        "",
        "DeepSeek-AI",
        "Patricio S. letelier",
    ],
)
def test_is_initials_only_false(name):
    assert not is_initials_only(name)


@pytest.mark.parametrize(
    "name",
    [
        "DeepSeek-AI",
        "OpenAI",
        "ATLAS Collaboration",
        "The CMS Collaboration",
        "The BABAR Collaboration",
        "BICEP2 Collaborations",
        "Keck Array",
        "LIGO Scientific Collaboration and Virgo Collaboration",
        "Planck Consortium",
        "Qwen Team",
        "Fermi-LAT Collaboration",
        "Pierre Auger Project",
        "Particle Data Group",
    ],
)
def test_is_organisation_true(name):
    assert is_organisation(name)


@pytest.mark.parametrize(
    "name",
    [
        "Zhengyan Zhang",
        "Fermi-LAT",
        "Planck",
        "Wei Ai",
        "A. de Souza Dutra",
        "J. Smith for the ATLAS Collaboration",
        "",
        ":",
    ],
)
def test_is_organisation_false(name):
    assert not is_organisation(name)


@pytest.mark.parametrize(
    "name", [":", "", "   ", "...", "et al", "et al.", "Et Al.", "others", "Jr."]
)
def test_is_junk_name_true(name):
    assert is_junk_name(name)


@pytest.mark.parametrize("name", ["Sudha", "Zhengyan Zhang", "DeepSeek-AI", "Z. Zhang"])
def test_is_junk_name_false(name):
    assert not is_junk_name(name)


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

_SUFFIX_WORDS = {"jr", "sr", "ii", "iii", "iv", "2nd", "3rd", "jnr", "snr"}

# Name-like words: Latin letters (plain and accented), apostrophes and hyphens inside.
_LETTERS = st.characters(categories=("Lu", "Ll"), max_codepoint=0x024F, exclude_characters="ʼ")
word = st.text(_LETTERS, min_size=1, max_size=10).filter(
    lambda w: w.casefold().rstrip(".") not in _SUFFIX_WORDS
)
words = st.lists(word, min_size=1, max_size=4)


@given(st.text(max_size=40))
def test_name_key_idempotent(text):
    key = name_key(text)
    assert name_key(key) == key
    assert key == key.strip() and "  " not in key


@given(words)
def test_name_key_case_insensitive(tokens):
    name = " ".join(tokens)
    assert name_key(name.upper()) == name_key(name.lower()) == name_key(name)


@given(words, st.lists(st.sampled_from([" ", "  ", "\n  ", "\t"]), min_size=5, max_size=5))
def test_name_key_whitespace_insensitive(tokens, gaps):
    spaced = gaps[0] + "".join(t + gaps[(i + 1) % 5] for i, t in enumerate(tokens))
    assert name_key(spaced) == name_key(" ".join(tokens))


@given(words, words)
def test_name_key_last_first(first, last):
    first_s, last_s = " ".join(first), " ".join(last)
    assert name_key(f"{last_s}, {first_s}") == name_key(f"{first_s} {last_s}")
    assert name_key(f"{last_s},{first_s}") == name_key(f"{first_s} {last_s}")


_TEX_ACCENTS = {
    "\u0301": "'",
    "\u0300": "`",
    "\u0308": '"',
    "\u0302": "^",
    "\u0303": "~",
    "\u030c": "v",
    "\u0327": "c",
}
accented_letter = st.tuples(
    st.sampled_from("aceinosuzAEINOSUZ"), st.sampled_from([None, *_TEX_ACCENTS])
)


@given(st.lists(st.lists(accented_letter, min_size=1, max_size=8), min_size=1, max_size=3))
def test_name_key_accent_forms(tokens):
    decomposed = " ".join("".join(b + (m or "") for b, m in tok) for tok in tokens)
    composed = unicodedata.normalize("NFC", decomposed)

    def tex(base, mark):
        if mark is None:
            return base
        cmd = _TEX_ACCENTS[mark]
        return f"\\{cmd}{{{base}}}" if cmd.isalpha() else f"{{\\{cmd}{base}}}"

    latex = " ".join("".join(tex(b, m) for b, m in tok) for tok in tokens)
    plain = " ".join("".join(b for b, _ in tok) for tok in tokens)
    assert name_key(composed) == name_key(decomposed) == name_key(latex) == name_key(plain)


@given(words.flatmap(lambda ts: st.permutations(ts).map(lambda p: (ts, p))))
def test_order_free_key_ignores_token_order(pair):
    tokens, permuted = pair
    assert order_free_key(" ".join(tokens)) == order_free_key(" ".join(permuted))


long_given = st.text(st.characters(categories=("Ll",), max_codepoint=0x7F), min_size=2, max_size=9)


@given(st.lists(long_given, min_size=1, max_size=3), word, st.booleans())
def test_is_initials_only_false_for_full_given_names(given_names, surname, comma_form):
    given_names = [g.capitalize() for g in given_names]
    assume(all(g.casefold() not in _SUFFIX_WORDS for g in given_names))
    name = (
        f"{surname}, {' '.join(given_names)}"
        if comma_form
        else f"{' '.join(given_names)} {surname}"
    )
    assert not is_initials_only(name)


@given(st.lists(st.sampled_from("ABCDEFGHJKLMNPRSTWXYZ"), min_size=1, max_size=3), word)
def test_is_initials_only_true_for_initials(initials, surname):
    assume(surname[0].isupper() and len(surname) >= 2)
    assume(not is_organisation(surname))
    assert is_initials_only(" ".join(f"{i}." for i in initials) + f" {surname}")
    assert name_key(" ".join(f"{i}." for i in initials) + f" {surname}") != name_key(
        "Zhengyan " + surname
    )
