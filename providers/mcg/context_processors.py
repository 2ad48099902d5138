"""Template context: the signed-in user's unread inbox count (counted only when a template shows it)."""

from functools import cache

from . import selectors


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def unread():
        return selectors.unread_count(user)

    return {"inbox_unread_count": unread}
