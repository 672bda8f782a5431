"""A linking process empties the identity caches once it holds too much memory."""

import pytest

from works import first_load
from works.identity import features, names
from works.identity.caches import forget_caches
from works.identity.signature import Signature


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


def test_a_coauthor_is_parsed_into_one_cache_entry_for_its_key_name_and_first_name():
    forget_caches()
    Signature(
        signature_id="1",
        paper_id="p",
        author="Zhengyan Zhang",
        coauthors=("Maosong Sun", "Z. Liu", "J. H. Wang", "DeepSeek-AI"),
    )

    assert names.coauthor_parts.cache_info().currsize == 4
    assert names.coauthor_parts("J. H. Wang") == ("j wang", "j wang|.jh", None)
    assert names.coauthor_parts("DeepSeek-AI") == (None, None, None)
    # the three readings share that entry rather than holding caches of their own
    assert not hasattr(names.coauthor_name, "cache_info")
