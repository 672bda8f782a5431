"""The API's human-readable documentation, rendered on the server from its OpenAPI schema.

Why not Swagger UI or Redoc: both are a megabyte of JavaScript that draws the page in the
browser; this page is plain HTML in the site's own style, readable without JavaScript, with no
inline script for the Content-Security-Policy to allow, and nothing to fetch from a CDN. The
schema stays the single source: every operation, parameter, response and field shown here is
read from it (``describe``), so the page cannot drift from what the API does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from ninja.openapi.docs import DocsBase


@dataclass
class Parameter:
    name: str
    where: str
    required: bool
    type: str
    description: str
    example: str


@dataclass
class Answer:
    status: str
    description: str
    type: str
    content_type: str


@dataclass
class Operation:
    id: str
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Parameter]
    answers: list[Answer]


@dataclass
class Property:
    name: str
    type: str
    required: bool
    description: str


@dataclass
class SchemaDoc:
    name: str
    description: str
    properties: list[Property] = field(default_factory=list)


def type_of(schema: dict[str, Any]) -> str:
    """A short human reading of a JSON Schema: ``list of WorkSummary``, ``string or null``."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema or "oneOf" in schema:
        return " or ".join(type_of(option) for option in schema.get("anyOf", schema.get("oneOf")))
    if "const" in schema:
        return repr(schema["const"]).replace("'", '"')
    if "enum" in schema:
        return " | ".join(repr(value).replace("'", '"') for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})"
    bounds = [
        f"{word} {schema[key]}"
        for key, word in (("minimum", "≥"), ("maximum", "≤"), ("maxLength", "length ≤"))
        if key in schema
    ]
    return f"{kind} ({', '.join(bounds)})" if bounds else str(kind)


def describe(schema: dict[str, Any]) -> tuple[list[Operation], list[SchemaDoc]]:
    """The operations (in the schema's order) and the named schemas (by name) of an OpenAPI
    document."""
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            operations.append(
                Operation(
                    id=operation.get("operationId", f"{method}-{path}"),
                    method=method.upper(),
                    path=path,
                    summary=operation.get("summary", ""),
                    description=operation.get("description", ""),
                    parameters=[_parameter(p) for p in operation.get("parameters", [])],
                    answers=[
                        _answer(status, answer)
                        for status, answer in sorted(operation.get("responses", {}).items())
                    ],
                )
            )
    components = schema.get("components", {}).get("schemas", {})
    schemas = [
        SchemaDoc(
            name=name,
            description=component.get("description", ""),
            properties=[
                Property(
                    name=prop_name,
                    type=type_of(prop),
                    required=prop_name in component.get("required", []),
                    description=prop.get("description", ""),
                )
                for prop_name, prop in component.get("properties", {}).items()
            ],
        )
        for name, component in sorted(components.items())
    ]
    return operations, schemas


def _parameter(parameter: dict[str, Any]) -> Parameter:
    schema = parameter.get("schema", {})
    examples = schema.get("examples") or parameter.get("examples") or []
    if isinstance(examples, dict):
        examples = [example.get("value") for example in examples.values()]
    default = schema.get("default")
    return Parameter(
        name=parameter["name"],
        where=parameter.get("in", ""),
        required=bool(parameter.get("required")),
        type=type_of(schema) + (f", default {default}" if default is not None else ""),
        description=parameter.get("description") or schema.get("description", ""),
        example=str(examples[0]) if examples else "",
    )


def _answer(status: str, answer: dict[str, Any]) -> Answer:
    content = answer.get("content", {})
    content_type, body = next(iter(content.items()), ("", {}))
    return Answer(
        status=status,
        description=answer.get("description", ""),
        type=type_of(body.get("schema", {})) if body else "",
        content_type=content_type,
    )


class ServerRenderedDocs(DocsBase):
    """ninja's docs hook (``NinjaAPI(docs=...)``), rendering ``template`` from the schema."""

    def __init__(self, template: str, **context: Any) -> None:
        self.template = template
        self.context = context

    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        schema = api.get_openapi_schema(path_params=kwargs)
        operations, schemas = describe(schema)
        context = {
            "api": schema.get("info", {}),
            "openapi_url": self.get_openapi_url(api, kwargs),
            "operations": operations,
            "schemas": schemas,
            **self.context,
        }
        return TemplateResponse(request, self.template, context)
