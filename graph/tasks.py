"""Graph tasks (placeholder hooks filled by the graph issue)."""


def queue_edges_rebuild(author_ids: list[int]) -> None:
    """Queue the edge rebuild for these records once the import commits."""
