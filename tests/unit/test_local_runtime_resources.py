"""The local runtime creates the template's resources; idempotently, and under moto's in-process mock too."""

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local_runtime.resources import create_resources, get_att, store_secret_values
from local_runtime.template import Template, load_template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulated(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Template, boto3.Session]]:
    """The project's template and a session on moto's in-process AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield load_template(ROOT / "template.yaml"), boto3.Session(region_name="us-east-1")


def test_the_project_resources_are_created_twice_without_error(emulated):
    template, session = emulated

    physical_ids = create_resources(template, session, None)
    assert create_resources(template, session, None) == physical_ids

    assert physical_ids["ClaraTable"] == "ClaraTable"
    assert physical_ids["AttachmentsBucket"] == "clara-local-attachmentsbucket"
    table = session.client("dynamodb").describe_table(TableName="ClaraTable")["Table"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "gsi1"
    ttl = session.client("dynamodb").describe_time_to_live(TableName="ClaraTable")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    attributes = session.client("sqs").get_queue_attributes(
        QueueUrl=physical_ids["AnalysisQueue"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["VisibilityTimeout"] == "2160"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": get_att(template, "AnalysisDeadLetterQueue", "Arn", physical_ids),
        "maxReceiveCount": 5,
    }
    session.client("s3").head_bucket(Bucket="clara-local-attachmentsbucket")


def test_the_secrets_hold_the_keys_the_local_runtime_gives_its_functions(emulated):
    """PUBLIC_API_KEY goes into the secret PUBLIC_API_KEY_SECRET_ID names, and so on; unset names keep theirs."""
    template, session = emulated
    physical_ids = create_resources(template, session, None)
    values = {"PUBLIC_API_KEY": "pub", "PRIVATE_API_KEY": "priv", "STRIPE_WEBHOOK_SECRET": "whsec_x", "TABLE_NAME": "t"}

    stored = store_secret_values(template, session, None, physical_ids, values)

    assert sorted(stored) == ["PrivateApiKeySecret", "PublicApiKeySecret", "StripeWebhookSecret"]
    secretsmanager = session.client("secretsmanager")
    value = {
        name: secretsmanager.get_secret_value(SecretId=name)["SecretString"]
        for name in physical_ids
        if "Secret" in name
    }
    assert value["PublicApiKeySecret"] == "pub" and value["PrivateApiKeySecret"] == "priv"
    assert value["StripeWebhookSecret"] == "whsec_x"
    assert value["StripeSecretKeySecret"] == "replace-me"  # the template's placeholder: STRIPE_SECRET_KEY is unset
