"""CORS for browsers calling the API from another origin: the allowed origins come from CORS_ALLOW_ORIGIN (a
comma-separated list, or `*`; empty turns CORS off), read per request, never at import."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.settings import get_settings

ALLOWED_HEADERS = "Authorization,Content-Type,Idempotency-Key,User-Id,Mcp-Protocol-Version,Mcp-Session-Id"
ALLOWED_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS"
# Answer headers a browser script may read besides the simple ones: an analysis's Location (its task), a 429's or a
# 503's Retry-After.
EXPOSED_HEADERS = "Location,Retry-After"


def allowed_origin(request_origin: str | None) -> str | None:
    """What Access-Control-Allow-Origin answers this request, or None (no CORS headers)."""
    configured = get_settings().cors_allow_origin.strip()
    if not configured or not request_origin:
        return None
    if configured == "*":
        return "*"
    return request_origin if request_origin in {origin.strip() for origin in configured.split(",")} else None


def preflight(request_origin: str | None) -> Response[Any] | None:
    """The answer to an OPTIONS preflight from an allowed origin (API Gateway sends it to the function)."""
    if allowed_origin(request_origin) is None:
        return None
    headers = {
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
    }
    return Response(204, None, "", headers=headers)


def add_cors_headers(event: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """Every response (errors too) carries the origin's permission when the origin is allowed."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    origin = allowed_origin(headers.get("origin"))
    if origin is not None:
        multi = response.setdefault("multiValueHeaders", {}) or {}
        multi["Access-Control-Allow-Origin"] = [origin]
        multi["Access-Control-Expose-Headers"] = [EXPOSED_HEADERS]
        multi["Vary"] = ["Origin"]
        response["multiValueHeaders"] = multi
    return response
