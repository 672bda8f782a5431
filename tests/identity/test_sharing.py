"""Blocks shared out to tasks (works.identity.sharing), as the app and the bench share them."""

from works.identity.sharing import grouped_blocks, interleaved, least_loaded, sized_groups


def test_blocks_go_largest_first_into_the_least_loaded_part():
    sizes = [("wang w", 9), ("li y", 5), ("chen x", 4), ("ulm u", 1), ("ode o", 1)]

    part_of = least_loaded(sizes, 2)

    assert part_of == {"wang w": 0, "li y": 1, "chen x": 1, "ulm u": 0, "ode o": 1}
    loads = [sum(size for key, size in sizes if part_of[key] == n) for n in range(2)]
    assert loads == [10, 10]


def test_tasks_hold_whole_blocks_of_about_the_limit():
    sizes = [("wang w", 9), ("li y", 5), ("chen x", 4), ("ulm u", 1)]

    assert list(grouped_blocks(sizes, 6)) == [["wang w"], ["li y"], ["chen x", "ulm u"]]


def test_sized_groups_give_each_task_its_signatures():
    sizes = [("wang w", 9), ("li y", 5), ("chen x", 3), ("ulm u", 2)]

    assert list(sized_groups(sizes, 6)) == [
        (["wang w"], 9),
        (["li y"], 5),
        (["chen x", "ulm u"], 5),
    ]


def test_heavy_tasks_are_woven_among_light_ones_by_signatures_given():
    heavy = [(["h1"], 10), (["h2"], 8), (["h3"], 6)]
    light = [([f"l{k}"], 4) for k in range(8)]

    order = list(interleaved(heavy, light))

    # 10 heavy signatures given, light until past them (12); 18 heavy, light until 20; 24
    # heavy, and the heavy stream has run dry.
    expected = ["h1", "l0", "l1", "l2", "h2", "l3", "l4", "h3", "l5", "l6", "l7"]
    assert [keys[0] for keys in order] == expected


def test_interleaving_keeps_every_task_of_a_stream_that_runs_alone():
    assert list(interleaved([(["h"], 5)], [])) == [["h"]]
    assert list(interleaved([], [(["a"], 1), (["b"], 1)])) == [["a"], ["b"]]
