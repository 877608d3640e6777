"""The `{data, message, status}` envelope that every JSON response of the API carries, errors included: as a
Powertools Response for the resolver's routes, or as a Lambda proxy result for the functions no resolver serves
(the Stripe webhook's Function URL), from the same pieces.

Powertools' event handler is imported only where a Response is made: the Stripe webhook, on the money path, does
not load it (about 30 ms of cold start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from clara.contract.errors import ClaraError
from clara.formats import json_text, text_ready, texts_ready

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

JSON = "application/json"


def _plain(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return text_ready(data)  # money stays an exact Decimal, written as a JSON number
    if isinstance(data, list):
        if data and all(isinstance(item, BaseModel) for item in data):
            return texts_ready(data)  # a page: one dump
        return [_plain(item) for item in data]
    return data


def envelope_body(data: Any, message: str, *, error: bool) -> str:
    return json_text({"data": _plain(data), "message": message, "status": "error" if error else "success"})


def success(data: Any, message: str, status_code: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    from aws_lambda_powertools.event_handler import Response

    return Response(status_code, JSON, envelope_body(data, message, error=False), headers=headers)


def no_content() -> Response[Any]:
    """204 carries no body at all, as the contract says."""
    from aws_lambda_powertools.event_handler import Response

    return Response(204, None, "")


def failure(error: ClaraError) -> Response[Any]:
    from aws_lambda_powertools.event_handler import Response

    return Response(
        error.status_code, JSON, envelope_body(error.data, error.message, error=True), headers=error.headers
    )


def proxy_result(response: Response[Any]) -> dict[str, Any]:
    """A Response as the Lambda proxy result (the MCP transport's refusals, made before the SDK runs)."""
    return {"statusCode": response.status_code, "headers": response.headers, "body": response.body}


def success_result(data: Any, message: str, status_code: int = 200) -> dict[str, Any]:
    """success() as a Lambda proxy result, without Powertools' event handler."""
    return {
        "statusCode": status_code,
        "headers": {"Content-Type": JSON},
        "body": envelope_body(data, message, error=False),
    }


def failure_result(error: ClaraError) -> dict[str, Any]:
    """failure() as a Lambda proxy result, without Powertools' event handler."""
    return {
        "statusCode": error.status_code,
        "headers": {"Content-Type": JSON, **error.headers},
        "body": envelope_body(error.data, error.message, error=True),
    }
