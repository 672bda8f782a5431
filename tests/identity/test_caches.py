"""A linking process empties the identity caches once it holds too much memory."""

import pytest

from works import first_load
from works.identity import features, names
from works.identity.caches import forget_caches


def _fill_caches():
    names.parse_name("Zhengyan Zhang")
    names.coauthor_key("Maosong Sun")
    features._is_common_key("zhang z")


def test_forgetting_empties_every_identity_cache_and_counts_what_it_dropped():
    forget_caches()
    _fill_caches()

    assert forget_caches() >= 3
    assert names.parse_name.cache_info().currsize == 0
    assert features._is_common_key.cache_info().currsize == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("resident", "forgotten"), [(first_load.LINK_PROCESS_MB + 1, True), (80, False)]
)
def test_a_linking_task_forgets_the_caches_only_past_its_memory_limit(
    monkeypatch, resident, forgotten
):
    monkeypatch.setattr(first_load, "resident_mb", lambda: resident)
    _fill_caches()

    first_load.plan_blocks(["nobody n"])

    assert (names.parse_name.cache_info().currsize == 0) is forgotten
