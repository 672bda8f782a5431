"""works.identity.incremental.link: new signatures of a block against its existing people."""

from works.identity import incremental
from works.identity.signature import Signature


def _signature(sid, author, coauthors, title, year, category):
    return Signature(
        signature_id=sid,
        paper_id=f"p{sid}",
        author=author,
        coauthors=tuple(coauthors),
        title=title,
        year=year,
        categories=(category,),
    )


STRINGS = "Gauge anomalies and string compactifications on orbifolds"
MODELS = "Prompt tuning for pre-trained language models"
EXISTING = {
    "physicist": [
        _signature(f"h{n}", "Wei Wang", ["Alice Adams", "Bob Brown"], STRINGS, 2015 + n, "hep-th")
        for n in range(4)
    ],
    "linguist": [
        _signature(f"c{n}", "Wei Wang", ["Carol Chen", "Dan Davis"], MODELS, 2015 + n, "cs.CL")
        for n in range(4)
    ],
}
NEW = [
    _signature("n1", "Wei Wang", ["Alice Adams", "Bob Brown"], STRINGS, 2021, "hep-th"),
    _signature("n2", "Wei Wang", ["Carol Chen", "Dan Davis"], MODELS, 2021, "cs.CL"),
    _signature("n3", "Wei Wang", ["Erin Evans"], "Ocean tides of small moons", 2021, "physics"),
]


def test_each_new_group_joins_its_person_and_a_stranger_stays_new():
    result = incremental.link(NEW, EXISTING)

    assert result.assignments == {"n1": "physicist", "n2": "linguist"}
    assert result.new_clusters == [["n3"]]


def test_every_new_group_of_a_block_is_scored_in_one_pass(monkeypatch):
    passes = []
    original = incremental.profile_pair_features

    def counting(profiles, left, right):
        passes.append(len(left))
        return original(profiles, left, right)

    monkeypatch.setattr(incremental, "profile_pair_features", counting)
    incremental.link(NEW, EXISTING)

    # One pass for the pooled comparison (3 groups x 2 people), one for the signatures of
    # all three groups against their shortlists' members (each group: 2 people x 4 members).
    assert passes == [6, 24]


def test_a_record_belongs_to_the_block_most_of_its_members_are_in():
    """A record is a candidate in one block: the one most of its members are printed in
    (an admin's merge can leave a record in two), however its first member is printed."""
    mostly_wang_w = [
        _signature("x1", "Xu Wang", ["Alice Adams"], STRINGS, 2016, "hep-th"),
        *EXISTING["physicist"][:3],
    ]
    mostly_wang_x = [
        EXISTING["physicist"][3],
        *[_signature(f"x{n}", "Xu Wang", ["Zoe Zhu"], MODELS, 2016, "cs.CL") for n in (2, 3)],
    ]
    assert incremental._cluster_block_key(EXISTING["linguist"]) == "wang w"
    assert incremental._cluster_block_key(mostly_wang_w) == "wang w"
    assert incremental._cluster_block_key(mostly_wang_x) == "wang x"
    assert incremental._cluster_block_key([]) is None
