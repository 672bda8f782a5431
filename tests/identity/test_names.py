"""Name parts, block keys and name compatibility (works.identity.names)."""

import pytest

from works.identity.names import (
    NAME_CONFLICT,
    NAME_FIRST_EQUAL,
    NAME_FULL_EQUAL,
    NAME_INITIALS,
    NAME_MIDDLE_CONFLICT,
    block_key,
    coauthor_key,
    is_person_name,
    name_compatibility,
    parse_name,
)

ZHENGYAN_PRINTINGS = [
    "Zhengyan Zhang",
    "Zhèngyan Zhang",
    "Zh\\`engyan Zhang",
    "ZhengYan Zhang",
    "Zhang Zhengyan",
    "Zheng-Yan Zhang",
    "Zhang, Zhengyan",
    "Zhengyan ZHANG",
    "ZHANG Zhengyan",
    "Z. Zhang",
    "Z.-Y. Zhang",
]


@pytest.mark.parametrize("printed", ZHENGYAN_PRINTINGS)
def test_every_printing_of_zhengyan_zhang_is_in_one_block(printed):
    assert block_key(printed) == "zhang z"


@pytest.mark.parametrize(
    "printed",
    [
        "Zhengyan Zhang",
        "Zhèngyan Zhang",
        "ZhengYan Zhang",
        "Zhang Zhengyan",
        "Zheng-Yan Zhang",
        "Zhang, Zhengyan",
        "Zheng Yan Zhang",
    ],
)
def test_full_printings_of_zhengyan_are_the_same_full_name(printed):
    reference = parse_name("Zhengyan Zhang")
    parts = parse_name(printed)
    assert parts.surname == "zhang"
    assert parts.given_full == "zhengyan"
    assert name_compatibility(reference, parts) == NAME_FULL_EQUAL


def test_hyphen_and_camel_case_give_syllable_initials():
    assert parse_name("Zheng-Yan Zhang").initials == "zy"
    assert parse_name("ZhengYan Zhang").initials == "zy"
    assert parse_name("Zhengyan Zhang").initials == "z"


@pytest.mark.parametrize("printed", ["J.-L. Cai", "J. L. Cai", "J.L. Cai", "JL Cai"])
def test_initials_with_or_without_dots_are_alike(printed):
    parts = parse_name(printed)
    assert (parts.surname, parts.given, parts.initials) == ("cai", ("j", "l"), "jl")
    assert parts.initials_only


@pytest.mark.parametrize(
    "printed", ["Cai JL", "Cai J.L.", "Cai J.-L.", "J.-L. Cai", "JL Cai", "Cai, J. L."]
)
def test_initials_behind_the_surname_as_indexes_print_them(printed):
    parts = parse_name(printed)
    assert (parts.surname, parts.given, parts.initials) == ("cai", ("j", "l"), "jl")


@pytest.mark.parametrize(
    ("printed", "key"),
    [
        ("Smith JA", "smith j"),
        ("Wang W", "wang w"),
        ("de Souza M.", "desouza m"),
        ("Koushik MV", "koushik m"),  # as arXiv printed it
        ("Jones AN", "jones a"),  # "AN" is a pinyin syllable, but not after "Jones"
        ("Yu SUN", "sun y"),  # a surname in capitals is no initials
        ("Wei LI", "li w"),
        ("Xiaoming AN", "an x"),
    ],
)
def test_a_short_capital_word_last_is_initials_unless_it_is_a_surname(printed, key):
    assert block_key(printed) == key


def test_initials_behind_the_surname_fit_the_name_written_out():
    assert name_compatibility(parse_name("Smith JA"), parse_name("John A. Smith")) == NAME_INITIALS
    assert name_compatibility(parse_name("Smith JB"), parse_name("John A. Smith")) == (
        NAME_MIDDLE_CONFLICT
    )


def test_particles_and_suffixes():
    assert parse_name("Floris van der Tak").surname == "vandertak"
    assert block_key("Floris van der Tak") == "vandertak f"
    assert parse_name("John Smith Jr.") == parse_name("Smith, John, Jr.")
    assert parse_name("John Smith, Jr.").given == ("john",)


def test_latex_accents_are_decoded():
    assert block_key('Dirk W{\\"u}bben') == "wubben d"
    assert parse_name("José M. García") == parse_name("Jos\\'e M. Garc\\'{\\i}a")


def test_a_nickname_in_brackets_is_dropped():
    assert parse_name("Hong (Iris) Xie") == parse_name("Hong Xie")


@pytest.mark.parametrize(
    "printed",
    [
        "DeepSeek-AI",
        "ATLAS Collaboration",
        "The BABAR Collaboration",
        "et al.",
        "et al",
        "and others",
        "others",
        "Plato",
        "Jr.",
        "",
        ":",
        "J. Smith (MIT)",
        "A. Lee (Univ. of Tokyo)",
    ],
)
def test_not_a_person(printed):
    assert parse_name(printed) is None
    assert block_key(printed) is None
    assert not is_person_name(printed)


def test_both_words_surnames_share_a_block_whatever_the_order():
    assert block_key("Li Wang") == block_key("Wang Li") == "wang l"
    assert block_key("Wei Wang") == block_key("Wang Wei") == "wang w"


def test_western_names_keep_their_printed_order():
    assert block_key("Lee Smith") == "smith l"
    assert block_key("David Lee") == "lee d"


def test_coauthor_key_is_first_initial_and_surname():
    assert coauthor_key("Mukesh K. Mohania") == coauthor_key("M. Mohania") == "m mohania"
    assert coauthor_key("ATLAS Collaboration") is None


def _level(a, b):
    return name_compatibility(parse_name(a), parse_name(b))


def test_two_different_full_given_names_never_match():
    assert _level("Wei Wang", "Wen Wang") == NAME_CONFLICT
    assert _level("Zhengyan Zhang", "Zheng Zhang") == NAME_CONFLICT
    assert _level("Wei Wang", "Y. Wang") == NAME_CONFLICT


def test_an_initial_fits_a_full_name_starting_with_it():
    assert _level("Z. Zhang", "Zhengyan Zhang") == NAME_INITIALS
    assert _level("Z. Y. Zhang", "Zheng-Yan Zhang") == NAME_INITIALS
    assert _level("Z. Y. Zhang", "Zhengyan Zhang") == NAME_INITIALS
    assert _level("J.-L. Cai", "Jean-Luc Cai") == NAME_INITIALS


def test_middle_initials_that_differ_are_evidence_against():
    assert _level("John M. Smith", "John K. Smith") == NAME_MIDDLE_CONFLICT
    assert _level("J. M. Smith", "John K. Smith") == NAME_MIDDLE_CONFLICT
    assert _level("John M. Smith", "John Smith") == NAME_FIRST_EQUAL
    assert _level("Mukesh K. Mohania", "Mukesh Kumar Mohania") == NAME_FIRST_EQUAL
