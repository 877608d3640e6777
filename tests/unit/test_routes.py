"""clara.http.routes: one declaration is both what a route documents and what its requests go through, in order
(the credential by the declared roles, then the path's user, then the body), and Powertools still documents it."""

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel

from clara.contract.errors import NotFound
from clara.http.app import create_app
from clara.http.auth import Caller, Role
from clara.http.openapi import Success
from clara.http.routes import Call, Routes
from harness.accounts import error
from local_runtime.events import LambdaContext, api_gateway_event
from local_runtime.openapi import SECURITY_SCHEMES

PRIVATE_KEY = "unit-private-key"
SUPPORT = (Role.PRIVATE,)
INVALID_SCHEMA = "One or more required parameters are either not given or have invalid schema."
OWNERS = (Role.USER, Role.API_KEY)


class Thing(BaseModel):
    name: str


app = create_app()
routes = Routes(app)
MADE = Success(201, Thing, "Thing made.")
SEEN = Success(200, None, "Seen.")


@routes.post("/things/<thing_id>", "Make a thing", MADE, auth=SUPPORT, body=Thing)
def make(call: Call[Thing], thing_id: str) -> Response[Any]:
    return MADE.answer(Thing(name=f"{call.body.name} {thing_id}"))


@routes.get("/things/<thing_id>/owner", "An owner's view of a thing", SEEN, auth=OWNERS, active=True)
def see(call: Call[None], thing_id: str) -> Response[Any]:
    return SEEN.answer({"thing_id": thing_id, "caller": call.caller.role})


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVATE_API_KEY", PRIVATE_KEY)
    # A refused credential is counted against the address (DynamoDB); what is checked here is the order.
    monkeypatch.setattr("clara.http.auth.ratelimit.count_request", lambda subject: None)


def call(method: str, path: str, authorization: str | None, body: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": authorization} if authorization else {})}
    event = api_gateway_event(method, f"/api/v1{path}", resource="/{proxy+}", headers=headers, body=body)
    result = app.resolve(event, LambdaContext("TestFunction", 3))
    return result["statusCode"], json.loads(result["body"])


def test_the_handler_gets_the_body_and_the_other_path_parameters():
    assert call("POST", "/things/t1", PRIVATE_KEY, '{"name": "lamp"}') == (
        201,
        {"data": {"name": "lamp t1"}, "message": "Thing made.", "status": "success"},
    )


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "not-a-key"])
def test_the_credential_is_checked_before_the_body_is_read(authorization):
    status, answer = call("POST", "/things/t1", authorization, '{"wrong": true}')

    assert (status, answer) == (401, error("Authorization header or OTP is either missing, invalid or expired."))


def test_a_credential_of_a_role_the_route_does_not_declare_is_403():
    status, answer = call("GET", "/things/t1/owner", PRIVATE_KEY)

    assert (status, answer) == (403, error("You do not have access to the requested resource."))


def test_a_bad_body_after_a_good_credential_is_400():
    status, answer = call("POST", "/things/t1", PRIVATE_KEY, '{"wrong": true}')

    assert (status, answer["message"]) == (400, INVALID_SCHEMA)


def test_the_document_has_the_declared_roles_the_path_parameters_and_the_implied_errors():
    document = json.loads(app.get_openapi_json_schema(security_schemes=SECURITY_SCHEMES))
    made = document["paths"]["/things/{thing_id}"]["post"]
    seen = document["paths"]["/things/{thing_id}/owner"]["get"]

    assert made["operationId"] == "make_things__thing_id__post"  # the handler's own name
    assert [(p["name"], p["in"]) for p in made["parameters"]] == [("thing_id", "path")]
    assert made["security"] == [{"ApiKey": []}] and seen["security"] == [{"BearerToken": []}]
    assert set(made["responses"]) == {"201", "400", "401", "403", "429", "500"}
    assert "Please activate" in seen["responses"]["401"]["description"]  # `active` documents its 401
    assert "Please activate" not in made["responses"]["401"]["description"]


def test_a_route_without_a_user_id_or_a_body_says_so_when_asked():
    event = APIGatewayProxyEvent(api_gateway_event("GET", "/x", resource="/x"))
    plain: Call[None] = Call(event, Caller(Role.PRIVATE, "1.2.3.4"), None, None)

    with pytest.raises(LookupError, match="user_id"):
        _ = plain.user
    with pytest.raises(LookupError, match="body"):
        _ = plain.body


# A function's defaults: what its routes have in common, each route stating what is its own.
defaults_app = create_app()
owned = Routes(defaults_app, auth=OWNERS, active=True, errors=(NotFound("Thing"),), not_found={"part_id": "Part"})


@owned.get("/users/<user_id>/things", "The user's things", SEEN)
def things(call: Call[None]) -> Response[Any]:
    return SEEN.answer()


@owned.delete("/users/<user_id>/things", "Every thing of any user (support)", SEEN, auth=SUPPORT, active=False)
def clear(call: Call[None]) -> Response[Any]:
    return SEEN.answer()


@owned.get("/users/<user_id>/things/<part_id>", "A part of the user's things", SEEN)
def part(call: Call[None], part_id: str) -> Response[Any]:
    return SEEN.answer()


def test_a_route_takes_the_defaults_it_does_not_state_and_adds_its_errors_to_theirs():
    document = json.loads(defaults_app.get_openapi_json_schema(security_schemes=SECURITY_SCHEMES))
    listed = document["paths"]["/users/{user_id}/things"]["get"]
    cleared = document["paths"]["/users/{user_id}/things"]["delete"]

    assert listed["security"] == [{"BearerToken": []}] and cleared["security"] == [{"ApiKey": []}]
    assert "Please activate" in listed["responses"]["401"]["description"]
    assert "Please activate" not in cleared["responses"]["401"]["description"]
    assert listed["responses"]["404"]["description"] == "Thing with the given identifier does not exist."
    # What the path names: a part that may not exist, after the function's errors.
    assert document["paths"]["/users/{user_id}/things/{part_id}"]["get"]["responses"]["404"]["description"] == (
        "Thing with the given identifier does not exist. | Part with the given identifier does not exist."
    )
    # The private key may name any user, one that does not exist too: the route documents that 404 first.
    assert cleared["responses"]["404"]["description"] == (
        "User with the given identifier does not exist. | Thing with the given identifier does not exist."
    )


def test_a_route_whose_roles_are_stated_nowhere_is_refused_when_declared():
    with pytest.raises(TypeError, match="name its roles"):
        Routes(create_app()).get("/nobody", "Nobody's", SEEN)
