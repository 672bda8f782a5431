"""The read API's graph part: a researcher's ego-graph (``/api/v1/researchers/{slug}/graph``).

The document is graph.json's (schema version 1, graph/README.md), served from the same cache
(graph.cache): the schema below describes it for the OpenAPI document, every node and edge
keeping the fields of its type.
"""

from __future__ import annotations

from typing import Literal

import orjson
from django.http import HttpRequest, HttpResponse
from ninja import Field, Path, Query, Router, Schema
from pydantic import ConfigDict

from bzpeer.lib.api import ERRORS, json_response
from graph.cache import cached_graph
from graph.ego import EXPLORER, INLINE
from works.api import record_or_redirect

router = Router(tags=["graph"])


class GraphCounts(Schema):
    people: int
    works: int
    topics: int
    institutions: int


class GraphTruncated(Schema):
    people: bool
    works: bool
    topics: bool
    institutions: bool


class GraphNode(Schema):
    """Every node has these; each type adds its own fields (graph/README.md)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(examples=["person:zhengyan-zhang"])
    type: Literal["person", "work", "topic", "institution"]
    label: str
    url: str | None


class GraphEdge(Schema):
    model_config = ConfigDict(extra="allow")

    id: str
    source: str
    target: str
    type: Literal["coauthor", "authored", "topic", "affiliation"]
    weight: float


class GraphOut(Schema):
    schema_: Literal["bzpeer.graph"] = Field(alias="schema")
    version: Literal[1]
    center: str
    variant: Literal["inline", "explorer"]
    limits: GraphCounts
    truncated: GraphTruncated
    nodes: list[GraphNode] = Field(description="The centre first, people strongest first")
    edges: list[GraphEdge]


@router.get(
    "/researchers/{slug}/graph",
    response={200: GraphOut, 301: None, 304: None, **ERRORS},
    summary="A researcher's ego-graph",
    operation_id="researcher_graph",
    url_name="researcher_graph",
    by_alias=True,
)
def researcher_graph(
    request: HttpRequest,
    slug: str = Path(..., examples=["zhengyan-zhang"]),
    size: Literal["explorer", "inline"] = Query("explorer", description="inline: the small one"),
) -> HttpResponse | dict:
    """The researcher, their strongest co-authors, recent works, topics and institutions:
    the explorer's graph (or the profile's inline slice), bounded whatever the researcher's
    size. Organisations have none (404)."""
    record = record_or_redirect(request, slug, url_name="researcher_graph", people_only=True)
    if isinstance(record, HttpResponse):
        return record
    graph = cached_graph(record, limits=INLINE if size == "inline" else EXPLORER)
    # As graph.json serves it: the cached document, not re-validated node by node (the schema
    # above documents it; tests/api/test_schemathesis.py checks they agree).
    return json_response(request, orjson.dumps(graph))
