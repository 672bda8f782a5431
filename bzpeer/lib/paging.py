"""The page number a visitor asked for, within sane bounds."""

from django.http import HttpRequest

# A page far past the end simply lists nothing; the bound keeps OFFSET sane.
MAX_PAGE = 10_000


def page_number(request: HttpRequest) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)
