"""Build the OpenAPI 3.1 document from the app's router, the request models the handlers validate with
(api/schemas.py), the response models (resources.py) and the declarations in operations.py.

Shaped for code generators: every schema a named component reached by a plain `$ref` (no `allOf`, no nested
`$defs`), every array with `items`, nullable only where the server writes null, optional bodies' nulls
declared only where the server accepts them.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ...core import scopes
from ...core.events import EVENT_TYPES
from .. import context
from ..problems import API_VERSION, slug_for
from ..schemas import reject_null
from . import resources
from .examples import Examples
from .operations import OPERATIONS, Operation, Param

REF = "#/components/schemas/{model}"
JSON, PROBLEM_JSON, FORM = "application/json", "application/problem+json", "application/x-www-form-urlencoded"
DEFAULT_SERVER = "http://127.0.0.1:8787/api"
TOKEN_PATH = "/api/v1/oauth/token"  # noqa: S105 (a path, not a secret)

STATUS_TEXT = {
    200: "OK.",
    201: "Created.",
    204: "Deleted; no body.",
    304: "Not modified: If-None-Match holds the current ETag.",
    400: "Malformed request: body not JSON, bad cursor, unparseable filter, a query parameter given twice.",
    401: "Missing, malformed, unknown or expired credential (WWW-Authenticate set).",
    403: "The credential lacks a scope (missing_scopes lists them).",
    404: "No such resource in this workspace (or hidden from this credential).",
    409: "Conflicts with an existing resource.",
    413: "Body larger than 8 MiB.",
    415: "Content-Type is not application/json.",
    422: "Field rules failed: errors[] lists every failing field, in request order.",
    429: "Rate limited (serve --rate-limit): retry after Retry-After seconds.",
    500: "Internal error (a bug in the emulator, or an injected fault).",
}
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "The request's id; error bodies repeat it as request_id.",
        "required": True,
        "schema": {"type": "string", "pattern": "^rid_[A-Za-z0-9]+$"},
    },
    "X-Api-Version": {
        "description": "The API version that answered.",
        "required": True,
        "schema": {"type": "string", "enum": [API_VERSION]},
    },
    "ETag": {
        "description": "Weak validator of the body; send it back as If-None-Match for a 304.",
        "required": True,
        "schema": {"type": "string", "pattern": '^W/"[0-9a-f]+"$'},
    },
    "Location": {
        "description": "The created engagement's path.",
        "required": True,
        "schema": {"type": "string", "pattern": "^/api/v2/engagements/ngmt_[A-Za-z0-9]+$"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {"description": "The challenge.", "required": True, "schema": {"type": "string"}},
    "Warning": {
        "description": (
            "RFC 9111 299 warnings, one per tolerated problem: a Bearer-prefixed API key, a query parameter "
            "the route does not read (serve --strict refuses them instead: 401, 400)."
        ),
        "required": False,
        "schema": {"type": "string", "pattern": '^299 - ".*"$'},
    },
    "Cache-Control": {"description": "no-store (RFC 6749 §5.1).", "required": True, "schema": {"type": "string"}},
}
SVIX_HEADERS = (
    ("svix-id", "The message id: the same on every retry of one event; de-duplicate on it.", "^msg_[A-Za-z0-9]+$"),
    ("svix-timestamp", "Unix seconds when this attempt was signed; reject ones older than 5 minutes.", "^[0-9]+$"),
    ("svix-signature", "Space-separated v1,<base64 HMAC-SHA256> signatures of id.timestamp.body.", "^v1,"),
)


def build(app: web.Application, examples: Examples, *, server: str = DEFAULT_SERVER) -> dict[str, Any]:
    components = _components()
    paths: dict[str, dict[str, Any]] = {}
    for path, method, handler in public_routes(app):
        name = handler.__name__
        spec = OPERATIONS.get(name)
        if spec is None:
            raise KeyError(f"{method} /api{path} ({name}) has no entry in api/openapi/operations.py")
        paths.setdefault(path, {})[method.lower()] = _operation(name, spec, path, handler, examples)
    _add_links(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AskElephant public API v2 (fake-askelephant)",
            "version": API_VERSION,
            "description": (
                "Generated from the models fake-askelephant validates requests with and the views it answers "
                "with (python -m fake_askelephant.api.openapi). Every response carries X-Request-Id; under /api "
                "also X-Api-Version. Errors are application/problem+json. Faults armed through "
                "/__admin/faults answer with the status they were given."
            ),
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{"url": server, "description": "this emulator"}],
        "security": [{"apiKey": []}, {"oauth2": []}],
        "tags": [{"name": t} for t in dict.fromkeys(op.tag for op in OPERATIONS.values())],
        "paths": dict(sorted(paths.items())),
        "webhooks": _webhooks(examples),
        "components": {
            "schemas": components,
            "headers": HEADERS,
            "securitySchemes": _security_schemes(),
        },
    }


def public_routes(app: web.Application) -> Iterator[tuple[str, str, Any]]:
    """(path under /api, method, handler) of every public API route, HEAD left out."""
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if not isinstance(path, str) or not path.startswith("/api/") or route.method in ("HEAD", "*"):
            continue
        yield path.removeprefix("/api"), route.method, route.handler


# Components -----------------------------------------------------------------------------------------------


def request_models() -> list[type[BaseModel]]:
    return [op.body for op in OPERATIONS.values() if op.body is not None]


def response_models() -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = [op.response for op in OPERATIONS.values() if op.response is not None]
    return [*models, resources.Problem, *resources.EVENTS.values()]


def _components() -> dict[str, Any]:
    models = list(dict.fromkeys([*request_models(), *response_models()]))
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    defs: dict[str, Any] = top["$defs"]
    nullable_ok = _null_rejecting_fields()
    requests = {model.__name__ for model in _all_models()}
    return {
        name: _tidy(schema, nullable_ok.get(name, set()), request=name in requests)
        for name, schema in sorted(defs.items())
    }


def _null_rejecting_fields() -> dict[str, set[str]]:
    """Model name → fields whose `None` default means "omit", because a validator rejects an explicit null."""
    out: dict[str, set[str]] = {}
    for model in _all_models():
        for decorator in model.__pydantic_decorators__.field_validators.values():
            if getattr(decorator.func, "__func__", decorator.func) is reject_null:
                out.setdefault(model.__name__, set()).update(decorator.info.fields)
    return out


def _all_models() -> Iterator[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    stack = request_models()
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        yield model
        for info in model.model_fields.values():
            stack.extend(_models_in(info.annotation))


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _models_in(arg)


def _tidy(schema: dict[str, Any], no_null: set[str], *, request: bool = False) -> dict[str, Any]:
    """Pydantic's schema, made exact and plain: explicit null only where accepted, no `default: null`, no
    per-property titles, `$ref` never wrapped.

    In request bodies a default is said in words, not as `default`: openapi-typescript 7 (its default
    `defaultNonNullable`) makes every property with a `default` required, so a create body without
    `run_workflows` or a participant without `is_owner` would not compile (openapi-ts/openapi-typescript#2012).
    """
    schema = copy.deepcopy(schema)
    for name, prop in list(schema.get("properties", {}).items()):
        prop.pop("title", None)
        if prop.get("default", 0) is None:
            del prop["default"]
        elif request and "default" in prop:
            said = f"Default: {json.dumps(prop.pop('default'))}."
            prop["description"] = f"{prop['description']} {said}" if prop.get("description") else said
        if name in no_null and "anyOf" in prop:
            branches = [b for b in prop.pop("anyOf") if b != {"type": "null"}]
            (only,) = branches
            prop.update(only)
        schema["properties"][name] = _unwrap(prop)
    return schema


def _unwrap(prop: dict[str, Any]) -> dict[str, Any]:
    all_of = prop.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and set(all_of[0]) == {"$ref"}:
        prop = {k: v for k, v in prop.items() if k != "allOf"} | all_of[0]
    return prop


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


# Operations -----------------------------------------------------------------------------------------------


def _operation(name: str, spec: Operation, path: str, handler: Any, examples: Examples) -> dict[str, Any]:
    required = context.required_scopes(handler)
    op: dict[str, Any] = {
        "operationId": name,
        "summary": spec.summary,
        "tags": [spec.tag],
    }
    if spec.description:
        op["description"] = spec.description
    if spec.public:
        op["security"] = []
    else:
        op["security"] = [{"apiKey": []}, {"oauth2": list(required)}]
        op["x-scopes"] = list(required)
    params = [_path_param(p) for p in re.findall(r"{(\w+)}", path)] + [_query_param(p) for p in spec.query]
    if params:
        op["parameters"] = params
    if spec.body is not None:
        media = FORM if spec.form else JSON
        content: dict[str, Any] = {"schema": _ref(spec.body)}
        if name in examples.requests:
            content["example"] = examples.requests[name]
        op["requestBody"] = {"required": True, "content": {media: content}}
    op["responses"] = _responses(name, spec, examples)
    return op


def _path_param(name: str) -> dict[str, Any]:
    prefix = {
        "engagement_id": "ngmt",
        "contact_id": "cnt",
        "company_id": "cmp",
        "user_id": "usr",
        "tag_id": "tag",
    }.get(name)
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if prefix:
        schema = {"type": "string", "pattern": rf"^{prefix}_[A-Za-z0-9]+$"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_param(p: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "in": p.location, "required": False}
    if p.description:
        out["description"] = p.description
    if p.content:
        out["content"] = {JSON: {"schema": p.schema}}
    else:
        out["schema"] = p.schema
        if p.explode is not None:
            out["style"], out["explode"] = "form", p.explode
    return out


def _statuses(spec: Operation) -> list[int]:
    statuses = {500}
    if not spec.public:
        statuses |= {401, 403, 429}
    if spec.body is not None:
        statuses |= {400, 413, 422} if spec.form else {400, 413, 415, 422}
    if spec.query:
        statuses |= {400, 422}
    if spec.public:
        statuses |= {401}  # invalid_client
    statuses |= set(spec.errors)
    return sorted(statuses)


def _headers(*names: str) -> dict[str, Any]:
    return {n: {"$ref": f"#/components/headers/{n}"} for n in ("X-Request-Id", "X-Api-Version", "Warning", *names)}


def _responses(name: str, spec: Operation, examples: Examples) -> dict[str, Any]:
    captured = examples.responses.get(name, {})
    out: dict[str, Any] = {}
    success = [spec.status, *([200] if spec.replay else [])]
    for status in success:
        extra = (["ETag"] if spec.conditional else []) + (["Location"] if spec.location and status == 201 else [])
        if spec.public:
            extra.append("Cache-Control")
        text = STATUS_TEXT[status] if status != 200 or not spec.replay else "Replay: this external_id exists."
        response: dict[str, Any] = {"description": text, "headers": _headers(*extra)}
        if spec.response is not None:
            content: dict[str, Any] = {"schema": _ref(spec.response)}
            if status in captured:
                content["example"] = captured[status]
            response["content"] = {JSON: content}
        out[str(status)] = response
    if spec.conditional:
        out["304"] = {"description": STATUS_TEXT[304], "headers": _headers("ETag")}
    for status in _statuses(spec):
        extra = {401: ["WWW-Authenticate"], 429: ["Retry-After"]}.get(status, [])
        if spec.public and status == 401:
            extra = []  # Basic challenge only when the client used Basic
        content = {"schema": _ref(resources.Problem)}
        if status in captured:
            content["example"] = captured[status]
        out[str(status)] = {
            "description": STATUS_TEXT[status] + f" type: …/errors/{slug_for(status)}",
            "headers": _headers(*extra),
            "content": {PROBLEM_JSON: content},
        }
    return dict(sorted(out.items()))


# Links for stateful testing: a created resource's id feeds the routes that take it ------------------------

_LINKS = {
    ("/v2/engagements", "post", "201"): ("engagement_id", "/v2/engagements/{engagement_id}"),
    ("/v2/companies", "post", "201"): ("company_id", "/v2/companies/{company_id}"),
    ("/v2/tags", "post", "201"): ("tag_id", "/v2/tags/{tag_id}"),
}


def _add_links(paths: dict[str, dict[str, Any]]) -> None:
    for (path, method, status), (param, prefix) in _LINKS.items():
        response = paths[path][method]["responses"][status]
        links: dict[str, Any] = {}
        for target_path, operations in paths.items():
            if not target_path.startswith(prefix):
                continue
            for target in operations.values():
                links[target["operationId"]] = {
                    "operationId": target["operationId"],
                    "parameters": {f"path.{param}": "$response.body#/id"},
                }
        response["links"] = links
    for operations in paths.values():
        get = operations.get("get")
        if get and any(p["name"] == "cursor" for p in get.get("parameters", [])):
            get["responses"]["200"]["links"] = {
                "next_page": {
                    "operationId": get["operationId"],
                    "parameters": {"query.cursor": "$response.body#/next_cursor"},
                }
            }


# Webhooks and security ------------------------------------------------------------------------------------


def _webhooks(examples: Examples) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for event_type in EVENT_TYPES:
        model = resources.EVENTS[event_type]
        content: dict[str, Any] = {"schema": _ref(model)}
        if event_type in examples.events:
            content["example"] = examples.events[event_type]
        out[event_type] = {
            "post": {
                "operationId": "on_" + event_type.removeprefix("v1.").replace(".", "_"),
                "summary": f"{event_type}, signed per Svix; answer 2xx within 15 s or it is retried.",
                "tags": ["Webhooks"],
                "parameters": [
                    {
                        "name": n,
                        "in": "header",
                        "required": True,
                        "description": d,
                        "schema": {"type": "string", "pattern": p},
                    }
                    for n, d, p in SVIX_HEADERS
                ],
                "requestBody": {"required": True, "content": {JSON: content}},
                "responses": {
                    "200": {"description": "Any 2xx acknowledges the message."},
                    "default": {"description": "Anything else (or no answer within 15 s) is retried."},
                },
            }
        }
    return out


def _security_schemes() -> dict[str, Any]:
    grantable = [s for s in scopes.ALL if s != scopes.ADMIN]
    return {
        "apiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "The raw API key, `Authorization: sk-apik_<id>.<secret>`, as the docs say to send it. The emulator "
                "also accepts `Bearer sk-apik_…` unless started with --strict (then 401). OAuth access tokens go "
                "as `Authorization: Bearer <token>` (the oauth2 scheme)."
            ),
        },
        "oauth2": {
            "type": "oauth2",
            "description": "Client credentials; register a client with POST /__admin/oauth-clients.",
            "flows": {
                "clientCredentials": {
                    # Relative: resolved against the server this document is served from (OpenAPI 3.1 §4.3).
                    "tokenUrl": TOKEN_PATH,
                    "scopes": {s: f"the {s} scope" for s in grantable},
                }
            },
        },
    }
