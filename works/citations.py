"""Citations of works in the formats reference managers read: BibTeX, RIS and CSL-JSON.

Pure: no Django, no database. Views gather ``CitedWork`` values (``works/exports.py``) and these
functions write them.

- **BibTeX** follows arXiv's own recommendation: ``@misc`` with ``eprint``, ``archivePrefix``,
  ``primaryClass`` (and ``doi`` when the work has one). The file is UTF-8: accented names stay
  as they are (biber and bibtex8 read them; a name is always split into ``Family, Given`` so no
  style has to guess), organisations are braced (``{DeepSeek-AI}``) so they are never split.
  Titles are arXiv's LaTeX: math between ``$`` is kept untouched, the characters BibTeX or
  LaTeX would misread (``& % # _``) are escaped, and words with a capital inside (``DeepSeek-R1``,
  ``LLMs``, ``mHC``) are braced so styles that lower-case titles keep them.
- **RIS**: ``UNPB`` for preprints, ``JOUR`` for works with a journal reference, one ``AU`` per
  author in ``Family, Given`` form.
- **CSL-JSON** (what Zotero, citeproc-js and citeproc-py render): ``article`` (CSL's preprint
  type) or ``article-journal``, names split into family and given, organisations as
  ``literal``.

A withdrawn work says so in each format (a note, ``N1``, CSL ``status``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from works.arxiv.names import author_from_printed, latex_to_unicode

BIBTEX_CONTENT_TYPE = "application/x-bibtex; charset=utf-8"
RIS_CONTENT_TYPE = "application/x-research-info-systems; charset=utf-8"
CSL_JSON_CONTENT_TYPE = "application/vnd.citationstyles.csl+json; charset=utf-8"

WITHDRAWN_NOTE = "Withdrawn by its authors on arXiv"


@dataclass(frozen=True)
class CitedAuthor:
    printed: str
    is_person: bool = True

    @property
    def name_parts(self) -> tuple[str, str, str]:
        """(family, given, suffix); an organisation is all family, never split."""
        if not self.is_person:
            return self.printed, "", ""
        parsed = author_from_printed(self.printed)
        return parsed.keyname or self.printed, parsed.forenames, parsed.suffix

    @property
    def parts(self) -> tuple[str, str]:
        """(family with its suffix, given): what RIS and CSL-JSON want."""
        family, given, suffix = self.name_parts
        return " ".join(p for p in (family, suffix) if p), given


@dataclass(frozen=True)
class CitedWork:
    arxiv_id: str
    title: str
    authors: list[CitedAuthor]
    year: int | None
    updated: dt.datetime | None = None
    primary_category: str = ""
    dois: list[str] = field(default_factory=list)
    journal_ref: str = ""
    abstract: str = ""
    withdrawn: bool = False
    # More authors than listed (an export may stop listing at some length): "and others".
    more_authors: bool = False

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.arxiv_id}"

    @property
    def plain_title(self) -> str:
        """The title for formats that read text, not LaTeX (math kept between $)."""
        return latex_to_unicode(self.title)


def filename(arxiv_id_or_slug: str, extension: str) -> str:
    """A download name: old-style arXiv ids carry a slash (hep-th/9901001)."""
    return f"{arxiv_id_or_slug.replace('/', '_')}.{extension}"


# --- BibTeX ----------------------------------------------------------------------------------

_MATH_RE = re.compile(r"(\$[^$]*\$)")
# Characters LaTeX treats as commands, when they are not escaped already.
_SPECIAL_RE = re.compile(r"(?<!\\)([&%#_])")
_WORD_RE = re.compile(r"\S+")
_INNER_CAPITAL_RE = re.compile(r"^[^\w]*\w+?[A-Z]|^[^\w]*[A-Z]{2}")
_TRAILING_PUNCTUATION = ":;,.!?"
_KEY_STOP_WORDS = frozenset({"a", "an", "the", "on", "of", "in", "for", "to", "and", "with"})


def _ascii_letters(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _balanced(text: str) -> bool:
    depth = 0
    for position, character in enumerate(text):
        if position and text[position - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def _protect_word(word: str) -> str:
    if "{" in word or "\\" in word or not _INNER_CAPITAL_RE.match(word):
        return word
    core = word.rstrip(_TRAILING_PUNCTUATION)
    return "{" + core + "}" + word[len(core) :]


def bibtex_title(title: str) -> str:
    """arXiv's LaTeX title made safe for a BibTeX field (see the module's docstring)."""
    if not _balanced(title):
        title = title.replace("{", r"\{").replace("}", r"\}")
    parts = _MATH_RE.split(title)
    for index in range(0, len(parts), 2):  # the text between math
        text = _SPECIAL_RE.sub(r"\\\1", parts[index])
        parts[index] = _WORD_RE.sub(lambda m: _protect_word(m.group()), text)
    return "".join(parts)


_BIBTEX_TEXT_ESCAPES = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "&": r"\&",
        "%": r"\%",
        "#": r"\#",
        "_": r"\_",
        "$": r"\$",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)


def bibtex_text(text: str) -> str:
    """Plain text (a name, a DOI) as a BibTeX field value."""
    return text.translate(_BIBTEX_TEXT_ESCAPES)


def _bibtex_name(author: CitedAuthor) -> str:
    """``Family, Given`` (``Family, Jr., Given``): BibTeX's unambiguous form."""
    family, given, suffix = author.name_parts
    if not author.is_person:
        return "{" + bibtex_text(family) + "}"
    # "and" inside a name would split it into two people.
    family, given, suffix = (
        re.sub(r"\band\b", "{and}", bibtex_text(part)) for part in (family, given, suffix)
    )
    if " " in family and not given:
        family = "{" + family + "}"
    return ", ".join(part for part in (family, suffix, given) if part)


def bibtex_key(work: CitedWork) -> str:
    """arXiv's style of key: first author's family name, year, first word of the title."""
    family = _ascii_letters(work.authors[0].parts[0]) if work.authors else ""
    words = [_ascii_letters(w) for w in latex_to_unicode(work.title).split()]
    first_word = next((w for w in words if w and w not in _KEY_STOP_WORDS), "")
    return f"{family or 'arxiv'}{work.year or ''}{first_word}" or "arxiv"


def bibtex_entry(work: CitedWork, key: str) -> str:
    names = [_bibtex_name(author) for author in work.authors]
    if work.more_authors:
        names.append("others")
    fields = [
        ("title", bibtex_title(work.title)),
        ("author", " and ".join(names)),
        ("year", str(work.year) if work.year else ""),
        ("eprint", work.arxiv_id),
        ("archivePrefix", "arXiv"),
        ("primaryClass", work.primary_category),
        ("doi", bibtex_text(work.dois[0]) if work.dois else ""),
        ("url", work.abs_url),
        ("note", WITHDRAWN_NOTE if work.withdrawn else ""),
    ]
    body = ",\n".join(f"      {name}={{{value}}}" for name, value in fields if value)
    return f"@misc{{{key},\n{body}\n}}\n"


def bibtex(works: Iterable[CitedWork]) -> Iterator[str]:
    """One entry per work, keys unique within the file (``zhang2021cpt``, ``zhang2021cpta``)."""
    used: set[str] = set()
    for work in works:
        base = key = bibtex_key(work)
        suffix = 0
        while key in used:
            suffix += 1
            key = base + _letters(suffix)
        used.add(key)
        yield bibtex_entry(work, key) + "\n"


def _letters(number: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("a") + remainder) + letters
    return letters


# --- RIS ---------------------------------------------------------------------------------------


def _ris_value(text: str) -> str:
    return " ".join(text.split())


def ris_entry(work: CitedWork) -> str:
    lines = [("TY", "JOUR" if work.journal_ref else "UNPB")]
    for author in work.authors:
        family, given = author.parts
        lines.append(("AU", f"{family}, {given}" if given else family))
    lines += [
        ("TI", work.plain_title),
        ("PY", str(work.year) if work.year else ""),
        ("DA", work.updated.strftime("%Y/%m/%d") if work.updated else ""),
        ("AB", work.abstract),
        ("JO", work.journal_ref),
        ("PB", "arXiv"),
        ("M1", f"arXiv:{work.arxiv_id}"),
        ("KW", work.primary_category),
        ("UR", work.abs_url),
        ("L1", work.pdf_url),
        *(("DO", doi) for doi in work.dois[:1]),
        ("N1", WITHDRAWN_NOTE if work.withdrawn else ""),
        ("N1", "And more authors" if work.more_authors else ""),
    ]
    body = "".join(f"{tag}  - {_ris_value(value)}\r\n" for tag, value in lines if value)
    return body + "ER  - \r\n\r\n"


def ris(works: Iterable[CitedWork]) -> Iterator[str]:
    for work in works:
        yield ris_entry(work)


# --- CSL-JSON ----------------------------------------------------------------------------------


def csl_item(work: CitedWork) -> dict:
    authors = []
    for author in work.authors:
        family, given = author.parts
        if not author.is_person:
            authors.append({"literal": family})
        else:
            authors.append({"family": family, "given": given} if given else {"family": family})
    item: dict = {
        "id": f"arXiv:{work.arxiv_id}",
        "type": "article-journal" if work.journal_ref else "article",
        "title": work.plain_title,
        "author": authors,
        "publisher": "arXiv",
        "number": f"arXiv:{work.arxiv_id}",
        "URL": work.abs_url,
    }
    if work.year:
        item["issued"] = {"date-parts": [[work.year]]}
    if work.primary_category:
        item["keyword"] = work.primary_category
    if work.dois:
        item["DOI"] = work.dois[0]
    if work.journal_ref:
        item["container-title"] = work.journal_ref
    if work.abstract:
        item["abstract"] = work.abstract
    if work.withdrawn:
        item["status"] = "withdrawn"
        item["note"] = WITHDRAWN_NOTE
    return item


def plain_citation(work: CitedWork, *, max_authors: int = 3) -> str:
    """One line for people: "Guo, D., Yang, D. and others (2026). Title. arXiv:2501.12948." """
    names = []
    for author in work.authors[:max_authors]:
        family, given = author.parts
        initials = " ".join(f"{part[0]}." for part in given.replace("-", " ").split() if part)
        names.append(f"{family}, {initials}" if initials else family)
    more = work.more_authors or len(work.authors) > max_authors
    byline = ", ".join(names) + (" et al." if more else "")
    year = f" ({work.year})" if work.year else ""
    withdrawn = " Withdrawn." if work.withdrawn else ""
    return f"{byline}{year}. {work.plain_title}. arXiv:{work.arxiv_id}.{withdrawn}"
