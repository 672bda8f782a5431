"""Every "at most one" and "unique" rule of PRODUCT.md about people's rows is the database's.

The services check these rules to say why; the constraints make them hold under races, admin
edits and scripts. Works' own rules (an arXiv id is one work, one signature per position) are
checked in tests/works.
"""

import pytest

from profiles.models import (
    AccountSettings,
    Block,
    Claim,
    Conversation,
    DigestDelivery,
    Follow,
    Invitation,
)


def _unique(model) -> dict[str, tuple[str, ...]]:
    return {c.name: tuple(c.fields) for c in model._meta.constraints if getattr(c, "fields", None)}


@pytest.mark.parametrize(
    ("model", "name", "fields"),
    [
        # "A record has at most one approved claim."
        (Claim, "claim_one_approved_per_record", ("record",)),
        # "An account ... can claim at most one record."
        (Claim, "claim_one_record_per_account", ("user",)),
        # One pending claim per account and record (a double click).
        (Claim, "claim_one_pending_per_pair", ("user", "record")),
        # An ORCID iD is one person (issue 12).
        (Claim, "claim_one_approved_per_orcid", ("orcid",)),
        # "One open invitation per pair."
        (Invitation, "invitation_one_open_per_pair", ("sender", "record")),
        (Follow, "follow_unique", ("user", "record")),
        (Block, "block_unique", ("owner", "blocked")),
        # "Each new work goes at most once" in a digest.
        (DigestDelivery, "digest_once_per_work", ("user", "work")),
    ],
)
def test_the_rule_is_a_unique_constraint(model, name, fields):
    assert _unique(model)[name] == fields


def test_one_conversation_per_invitation_and_one_settings_row_per_account():
    assert Conversation._meta.get_field("invitation").one_to_one
    assert AccountSettings._meta.get_field("user").one_to_one
