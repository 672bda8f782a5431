"""German umlauts printed both ways share a block, and the migration moves stored ones
(with those of initials printed behind the surname)."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from works.identity.names import NAME_FULL_EQUAL, block_key, name_compatibility, parse_name
from works.models import Authorship, Work


@pytest.mark.parametrize(
    ("umlaut", "spelt_out"),
    [
        ("Frank Müller", "Frank Mueller"),
        ("Jörg Schröder", "Joerg Schroeder"),
        ("Anna Gärtner", "Anna Gaertner"),
        ("Michael Schäfer", "Michael Schaefer"),
        ("Frank Müller", "Frank Muller"),  # the diacritic dropped
    ],
)
def test_an_umlaut_and_its_spelt_out_form_are_one_name(umlaut, spelt_out):
    assert block_key(umlaut) == block_key(spelt_out)
    assert name_compatibility(parse_name(umlaut), parse_name(spelt_out)) == NAME_FULL_EQUAL


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Xue Wang", "Xu Wang"),  # pinyin finals, not umlauts
        ("Yuejun Li", "Yujun Li"),
        ("Daehyun Kim", "Dahyun Kim"),  # East Asian names keep every letter
        ("Michael Smith", "Michal Smith"),  # "ae" in a given name is no umlaut
        ("Joe Bauer", "Jo Bauer"),  # nor "oe" near a word's end
        ("Maria Paes", "Maria Pas"),
        ("Jose Rodriguez", "Jose Rodriguz"),
    ],
)
def test_names_that_only_look_like_umlauts_stay_apart(one, other):
    a, b = parse_name(one), parse_name(other)
    assert a.block_key != b.block_key or name_compatibility(a, b) != NAME_FULL_EQUAL


def test_bauer_keeps_its_e():
    assert block_key("Hans Bauer") == "bauer h"


@pytest.mark.django_db
def test_the_migration_moves_stored_signatures_to_their_new_block():
    migration = importlib.import_module(
        "works.migrations.0011_block_keys_of_umlauts_and_trailing_initials"
    )
    work = Work.objects.create(arxiv_id="2401.00001", title="Umlauts")
    printed = {
        0: "Frank Mueller",
        1: "Xue Wang",
        2: "Hans Bauer",
        3: "Frank Müller",
        4: "Koushik MV",
        5: "Smith JA",
    }
    # as stored before; "Smith JA" as a signature stored with no block (not a person then)
    before = {"Frank Mueller": "mueller f", "Koushik MV": "mv k", "Smith JA": ""}
    for position, name in printed.items():
        old_key = before.get(name, block_key(name))
        Authorship.objects.create(
            work=work, position=position, printed_name=name, block_key=old_key
        )

    migration.refill_block_keys(apps, SimpleNamespace(connection=connection))

    keys = dict(Authorship.objects.values_list("position", "block_key"))
    assert keys == {
        0: "muller f",
        1: "wang x",
        2: "bauer h",
        3: "muller f",
        4: "koushik m",
        5: "",  # a signature stored with no block keeps none
    }
