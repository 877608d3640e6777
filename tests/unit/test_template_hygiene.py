"""Every function of template.yaml comes with what running it in production needs: a sample event, a row in
the README's endpoint table, and a log group whose retention is set (not CloudWatch's keep-forever default); every
parameter is explained in docs/deploying.md."""

from pathlib import Path

import pytest
import yaml

from local_runtime.template import _CloudFormationLoader, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
FUNCTIONS = sorted(TEMPLATE.functions)


def log_group_of(function_id: str) -> dict | None:
    for resource in TEMPLATE.resources.values():
        name = resource.get("Properties", {}).get("LogGroupName")
        if resource.get("Type") == "AWS::Logs::LogGroup" and name == {"Fn::Sub": f"/aws/lambda/${{{function_id}}}"}:
            return resource
    return None


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_a_function_has_a_sample_event(function_id: str):
    group = TEMPLATE.functions[function_id].code_uri.name

    assert list((ROOT / "events").glob(f"{group}.json")) or list((ROOT / "events").glob(f"{group}.*.json"))


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_a_function_has_a_row_in_the_readme(function_id: str):
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("|")]

    assert any(f"| {function_id} |" in row for row in rows)


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_a_function_has_a_log_group_with_a_retention(function_id: str):
    log_group = log_group_of(function_id)

    assert log_group is not None, f"no AWS::Logs::LogGroup named /aws/lambda/${{{function_id}}}"
    assert log_group["Properties"].get("RetentionInDays")


def test_every_parameter_is_explained_in_the_deploying_guide():
    deploying = (ROOT / "docs" / "deploying.md").read_text()

    assert [name for name in TEMPLATE.parameters if f"`{name}`" not in deploying] == []


def test_the_worker_fits_its_analysis_and_the_queue_fits_the_worker():
    """The analysis budget ends before the worker's timeout (S3 and DynamoDB need the rest), a crashed run's lease
    runs out after it, the queue hides a message for six timeouts (AWS's advice), and one invocation takes one
    task, so a batch cannot add budgets up past the timeout."""
    from clara.domain.analysis.leases import LEASE_SECONDS
    from clara.settings import Settings

    worker = TEMPLATE.resources["AnalysisWorkerFunction"]["Properties"]
    queue = TEMPLATE.resources["AnalysisQueue"]["Properties"]
    [source] = TEMPLATE.functions["AnalysisWorkerFunction"].sqs_sources
    budget = Settings().analysis_time_budget_seconds

    assert budget + 30 <= worker["Timeout"] < LEASE_SECONDS
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert source.batch_size == 1


def test_the_worker_may_call_the_foundation_model_behind_its_inference_profile():
    """Cross-region inference needs the profile and the model it routes to: the model id is the profile id less
    its "us." prefix, computed in the template from the one BedrockModelId parameter."""
    statements = TEMPLATE.resources["AnalysisWorkerFunction"]["Properties"]["Policies"][0]["Statement"]
    [invoke] = [statement for statement in statements if statement["Action"] == "bedrock:InvokeModel"]
    [model_arn] = [resource for resource in invoke["Resource"] if isinstance(resource["Fn::Sub"], list)]
    text, variables = model_arn["Fn::Sub"]

    assert text.endswith("::foundation-model/${FoundationModelId}")
    assert variables == {"FoundationModelId": {"Fn::Join": ["", {"Fn::Split": ["us.", {"Ref": "BedrockModelId"}]}]}}
    assert TEMPLATE.parameters["BedrockModelId"] == "us.amazon.nova-2-lite-v1:0"


def test_the_sweeper_knows_the_analysis_queue_and_runs_every_minute():
    """clara.domain.analysis.backstops's bounds are computed from the queue's visibility timeout and retention: they
    must be the template's; and the dead-letter queue hides a message past the sweeper's timeout, as Lambda requires."""
    from clara.domain.analysis.backstops import QUEUE_RETENTION_SECONDS, QUEUE_VISIBILITY_SECONDS

    queue = TEMPLATE.resources["AnalysisQueue"]["Properties"]
    dead_letter_queue = TEMPLATE.resources["AnalysisDeadLetterQueue"]["Properties"]
    sweeper = TEMPLATE.resources["AnalysisSweeperFunction"]["Properties"]
    environment = TEMPLATE.globals_function["Environment"]["Variables"]

    assert (queue["VisibilityTimeout"], queue["MessageRetentionPeriod"]) == (
        QUEUE_VISIBILITY_SECONDS,
        QUEUE_RETENTION_SECONDS,
    )
    assert int(environment["ANALYSIS_MAX_RECEIVES"]) == queue["RedrivePolicy"]["maxReceiveCount"]
    assert dead_letter_queue["VisibilityTimeout"] >= 6 * sweeper["Timeout"]
    assert sweeper["Events"]["EveryMinute"] == {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}
    [source] = TEMPLATE.functions["AnalysisSweeperFunction"].sqs_sources
    assert source.queue_id == "AnalysisDeadLetterQueue" and source.report_batch_item_failures


def test_a_rejected_webhook_event_raises_an_alarm():
    """The metric the webhook counts for a signed but malformed event is the one an alarm watches: any one in 5
    minutes, in the namespace and service dimension Powertools gives it, notifying AlarmTopicArn like the others."""
    from clara.domain.credits.purchases import WEBHOOK_REJECTED_METRIC
    from clara.observability import metrics
    from clara.settings import SERVICE_NAME

    alarms = [
        resource["Properties"]
        for resource in TEMPLATE.resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("MetricName") == WEBHOOK_REJECTED_METRIC
    ]

    [alarm] = alarms
    assert alarm["Namespace"] == metrics.namespace == "Clara"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": SERVICE_NAME}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def alarm_watching(namespace: str, metric: str, dimension_ref: str) -> dict | None:
    """The alarm on `metric` whose dimension names `dimension_ref` (a !Ref or !GetAtt target), alone or in math."""
    for resource in TEMPLATE.resources.values():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        properties = resource["Properties"]
        stats = [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
        for watched in [properties, *stats]:
            dimensions = str(watched.get("Dimensions"))
            if (
                watched.get("Namespace") == namespace
                and watched.get("MetricName") == metric
                and dimension_ref in dimensions
            ):
                return resource
    return None


@pytest.mark.parametrize(
    ("namespace", "metric", "target"),
    [
        ("AWS/Lambda", "Errors", "StripeWebhookFunction"),
        ("AWS/Lambda", "Throttles", "StripeWebhookFunction"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", "AnalysisQueue"),
        *(
            ("AWS/Lambda", "Throttles", function_id)
            for function_id in FUNCTIONS
            if TEMPLATE.functions[function_id].api_routes
        ),
    ],
)
def test_the_money_path_has_alarms(namespace: str, metric: str, target: str):
    """A customer who paid and got nothing, or a paid task that waits, must page someone (AlarmTopicArn)."""
    alarm = alarm_watching(namespace, metric, target)

    assert alarm is not None, f"no alarm on {namespace} {metric} of {target}"
    assert alarm["Properties"]["AlarmActions"] == {
        "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    }


def test_every_secret_an_operator_fills_or_reads_is_an_output():
    """`sam deploy` prints the outputs: the two Stripe secrets to fill, and the two API keys to read."""
    document = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CloudFormationLoader)  # noqa: S506
    named = {output["Value"].get("Ref") for output in document["Outputs"].values() if isinstance(output["Value"], dict)}
    secrets = {
        name for name, resource in TEMPLATE.resources.items() if resource["Type"] == "AWS::SecretsManager::Secret"
    }

    assert secrets - {"JwtSecret"} <= named  # the token key is never handled by a person
    assert {"StripeSecretKeySecret", "StripeWebhookSecret"} <= secrets
