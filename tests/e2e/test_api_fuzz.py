"""Property-based fuzzing of the whole API against its own OpenAPI document (issue 7).

Schemathesis reads the API's document, generates requests for every operation (valid and invalid ones), sends
them to the local runtime, and checks each answer: never a 5xx, a status the operation declares, and headers
and a body that match what it declares; invalid data is refused with a 4xx, a request without its credential
with a 401, and an undeclared method with a 405 that says what is allowed. Bounded and reproducible: a fixed
number of examples per operation and a fixed seed. Valid credentials go with every request, so the fuzzing
reaches past authentication into each route's own rules.
"""

import base64
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from harness.client import (
    PRIVATE_KEY,
    Api,
    Mailbox,
    active_account,
    bearer,
    expect,
    login,
)
from harness.runtime import Runtime
from local_runtime.openapi import DOCUMENT

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION = 25
SEED = 20261126
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
    unsupported_method,
]
LOGOUT = ("DELETE", "/auth/session")  # ends the session it is sent with: it gets a session of its own
DELETE_USER = ("DELETE", "/users/{user_id}")  # erases the user: it keeps its drawn ids (404 Not Found)


@dataclass(frozen=True)
class Credentials:
    user_id: str
    email: str
    password: str
    user_token: str
    logout_token: str

    def for_operation(self, security: list[dict[str, list[str]]]) -> str:
        """The credential the operation's security asks for: the user's token first, else the private key
        (accepted wherever the public key is), else email and password."""
        schemes = {name for requirement in security for name in requirement}
        if "BearerToken" in schemes:
            return bearer(self.user_token)
        if "ApiKey" in schemes:
            return PRIVATE_KEY
        return "Basic " + base64.b64encode(f"{self.email}:{self.password}".encode()).decode()


# The committed document (a unit test checks it is the one the code generates; the runtime serves this file).
schema = schemathesis.openapi.from_path(DOCUMENT)
# Schemathesis draws some requests before the runtime (and so the account) exists: its auth provider marks where
# a valid credential goes, and the test puts the real one there. Requests it draws without a credential, or with
# an invalid one, keep what they have.
VALID_CREDENTIAL = "valid-credential-of-the-run"


@schema.auth()
class ValidCredential:
    def get(self, case: Any, context: Any) -> str:
        return VALID_CREDENTIAL

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


@pytest.fixture(scope="module")
def credentials(api: Api, mailbox: Mailbox) -> Credentials:
    """An active user with credits to spend, so that paid operations get past the balance check."""
    account = active_account(api, mailbox, "fuzz")
    api.call("PUT", f"/users/{account.id}/credits", auth=PRIVATE_KEY, json={"credits": 1_000_000})
    second_session = expect(login(api, account.email, account.password), 200)["token"]
    return Credentials(account.id, account.email, account.password, account.token, second_session)


@schema.parametrize()
@seed(SEED)
# No example database: the same seed draws the same requests on every machine and every run.
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_its_document_says(
    case: Any, credentials: Credentials, module_runtime: Runtime
) -> None:
    operation = (case.method.upper(), case.path)
    # The run's own user: a drawn id would only ever reach the 403 of someone else's account.
    for name, value in (("user_id", credentials.user_id), ("user_email", credentials.email)):
        if name in (case.path_parameters or {}) and operation != DELETE_USER:
            case.path_parameters[name] = value
    if (case.headers or {}).get("Authorization") == VALID_CREDENTIAL:
        security = case.operation.definition.raw.get("security", [])
        token = credentials.logout_token if operation == LOGOUT else None
        case.headers["Authorization"] = bearer(token) if token else credentials.for_operation(security)
    case.call_and_validate(base_url=f"{module_runtime.base_url}/api/v1", checks=CHECKS)
