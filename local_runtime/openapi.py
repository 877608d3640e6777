"""The API's one OpenAPI document, generated from the routes' own declarations (clara.http.openapi.documented).

Each function's Powertools resolver generates the schema of its own routes; this merges them into one document,
tags each operation with its function, and resolves what Powertools cannot see in a handler's signature (the
request body and query models). The document is committed where the misc function serves it from:

    python -m local_runtime.openapi          # write functions/misc/openapi.json
    python -m local_runtime.openapi --check  # exit 1 when the committed document differs from the code
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from local_runtime.functions import add_layers_to_path, load_module
from local_runtime.template import Template, load_template

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "functions" / "misc" / "openapi.json"
TITLE = "Clara API"
DESCRIPTION = (
    "AI-powered fact-checking: accounts, API keys, credits and asynchronous analysis of text, images, video, "
    "audio and PDFs. Every JSON answer is the envelope {data, message, status}."
)
SECURITY_SCHEMES = {
    "BearerToken": {"type": "http", "scheme": "bearer", "description": "A user token or an API key token."},
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "The raw public (or private) API key, without a scheme.",
    },
    "BasicAuth": {"type": "http", "scheme": "basic", "description": "Email and password, to log in."},
}
SCHEMAS = "#/components/schemas/"


def build_document(template: Template) -> dict[str, Any]:
    add_layers_to_path(template)
    from clara import __version__
    from clara.http.openapi import HEADERS_EXTENSION, QUERY_EXTENSION, REQUEST_MODELS
    from clara.settings import API_PREFIX

    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for function_id, function in sorted(template.functions.items()):
        if not function.api_routes:
            continue
        part = _function_schema(load_module(function))
        schemas.update(part.get("components", {}).get("schemas", {}))
        for path, item in part["paths"].items():
            for method, operation in item.items():
                operation["tags"] = [function_id.removesuffix("Function")]
                # Powertools gives every response a body schema; a 204 has no body at all.
                operation["responses"].get("204", {}).pop("content", None)
                query = operation.pop(QUERY_EXTENSION, None)
                if query:
                    operation["parameters"] = operation.get("parameters", []) + _query_parameters(REQUEST_MODELS[query])
                operation["parameters"] = operation.get("parameters", []) + operation.pop(HEADERS_EXTENSION, [])
                if not operation["parameters"]:
                    del operation["parameters"]
                paths.setdefault(path, {})[method] = operation
    for name, model in sorted(REQUEST_MODELS.items()):
        schema = model.model_json_schema(ref_template=SCHEMAS + "{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": API_PREFIX}],
        "paths": dict(sorted(paths.items())),
    }
    document["components"] = {"schemas": _referenced(document, schemas), "securitySchemes": SECURITY_SCHEMES}
    return document


def _function_schema(module: Any) -> dict[str, Any]:
    """The OpenAPI of one function: its resolver's generated schema, or the paths it declares by hand (MCP)."""
    app = getattr(module, "app", None)
    if app is not None and hasattr(app, "get_openapi_json_schema"):
        return json.loads(app.get_openapi_json_schema(security_schemes=SECURITY_SCHEMES))
    return {"paths": module.OPENAPI_PATHS}


def _query_parameters(model: Any) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": field}
        for name, field in schema["properties"].items()
    ]


def _referenced(document: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """Only the schemas the document uses (Powertools adds its validation-error schemas to every function's)."""
    used: set[str] = set()
    pending = [document]
    while pending:
        text = json.dumps(pending.pop())
        for name in schemas:
            if name not in used and f'"{SCHEMAS}{name}"' in text:
                used.add(name)
                pending.append(schemas[name])
    return {name: schemas[name] for name in sorted(used)}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime.openapi", description=__doc__)
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    parser.add_argument("--check", action="store_true", help="compare with the committed document instead")
    arguments = parser.parse_args(argv)
    text = render(build_document(load_template(arguments.template)))
    if arguments.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            print(f"{DOCUMENT.relative_to(ROOT)} is out of date: run `make openapi` and commit it", file=sys.stderr)
            return 1
        print(f"{DOCUMENT.relative_to(ROOT)} matches the code")
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)}: {len(json.loads(text)['paths'])} paths")
    return 0


if __name__ == "__main__":
    sys.exit(main())
