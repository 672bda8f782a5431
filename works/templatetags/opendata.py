"""Machine-readable page metadata: ``{{ data|jsonld }}`` writes a schema.org JSON-LD block.

Escaped like Django's ``json_script``: ``<``, ``>`` and ``&`` become ``\\u003C``... inside the
JSON, so a title holding ``</script>`` or ``<!--`` cannot end the block or open a comment; the
JSON stays equal (a JSON parser reads the escapes back). ``type="application/ld+json"`` is a data
block, never run, so it needs no Content-Security-Policy allowance.
"""

from __future__ import annotations

import orjson
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
# U+2028 and U+2029 end a line in JavaScript but not in JSON; escaped for old parsers.
_SCRIPT_ESCAPES |= {0x2028: "\\u2028", 0x2029: "\\u2029"}


def jsonld_text(data: dict) -> str:
    return orjson.dumps(data).decode().translate(_SCRIPT_ESCAPES)


@register.filter
def jsonld(data: dict | None) -> SafeString:
    if not data:
        return mark_safe("")
    # Safe: every character that could end the script element is escaped above.
    return mark_safe(f'<script type="application/ld+json">{jsonld_text(data)}</script>')  # noqa: S308
