"""POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE are honoured, and the stack's alarms watch what the
functions emit with the values the stack gives them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clara.observability import service_and_namespace
from local_runtime.template import load_template

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter imports clara.observability as a function's cold start does, logs a line and flushes one
# metric (Powertools prints the EMF document on stdout).
EMIT = """
from clara.observability import count, logger, metrics
logger.info("hello")
count("Probes")
metrics.flush_metrics()
"""


def emitted(**variables: str) -> tuple[dict, dict]:
    """The log line and the EMF document a fresh import writes with these POWERTOOLS_* variables."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("POWERTOOLS_")}
    environment |= {"PYTHONPATH": str(ROOT / "layers" / "shared"), **variables}
    result = subprocess.run(
        [sys.executable, "-c", EMIT], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=True
    )
    documents = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    [log_line] = [document for document in documents if document.get("message") == "hello"]
    [emf] = [document for document in documents if "_aws" in document]
    return log_line, emf


def test_the_variables_name_the_service_of_log_lines_and_the_namespace_of_metrics():
    log_line, emf = emitted(POWERTOOLS_SERVICE_NAME="clara-staging", POWERTOOLS_METRICS_NAMESPACE="ClaraStaging")

    assert log_line["service"] == "clara-staging"
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ClaraStaging"
    assert emf["service"] == "clara-staging"  # the dimension the alarms filter on
    assert [metric["Name"] for metric in directive["Metrics"]] == ["Probes"]


def test_unset_they_are_clara_backend_and_clara():
    log_line, emf = emitted()

    assert log_line["service"] == "clara-backend"
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Clara"
    assert emf["service"] == "clara-backend"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ("clara-backend", "Clara")),
        ({"POWERTOOLS_SERVICE_NAME": "", "POWERTOOLS_METRICS_NAMESPACE": ""}, ("clara-backend", "Clara")),
        ({"POWERTOOLS_SERVICE_NAME": "svc"}, ("svc", "Clara")),
        ({"POWERTOOLS_METRICS_NAMESPACE": "Ns"}, ("clara-backend", "Ns")),
    ],
)
def test_the_helper_falls_back_to_the_documented_defaults(environ: dict[str, str], expected: tuple[str, str]):
    assert service_and_namespace(environ) == expected


def test_the_alarms_on_clara_metrics_watch_the_namespace_and_service_the_stack_sets():
    template = load_template(ROOT / "template.yaml")
    variables = template.globals_function["Environment"]["Variables"]
    service, namespace = service_and_namespace(variables)
    alarms = [
        resource["Properties"]
        for resource in template.resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and "Namespace" in resource["Properties"]
        and not resource["Properties"]["Namespace"].startswith("AWS/")
    ]

    assert alarms, "no alarm on Clara's own metrics"
    for alarm in alarms:
        assert alarm["Namespace"] == namespace
        assert {"Name": "service", "Value": service} in alarm["Dimensions"]
