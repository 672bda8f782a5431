"""Plain text that must stay on one line: subjects, names, ORCID iDs, links, affiliations.

A line break typed into a subject becomes a line of its own in a plain-text email (a fake "Read
it at https://..." under our signature); a terminal escape or a right-to-left override changes
what a reader sees. Single-line fields refuse them (`validate_single_line`); text stored before
that check is flattened where it is written into a line (`one_line`).
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError

# Unicode's control characters (C0, DEL, C1), the line and paragraph separators, and the
# bidirectional embeddings, overrides and isolates that reorder the text around them. The
# left-to-right and right-to-left marks stay allowed: names in mixed scripts use them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})

SINGLE_LINE_MESSAGE = (
    "Write this on one line, without line breaks, tabs or other control characters."
)


def is_control(character: str) -> bool:
    return character in _BIDI_CONTROLS or unicodedata.category(character) in _CATEGORIES


def validate_single_line(value: str) -> None:
    """A Django validator: one line of printable text."""
    if any(is_control(character) for character in str(value)):
        raise ValidationError(SINGLE_LINE_MESSAGE, code="control_characters")


_RUNS_OF_SPACE = re.compile(r" {2,}")


def one_line(text: str) -> str:
    """The text with each control character turned into a space (runs of them into one)."""
    flattened = "".join(" " if is_control(character) else character for character in text)
    return _RUNS_OF_SPACE.sub(" ", flattened).strip()
