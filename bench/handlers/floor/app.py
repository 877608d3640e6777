"""The floor of docs/budgets.md, Cold start: what every handler pays, Powertools' REST resolver and a DynamoDB read."""

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
