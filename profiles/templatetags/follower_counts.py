"""A record's follower count and its plural, or the markers the stored profile page keeps
in their place (profiles/page_cache.py fills them in for each visit)."""

from django import template
from django.utils.safestring import mark_safe

from profiles.page_cache import COUNT_MARK, PLURAL_MARK, plural_suffix

register = template.Library()


@register.simple_tag(takes_context=True)
def follower_count(context, record):
    if context.get("follower_markers"):
        return mark_safe(COUNT_MARK)
    return record.follower_count


@register.simple_tag(takes_context=True)
def follower_plural(context, record):
    if context.get("follower_markers"):
        return mark_safe(PLURAL_MARK)
    return plural_suffix(record.follower_count)
