"""The local runtime creates the template's resources; idempotently, and under moto's in-process mock too."""

import json
from pathlib import Path

import boto3
from moto import mock_aws

from local_runtime.resources import create_resources, get_att
from local_runtime.template import load_template

ROOT = Path(__file__).resolve().parents[2]


@mock_aws
def test_the_project_resources_are_created_twice_without_error(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    template = load_template(ROOT / "template.yaml")
    session = boto3.Session(region_name="us-east-1")

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
