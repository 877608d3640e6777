"""The `{data, message, status}` envelope that every JSON response of the API carries, errors included."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from clara.contract.errors import ClaraError
from clara.formats import json_ready, json_text

JSON = "application/json"


def _plain(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return json_ready(data)  # money stays an exact Decimal, written as a JSON number
    if isinstance(data, list):
        return [_plain(item) for item in data]
    return data


def envelope_body(data: Any, message: str, *, error: bool) -> str:
    return json_text({"data": _plain(data), "message": message, "status": "error" if error else "success"})


def success(data: Any, message: str, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code, JSON, envelope_body(data, message, error=False), headers=headers)


def no_content() -> Response:
    """204 carries no body at all, as the contract says."""
    return Response(204, None, "")


def failure(error: ClaraError) -> Response:
    return Response(
        error.status_code, JSON, envelope_body(error.data, error.message, error=True), headers=error.headers
    )
