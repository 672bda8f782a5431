"""Author names: LaTeX decoding, splitting free-text author lists, matching keys.

Pure functions, no Django and no database. The bulk importer calls
:func:`name_key` millions of times, so every regex is compiled once at import
and the two hot functions are memoised.

Keying decisions (what :func:`name_key` treats as "the same name string"):

* LaTeX accents are decoded first (``W{\\"u}bben`` -> ``Wübben``), then the
  text is NFKD-decomposed and every combining mark dropped, so composed,
  decomposed and LaTeX spellings of an accent all key alike (``wubben``).
  Letters that do not decompose are folded by hand (``ø`` -> ``o``,
  ``ł`` -> ``l``, ``æ`` -> ``ae``, ``ß`` -> ``ss``, ``ı`` -> ``i``...).
* Case is folded with :meth:`str.casefold`.
* ``"Last, First"`` is turned around to ``"First Last"`` before keying;
  ``"Last, First, Jr."`` becomes ``"First Last Jr."``; ``"John Smith, Jr."``
  (a bare suffix after the comma) is *not* turned around.
* Apostrophes are deleted (``O'Neil`` = ``ONeil``, ``Fal'ko`` = ``Falko``);
  every other run of punctuation (hyphens, dots, commas, brackets) becomes one
  space, and whitespace is collapsed and stripped.
* Hyphenated given names are split: ``Ji-Rong Wen`` keys as ``"ji rong wen"``,
  the same as ``Ji Rong Wen``, but *not* the same as ``Jirong Wen``: joining
  the syllables would also merge genuinely different two-part names, and the
  importer must prefer two records of one person (mergeable by an admin) to one
  record of two people.
* Initials are kept as single letters: ``Z. Zhang`` keys as ``"z zhang"`` and
  can never collide with ``Zhengyan Zhang`` (``"zhengyan zhang"``). Dots do not
  matter (``J.L. Cai`` = ``J. L. Cai`` = ``J.-L. Cai`` = ``"j l cai"``).
* Token order matters in :func:`name_key` (``Zhang Zhengyan`` is a different
  key); :func:`order_free_key` is the order-insensitive variant for search.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from works.arxiv.records import ParsedAuthor

__all__ = [
    "author_from_parts",
    "author_from_printed",
    "display_name",
    "is_initials_only",
    "is_junk_name",
    "is_organisation",
    "latex_to_unicode",
    "name_key",
    "order_free_key",
    "split_author_list",
]

# --------------------------------------------------------------------------
# LaTeX -> Unicode
# --------------------------------------------------------------------------

# Accent command -> combining character.
_ACCENTS = {
    '"': "\u0308",  # diaeresis
    "'": "\u0301",  # acute
    "`": "\u0300",  # grave
    "^": "\u0302",  # circumflex
    "~": "\u0303",  # tilde
    "=": "\u0304",  # macron
    ".": "\u0307",  # dot above
    "c": "\u0327",  # cedilla
    "v": "\u030c",  # caron
    "u": "\u0306",  # breve
    "H": "\u030b",  # double acute
    "k": "\u0328",  # ogonek
    "r": "\u030a",  # ring above
    "d": "\u0323",  # dot below
    "b": "\u0331",  # macron below
}

# Letter-like commands (no argument).
_SYMBOLS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "aa": "å",
    "AA": "Å",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "dh": "ð",
    "DH": "Ð",
    "th": "þ",
    "TH": "Þ",
    "ng": "ŋ",
    "NG": "Ŋ",
}

# The letter an accent sits on: a plain letter or a dotless \i / \j.
_BASE = r"(?:\\[ij](?![A-Za-z])|[A-Za-z])"
# Symbol accents: \"u  \"{u}  {\"u}  \'{\i}  \" u (TeX allows a space).
_SYMBOL_ACCENT_RE = re.compile(
    r"(\{)?\\([\"'`^~=.])\s*(?:\{\s*(" + _BASE + r")\s*\}|(" + _BASE + r"))(?(1)\})"
)
# Letter accents need a braced argument or a space: \c{c}  \v s  {\v{s}}.
_LETTER_ACCENT_RE = re.compile(
    r"(\{)?\\([cvuHkrdb])(?:\s*\{\s*(" + _BASE + r")\s*\}|\s+(" + _BASE + r"))(?(1)\})"
)
# Symbols: \ss  {\ss}  \o  \AA{}  \l  (not followed by another letter).
_SYMBOL_RE = re.compile(
    r"(\{)?\\(ss|aa|AA|ae|AE|oe|OE|dh|DH|th|TH|ng|NG|o|O|l|L|i|j)(?![A-Za-z])(?:\{\})?\s?(?(1)\})"
)
_ESCAPES_RE = re.compile(r"\\([&%_#$])")
# Braces around plain text ({Ch}ristopher, {van der} Berg), innermost first.
_PLAIN_BRACES_RE = re.compile(r"\{([^{}\\$]*)\}")
# Math is left alone.
_MATH_RE = re.compile(r"(\$[^$]*\$)")


def _accent(base: str, mark: str) -> str:
    if base.startswith("\\"):
        base = base[1]  # accented \i / \j: the accent replaces the dot
    return base + mark


def _sub_symbol_accent(m: re.Match[str]) -> str:
    return _accent(m.group(3) or m.group(4), _ACCENTS[m.group(2)])


def _sub_symbol(m: re.Match[str]) -> str:
    return _SYMBOLS[m.group(2)]


def _decode_text(text: str) -> str:
    text = _SYMBOL_ACCENT_RE.sub(_sub_symbol_accent, text)
    text = _LETTER_ACCENT_RE.sub(_sub_symbol_accent, text)
    text = _SYMBOL_RE.sub(_sub_symbol, text)
    text = _ESCAPES_RE.sub(r"\1", text)
    prev = None
    while prev != text:
        prev = text
        text = _PLAIN_BRACES_RE.sub(r"\1", text)
    return text


@lru_cache(maxsize=200_000)
def latex_to_unicode(text: str) -> str:
    """Decode LaTeX accents and letter commands to NFC Unicode.

    ``P\\'eter`` -> ``Péter``, ``{\\O}bro`` -> ``Øbro``, ``\\'{\\i}`` -> ``í``,
    ``{Ch}ristopher`` -> ``Christopher``. Unknown commands are kept, and so is
    math between ``$...$``. Whitespace is not touched.
    """
    if "\\" not in text and "{" not in text:
        return unicodedata.normalize("NFC", text)
    if "$" in text:
        parts = _MATH_RE.split(text)
        text = "".join(p if i % 2 else _decode_text(p) for i, p in enumerate(parts))
    else:
        text = _decode_text(text)
    return unicodedata.normalize("NFC", text)


def _clean(text: str) -> str:
    """LaTeX decoded, whitespace collapsed and stripped."""
    # The same as re.sub(r"\s+", " ", ...).strip(): \s, str.split and str.strip all take
    # str.isspace's characters for whitespace. Faster on short strings.
    return " ".join(latex_to_unicode(text or "").split())


# --------------------------------------------------------------------------
# Name structure
# --------------------------------------------------------------------------

_SUFFIXES = frozenset(
    {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "2nd", "3rd", "jnr", "jnr.", "snr", "snr."}
)
# Particles that belong to the surname. Lower-case forms always count;
# these also count when capitalised ("Adrian Del Maestro", "Hans De Raedt").
# works.identity.names splits names with the same list.
SURNAME_PARTICLES = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "delle",
        "dei",
        "degli",
        "di",
        "da",
        "das",
        "dos",
        "du",
        "des",
        "le",
        "la",
        "les",
        "ter",
        "ten",
        "zu",
        "'t",
    }
)
# Particles that count when lower-case only: as capitalised words they are
# too often given names or surnames ("Do", "Y").
_LOWER_ONLY_PARTICLES = frozenset({"do", "y", "e", "dal", "dalla", "lo"})


def _is_suffix(token: str) -> bool:
    return token.lower().rstrip(",") in _SUFFIXES


def _is_particle(token: str) -> bool:
    if token in _LOWER_ONLY_PARTICLES:
        return True
    low = token.lower()
    if low not in SURNAME_PARTICLES:
        return False
    return token == low or token[0].isupper() and token[1:] == low[1:]


def _split_tokens(tokens: list[str]) -> tuple[str, str]:
    """(keyname, forenames) of a name in natural order, suffix already removed.

    The surname is the last token, extended to the left to the first particle
    that has at least one given-name token before it: "A. de Souza Dutra" ->
    ("de Souza Dutra", "A."), "Floris van der Tak" -> ("van der Tak", "Floris").
    """
    if not tokens:
        return "", ""
    start = len(tokens) - 1
    for i in range(1, len(tokens) - 1):
        if _is_particle(tokens[i]):
            start = i
            break
    return " ".join(tokens[start:]), " ".join(tokens[:start])


def _natural_order(name: str) -> str:
    """Turn "Last, First[, Suffix]" around; leave "First Last, Jr." alone."""
    if "," not in name:
        return name
    parts = [p.strip() for p in name.split(",")]
    parts = [p for p in parts if p]
    if len(parts) < 2:
        return " ".join(parts)
    suffix = ""
    if len(parts) >= 3 and _is_suffix(parts[-1]):
        suffix = parts.pop()
    if len(parts) == 2 and _is_suffix(parts[1]):
        return f"{parts[0]} {parts[1]}"  # "John Smith, Jr."
    last, first = parts[0], " ".join(parts[1:])
    return " ".join(p for p in (first, last, suffix) if p)


def author_from_parts(
    keyname: str, forenames: str = "", suffix: str = "", affiliation: str = ""
) -> ParsedAuthor:
    """An author from split parts (OAI ``arXiv`` ``<author>``, ``authors_parsed``).

    ``printed`` is "Forenames Keyname Suffix", LaTeX decoded, whitespace
    collapsed. The parts are kept as the source split them, even where
    arXiv's splitter is wrong ("A. de Souza" + "Dutra", "Keck" + "Array",
    keyname ":"): keys are computed from ``printed``, so a wrong split does not
    change matching, and :func:`is_junk_name` / :func:`is_organisation` work on
    ``printed``.
    """
    keyname, forenames, suffix = _clean(keyname), _clean(forenames), _clean(suffix)
    printed = " ".join(p for p in (forenames, keyname, suffix) if p)
    return ParsedAuthor(
        printed=printed,
        keyname=keyname,
        forenames=forenames,
        suffix=suffix,
        affiliation=_clean(affiliation),
    )


def author_from_printed(printed: str, affiliation: str = "") -> ParsedAuthor:
    """An author from a display string, split into keyname/forenames/suffix.

    Accepts "First Last", "Last, First", "Last, First, Jr.", "First Last Jr."
    and "First Last, Jr.". ``printed`` keeps the given form (LaTeX decoded,
    whitespace collapsed); :func:`display_name` gives the natural order.
    An organisation ("The BABAR Collaboration") is not split: keyname = name.
    """
    text = _clean(printed)
    if is_organisation(text):
        return ParsedAuthor(printed=text, keyname=text, affiliation=_clean(affiliation))
    natural = _natural_order(text)
    tokens = natural.replace(",", " ").split()
    suffix = ""
    if len(tokens) >= 2 and _is_suffix(tokens[-1]):
        suffix = tokens.pop()
    keyname, forenames = _split_tokens(tokens)
    return ParsedAuthor(
        printed=text,
        keyname=keyname,
        forenames=forenames,
        suffix=suffix,
        affiliation=_clean(affiliation),
    )


def display_name(author: ParsedAuthor) -> str:
    """ "Forenames Keyname Suffix" when the parts are known, else the printed form."""
    if author.keyname:
        return " ".join(p for p in (author.forenames, author.keyname, author.suffix) if p)
    return _clean(_natural_order(_clean(author.printed)))


# --------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------

# Letters NFKD leaves alone.
_FOLD = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ß": "ss",
        "ı": "i",
        "ȷ": "j",
        "ħ": "h",
        "Ħ": "h",
        "ŋ": "ng",
        "Ŋ": "ng",
        "'": None,
        "\u2019": None,  # ’
        "\u2018": None,  # ‘
        "\u02bc": None,  # ʼ
        "`": None,
        "\u00b4": None,  # ´
    }
)
_NON_WORD_RE = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    if not text.isascii():  # ASCII has nothing to decompose: no pass over its characters
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return text.translate(_FOLD).casefold()


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    """The matching key of a name string (see the module docstring).

    ``name_key("Zhang, Zhengyan") == name_key("ZHENGYAN  ZHANG") ==
    "zhengyan zhang"``; ``name_key('Dirk W{\\"u}bben') == "dirk wubben"``.
    """
    text = latex_to_unicode(name)
    if "," in text:
        text = _natural_order(text)
    text = _fold(text)
    # casefold can produce new decomposable characters; fold once more
    if not text.isascii():
        text = _fold(text)
    return _NON_WORD_RE.sub(" ", text).strip()


def order_free_key(name: str) -> str:
    """:func:`name_key` with its tokens sorted ("Zhang Zhengyan" = "Zhengyan Zhang")."""
    return " ".join(sorted(name_key(name).split()))


def _is_initial(token: str) -> bool:
    """An initial: "Z", "Z.", or a dotted two-letter abbreviation ("Yu.", "Ch.")."""
    if len(token) == 1:
        return token.isalpha()
    if len(token) == 2 and token[1] == ".":
        return token[0].isalpha()
    if len(token) == 3 and token[2] == ".":
        return (
            token[0].isalpha() and token[0].isupper() and token[1].isalpha() and token[1].islower()
        )
    return False


_GIVEN_SPLIT_RE = re.compile(r"[\s\-\u2010\u2011]+|(?<=\.)")


def is_initials_only(name: str) -> bool:
    """True when every given-name token is an initial ("Z. Zhang", "J.-L. Cai").

    "J.L." and "J.-L." count as two initials. A dotted abbreviation of two
    letters ("Yu. N. Kosovtsov") counts as an initial; an undotted two-letter
    given name ("Yu Wu", "JL Cai") does not. A single-token name has no given
    names and is not initials-only.
    """
    text = _clean(name)
    if not text:
        return False
    author = author_from_printed(text)
    forenames = author.forenames
    if not forenames:
        return False
    tokens = [t for t in _GIVEN_SPLIT_RE.split(forenames) if t]
    return bool(tokens) and all(_is_initial(t) for t in tokens)


# --------------------------------------------------------------------------
# Organisations and junk
# --------------------------------------------------------------------------

_ORG_SUFFIX_RE = re.compile(
    r"\b(?:collaborations?|consortium|consortia|team|teams|group|groups|project|"
    r"working\s+group|task\s+force|collab\.?)$",
    re.IGNORECASE,
)
_ORG_WORD_RE = re.compile(r"\bcollaborations?\b", re.IGNORECASE)
_AI_ORG_RE = re.compile(r"^\w+-AI$")
_KNOWN_ORGS = frozenset(
    {
        "openai",
        "deepmind",
        "google deepmind",
        "meta ai",
        "mistral ai",
        "xai",
        "keck array",
        "the keck array",
        "anthropic",
    }
)
_PERSON_NOTE_RE = re.compile(r"\b(?:for|on behalf of)\s+the\b", re.IGNORECASE)


@lru_cache(maxsize=200_000)
def is_organisation(name: str) -> bool:
    """A collaboration, consortium, team or company printed as an author.

    True for names ending in Collaboration(s)/Consortium/Team/Group/Project,
    names containing "Collaboration" ("LIGO Scientific Collaboration and Virgo
    Collaboration"), ``<Word>-AI`` ("DeepSeek-AI") and a short known list
    (OpenAI, Keck Array...). Single ambiguous tokens ("Planck", "Fermi-LAT")
    are not organisations. "J. Smith for the ATLAS Collaboration" is a person.
    """
    text = _clean(name)
    if not text:
        return False
    if _PERSON_NOTE_RE.search(text):
        return False
    if _AI_ORG_RE.match(text):
        return True
    if name_key(text) in _KNOWN_ORGS:
        return True
    return bool(_ORG_SUFFIX_RE.search(text) or _ORG_WORD_RE.search(text))


_JUNK_KEYS = frozenset(
    {"et al", "etal", "et alii", "others", "and others", "et al and others", "etc", "anonymous"}
)


def is_junk_name(name: str) -> bool:
    """Not a name at all: empty, pure punctuation (":"), "et al.", "others", a bare "Jr."."""
    key = name_key(name or "")
    if not key:
        return True
    if key in _JUNK_KEYS:
        return True
    return _is_suffix(key)


# --------------------------------------------------------------------------
# Free-text author lists
# --------------------------------------------------------------------------

_AND_RE = re.compile(r"\s+and\s+|\s+&\s+")
_MARKERS_RE = re.compile(r"^\s*\d+(?:\s*(?:,|;|and|&|\s)\s*\d+)*\s*$")
_MARKER_NUM_RE = re.compile(r"\d+")
# "(1) CREST, ..., (2) Russian Research Centre"
_LEGEND_PAREN_RE = re.compile(r"\(\s*(\d+)\s*\)\s*")
# "1 Dip. Astro., Bologna; 2 INAF, Bologna"
_LEGEND_BARE_RE = re.compile(r"(?:^|[;,]\s*)(\d+)\s+(?=\S)")
_ET_AL_RE = re.compile(r"\s*,?\s*\bet\.?\s*al(?:ii)?\b\.?\s*$", re.IGNORECASE)


def _top_level_split(text: str) -> list[str]:
    """Split on commas, semicolons and colons outside parentheses."""
    out: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ",;:":
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _split_and(segment: str) -> list[str]:
    """Split one comma-segment on " and " / " & " outside parentheses."""
    if " and " not in segment and " & " not in segment and "and " not in segment[:4]:
        return [segment]
    # Split only at depth 0: search a copy with the parenthesised text masked.
    depth = 0
    buf: list[str] = []
    masked = []
    for ch in segment:
        if ch == "(":
            depth += 1
        masked.append(ch if depth == 0 else "\0")
        if ch == ")":
            depth = max(0, depth - 1)
    masked_text = "".join(masked)
    last = 0
    for m in _AND_RE.finditer(" " + masked_text):
        s, e = m.start() - 1, m.end() - 1
        buf.append(segment[last : max(s, 0)])
        last = e
    buf.append(segment[last:])
    return [p.strip() for p in buf]


def _trailing_paren(text: str) -> tuple[str, str | None]:
    """("Name", "content") when ``text`` ends with a balanced (...) group."""
    text = text.rstrip()
    if not text.endswith(")"):
        return text, None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            depth -= 1
            if depth == 0:
                return text[:i].rstrip(), text[i + 1 : -1].strip()
    return text, None


def _parse_legend(content: str) -> dict[str, str] | None:
    """{"1": "CREST, ...", ...} from an affiliation legend, else None."""
    content = content.strip()
    if content.startswith("("):
        pieces = _LEGEND_PAREN_RE.split(content)
        if pieces[0].strip():
            return None
    elif content[:1].isdigit():
        pieces = _LEGEND_BARE_RE.split(content)
        if pieces[0].strip() or len(pieces) < 3:
            return None
    else:
        return None
    legend: dict[str, str] = {}
    for num, aff in zip(pieces[1::2], pieces[2::2], strict=False):
        legend[num] = aff.strip().strip(",;").strip()
    return legend or None


def _name_and_affiliation(
    piece: str, legend: dict[str, str] | None
) -> tuple[str, str | None, bool]:
    """One author's name, its affiliation from the parentheses after it, and whether those
    were numbered markers (``(1 and 2)``, read through the ``legend``)."""
    name, paren = _trailing_paren(piece)
    affiliation: str | None = None
    markers = False
    while paren is not None:
        if _MARKERS_RE.match(paren):
            markers = True
            if legend:
                found = [legend[n] for n in _MARKER_NUM_RE.findall(paren) if n in legend]
                affiliation = "; ".join(found)
        elif paren:
            affiliation = paren if affiliation is None else f"{paren}; {affiliation}"
        name, paren = _trailing_paren(name)
    return name.strip(), affiliation, markers


def split_author_list(text: str) -> list[ParsedAuthor]:
    """Split the free-text authors of arXivRaw / the snapshot into authors.

    Handles commas, " and ", the Oxford comma, hard wraps, TeX accents,
    numbered affiliations (``A (1 and 2), B (1) ((1) X, (2) Y)``), a
    parenthesised affiliation after a name (which, as in arXiv's own parser,
    also applies to the preceding authors that have none yet: ``A and B
    (Leiden)``), a bare suffix after a comma (``John Smith, Jr.``) and a
    trailing "et al" (dropped). Organisations are kept; duplicates are kept.
    """
    text = _clean(text)
    if not text:
        return []
    legend: dict[str, str] | None = None
    head, content = _trailing_paren(text)
    if content is not None:
        legend = _parse_legend(content)
        if legend is not None:
            text = head
    text = _ET_AL_RE.sub("", text)

    names: list[tuple[str, str | None, bool]] = []  # (name, affiliation, has_markers)
    for segment in _top_level_split(text):
        for piece in _split_and(segment):
            piece = _ET_AL_RE.sub("", piece).strip()
            if not piece:
                continue
            name, affiliation, markers = _name_and_affiliation(piece, legend)
            if not name and affiliation and names:
                # "Name, (Affiliation)": attach to the author before
                prev_name, prev_aff, prev_markers = names[-1]
                if prev_aff is None:
                    names[-1] = (prev_name, affiliation, prev_markers)
                continue
            if _is_suffix(name) and names:
                prev_name, prev_aff, prev_markers = names[-1]
                names[-1] = (f"{prev_name} {name}", affiliation or prev_aff, prev_markers)
                continue
            if is_junk_name(name):  # ":", "et al", "others", a lone "Jr."
                continue
            if affiliation is not None and not markers:
                # a shared affiliation also covers the authors before it
                for j in range(len(names) - 1, -1, -1):
                    prev_name, prev_aff, prev_markers = names[j]
                    if prev_aff is not None or prev_markers:
                        break
                    names[j] = (prev_name, affiliation, prev_markers)
            names.append((name, affiliation, markers))

    return [author_from_printed(name, aff or "") for name, aff, _ in names]
