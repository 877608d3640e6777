"""Creates the template's tables, queues, buckets, secrets and SES identities in the emulator, idempotently.

Physical ids are what `!Ref` gives: table name, queue URL, bucket name, secret ARN, identity.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local_runtime.events import ACCOUNT_ID
from local_runtime.template import Template

log = logging.getLogger("local_runtime")

TABLE = "AWS::DynamoDB::Table"
QUEUE = "AWS::SQS::Queue"
BUCKET = "AWS::S3::Bucket"
EMAIL_IDENTITY = "AWS::SES::EmailIdentity"
SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)

# Queue properties that are plain SQS attributes of the same name.
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def physical_name(template: Template, logical_id: str) -> str:
    """Tables and queues keep their logical id; buckets need a lower-case, globally styled name."""
    resource_type = template.resources[logical_id]["Type"]
    if resource_type == BUCKET:
        return f"clara-local-{logical_id.lower()}"
    fifo = resource_type == QUEUE and template.resources[logical_id].get("Properties", {}).get("FifoQueue")
    return f"{logical_id}.fifo" if fifo else logical_id


def get_att(
    template: Template, logical_id: str, attribute: str, physical_ids: dict[str, str], region: str = "us-east-1"
) -> str:
    """`!GetAtt X.Arn` (and QueueName/QueueUrl) for an emulated resource."""
    resource_type = template.resources[logical_id]["Type"]
    physical = physical_ids[logical_id]
    if resource_type == QUEUE:
        name = physical.rstrip("/").rsplit("/", 1)[-1]
        values = {"Arn": f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}", "QueueName": name, "QueueUrl": physical}
    elif resource_type == TABLE:
        values = {"Arn": f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{physical}"}
    elif resource_type == BUCKET:
        values = {"Arn": f"arn:aws:s3:::{physical}", "DomainName": f"{physical}.s3.amazonaws.com"}
    else:
        values = {}
    if attribute not in values:
        raise KeyError(f"!GetAtt {logical_id}.{attribute} is not emulated")
    return values[attribute]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _create_table(dynamodb: Any, name: str, properties: dict[str, Any]) -> None:
    billing = properties.get("BillingMode", "PROVISIONED")
    throughput = properties.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    arguments: dict[str, Any] = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        arguments["ProvisionedThroughput"] = throughput
    indexes = []
    for index in properties.get("GlobalSecondaryIndexes", []):
        index = {key: value for key, value in index.items() if key in ("IndexName", "KeySchema", "Projection")}
        if billing == "PROVISIONED":
            index["ProvisionedThroughput"] = throughput
        indexes.append(index)
    if indexes:
        arguments["GlobalSecondaryIndexes"] = indexes
    if properties.get("LocalSecondaryIndexes"):
        arguments["LocalSecondaryIndexes"] = properties["LocalSecondaryIndexes"]
    try:
        dynamodb.create_table(**arguments)
    except ClientError as error:
        if _error_code(error) != "ResourceInUseException":
            raise
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        try:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
            )
        except ClientError as error:  # already enabled on an existing table
            log.debug("TTL of %s: %s", name, error)


def _queue_order(template: Template) -> list[str]:
    """Dead-letter queues first, so a redrive policy can name a queue that exists."""
    queues = template.resources_of_type(QUEUE)

    def depth(logical_id: str, seen: frozenset[str] = frozenset()) -> int:
        target = _dead_letter_target(queues[logical_id])
        if target is None or target not in queues or target in seen:
            return 0
        return 1 + depth(target, seen | {logical_id})

    return sorted(queues, key=depth)


def _dead_letter_target(queue: dict[str, Any]) -> str | None:
    target = (queue.get("Properties", {}).get("RedrivePolicy") or {}).get("deadLetterTargetArn")
    if isinstance(target, dict) and "Fn::GetAtt" in target:
        return str(target["Fn::GetAtt"][0])
    return None


def _create_queue(sqs: Any, name: str, properties: dict[str, Any], arns: dict[str, str]) -> str:
    attributes = {
        key: str(properties[key]).lower() if isinstance(properties[key], bool) else str(properties[key])
        for key in _QUEUE_ATTRIBUTES
        if key in properties
    }
    redrive = properties.get("RedrivePolicy")
    if redrive:
        target = _dead_letter_target({"Properties": properties})
        dead_letter_arn = arns[target] if target else str(redrive["deadLetterTargetArn"])
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": int(redrive.get("maxReceiveCount", 10))}
        )
    try:
        return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
    except ClientError as error:
        if "QueueAlreadyExists" not in _error_code(error):
            raise
        url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])  # exists with other attributes: align them
        sqs.set_queue_attributes(QueueUrl=url, Attributes={k: v for k, v in attributes.items() if k != "FifoQueue"})
        return url


def _create_bucket(s3: Any, name: str, region: str) -> None:
    arguments: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**arguments)
    except ClientError as error:
        if _error_code(error) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def create_resources(template: Template, session: boto3.session.Session, endpoint_url: str | None) -> dict[str, str]:
    """Create every table, queue and bucket; return logical id -> what `!Ref` gives (name, queue URL, name)."""
    region = session.region_name or "us-east-1"
    physical_ids: dict[str, str] = {}

    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    for logical_id, resource in template.resources_of_type(TABLE).items():
        physical_ids[logical_id] = physical_name(template, logical_id)
        _create_table(dynamodb, physical_ids[logical_id], resource.get("Properties", {}))

    sqs = session.client("sqs", endpoint_url=endpoint_url)
    arns: dict[str, str] = {}
    for logical_id in _queue_order(template):
        properties = template.resources[logical_id].get("Properties", {})
        url = _create_queue(sqs, physical_name(template, logical_id), properties, arns)
        physical_ids[logical_id] = url
        # The emulator's own ARN, so redrive works whatever account id it uses.
        arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    s3 = session.client("s3", endpoint_url=endpoint_url)
    for logical_id in template.resources_of_type(BUCKET):
        physical_ids[logical_id] = physical_name(template, logical_id)
        _create_bucket(s3, physical_ids[logical_id], region)

    # Emulated SES only sends from verified identities, like SES's sandbox.
    ses = session.client("ses", endpoint_url=endpoint_url)
    for logical_id, resource in template.resources_of_type(EMAIL_IDENTITY).items():
        identity = _literal(template, resource.get("Properties", {}).get("EmailIdentity"))
        if identity:
            physical_ids[logical_id] = identity
            if "@" in identity:
                ses.verify_email_identity(EmailAddress=identity)
            else:
                ses.verify_domain_identity(Domain=identity)

    secretsmanager = session.client("secretsmanager", endpoint_url=endpoint_url)
    for logical_id, resource in template.resources_of_type(SECRET).items():
        physical_ids[logical_id] = _create_secret(secretsmanager, logical_id, resource.get("Properties", {}))

    return physical_ids


def _create_secret(secretsmanager: Any, name: str, properties: dict[str, Any]) -> str:
    """A secret with its SecretString, or a random one where the template asks AWS to generate it."""
    try:
        return str(secretsmanager.describe_secret(SecretId=name)["ARN"])
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
    value = properties.get("SecretString")
    if not isinstance(value, str):
        value = secrets.token_urlsafe(int(properties.get("GenerateSecretString", {}).get("PasswordLength", 32)))
    return str(secretsmanager.create_secret(Name=name, SecretString=value)["ARN"])


def store_secret_values(
    template: Template,
    session: boto3.session.Session,
    endpoint_url: str | None,
    physical_ids: dict[str, str],
    values: Mapping[str, str],
) -> list[str]:
    """Put the value of NAME (from `values`) into the secret a function's NAME_SECRET_ID names (`!Ref Secret`).

    The local runtime gives its functions their keys as NAME (clara.secrets reads that first); with this, the
    emulation's secrets hold the same values, so a function that reads the secret instead (`sam local invoke`
    against this emulation, events/env.json) accepts the same keys and signatures. Returns the secrets written.
    """
    secretsmanager = session.client("secretsmanager", endpoint_url=endpoint_url)
    stored: list[str] = []
    for function in template.functions.values():
        for variable, reference in function.environment.items():
            name = variable.removesuffix("_SECRET_ID")
            logical_id = reference.get("Ref") if isinstance(reference, dict) else None
            if name == variable or not values.get(name) or logical_id not in physical_ids:
                continue
            if template.resources[logical_id].get("Type") != SECRET or logical_id in stored:
                continue
            secretsmanager.put_secret_value(SecretId=physical_ids[logical_id], SecretString=values[name])
            stored.append(logical_id)
    return stored


def _literal(template: Template, value: Any) -> str | None:
    """A plain string, or `!Ref` of a parameter's default (identities are usually one or the other)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        default = template.parameters.get(value["Ref"])
        return str(default) if default else None
    return None


def queue_arn(session: boto3.session.Session, endpoint_url: str | None, queue_url: str) -> str:
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    return str(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
