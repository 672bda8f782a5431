"""Following records. (Owned by the accounts work.)"""

from profiles.models import AuthorRecord, Follow


def page_context(record: AuthorRecord, user) -> dict:
    following = (
        user.is_authenticated and Follow.objects.filter(user=user, record=record).exists()
    )
    return {"is_following": bool(following)}
