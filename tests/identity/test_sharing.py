"""Blocks shared out to tasks (works.identity.sharing), as the app and the bench share them."""

from works.identity.sharing import grouped_blocks, least_loaded


def test_blocks_go_largest_first_into_the_least_loaded_part():
    sizes = [("wang w", 9), ("li y", 5), ("chen x", 4), ("ulm u", 1), ("ode o", 1)]

    part_of = least_loaded(sizes, 2)

    assert part_of == {"wang w": 0, "li y": 1, "chen x": 1, "ulm u": 0, "ode o": 1}
    loads = [sum(size for key, size in sizes if part_of[key] == n) for n in range(2)]
    assert loads == [10, 10]


def test_tasks_hold_whole_blocks_of_about_the_limit():
    sizes = [("wang w", 9), ("li y", 5), ("chen x", 4), ("ulm u", 1)]

    assert list(grouped_blocks(sizes, 6)) == [["wang w"], ["li y"], ["chen x", "ulm u"]]
