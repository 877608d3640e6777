"""A handler shaped like Clara's real ones (the layer's resolver factory, envelope, lazy settings) reading one item.

Until the first data-access module lands, this stands in for "a DynamoDB-reading handler" in the cold-start
measurement; it does the same work the floor does, through the layer.
"""

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import Response

from clara.api import create_app, lambda_handler_for
from clara.envelope import success
from clara.settings import get_settings

app = create_app()


@cache
def dynamodb() -> Any:
    return boto3.client("dynamodb")


@app.get("/item")
def item() -> Response:
    found = dynamodb().get_item(TableName=get_settings().table_name, Key={"pk": {"S": "a"}, "sk": {"S": "a"}})
    return success(found.get("Item"), "Item fetched successfully.")


lambda_handler = lambda_handler_for(app)
