"""Reads template.yaml the way SAM does: functions, their API routes and queues, gateway responses, media types.

Intrinsic functions are kept unresolved here (as `{"Ref": ...}` / `{"Fn::GetAtt": ...}` dicts); environment.py
resolves them once the emulated resources exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

# --------------------------------------------------------------------------- YAML with CloudFormation tags


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that turns `!Ref X` into `{"Ref": "X"}` and `!Sub ...` into `{"Fn::Sub": ...}`."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # `!GetAtt Queue.Arn` is `Fn::GetAtt: [Queue, Arn]`
    return {f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_tag)


# --------------------------------------------------------------------------- model


class Route(NamedTuple):
    path: str  # the API Gateway resource, e.g. /api/v1/users/{user_id}
    method: str  # upper case; ANY matches every method


class SqsSource(NamedTuple):
    queue_id: str  # logical id of the AWS::SQS::Queue
    batch_size: int
    report_batch_item_failures: bool


class ScheduleSource(NamedTuple):
    name: str  # the event's name in the template
    expression: str  # rate(...) or cron(...)
    seconds: int  # the period of a rate(); 60 for a cron() (the local runtime does not follow cron fields)


_RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86_400, "days": 86_400}


def schedule_seconds(expression: str) -> int:
    """The period of `rate(5 minutes)`; 60 for anything else (a cron expression)."""
    match = re.fullmatch(r"\s*rate\(\s*(\d+)\s+(\w+)\s*\)\s*", expression)
    if match and match.group(2) in _RATE_UNITS:
        return int(match.group(1)) * _RATE_UNITS[match.group(2)]
    return 60


@dataclass
class FunctionDef:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, Any]  # Globals merged with the function's own, intrinsics unresolved
    timeout: int
    memory_size: int
    api_routes: list[Route] = field(default_factory=list)
    sqs_sources: list[SqsSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)
    has_function_url: bool = False


class RouteMatch(NamedTuple):
    function: FunctionDef
    route: Route
    path_parameters: dict[str, str]  # raw segments, still percent-encoded


class GatewayResponse(NamedTuple):
    status: int | None  # None: the response type's own default status
    body_template: str | None
    headers: dict[str, str]


# Precedence of one resource segment: API Gateway tries a static child, then `{param}`, then `{proxy+}`.
_STATIC, _PARAM, _GREEDY = 0, 1, 2


def _segment_kind(segment: str) -> int:
    if segment.startswith("{") and segment.endswith("+}"):
        return _GREEDY
    if segment.startswith("{") and segment.endswith("}"):
        return _PARAM
    return _STATIC


def _split(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _match_resource(resource: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Precedence key and path parameters when `path` falls under `resource`, else None."""
    resource_segments, path_segments = _split(resource), _split(path)
    key: list[int] = []
    parameters: dict[str, str] = {}
    for index, segment in enumerate(resource_segments):
        kind = _segment_kind(segment)
        if kind == _GREEDY:  # one or more segments, and nothing may follow it
            rest = path_segments[index:]
            if not rest:
                return None
            parameters[segment[1:-2]] = "/".join(rest)
            key.append(kind)
            return tuple(key), parameters
        if index >= len(path_segments):
            return None
        if kind == _STATIC and segment != path_segments[index]:
            return None
        if kind == _PARAM:
            parameters[segment[1:-1]] = path_segments[index]
        key.append(kind)
    if len(resource_segments) != len(path_segments):
        return None
    return tuple(key), parameters


@dataclass
class Template:
    path: Path
    parameters: dict[str, Any]  # name -> default (None when it has none)
    resources: dict[str, dict[str, Any]]
    globals_function: dict[str, Any]
    functions: dict[str, FunctionDef]
    gateway_responses: dict[str, GatewayResponse]
    binary_media_types: list[str]
    conditions: dict[str, Any]

    @property
    def layer_dirs(self) -> list[Path]:
        """ContentUri of every layer: what Lambda unpacks under /opt (its python/ folder goes on sys.path)."""
        base = self.path.parent
        return [
            base / resource["Properties"]["ContentUri"]
            for resource in self.resources.values()
            if resource.get("Type") == "AWS::Serverless::LayerVersion"
            and isinstance(resource.get("Properties", {}).get("ContentUri"), str)
        ]

    @property
    def stage_name(self) -> str:
        """The API's stage: its StageName (SAM's implicit API calls it Prod), the first segment of the URLs of
        API Gateway's own (execute-api) endpoint."""
        for resource in self.resources_of_type("AWS::Serverless::Api").values():
            stage = resource.get("Properties", {}).get("StageName")
            if isinstance(stage, str):
                return stage
        return "Prod"

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res.get("Type") == resource_type}

    def match_route(self, method: str, path: str) -> RouteMatch | None:
        """The function API Gateway would invoke for `method path` (path without the stage), or None.

        The most specific resource wins (static > {param} > {proxy+}, segment by segment). When that resource
        has no integration for the method, API Gateway does not fall back to a less specific one: it answers
        MISSING_AUTHENTICATION_TOKEN, and so does None here.
        """
        best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
        for resource in {route.path for function in self.functions.values() for route in function.api_routes}:
            matched = _match_resource(resource, path)
            if matched and (best is None or matched[0] < best[0]):
                best = (matched[0], resource, matched[1])
        if best is None:
            return None
        _, resource, parameters = best
        candidates = [
            (function, route)
            for function in self.functions.values()
            for route in function.api_routes
            if route.path == resource and route.method in (method.upper(), "ANY")
        ]
        # An explicit method beats ANY on the same resource.
        candidates.sort(key=lambda candidate: candidate[1].method == "ANY")
        if not candidates:
            return None
        function, route = candidates[0]
        return RouteMatch(function, route, parameters)


# --------------------------------------------------------------------------- loading


def _as_queue_id(queue: Any) -> str | None:
    """Logical id of `!GetAtt Queue.Arn` (the only queue reference a local runtime can follow)."""
    if isinstance(queue, dict) and "Fn::GetAtt" in queue:
        return str(queue["Fn::GetAtt"][0])
    return None


def _function(logical_id: str, properties: dict[str, Any], globals_function: dict[str, Any], base: Path) -> FunctionDef:
    merged = {**globals_function, **properties}
    environment = {
        **globals_function.get("Environment", {}).get("Variables", {}),
        **properties.get("Environment", {}).get("Variables", {}),
    }
    function = FunctionDef(
        logical_id=logical_id,
        code_uri=base / str(merged.get("CodeUri", ".")),
        handler=str(merged.get("Handler", "app.lambda_handler")),
        environment=environment,
        timeout=int(merged.get("Timeout", 3)),
        memory_size=int(merged.get("MemorySize", 128)),
        has_function_url="FunctionUrlConfig" in merged,
    )
    for event_name, event in (properties.get("Events") or {}).items():
        event_properties = event.get("Properties", {})
        if event.get("Type") == "Api":
            function.api_routes.append(Route(event_properties["Path"], str(event_properties["Method"]).upper()))
        elif event.get("Type") == "SQS" and (queue_id := _as_queue_id(event_properties.get("Queue"))):
            function.sqs_sources.append(
                SqsSource(
                    queue_id=queue_id,
                    batch_size=int(event_properties.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in event_properties.get("FunctionResponseTypes", []),
                )
            )
        elif event.get("Type") in ("Schedule", "ScheduleV2"):
            # Schedule (an EventBridge rule) names it Schedule, ScheduleV2 (EventBridge Scheduler) ScheduleExpression.
            expression = str(event_properties.get("Schedule") or event_properties.get("ScheduleExpression") or "")
            function.schedules.append(ScheduleSource(event_name, expression, schedule_seconds(expression)))
    return function


def _gateway_responses(resources: dict[str, dict[str, Any]]) -> dict[str, GatewayResponse]:
    responses = {}
    for resource in resources.values():
        if resource.get("Type") != "AWS::ApiGateway::GatewayResponse":
            continue
        properties = resource.get("Properties", {})
        status = properties.get("StatusCode")
        templates = properties.get("ResponseTemplates") or {}
        headers = {
            name.removeprefix("gatewayresponse.header."): str(value).strip("'")  # static values are quoted
            for name, value in (properties.get("ResponseParameters") or {}).items()
            if name.startswith("gatewayresponse.header.") and isinstance(value, str)
        }
        responses[properties["ResponseType"]] = GatewayResponse(
            status=int(status) if status is not None else None,
            body_template=templates.get("application/json") or next(iter(templates.values()), None),
            headers=headers,
        )
    return responses


def _binary_media_types(template: dict[str, Any]) -> list[str]:
    """Every API's BinaryMediaTypes, unescaped (`~1` is how CloudFormation writes `/`)."""
    declared = list(template.get("Globals", {}).get("Api", {}).get("BinaryMediaTypes", []))
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Api":
            declared += resource.get("Properties", {}).get("BinaryMediaTypes", [])
    return sorted({str(media_type).replace("~1", "/") for media_type in declared})


def load_template(path: str | Path) -> Template:
    path = Path(path).resolve()
    with path.open(encoding="utf-8") as file:
        document = yaml.load(file, Loader=_CloudFormationLoader)  # noqa: S506 - SafeLoader plus CFN tags
    resources: dict[str, dict[str, Any]] = document.get("Resources", {})
    globals_function = document.get("Globals", {}).get("Function", {})
    functions = {
        logical_id: _function(logical_id, resource.get("Properties", {}), globals_function, path.parent)
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }
    return Template(
        path=path,
        parameters={name: spec.get("Default") for name, spec in (document.get("Parameters") or {}).items()},
        resources=resources,
        globals_function=globals_function,
        functions=functions,
        gateway_responses=_gateway_responses(resources),
        binary_media_types=_binary_media_types(document),
        conditions=document.get("Conditions") or {},
    )
