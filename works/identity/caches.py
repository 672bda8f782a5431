"""The identity code's memoised name and text parsing, forgotten on demand.

Each cache is bounded (up to a million entries) and pays off inside a block, where the same
co-authors and words recur. A process that links block after block fills them all: after 40
tasks of a million-record load a linking process held 1.5 million entries, about 140 MB.
"""

from works.arxiv import names as arxiv_names
from works.identity import features, names, signature

_MODULES = (arxiv_names, names, features, signature)


def forget_caches() -> int:
    """Empty every ``functools`` cache of the modules above; the entries dropped."""
    dropped = 0
    for function in _cached_functions():
        dropped += function.cache_info().currsize
        function.cache_clear()
    return dropped


def _cached_functions():
    # Every cache the modules define, found rather than listed, so a new one is not missed.
    for module in _MODULES:
        for value in vars(module).values():
            if hasattr(value, "cache_clear") and value.__module__ == module.__name__:
                yield value
