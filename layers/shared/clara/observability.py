"""Powertools Logger, Tracer and Metrics, shared by every function of the stack."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from clara.settings import SERVICE_NAME

# Each function's log lines carry its own function_name (from the Lambda context) under one service name.
logger = Logger(service=SERVICE_NAME)
# Only boto calls become subsegments: patching everything the SDK knows imports sqlite3, httplib and more at
# cold start for libraries the functions do not use.
tracer = Tracer(service=SERVICE_NAME, patch_modules=("botocore",))
metrics = Metrics(service=SERVICE_NAME, namespace="Clara")
