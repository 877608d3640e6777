"""The floor of DESIGN.md §6: the least any real handler pays, the Powertools REST resolver plus one DynamoDB read."""

import os

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()
dynamodb = boto3.client("dynamodb")


@app.get("/item")
def item() -> dict:
    return dynamodb.get_item(TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": "a"}, "sk": {"S": "a"}})


def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
