"""Name parts for author disambiguation: surname, given names, initials, block keys.

Pure functions, no Django. LaTeX, accents and "Last, First" come from
:mod:`works.arxiv.names`; this module adds what identity needs on top:

* :func:`parse_name` splits a printed name into :class:`NameParts` (folded,
  lower-case, accent-free), or returns ``None`` when the string is not one
  person (an organisation, "et al.", a single token, a name carrying a
  parenthesised affiliation).
* :func:`block_key` is surname + first initial (``"zhang z"``). Names printed
  surname-first ("Zhang Zhengyan") are turned around when the evidence says so
  (see :func:`_surname_first`), so every printing of one person lands in one
  block; blocks are never joined afterwards.
* :func:`name_compatibility` says how two printings of a surname relate: the
  same full given name, an initial that fits a full name, a middle-initial
  conflict, or two different full given names (never the same person).

Given names are compared with hyphens, spaces and case ignored, so
"Zheng-Yan" = "ZhengYan" = "Zheng Yan" = "Zhengyan" (full given ``"zhengyan"``),
while the syllables still give initials (``"zy"``) for matching "Z. Y. Zhang".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from works.arxiv.names import (
    SURNAME_PARTICLES,
    is_junk_name,
    is_organisation,
    latex_to_unicode,
    name_key,
)

__all__ = [
    "NameParts",
    "block_key",
    "coauthor_key",
    "coauthor_name",
    "coauthor_parts",
    "coauthor_parts_of_name",
    "parts_as_coauthor",
    "is_common_name",
    "is_common_surname",
    "is_person_name",
    "name_compatibility",
    "parse_name",
    "NAME_CONFLICT",
    "NAME_MIDDLE_CONFLICT",
    "NAME_INITIALS",
    "NAME_FIRST_EQUAL",
    "NAME_FULL_EQUAL",
]

# name_compatibility levels, weakest to strongest; NAME_CONFLICT is never one person.
NAME_CONFLICT = 0
NAME_MIDDLE_CONFLICT = 1  # same first name/initial, different middle initials
NAME_INITIALS = 2  # at least one side is initials only, and they fit
NAME_FIRST_EQUAL = 3  # same full first name, middle names present on one side only
NAME_FULL_EQUAL = 4  # same full given names (hyphens, spaces, case ignored)


@dataclass(frozen=True)
class NameParts:
    """One printed person name, folded (lower-case ASCII where possible).

    ``given`` holds one entry per given-name word: a full name ("zhengyan",
    hyphen/camel parts joined) or a one-letter initial. ``initials`` has one
    letter per syllable the printing shows ("Zheng-Yan" -> "zy", "Zhengyan" ->
    "z", "J.-L." -> "jl"). ``surname`` keeps particles, without spaces
    ("van der Berg" -> "vanderberg").
    """

    surname: str
    given: tuple[str, ...]
    initials: str

    @property
    def first_initial(self) -> str:
        return self.initials[:1]

    @property
    def first_name(self) -> str:
        """The first given name when printed in full, else ""."""
        return self.given[0] if self.given and len(self.given[0]) > 1 else ""

    @property
    def given_full(self) -> str:
        """All given names joined ("zhengyan", "johnm"), "" when only initials."""
        return "".join(self.given) if self.first_name else ""

    @property
    def initials_only(self) -> bool:
        return not self.first_name

    @property
    def block_key(self) -> str:
        return f"{self.surname} {self.first_initial}"


# --------------------------------------------------------------------------
# Surname-first printings
# --------------------------------------------------------------------------

# Common Chinese (pinyin), Korean and Vietnamese surnames, most frequent first:
# the order breaks ties when both words of a two-word name are surnames
# ("Li Wang" / "Wang Li" -> surname "wang").
_EAST_ASIAN_SURNAMES = [
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "he",
    "lin",
    "gao",
    "luo",
    "zheng",
    "liang",
    "xie",
    "song",
    "tang",
    "han",
    "feng",
    "deng",
    "cao",
    "peng",
    "zeng",
    "xiao",
    "tian",
    "dong",
    "pan",
    "yuan",
    "cai",
    "jiang",
    "yu",
    "du",
    "ye",
    "cheng",
    "wei",
    "su",
    "lu",
    "ding",
    "ren",
    "shen",
    "yao",
    "jin",
    "fu",
    "zhong",
    "cui",
    "tan",
    "qiu",
    "jia",
    "fan",
    "shi",
    "hou",
    "bai",
    "meng",
    "qin",
    "xiong",
    "kong",
    "dai",
    "mao",
    "qian",
    "yan",
    "gu",
    "kang",
    "wen",
    "fang",
    "hao",
    "niu",
    "duan",
    "lei",
    "long",
    "tao",
    "he",
    "shao",
    "wan",
    "qi",
    "yin",
    "chang",
    "yi",
    "qiao",
    "lai",
    "hong",
    "xue",
    "lv",
    "lyu",
    "kim",
    "lee",
    "park",
    "choi",
    "jung",
    "jeong",
    "kang",
    "cho",
    "yoon",
    "jang",
    "lim",
    "han",
    "shin",
    "seo",
    "kwon",
    "hwang",
    "ahn",
    "song",
    "hong",
    "nguyen",
    "tran",
    "pham",
    "hoang",
    "huynh",
    "phan",
    "vu",
    "vo",
    "dang",
    "bui",
    "ngo",
    "duong",
    "ly",
]
_SURNAME_RANK = {}
for _rank, _name in enumerate(_EAST_ASIAN_SURNAMES):
    _SURNAME_RANK.setdefault(_name, _rank)

# Other surnames among the most frequent of their countries (census rankings of the
# United States, Britain, Germany, France, Spain, Portugal and Brazil, Italy, the
# Netherlands, Scandinavia, India, Bangladesh, Japan, Russia; Wade-Giles and
# Cantonese spellings of Chinese surnames), folded as NameParts.surname. Only
# commonness reads them, never block keys.
_OTHER_COMMON_SURNAMES = frozenset(
    re.findall(
        r"[a-z]+",
        """
    smith johnson williams brown jones miller davis wilson anderson thomas taylor moore
    jackson martin thompson white harris clark lewis robinson walker young allen king wright
    scott hill green adams nelson baker hall campbell mitchell carter roberts phillips evans
    turner parker edwards collins stewart morris murphy cook rogers morgan cooper peterson
    bailey reed kelly howard cox ward richardson watson brooks wood james bennett gray hughes
    price sanders myers long ross foster davies clarke
    muller mueller schmidt schneider fischer weber meyer meier wagner becker schulz schulze
    hoffmann hofmann schafer koch bauer richter klein wolf schroder neumann schwarz zimmermann
    braun kruger hartmann lange werner krause lehmann
    bernard dubois robert richard petit durand leroy moreau simon laurent lefebvre michel
    david bertrand roux vincent fournier
    garcia fernandez gonzalez rodriguez lopez martinez sanchez perez gomez jimenez ruiz
    hernandez diaz moreno alvarez munoz romero alonso gutierrez navarro torres dominguez
    ramirez flores rivera cruz reyes morales ortiz ramos chavez mendoza castillo
    silva santos oliveira souza pereira costa ferreira almeida carvalho
    rossi russo ferrari esposito bianchi romano colombo ricci marino greco bruno gallo conti
    dejong devries jansen janssen hansen johansson andersson nilsson larsson olsen jensen
    nielsen pedersen
    kumar singh sharma gupta patel shah jain reddy rao verma agarwal mishra yadav das iyer
    nair pillai krishnan khan ali ahmed rahman hussain hossain islam
    sato suzuki takahashi tanaka watanabe ito yamamoto nakamura kobayashi kato yoshida yamada
    sasaki yamaguchi matsumoto inoue kimura hayashi shimizu
    chang hsu hsieh tsai kuo chou yeh liao cheung wong chan leung lau ng tsang chiu chu lam
    ivanov smirnov kuznetsov popov petrov
    """,
    )
)


def is_common_surname(surname: str) -> bool:
    """A surname shared by millions (the East Asian list above, or another country's
    most frequent): a name with it is common however few of its signatures a corpus
    holds, as a small corpus cannot show that "Wei Wang" or "Thomas Taylor" is many
    people."""
    return surname in _SURNAME_RANK or surname in _OTHER_COMMON_SURNAMES


def is_common_name(name: NameParts) -> bool:
    """A name shared by so many people that no corpus count can say otherwise: one with a
    common surname (:func:`is_common_surname`), except an East Asian surname with a full
    given name of two syllables or more ("Zhengyan Zhang", "Xu-Han Li"). The commonest
    surnames with a one-syllable given name ("Wei Zhang") are each worn by hundreds of
    thousands; with two syllables the given names spread over thousands of combinations."""
    if not is_common_surname(name.surname):
        return False
    given = name.given_full
    two_syllables = len(name.given) == 1 and given not in _PINYIN and _is_pinyin(given)
    return not (name.surname in _SURNAME_RANK and two_syllables)


_PINYIN_INITIALS = [
    "zh",
    "ch",
    "sh",
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "r",
    "z",
    "c",
    "s",
    "y",
    "w",
]
_PINYIN_FINALS = [
    "a",
    "o",
    "e",
    "i",
    "u",
    "v",
    "ai",
    "ei",
    "ao",
    "ou",
    "an",
    "en",
    "ang",
    "eng",
    "ong",
    "er",
    "ia",
    "ie",
    "iao",
    "iu",
    "ian",
    "in",
    "iang",
    "ing",
    "iong",
    "ua",
    "uo",
    "uai",
    "ui",
    "uan",
    "un",
    "uang",
    "ue",
    "ueng",
]
_PINYIN = frozenset({i + f for i in _PINYIN_INITIALS for f in _PINYIN_FINALS} | set(_PINYIN_FINALS))


@lru_cache(maxsize=50_000)
def _is_pinyin(word: str) -> bool:
    """True when ``word`` splits into one to three pinyin-like syllables."""
    if not word or len(word) > 18:
        return False

    def split_from(start: int, left: int) -> bool:
        if start == len(word):
            return True
        if left == 0:
            return False
        return any(
            word[start:end] in _PINYIN and split_from(end, left - 1)
            for end in range(min(len(word), start + 6), start, -1)
        )

    return split_from(0, 3)


def _surname_first(first: str, last: str) -> bool:
    """Is a two-word name printed surname first ("Zhang Zhengyan")?

    Only East Asian surnames are considered, and a Western "Lee Smith" stays as
    printed because "smith" is not pinyin. When both words are surnames the more
    frequent one wins, whatever the printed order, so "Li Wang" and "Wang Li"
    share a block (the price: "W. Li" for that person is in another block).
    """
    first_rank = _SURNAME_RANK.get(first)
    if first_rank is None:
        return False
    last_rank = _SURNAME_RANK.get(last)
    if last_rank is None:
        return _is_pinyin(last)
    return first_rank < last_rank


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "2nd", "3rd", "jnr", "snr"})
# The surname particles of works.arxiv.names (one list), as name keys; "'t" (a key
# of one letter) is left out, as it would read a middle initial "T." as a particle,
# and "St." joins them ("John St Clair").
_PARTICLES = frozenset({key for key in map(name_key, SURNAME_PARTICLES) if len(key) > 1} | {"st"})
_PAREN_RE = re.compile(r"\(([^()]*)\)")
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_TOKEN_SPLIT_RE = re.compile(r"\s+")
_PIECE_SPLIT_RE = re.compile(r"[.\-\u2010\u2011]+")

# "oe", "ue" (and in surnames "ae") written for an umlaut after a consonant and before two
# more letters: "Mueller", "Schroeder", "Joerg", "Gaertner". Not "ue" after j, q, x, y, l or
# n, a pinyin final ("Xue", "Yuejun"); not near a word's end ("Joe", "Paes", "Rodriguez",
# "Shabaev"); not "ae" in given names ("Michael" is not "Michal").
_OE = r"(?<=[b-df-hj-np-tv-z])(o)"
_UE = r"(?<=[bcdfghkmprstvwz])(u)"
_AE = r"(?<=[b-df-hj-np-tv-z])(a)"
_GIVEN_UMLAUT_RE = re.compile(rf"(?:{_OE}|{_UE})e(?=[a-z]{{2}})")
_SURNAME_UMLAUT_RE = re.compile(rf"(?:{_OE}|{_UE}|{_AE})e(?=[a-z]{{2}})")


def _without_umlaut_e(pattern: re.Pattern, word: str) -> str:
    return pattern.sub(lambda match: match.group(match.lastindex), word)


_NICKNAME_RE = re.compile(r"^[A-Z][a-z]+$")


def _strip_nickname(text: str) -> str | None:
    """Drop a nickname in brackets ("Hong (Iris) Xie"); None for an affiliation.

    A bracket that closes the name or holds more than one word is an
    affiliation ("J. Smith (MIT)", "A. Lee (Univ. of X)"): such a string is
    an author-list parsing leftover, not a clean person name.
    """
    while True:
        match = _PAREN_RE.search(text)
        if match is None:
            return text if "(" not in text and ")" not in text else None
        inner = match.group(1).strip()
        at_end = not text[match.end() :].strip()
        if at_end or not _NICKNAME_RE.match(inner):
            return None
        text = (text[: match.start()] + " " + text[match.end() :]).strip()


def _natural_tokens(text: str) -> tuple[list[str], bool]:
    """Tokens in "given... surname" order, and whether a comma fixed the order."""
    if "," not in text:
        return _TOKEN_SPLIT_RE.split(text), False
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) >= 2 and name_key(parts[-1]) in _SUFFIXES:
        parts = parts[:-1]  # "Smith, John, Jr." / "John Smith, Jr."
    if len(parts) == 1:
        return _TOKEN_SPLIT_RE.split(parts[0]), False
    given = " ".join(parts[1:])
    return _TOKEN_SPLIT_RE.split(f"{given} {parts[0]}"), True


def _word_like(letters: str) -> bool:
    """A known surname or pinyin: "LI", "XU" are words, "JL", "AJ" are initials."""
    return letters in _SURNAME_RANK or _is_pinyin(letters)


def _shouted_word(token: str) -> bool:
    """An all-capitals word (not initials): the surname in "ZHANG Zhengyan"."""
    letters = name_key(token).replace(" ", "")
    if not token.isupper() or "." in token or len(letters) < 2:
        return False
    return len(letters) >= 4 or _word_like(letters)


def _given_entry(token: str, shouting: bool) -> tuple[str, str] | None:
    """(full given name or "", initials) for one printed given-name token."""
    pieces = [p for p in _PIECE_SPLIT_RE.split(token) if name_key(p)]
    if not pieces:
        return None
    keys = [name_key(p).replace(" ", "") for p in pieces]
    if all(len(k) == 1 for k in keys) or ("." in token and all(len(k) <= 2 for k in keys)):
        return "", "".join(k[0] for k in keys)  # "J.", "J.-L.", "Yu."
    letters = "".join(keys)
    if not shouting and token.isupper() and len(letters) <= 3 and not _word_like(letters):
        return "", letters  # "JL Cai"
    syllables = keys if len(keys) > 1 else [token] if shouting else _CAMEL_RE.split(token)
    initials = "".join(name_key(s)[:1] for s in syllables if name_key(s))
    return letters, initials


def _printed_initials(token: str, first: str = "") -> bool:
    """Initials printed as one token: "JA", "W", "J.A.", "J.-P.", not a short surname in
    capitals ("LI"; "JA" behind a pinyin given name, as in "Xiaoming AN")."""
    letters = name_key(token).replace(" ", "")
    if not letters or len(letters) > 3:
        return False
    if "." in token:
        return all(len(name_key(piece)) <= 1 for piece in _PIECE_SPLIT_RE.split(token))
    if not token.isupper() or letters in _SURNAME_RANK:
        return False
    return not _is_pinyin(letters) or not _is_pinyin(name_key(first).replace(" ", ""))


def _split_given_surname(tokens: list[str], comma: bool) -> tuple[list[str], list[str]]:
    """(given tokens, surname tokens), particles going with the surname."""
    if (
        not comma
        and any(c.islower() for c in tokens[0])
        and not _printed_initials(tokens[0])
        and _printed_initials(tokens[-1], tokens[0])
    ):
        # Surname, then initials, as indexes print authors ("Smith JA", "de Souza M."): a
        # written-out first word never comes behind its own initials. "JA" is read as the
        # initials "J.A.", not as the given name "Ja".
        initials = tokens[-1] if "." in tokens[-1] else ".".join(tokens[-1]) + "."
        return [initials], tokens[:-1]
    if not comma and len(tokens) == 2:
        first, last = name_key(tokens[0]), name_key(tokens[1])
        shouting_first = _shouted_word(tokens[0]) and not tokens[1].isupper()
        shouting_last = _shouted_word(tokens[1]) and not tokens[0].isupper()
        if shouting_first or (not shouting_last and _surname_first(first, last)):
            return [tokens[1]], [tokens[0]]
    start = len(tokens) - 1
    for i in range(1, len(tokens) - 1):
        if name_key(tokens[i]) in _PARTICLES:
            start = i
            break
    return tokens[:start], tokens[start:]


@lru_cache(maxsize=500_000)
def parse_name(printed: str) -> NameParts | None:
    """The parts of one printed person name, or None when it is not one person.

    ``parse_name("Zhang, Zhengyan") == parse_name("Zheng-Yan Zhang") ==
    NameParts("zhang", ("zhengyan",), "z" or "zy")``; ``parse_name("DeepSeek-AI")``,
    ``parse_name("et al.")`` and ``parse_name("Plato")`` are None.
    """
    text = latex_to_unicode(printed or "").strip()
    if not text or is_junk_name(text) or is_organisation(text):
        return None
    text = _strip_nickname(text)
    if text is None:
        return None
    tokens, comma = _natural_tokens(text)
    tokens = [t for t in tokens if name_key(t)]
    while len(tokens) > 2 and name_key(tokens[-1]) in _SUFFIXES:
        tokens.pop()
    if len(tokens) < 2:
        return None
    given_tokens, surname_tokens = _split_given_surname(tokens, comma)
    surname = name_key(" ".join(surname_tokens)).replace(" ", "")
    # German umlauts reach arXiv both ways ("Müller", "Mueller"): one spelling, as the folded
    # "muller"; never in East Asian names, where "ue" and "ae" are syllables ("Xue", "Daehyun").
    umlauts = surname not in _SURNAME_RANK
    shouting = text.isupper()
    given: list[str] = []
    initials = ""
    for token in given_tokens:
        entry = _given_entry(token, shouting)
        if entry is None:
            continue
        full, token_initials = entry
        if full and umlauts:
            full = _without_umlaut_e(_GIVEN_UMLAUT_RE, full)
        given.extend([full] if full else list(token_initials))
        initials += token_initials
    if umlauts:
        surname = _without_umlaut_e(_SURNAME_UMLAUT_RE, surname)
    if not surname or not initials:
        return None
    return NameParts(surname=surname, given=tuple(given), initials=initials)


def is_person_name(printed: str) -> bool:
    """True when ``printed`` reads as one person (see :func:`parse_name`)."""
    return parse_name(printed) is not None


def block_key(printed: str) -> str | None:
    """Surname + first initial ("zhang z"), None when not a person.

    "Zhengyan Zhang", "Zhang Zhengyan", "Zhang, Zhengyan", "Z. Zhang" and
    "Zhèngyan Zhang" all give "zhang z".
    """
    parts = parse_name(printed)
    return parts.block_key if parts else None


def coauthor_key(printed: str) -> str | None:
    """A co-author as "first-initial surname" ("m mohania"), None when not a person.

    Deliberately coarse: "Mukesh K. Mohania" and "M. Mohania" must count as one
    shared co-author.
    """
    return coauthor_parts(printed)[0]


def coauthor_name(printed: str) -> str | None:
    """A co-author as its :func:`coauthor_key` plus the first given name when printed in
    full ("m mohania|mukesh"; "m mohania" for "M. Mohania"), or, for a surname of
    :func:`is_common_surname`, all the initials when there are several ("j wang|.jh" for
    "J. H. Wang"); None when not a person.

    The key alone collides: in a "wang w" block "Jian Wang" and "Jun Wang" are both
    "j wang", and most co-authors two namesakes seemed to share were such collisions.
    :func:`works.identity.features.resolve_coauthors` keeps the first name only for
    keys that print two different first names in the profiles compared.
    """
    return coauthor_parts(printed)[1]


def coauthor_first_name(printed: str) -> tuple[str, str] | None:
    """(:func:`coauthor_key`, first given name) of a co-author printed with a full first
    name ("m mohania", "mukesh"), else None: :func:`coauthor_name` split in two."""
    return coauthor_parts(printed)[2]


_NO_COAUTHOR = (None, None, None)


@lru_cache(maxsize=500_000)
def coauthor_parts(printed: str) -> tuple[str | None, str | None, tuple[str, str] | None]:
    """(:func:`coauthor_key`, :func:`coauthor_name`, :func:`coauthor_first_name`) of one
    printed co-author, worked out together and cached as one entry: a 1,000-author team's
    names were three lookups each in three caches of half a million entries, and those
    lookups, missing the processor's caches, were most of the cost of reading the team."""
    return parts_as_coauthor(parse_name(printed))


def parts_as_coauthor(
    parts: NameParts | None,
) -> tuple[str | None, str | None, tuple[str, str] | None]:
    """:func:`coauthor_parts` of a name already parsed (not cached: the loader's parsing
    workers, which parse every printed name for its block, keep no second cache of them)."""
    if parts is None:
        return _NO_COAUTHOR
    key = f"{parts.first_initial} {parts.surname}"
    if parts.first_name:
        return key, f"{key}|{parts.first_name}", (key, parts.first_name)
    if len(parts.initials) > 1 and is_common_surname(parts.surname):
        # "J. H. Wang", "Wang JH": a key worn by thousands, narrowed by the other initials
        return key, f"{key}|.{parts.initials}", None
    return key, key, None


def coauthor_parts_of_name(name: str) -> tuple[str | None, str | None, tuple[str, str] | None]:
    """:func:`coauthor_parts` of a printed name, from its :func:`coauthor_name` as stored
    ("" for none; works.models.Authorship.coauthor_name): the key is what comes before "|", a
    first name what comes after it unless it is initials (".jh")."""
    if not name:
        return _NO_COAUTHOR
    key, _, rest = name.partition("|")
    return key, name, (key, rest) if rest and rest[0] != "." else None


def _initials_fit(short: str, long: str) -> bool:
    return long.startswith(short) or short.startswith(long)


def name_compatibility(a: NameParts, b: NameParts) -> int:
    """How two name printings of one block relate (``NAME_*`` levels).

    NAME_CONFLICT when the surnames or first initials differ or both print
    different full given names: "Wei Wang" / "Wen Wang" are never one person.
    An initial fits a full name that starts with it; "Zheng-Yan" fits "Z. Y."
    and "Zhengyan" alike (its syllables are unknown).
    """
    if a.surname != b.surname or a.first_initial != b.first_initial:
        return NAME_CONFLICT
    if a.first_name and b.first_name:
        if a.given_full == b.given_full:
            return NAME_FULL_EQUAL
        if a.first_name != b.first_name:
            return NAME_CONFLICT
        a_middle, b_middle = "".join(a.given[1:]), "".join(b.given[1:])
        if a_middle and b_middle and a_middle[0] != b_middle[0]:
            return NAME_MIDDLE_CONFLICT
        return NAME_FIRST_EQUAL
    if _initials_fit(a.initials, b.initials):
        return NAME_INITIALS
    # "Zhengyan" shows one initial for two syllables: only a first-initial match is known
    joined = (a.first_name and len(a.initials) == 1) or (b.first_name and len(b.initials) == 1)
    return NAME_INITIALS if joined else NAME_MIDDLE_CONFLICT
