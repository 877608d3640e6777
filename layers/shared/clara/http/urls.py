"""The API's own URLs as the client reached them: API Gateway's execute-api endpoint (`/{stage}` before the API's
paths), a custom domain (its base path before them, or nothing when it maps the stage at its root), or the local
runtime (`make run`: plain http, no prefix)."""

import re

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from clara.settings import API_PREFIX

# A prefix is path segments only (`/prod`, `/clara/v2`) or nothing.
_PREFIX = re.compile(r"(?:/[A-Za-z0-9._~-]+)*")
# A host name or address, with an optional port: nothing that could end a header line or change the URL's meaning.
_HOST = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def served_prefix(event: APIGatewayProxyEvent) -> str:
    """What the client's URL has before the API's own path: `/prod` on the execute-api endpoint, a custom domain's
    base path (or nothing when it maps the stage at its root), nothing under `make run`.

    API Gateway gives both: requestContext.path is the path as the client sent it, `path` the API's own (after the
    stage or base path). Anything else than a plain prefix of path segments counts as none.
    """
    seen, routed = event.request_context.path or "", event.path or ""
    prefix = seen[: -len(routed)] if routed and seen.endswith(routed) else ""
    return prefix if _PREFIX.fullmatch(prefix) else ""


def api_url(event: APIGatewayProxyEvent, path: str) -> str:
    """The URL of the API's `path` (`/users/...`, after `/api/v1`) under the base the request used:
    `https://<the host API Gateway accepted the request on><prefix>/api/v1<path>`.

    The host is requestContext.domainName (set by API Gateway, not by the client; the local runtime reports the
    host it was called on). The scheme is https, API Gateway's only one, unless X-Forwarded-Proto says http (the
    local runtime's). Without a usable host the answer is the reference relative to the host, `<prefix>/api/v1<path>`,
    which RFC 9110 allows for Location too."""
    reference = f"{served_prefix(event)}{API_PREFIX}{path}"
    host = event.request_context.domain_name or ""
    if not _HOST.fullmatch(host):
        return reference
    scheme = "http" if (event.headers.get("X-Forwarded-Proto") or "").strip().lower() == "http" else "https"
    return f"{scheme}://{host}{reference}"
