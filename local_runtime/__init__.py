"""Runs the SAM template's functions locally: API Gateway and Function URL events over HTTP, SQS pollers, moto."""
