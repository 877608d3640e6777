"""The local runtime's reading of a SAM template, and API Gateway's route precedence."""

from pathlib import Path

import pytest

from local_runtime.environment import function_environment
from local_runtime.template import Route, load_template

ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = """
Parameters:
  Environment: {Type: String, Default: production}
  Suffix: {Type: String, Default: x}
Conditions:
  IsProduction: !Equals [!Ref Environment, production]
Globals:
  Function:
    Timeout: 10
    Environment:
      Variables:
        ENVIRONMENT: !Ref Environment
        TABLE_NAME: !Ref Table
        SHARED: global
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: prod, BinaryMediaTypes: ["multipart~1form-data", "image~1png"]}
  Table: {Type: AWS::DynamoDB::Table, Properties: {}}
  Queue: {Type: AWS::SQS::Queue}
  Missing:
    Type: AWS::ApiGateway::GatewayResponse
    Properties:
      ResponseType: MISSING_AUTHENTICATION_TOKEN
      StatusCode: "404"
      ResponseParameters: {gatewayresponse.header.Retry-After: "'1'"}
      ResponseTemplates: {application/json: '{"message": "gone"}'}
  Users:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/users/
      Handler: app.lambda_handler
      Timeout: 20
      Environment:
        Variables:
          SHARED: own
          QUEUE_ARN: !GetAtt Queue.Arn
          LABEL: !Sub "${AWS::Region}-${Table}-${!Literal}-${Suffix}"
          JOINED: !Join [",", [a, !Ref Suffix]]
          MODE: !If [IsProduction, prod, dev]
      Events:
        Me: {Type: Api, Properties: {Path: /api/v1/users/me, Method: get}}
        One: {Type: Api, Properties: {Path: "/api/v1/users/{user_id}", Method: ANY}}
        Transaction:
          Type: Api
          Properties: {Path: "/api/v1/users/{user_id}/transactions/{transaction_id}", Method: GET}
  Files:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/files/
      Handler: app.lambda_handler
      Events:
        Files: {Type: Api, Properties: {Path: "/api/v1/users/{user_id}/files/{proxy+}", Method: ANY}}
  CatchAll:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/misc/
      Handler: app.lambda_handler
      Events:
        All: {Type: Api, Properties: {Path: "/{proxy+}", Method: ANY}}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker/
      Handler: app.handler
      FunctionUrlConfig: {AuthType: NONE}
      Events:
        Jobs:
          Type: SQS
          Properties: {Queue: !GetAtt Queue.Arn, BatchSize: 3, FunctionResponseTypes: [ReportBatchItemFailures]}
"""


@pytest.fixture
def template(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return load_template(path)


def test_functions_merge_globals_and_keep_intrinsics_unresolved(template, tmp_path: Path):
    users = template.functions["Users"]

    assert users.code_uri == tmp_path / "functions/users/"
    assert users.timeout == 20
    assert template.functions["Files"].timeout == 10
    assert users.environment["SHARED"] == "own"
    assert users.environment["TABLE_NAME"] == {"Ref": "Table"}
    assert users.environment["QUEUE_ARN"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert Route("/api/v1/users/me", "GET") in users.api_routes


def test_sqs_sources_function_urls_gateway_responses_and_media_types(template):
    worker = template.functions["Worker"]

    assert [(s.queue_id, s.batch_size, s.report_batch_item_failures) for s in worker.sqs_sources] == [
        ("Queue", 3, True)
    ]
    assert worker.has_function_url and not template.functions["Users"].has_function_url
    missing = template.gateway_responses["MISSING_AUTHENTICATION_TOKEN"]
    assert (missing.status, missing.body_template, missing.headers) == (
        404,
        '{"message": "gone"}',
        {"Retry-After": "1"},
    )
    assert template.binary_media_types == ["image/png", "multipart/form-data"]


@pytest.mark.parametrize(
    ("method", "path", "function", "resource", "parameters"),
    [
        ("GET", "/api/v1/users/me", "Users", "/api/v1/users/me", {}),  # static beats {user_id}
        ("DELETE", "/api/v1/users/u1", "Users", "/api/v1/users/{user_id}", {"user_id": "u1"}),  # ANY
        (
            "GET",
            "/api/v1/users/u1/transactions/t2",
            "Users",
            "/api/v1/users/{user_id}/transactions/{transaction_id}",
            {"user_id": "u1", "transaction_id": "t2"},
        ),
        (
            "PUT",
            "/api/v1/users/u1/files/a/b.png",
            "Files",
            "/api/v1/users/{user_id}/files/{proxy+}",
            {"user_id": "u1", "proxy": "a/b.png"},
        ),
        ("GET", "/api/v1/users/u1/unknown", "CatchAll", "/{proxy+}", {"proxy": "api/v1/users/u1/unknown"}),
        ("GET", "/api/v1/users/a%2Fb", "Users", "/api/v1/users/{user_id}", {"user_id": "a%2Fb"}),
        ("GET", "/anything", "CatchAll", "/{proxy+}", {"proxy": "anything"}),
    ],
)
def test_routes_follow_api_gateway_precedence(template, method, path, function, resource, parameters):
    match = template.match_route(method, path)

    assert match is not None
    assert (match.function.logical_id, match.route.path, match.path_parameters) == (function, resource, parameters)


def test_a_resource_without_the_method_does_not_fall_back_to_the_proxy(template):
    # API Gateway answers MISSING_AUTHENTICATION_TOKEN here rather than trying /{proxy+}.
    assert template.match_route("POST", "/api/v1/users/me") is None
    assert template.match_route("POST", "/api/v1/users/u1/transactions/t2") is None


def test_the_root_matches_only_when_declared(template):
    assert template.match_route("GET", "/") is None


def test_the_proxy_needs_at_least_one_segment(template):
    match = template.match_route("GET", "/api/v1/users/u1/files/")

    assert match is not None and match.function.logical_id == "CatchAll"


def test_function_environment_resolves_refs_getatt_sub_join_and_if(template):
    physical_ids = {"Table": "Table", "Queue": "http://localhost:1/123456789012/Queue"}

    environment = function_environment(template, "Users", physical_ids, {"API_KEY": "k"})

    assert environment == {
        "ENVIRONMENT": "development",  # the Environment parameter is development locally
        "TABLE_NAME": "Table",
        "SHARED": "own",
        "QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:Queue",
        "LABEL": "us-east-1-Table-${Literal}-x",
        "JOINED": "a,x",
        "MODE": "dev",
        "API_KEY": "k",
    }


def test_the_project_template_loads():
    template = load_template(ROOT / "template.yaml")

    misc = template.functions["MiscFunction"]
    assert misc.handler == "app.lambda_handler"
    assert template.match_route("GET", "/api/v1/health").route.path == "/api/v1/health"
    assert template.match_route("GET", "/") is None
    assert template.binary_media_types == ["application/json", "multipart/form-data"]
    assert template.stage_name == "prod"
    assert ROOT / "layers/shared" in [path.resolve() for path in template.layer_dirs]


def test_an_implicit_api_has_sams_stage_name(tmp_path: Path):
    (tmp_path / "template.yaml").write_text("Resources:\n  Queue: {Type: AWS::SQS::Queue}\n")

    assert load_template(tmp_path / "template.yaml").stage_name == "Prod"


SCHEDULED = """
Resources:
  Sweeper:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: sweeper/
      Events:
        EveryMinute: {Type: Schedule, Properties: {Schedule: rate(1 minute)}}
        Hourly: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(2 hours)}}
        Nightly: {Type: Schedule, Properties: {Schedule: "cron(0 3 * * ? *)"}}
"""


def test_schedule_events_are_read_with_their_period(tmp_path: Path):
    from local_runtime.template import ScheduleSource, schedule_seconds

    (tmp_path / "template.yaml").write_text(SCHEDULED)

    sweeper = load_template(tmp_path / "template.yaml").functions["Sweeper"]

    assert sweeper.schedules == [
        ScheduleSource("EveryMinute", "rate(1 minute)", 60),
        ScheduleSource("Hourly", "rate(2 hours)", 7200),
        ScheduleSource("Nightly", "cron(0 3 * * ? *)", 60),
    ]
    assert schedule_seconds("rate(5 minutes)") == 300 and schedule_seconds("rate(1 day)") == 86_400


def test_a_schedule_invokes_its_function_with_a_scheduled_event_each_local_period(monkeypatch, tmp_path: Path):
    import threading

    from local_runtime.scheduler import start_schedules

    (tmp_path / "template.yaml").write_text(SCHEDULED.replace("rate(2 hours)", "rate(1 minute)"))
    template = load_template(tmp_path / "template.yaml")
    events: list[dict] = []
    twice = threading.Event()

    class Registry:
        def __init__(self) -> None:
            self.template = template

        def invoke(self, function_id: str, event: dict) -> None:
            events.append(event)
            if len(events) >= 6:
                twice.set()

    monkeypatch.setenv("LOCAL_SCHEDULE_SECONDS", "0.05")
    stop = threading.Event()
    runners = start_schedules(Registry(), stop)  # type: ignore[arg-type]
    try:
        assert twice.wait(5)
    finally:
        stop.set()
        for runner in runners:
            runner.join(2)

    assert [runner.period for runner in runners] == [0.05, 0.05, 0.05]
    assert {event["detail-type"] for event in events} == {"Scheduled Event"}
    assert {event["source"] for event in events} == {"aws.events"}
