"""Claims of author records. (Owned by the accounts work.)"""

from profiles.models import AuthorRecord


def page_context(record: AuthorRecord, user) -> dict:
    return {}
